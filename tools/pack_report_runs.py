"""Keep, in the repository, the stored runs the committed reports were analysed from.

    python tools/pack_report_runs.py [--run-store .runs ...] [--out tests/fixtures/report-runs.tar.xz]

For every claim's profiles on their report seeds this analyses the stored runs again, in this
process, recording every file it reads from the run stores; nothing may train (a run that is not
stored is an error naming it) and the section must come out as the committed one
(lrsci.report.result_differences). The files read — each run's result.json (its history per
epoch), config.json, fork.json and what was computed from it after training (transfers, Hessian
measurements: lrsci.derived), a few hundred kB of JSON — are packed into one deterministic tar.xz
with a manifest. A profile whose analysis still reads network weights (a snapshot's .pt) is left
out, and the manifest says so and why. Every fast profile must be packed or left out; a gpu
profile whose runs are not at hand is listed as not packed, with why.

gpu profiles are packed the same way when their runs are at hand: a device session's results.tgz
carries its run store's JSON (tools/device_session.sh), so after one

    python tools/pack_report_runs.py --run-store .runs --run-store <unpacked results>/runs

and CI analyses those gpu reports again too (on its CPU: the analysis reads no weights). What the
fixture already holds stays packed while it still gives the committed sections. The fast sections in
reports/replication/<name>/ (the same profiles on other seeds, docs/replication.md) are packed the same
way, on their own seeds, and so are the runs of the controls (reports/controls/*.json).

tests/test_reports_reanalysed.py unpacks it in CI and analyses every packed claim again with the
code as it is: any change to an analysis, a statistic or the report that moves a committed number
fails there, on any machine (the analysis reads histories, not weights, so it does not depend on the
CPU). Run this again after a claim's final run changes its fast report.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lrsci import driver, files, patch_control, report  # noqa: E402
from lrsci.catalog import load_claims  # noqa: E402
from lrsci.claim import data_seed, report_seeds  # noqa: E402
from lrsci.harness import ClaimContext  # noqa: E402
from lrsci.provenance import git_hash, utc_now  # noqa: E402
from lrsci.runs import RunStore  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "report-runs.tar.xz"
# what an analysis may read from the store and be packed (histories, configs, cached transfers); a network's
# weights (.pt) are not: a profile whose analysis reads them is left out (lock files are neither)
KEPT, WEIGHTS = ".json", ".pt"


class NotStored(RuntimeError):
    """A run the analysis asked for is not in the store: packing trains nothing."""


def reanalyse(claim, profile, store_root: Path, report_root: Path, data_root=None,
              rel: float = 0.0, committed_root: Path = ROOT / "reports") -> tuple[dict, list]:
    """The section ``profile`` gives from the runs in ``store_root`` (nothing trained), and where it
    differs from the one committed in ``committed_root`` (numbers within ``rel``, see
    report.result_differences). The seeds are the profile's report seeds, or, in a folder of reports run
    on other seeds (reports/replication/<name>/), that section's own seeds, data seed and scale (--set)."""
    committed = report.read_record(committed_root / claim.id / "result.json", quarantine_bad=False)
    seeds = None
    scale = {}
    if committed_root != ROOT / "reports":   # a replication: its own seeds, its own draw of the data, its scale
        seeds = committed["profiles"][profile.name].get("seeds")
        profile = driver.with_data_seed(profile, data_seed(committed["profiles"][profile.name]))
        scale = committed["profiles"][profile.name].get("run_overrides") or {}
        profile = driver.with_run_overrides(profile, scale)
    seeds = seeds or report_seeds(profile)
    ctx = ClaimContext(profile=profile.name, store=RunStore(store_root, data_root=data_root),
                       report_root=report_root, n_seeds=len(seeds), seed_offset=min(seeds),
                       device=profile.device, workers=1, executor="local", draw_figures=False,   # numbers only
                       run_overrides=scale)

    def stored_only(config, *args, **kw):   # read-only: not even a run's lock file is made
        result = ctx.store.load(config)
        if result is None:
            raise NotStored(f"run {ctx.store.dir(config).name} of {claim.id}[{profile.name}] is not stored")
        return result
    ctx.store.run = stored_only
    driver.check(claim, profile, ctx)   # written as a report would be (JSON: string keys, NaN as null)
    section = report.read_record(report_root / claim.id / "result.json", quarantine_bad=False)["profiles"][profile.name]
    return section, report.result_differences(committed["profiles"][profile.name], section, rel)


def record_reads(roots: list[Path]) -> set[Path]:
    """Every file under one of ``roots`` opened from now on in this process (a Python audit hook)."""
    seen: set[Path] = set()
    prefixes = tuple(str(r.resolve()) for r in roots)

    def hook(event, args):
        if event == "open" and isinstance(args[0], (str, os.PathLike)) and os.fspath(args[0]).startswith(prefixes):
            seen.add(Path(args[0]))
    sys.addaudithook(hook)   # cannot be removed: this tool is one process, run once
    return seen


def pack_profile(claim, profile, stores: list[Path], seen: set, report_root: Path, data_root=None,
                 committed_root: Path = ROOT / "reports"):
    """("packed", store, files read) from the first store whose runs give the committed section; ("left out",
    why) when its analysis reads weights; ("absent", why) when no store has its runs."""
    whys = []   # one reason per store tried: the last store alone may not be where the user looked
    for store in stores:
        seen.clear()
        try:
            _, diffs = reanalyse(claim, profile, store, report_root, data_root, committed_root=committed_root)
        except NotStored as exc:
            whys.append(f"{store}: its runs are not there ({exc})")
            continue
        except Exception as exc:   # what a gpu profile raises without its device's files (data, a calibration)
            if profile.device == "cpu":
                raise
            whys.append(f"{store}: {type(exc).__name__}: {exc}")
            continue
        if diffs:
            whys.append(f"{store}: its runs do not give the committed section ({', '.join(diffs[:5])})")
            continue
        if any(p.suffix == WEIGHTS for p in seen):   # a measurement taken just now is kept as JSON: ask again
            seen.clear()
            reanalyse(claim, profile, store, report_root, data_root, committed_root=committed_root)
        weights = sorted({p.name for p in seen if p.suffix == WEIGHTS})
        if weights:
            return "left out", f"its analysis reads network weights ({', '.join(weights[:3])}, ...)"
        return "packed", store, sorted(str(p.relative_to(store)) for p in seen if p.suffix == KEPT and p.is_file())
    return "absent", "; ".join(whys) or "no run store given"


def pack_replications(kept: dict, manifest: dict, stores: list[Path], seen: set, tmp: Path, data_root=None) -> int:
    """The same for every cpu section in reports/replication/<name>/ (fast profiles run on other seeds,
    docs/replication.md), listed under manifest["replications"][name]: each must be packed, as the fast reports."""
    claims = load_claims(ROOT)
    for root in report.replication_roots(ROOT / "reports"):
        packed = manifest.setdefault("replications", {}).setdefault(root.name, {})
        for rec in report.load_all(root):
            claim = claims[rec["id"]][0]
            for profile in (p for p in claim.profiles if p.name in rec["profiles"] and p.device == "cpu"):
                name = f"{claim.id}[{profile.name}]"
                kind, *rest = pack_profile(claim, profile, stores, seen, tmp / "replication" / root.name, data_root,
                                           committed_root=root)
                if kind != "packed":
                    print(f"replication/{root.name}/{name}: {rest[0]}", file=sys.stderr)
                    return 1
                store, reads = rest
                kept.update({r: (store / r).read_bytes() for r in reads})
                packed[name] = reads
                print(f"{'packed':11s}replication/{root.name}/{name}: {len(reads)} files")
    return 0


def reanalyse_control(store_root: Path, control: str, data_root=None, rel: float = 0.0,
                      committed_root: Path = ROOT / "reports") -> list[str]:
    """Where a control's analysis (lrsci.patch_control: "no patch", "blank patch") from the runs in ``store_root``
    differs from the one committed under ``committed_root`` (nothing trained: a missing run raises LookupError)."""
    committed = files.read_json_object(committed_root / patch_control.result_path(control))
    profile, arms_for_seed = patch_control.setup(ROOT, committed.get("run_overrides") or None, control)
    analysis = patch_control.stored_analysis(RunStore(store_root, data_root=data_root), arms_for_seed,
                                             [int(s) for s in committed["analysis"]["seeds"]], committed["final_window"])
    return patch_control.differences(committed["analysis"], analysis, rel)


def pack_controls(kept: dict, manifest: dict, stores: list[Path], seen: set, data_root=None) -> int:
    """The runs of every committed control (reports/controls/*.json; docs/replication.md, replications 15-16), each
    from the first store whose runs give its committed analysis; listed under manifest["controls"][<name>]."""
    for control in patch_control.CONTROLS:
        name = patch_control.result_path(control).stem
        if not (ROOT / "reports" / patch_control.result_path(control)).exists():
            continue
        whys = []
        for store in stores:
            seen.clear()
            try:
                diffs = reanalyse_control(store, control, data_root)
            except LookupError as exc:
                whys.append(f"{store}: its runs are not there ({exc})")
                continue
            if diffs:
                whys.append(f"{store}: its runs do not give the committed control ({', '.join(diffs[:5])})")
                continue
            reads = sorted(str(p.relative_to(store)) for p in seen if p.suffix == KEPT and p.is_file())
            kept.update({r: (store / r).read_bytes() for r in reads})
            manifest.setdefault("controls", {})[name] = reads
            print(f"{'packed':11s}controls/{name}: {len(reads)} files")
            break
        else:
            print(f"controls/{name}: {'; '.join(whys) or 'no run store given'}", file=sys.stderr)
            return 1
    return 0


def pack(contents: dict[str, bytes], manifest: dict, out: Path) -> None:
    """A tar.xz whose bytes depend only on its contents (sorted names, no times or owners)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for name, data in sorted({**contents, "manifest.json": json.dumps(manifest, indent=1, sort_keys=True).encode()}.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    files.atomic_write(out, lambda tmp: Path(tmp).write_bytes(buf.getvalue()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-store", type=Path, action="append",
                    help="a run store to read (repeat for several, e.g. .runs and a device's runs/; default $LRSCI_RUNS, else .runs)")
    ap.add_argument("--data-root", default=None,
                    help="where the datasets are (default $LRSCI_DATA, else the usual places): the analyses load them")
    ap.add_argument("--out", type=Path, default=OUT,
                    help=f"the fixture to write (default {OUT.relative_to(ROOT)}); what it holds stays packed")
    args = ap.parse_args(argv)
    stores = [p.resolve() for p in args.run_store or [Path(os.environ.get("LRSCI_RUNS") or ROOT / ".runs")]]
    missing = [str(p) for p in stores if not p.is_dir()]
    if missing:   # refused before a store is opened (opening one would make the folder)
        ap.error(f"no run store at {', '.join(missing)}: name the folder the runs were trained into (--run-store)")
    kept, manifest = {}, {"packed": utc_now(), "git": git_hash(ROOT), "claims": {}, "left_out": {}, "not_packed": {}}
    with tempfile.TemporaryDirectory() as tmp:
        if args.out.exists():   # what was packed before stays packed (a device's runs exist nowhere else)
            files.extract_tar(args.out, Path(tmp) / "packed")
            stores.append(Path(tmp, "packed").resolve())
        seen = record_reads(stores)
        for claim_id, (claim, _) in sorted(load_claims(ROOT).items()):
            for profile in claim.profiles:
                name = f"{claim_id}[{profile.name}]"
                kind, *rest = pack_profile(claim, profile, stores, seen, Path(tmp) / "reports", args.data_root)
                if kind == "packed":
                    store, reads = rest
                    kept.update({r: (store / r).read_bytes() for r in reads})
                    manifest["claims"][name] = reads
                elif kind == "left out":
                    manifest["left_out"][name] = rest[0]
                elif profile.device == "cpu":   # the committed fast reports must all be reproducible from here
                    print(f"{name}: {rest[0]}", file=sys.stderr)
                    return 1
                else:
                    manifest["not_packed"][name] = rest[0]
                label = {"packed": "packed", "left out": "left out"}.get(kind, "not packed")
                print(f"{label:11s}{name}" + (f": {len(rest[1])} files" if kind == "packed" else ""))
        if pack_replications(kept, manifest, stores, seen, Path(tmp), args.data_root):
            return 1
        if pack_controls(kept, manifest, stores, seen, args.data_root):
            return 1
    if same_pack(args.out, kept, manifest):
        print(f"{args.out}: unchanged ({len(kept)} files); not rewritten")
        return 0
    pack(kept, manifest, args.out)
    print(f"{args.out}: {len(kept)} files, {args.out.stat().st_size / 1e6:.2f} MB")
    return 0


STAMPS = ("packed", "git")   # when and from which commit: not what the pack holds


def same_pack(path: Path, contents: dict[str, bytes], manifest: dict) -> bool:
    """Whether the pack at ``path`` already holds exactly ``contents`` and this manifest (its stamps aside):
    then it is left as it is, so packing again without a change does not churn a committed binary."""
    if not path.exists():
        return False
    with tarfile.open(path) as tar:
        old = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    old_manifest = json.loads(old.pop("manifest.json", b"{}"))
    strip = lambda m: {k: v for k, v in m.items() if k not in STAMPS}   # noqa: E731
    return old == contents and strip(old_manifest) == strip(manifest)


if __name__ == "__main__":
    sys.exit(main())

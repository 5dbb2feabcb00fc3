"""The patch claims' arms with and without the patch (or with a blank one): controls, docs/replication.md 15-16.

    python tools/no_patch_control.py --seeds 20 --seed-offset 23000 --run-store DIR [--out reports/controls]
    python tools/no_patch_control.py --control blank-patch --seeds 20 --seed-offset 24000 --run-store DIR
    python tools/no_patch_control.py ... --set data.train_size=2000 --set epochs=10 --set anneal_epoch=5

Trains activation-noise-fixes-small-lr's fast arms (large LR, small LR, small LR + noise: the claim module's own
arm_configs, which hold patch-memorized-by-small-lr's two) on the profile's patch data and on the control data
(lrsci.patch_control: no-patch, patch_prob 0; blank-patch, patch_sep 0), then writes <out>/<control>.json (every
per-seed value, the tests, provenance) and <out>/<control>.md. A control is run once: it refuses to replace an
existing result. --set runs it at another scale, as for a claim (lrsci.overrides; the result records the scale).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def arguments() -> argparse.ArgumentParser:
    from lrsci.patch_control import TITLES

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--control", choices=sorted(TITLES), default="no-patch",
                    help="the control data: no training image patched, or patched rows with no class signal")
    ap.add_argument("--seeds", type=int, required=True, help="seeds (at least 2: the tests are paired t-tests)")
    ap.add_argument("--seed-offset", type=int, required=True, help="the first seed (a range nothing has touched)")
    ap.add_argument("--run-store", required=True, help="where the runs are kept (a new folder for a final run)")
    ap.add_argument("--data-root", default=None, help="where Fashion-MNIST is (default: as lrsci finds it)")
    ap.add_argument("--out", default=str(ROOT / "reports" / "controls"), help="the folder <control>.{json,md} go to")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="the fast profile at another scale (as `lrsci run --set`)")
    return ap


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import driver, files, paired_rows, patch_control
    from lrsci.harness import progress_from_env
    from lrsci.overrides import OverrideError, describe, parse
    from lrsci.provenance import provenance

    ap = arguments()
    args = ap.parse_args(argv)
    if args.seeds < 2:
        ap.error(f"--seeds {args.seeds}: a paired t-test needs at least 2 seeds")
    if args.seed_offset < 0:
        ap.error(f"--seed-offset {args.seed_offset}: seeds are whole numbers >= 0")
    out, control = Path(args.out), args.control.replace("-", " ")
    path = out / patch_control.result_path(control).name
    if path.exists():   # before any training
        ap.error(f"{path} exists: this control was run already; give another --out to run it again")
    try:
        scale = parse(args.set)
        profile, arms_for_seed = patch_control.setup(ROOT, scale, control)
    except OverrideError as exc:
        ap.error(str(exc))
    ctx = driver.context(profile, run_store=args.run_store, report_dir=out, data_root=args.data_root,
                         seeds=args.seeds, seed_offset=args.seed_offset, run_overrides=scale,
                         progress=progress_from_env(unset=True))   # a line per run and epoch unless LRSCI_PROGRESS=0
    started = time.perf_counter()
    runs = ctx.run_arms(arms_for_seed)
    window = profile["final_window"]
    analysis = patch_control.analyse_runs(runs, window)
    result = {"control": args.control, "claim_arms": f"{patch_control.CLAIM} [fast]", "final_window": window,
              "protocol": f"docs/replication.md, replication {patch_control.TITLES[args.control][1]}",
              "run_overrides": scale, "scale": describe(scale) if scale else None, "analysis": analysis,
              "configs": {k: c.to_dict() for k, c in arms_for_seed(ctx.seeds[0]).items()},
              "runs": sum(len(v) for v in runs.values()), "wall_seconds": time.perf_counter() - started,
              "provenance": provenance(profile.device)}
    text = patch_control.render(result)   # before anything is written: a result is never left without its table
    out.mkdir(parents=True, exist_ok=True)
    files.write_json_new(path, result)   # written once, never over another's
    files.write_text(path.with_suffix(".md"), text)
    print(paired_rows.summary(analysis["tests"]))
    print(f"wrote {path} and {path.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

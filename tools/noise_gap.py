"""The activation-noise claim's gain and share closed, 30 epochs after the anneal: docs/replication.md, replication 17.

    python -m pytest claims -m fast -k "activation-noise" --set epochs=40 --set anneal_epoch=10 \\
        --seeds 20 --seed-offset K --report-dir DIR --run-store STORE
    python tools/noise_gap.py --report-dir DIR --run-store STORE

Reads the activation-noise report in DIR (its seeds and its scale, which must leave epochs after 2 × anneal_epoch),
loads those runs from STORE (training nothing: a missing run is an error naming it), and writes DIR/noise-gap.json
(every per-seed value, the tests, provenance) and DIR/noise-gap.md (lrsci.noise_gap). It is written once: it
refuses to replace an existing result.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "noise-gap.json"


def arguments() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report-dir", required=True, help="the folder the claim's report was written to (--report-dir)")
    ap.add_argument("--run-store", required=True, help="the run store the claim trained into (--run-store)")
    ap.add_argument("--data-root", default=None, help="where Fashion-MNIST is (default: as lrsci finds it)")
    return ap


def report_section(report_dir: Path) -> dict:
    """The claim's fast section in ``report_dir``; ValueError saying what is missing."""
    from lrsci import report
    from lrsci.noise_gap import CLAIM

    path = report_dir / CLAIM / "result.json"
    record = report.read_record(path, quarantine_bad=False)
    if record is None or "fast" not in record["profiles"]:
        raise ValueError(f"{path}: no fast report of {CLAIM} there; run the claim first (see --help)")
    return record["profiles"]["fast"]


def analysis(report_dir: Path, store_root: Path, data_root=None) -> tuple[dict, dict, int]:
    """(the analysis, the section it rests on, the number of runs) from the report's runs in ``store_root``."""
    from lrsci import noise_gap
    from lrsci.runs import RunStore

    section = report_section(report_dir)
    scale = section.get("run_overrides") or {}
    profile, arm_configs = noise_gap.setup(ROOT, scale)
    ends, width = noise_gap.windows(profile), profile["final_window"]
    runs = noise_gap.stored_runs(RunStore(store_root, data_root=data_root), profile, arm_configs, section["seeds"])
    values = noise_gap.window_values(runs, width, ends)
    return noise_gap.analyse(values, ends, width), section, sum(len(v) for v in runs.values())


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import files, noise_gap
    from lrsci.overrides import describe
    from lrsci.provenance import provenance

    ap = arguments()
    args = ap.parse_args(argv)
    report_dir = Path(args.report_dir)
    path = report_dir / RESULT
    if path.exists():
        ap.error(f"{path} exists: this analysis was written already")
    try:
        result, section, n_runs = analysis(report_dir, Path(args.run_store), args.data_root)
    except (ValueError, LookupError) as exc:
        ap.error(str(exc))
    trained = section.get("provenance", {})
    out = {"claim": noise_gap.CLAIM, "protocol": "docs/replication.md, replication 17",
           "run_overrides": section.get("run_overrides"), "scale": describe(section.get("run_overrides") or {}),
           "window": section["protocol"]["final_window"], "analysis": result, "runs": n_runs,
           "trained_on": f"{trained.get('device_name')}, git {trained.get('git')}",
           "provenance": provenance("cpu")}
    text = noise_gap.render(out)   # before anything is written: a result is never left without its table
    files.write_json_new(path, out)
    files.write_text(path.with_suffix(".md"), text)
    for t in result["tests"]:
        print(f"{t['test']}: {t['effect']:+.2f} pp [{t['ci95'][0]:+.2f}, {t['ci95'][1]:+.2f}], p = {t['p']:.3g}")
    for where, s in result["share_closed"].items():
        print(f"share closed, {where}: {s['share']:.2f} {s['ci95']}")
    print(f"wrote {path} and {path.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

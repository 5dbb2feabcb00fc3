"""two-layer-learning-order's learning order read off test accuracy: docs/replication.md, replication 20.

    python -m pytest claims -m fast -k two-layer --seeds 20 --seed-offset K --report-dir DIR --run-store STORE
    python tools/learning_order.py --report-dir DIR --run-store STORE

Reads the claim's fast report in DIR (its seeds and scale), loads those runs from STORE (training nothing: a missing
run is an error naming it), and writes DIR/learning-order.json (every per-seed value, the tests, provenance) and
DIR/learning-order.md (lrsci.learning_order). It is written once: it refuses to replace a result.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "learning-order.json"


def analysis(report_dir: Path, store_root: Path, data_root=None) -> tuple[dict, dict, int]:
    """(the analysis, the section it rests on, the number of runs) from the report's runs in ``store_root``."""
    from lrsci import learning_order, report
    from lrsci.runs import RunStore, stored_arms

    section = report.fast_section(report_dir, learning_order.CLAIM)
    profile, arm_configs = learning_order.setup(ROOT, section.get("run_overrides") or {})
    store = RunStore(store_root, data_root=data_root)
    runs = stored_arms(store, lambda seed: arm_configs(profile, seed), section["seeds"])
    values = learning_order.per_seed_values(runs, profile["final_window"])
    return learning_order.analyse(values, profile.run.epochs), section, sum(len(v) for v in runs.values())


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import learning_order
    from lrsci.beside_reports import rests_on, write_once
    from lrsci.paired_rows import summary

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report-dir", required=True, help="the folder the claim's report was written to (--report-dir)")
    ap.add_argument("--run-store", required=True, help="the run store the claim trained into (--run-store)")
    ap.add_argument("--data-root", default=None, help="where the data are (default: as lrsci finds them)")
    args = ap.parse_args(argv)
    path = Path(args.report_dir) / RESULT
    if path.exists():
        ap.error(f"{path} exists: this analysis was written already")
    try:
        result, section, n_runs = analysis(Path(args.report_dir), Path(args.run_store), args.data_root)
    except (ValueError, LookupError) as exc:
        ap.error(str(exc))
    out = {"claim": learning_order.CLAIM, "protocol": "docs/replication.md, replication 20", "analysis": result,
           "runs": n_runs, **rests_on(section)}
    write_once(path, out, learning_order.render(out))
    print(summary(result["tests"], "epochs"))
    print(f"wrote {path} and {path.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

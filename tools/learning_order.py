"""two-layer-learning-order's learning order read off test accuracy: docs/replication.md, replication 20.

    python -m pytest claims -m fast -k two-layer --seeds 20 --seed-offset K --report-dir DIR --run-store STORE
    python tools/learning_order.py --report-dir DIR --run-store STORE

Reads the claim's fast report in DIR (its seeds and scale), loads those runs from STORE (training nothing: a missing
run is an error naming it), and writes DIR/learning-order.json (every per-seed value, the tests, provenance) and
DIR/learning-order.md (lrsci.learning_order). It is written once: it refuses to replace a result.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "learning-order.json"


def analysis(report_dir: Path, store_root: Path, data_root=None) -> tuple[dict, dict, int]:
    """(the analysis, the section it rests on, the number of runs) from the report's runs in ``store_root``."""
    from lrsci import learning_order
    from lrsci.beside_reports import report_runs

    section, profile, runs = report_runs(ROOT, report_dir, store_root, learning_order.CLAIM, data_root)
    values = learning_order.per_seed_values(runs, profile["final_window"])
    return learning_order.analyse(values, profile.run.epochs), section, sum(len(v) for v in runs.values())


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import learning_order
    from lrsci.beside_reports import tool_main
    from lrsci.paired_rows import summary

    return tool_main(argv, __doc__.split("\n\n")[0], RESULT, learning_order.CLAIM, 20, analysis,
                     learning_order.render, lambda a: summary(a["tests"], "epochs"))


if __name__ == "__main__":
    raise SystemExit(main())

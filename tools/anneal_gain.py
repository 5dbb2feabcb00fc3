"""patch-memorized-by-small-lr's test 2 against the level just before the anneal: docs/replication.md, replication 21.

    python -m pytest claims -m fast -k patch-memorized --seeds 20 --seed-offset K --report-dir DIR --run-store STORE
    python tools/anneal_gain.py --report-dir DIR --run-store STORE

Reads the claim's fast report in DIR (its seeds and scale), loads those runs from STORE (training nothing: a missing
run is an error naming it), and writes DIR/anneal-gain.json (every per-seed value, the test, provenance) and
DIR/anneal-gain.md (lrsci.anneal_gain). It is written once: it refuses to replace a result.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "anneal-gain.json"


def analysis(report_dir: Path, store_root: Path, data_root=None) -> tuple[dict, dict, int]:
    """(the analysis, the section it rests on, the number of runs) from the report's runs in ``store_root``."""
    from lrsci import anneal_gain
    from lrsci.beside_reports import report_runs

    section, profile, runs = report_runs(ROOT, report_dir, store_root, anneal_gain.CLAIM, data_root)
    m, width = profile["anneal_epoch"], profile["final_window"]
    values = anneal_gain.per_seed_values(runs, m, width)
    return (anneal_gain.analyse(values, profile["min_post_gain_pp"], m, width), section,
            sum(len(v) for v in runs.values()))


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import anneal_gain
    from lrsci.beside_reports import tool_main

    return tool_main(argv, __doc__.split("\n\n")[0], RESULT, anneal_gain.CLAIM, 21, analysis, anneal_gain.render)


if __name__ == "__main__":
    raise SystemExit(main())

"""gd-larger-lr-diverges with a run's outcome read from its loss: docs/replication.md, replication 22.

    python -m pytest claims -m fast -k gd-larger --seeds 20 --seed-offset K --report-dir DIR --run-store STORE
    python tools/gd_outcomes.py --report-dir DIR

Reads the claim's fast report in DIR and writes DIR/gd-outcomes.json (the counts, the test, provenance) and
DIR/gd-outcomes.md (lrsci.gd_outcomes). It reads no run: every value comes from the report's per-seed values. It is
written once: it refuses to replace a result.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "gd-outcomes.json"


def compute(report_dir: Path) -> tuple[dict, dict]:
    """(the analysis, the claim's section it comes from)."""
    from lrsci import gd_outcomes, report

    section = report.fast_section(report_dir, gd_outcomes.CLAIM)
    return gd_outcomes.analyse(section), section


def summarize(analysis: dict) -> str:
    t = analysis["test"]
    return (f"{t['name']}: {t['failed']} of {t['n']}, p = {t['p']:.3g}, {'pass' if t['passed'] else 'fail'}; "
            f"counts {analysis['counts']}")


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import gd_outcomes
    from lrsci.beside_reports import tool_main

    return tool_main(argv, __doc__.split("\n\n")[0], RESULT, gd_outcomes.CLAIM, 22, compute, gd_outcomes.render,
                     summarize, reads_runs=False)


if __name__ == "__main__":
    raise SystemExit(main())

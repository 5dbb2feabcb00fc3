"""stage3-less-transferable's rows as pooled ratios with a bootstrap over seeds: docs/replication.md, replication 19.

    python -m pytest claims -m fast -k stage3 --seeds 20 --seed-offset K --report-dir DIR --run-store STORE
    python tools/pooled_transfer.py --report-dir DIR

Reads the claim's fast report in DIR and writes DIR/pooled-transfer.json (the tests, provenance) and
DIR/pooled-transfer.md (lrsci.pooled_transfer). It reads no run: every term comes from the report's per-seed values.
It is written once: it refuses to replace a result.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "pooled-transfer.json"


def compute(report_dir: Path) -> tuple[dict, dict]:
    """(the analysis, the claim's section it comes from)."""
    from lrsci import pooled_transfer, report

    section = report.fast_section(report_dir, pooled_transfer.CLAIM)
    return pooled_transfer.analyse(section), section


def summarize(analysis: dict) -> str:
    return "\n".join(f"{t['row']}: {t['effect']}, CI {t['ci']}, p {t['p_below_0']}, {'pass' if t['passed'] else 'no'}"
                     for t in analysis["tests"] + analysis["reported"])


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import pooled_transfer
    from lrsci.beside_reports import tool_main

    return tool_main(argv, __doc__.split("\n\n")[0], RESULT, pooled_transfer.CLAIM, 19, compute, pooled_transfer.render,
                     summarize, reads_runs=False)


if __name__ == "__main__":
    raise SystemExit(main())

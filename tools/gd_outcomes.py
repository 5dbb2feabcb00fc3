"""gd-larger-lr-diverges with a run's outcome read from its loss: docs/replication.md, replication 22.

    python -m pytest claims -m fast -k gd-larger --seeds 20 --seed-offset K --report-dir DIR --run-store STORE
    python tools/gd_outcomes.py --report-dir DIR

Reads the claim's fast report in DIR and writes DIR/gd-outcomes.json (the counts, the test, provenance) and
DIR/gd-outcomes.md (lrsci.gd_outcomes). It reads no run: every value comes from the report's per-seed values. It is
written once: it refuses to replace a result.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "gd-outcomes.json"


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import gd_outcomes, report
    from lrsci.beside_reports import rests_on, write_once

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report-dir", required=True, help="the folder the claim's report was written to (--report-dir)")
    args = ap.parse_args(argv)
    path = Path(args.report_dir) / RESULT
    if path.exists():
        ap.error(f"{path} exists: this analysis was written already")
    try:
        section = report.fast_section(Path(args.report_dir), gd_outcomes.CLAIM)
        analysis = gd_outcomes.analyse(section)
    except ValueError as exc:
        ap.error(str(exc))
    out = {"claim": gd_outcomes.CLAIM, "protocol": "docs/replication.md, replication 22", "analysis": analysis,
           **rests_on(section)}
    write_once(path, out, gd_outcomes.render(out))
    t = analysis["test"]
    print(f"{t['name']}: {t['failed']} of {t['n']}, p = {t['p']:.3g}, {'pass' if t['passed'] else 'fail'}; "
          f"counts {analysis['counts']}")
    print(f"wrote {path} and {path.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

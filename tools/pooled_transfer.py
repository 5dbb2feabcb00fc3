"""stage3-less-transferable's rows as pooled ratios with a bootstrap over seeds: docs/replication.md, replication 19.

    python -m pytest claims -m fast -k stage3 --seeds 20 --seed-offset K --report-dir DIR --run-store STORE
    python tools/pooled_transfer.py --report-dir DIR

Reads the claim's fast report in DIR and writes DIR/pooled-transfer.json (the tests, provenance) and
DIR/pooled-transfer.md (lrsci.pooled_transfer). It reads no run: every term comes from the report's per-seed values.
It is written once: it refuses to replace a result.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "pooled-transfer.json"


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import pooled_transfer, report
    from lrsci.beside_reports import rests_on, write_once

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report-dir", required=True, help="the folder the claim's report was written to (--report-dir)")
    args = ap.parse_args(argv)
    path = Path(args.report_dir) / RESULT
    if path.exists():
        ap.error(f"{path} exists: this analysis was written already")
    try:
        sec = report.fast_section(Path(args.report_dir), pooled_transfer.CLAIM)
    except ValueError as exc:
        ap.error(str(exc))
    out = {"claim": pooled_transfer.CLAIM, "protocol": "docs/replication.md, replication 19",
           "analysis": pooled_transfer.analyse(sec), **rests_on(sec)}
    write_once(path, out, pooled_transfer.render(out))
    for t in out["analysis"]["tests"] + out["analysis"]["reported"]:
        print(f"{t['row']}: {t['effect']}, CI {t['ci']}, p {t['p_below_0']}, {'pass' if t['passed'] else 'no'}")
    print(f"wrote {path} and {path.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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


def section(report_dir: Path) -> dict:
    """The claim's fast section in ``report_dir``; ValueError saying what is missing."""
    from lrsci import report
    from lrsci.pooled_transfer import CLAIM

    path = report_dir / CLAIM / "result.json"
    record = report.read_record(path, quarantine_bad=False)
    if record is None or "fast" not in record["profiles"]:
        raise ValueError(f"{path}: no fast report of {CLAIM} there; run the claim first (see --help)")
    return record["profiles"]["fast"]


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import files, pooled_transfer
    from lrsci.overrides import describe
    from lrsci.provenance import provenance

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report-dir", required=True, help="the folder the claim's report was written to (--report-dir)")
    args = ap.parse_args(argv)
    path = Path(args.report_dir) / RESULT
    if path.exists():
        ap.error(f"{path} exists: this analysis was written already")
    try:
        sec = section(Path(args.report_dir))
    except ValueError as exc:
        ap.error(str(exc))
    trained = sec.get("provenance", {})
    overrides = sec.get("run_overrides") or {}
    out = {"claim": pooled_transfer.CLAIM, "protocol": "docs/replication.md, replication 19",
           "scale": describe(overrides) if overrides else "the profile as declared",
           "analysis": pooled_transfer.analyse(sec),
           "trained_on": f"{trained.get('device_name')}, git {trained.get('git')}", "provenance": provenance("cpu")}
    text = pooled_transfer.render(out)   # before anything is written: a result is never left without its table
    files.write_json_new(path, out)
    files.write_text(path.with_suffix(".md"), text)
    for t in out["analysis"]["tests"] + out["analysis"]["reported"]:
        print(f"{t['row']}: {t['effect']}, CI {t['ci']}, p {t['p_below_0']}, {'pass' if t['passed'] else 'no'}")
    print(f"wrote {path} and {path.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Bring committed reports to the current result.json schema, without training.

    python tools/upgrade_reports.py [reports/]

Each record is upgraded by lrsci.report_schema (t-intervals from each row's own t statistic,
stop reasons, ...). A profile that now declares expected failures gets that declaration and
the outcome it implies for the stored tests (re-judged, never re-trained), so an old section
reads like one written by today's driver. Verdicts, p-values and per-seed values are untouched; each upgraded section
records when and how in its provenance.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from lrsci import files, report
from lrsci.catalog import load_claims
from lrsci.criteria import judge
from lrsci.provenance import utc_now
from lrsci.report_schema import SCHEMA


def upgrade(report_root: Path, project: Path) -> None:
    claims = load_claims(project)
    for path in sorted(report_root.glob("*/result.json")):
        before = json.loads(path.read_text()).get("schema", 1)
        record = report.read_record(path, quarantine_bad=False)
        claim = claims.get(record["id"], (None,))[0]
        for name, sec in record["profiles"].items():
            profile = next((p for p in claim.profiles if p.name == name), None) if claim else None
            if profile is not None and profile.expected_failures:  # the declaration as the module words it now
                declared = (dict(profile.expected_failures),
                            *judge(sec["tests"], profile.expected_failures, sec.get("headline")))
                if declared != (sec.get("expected_failures"), sec.get("outcome"), sec.get("outcome_message")):
                    sec["expected_failures"], sec["outcome"], sec["outcome_message"] = declared
                    sec["provenance"]["declaration_recorded"] = (
                        f"{utc_now()}: the module's expected failures recorded and judged against the stored "
                        "tests by tools/upgrade_reports.py (nothing re-trained)")
            if before < SCHEMA:
                sec["provenance"]["upgraded"] = (f"{utc_now()}: result.json schema {before} -> {SCHEMA} "
                                                 "(tools/upgrade_reports.py; nothing re-trained)")
        files.write_json(path, record)
        print(path, f"schema {before} -> {SCHEMA}")
    report.render_all(report_root)


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "reports")
    upgrade(root, Path(__file__).resolve().parents[1])

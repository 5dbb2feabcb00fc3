"""Bring committed reports to the current result.json schema, without training.

    python tools/upgrade_reports.py [reports/]      (and every folder under its replication/)

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's lrsci, not an installed one
from lrsci import files, report
from lrsci.catalog import load_claims
from lrsci.claim import data_seed, report_seeds
from lrsci.driver import judge_outcome
from lrsci.provenance import utc_now
from lrsci.report_schema import SCHEMA


def upgrade(report_root: Path, project: Path) -> None:
    claims = load_claims(project)
    for path in sorted(report_root.glob("*/result.json")):
        before = json.loads(path.read_text(encoding="utf-8")).get("schema", 1)
        record = report.read_record(path, quarantine_bad=False)
        claim = claims.get(record["id"], (None,))[0]
        for name, sec in record["profiles"].items():
            profile = next((p for p in claim.profiles if p.name == name), None) if claim else None
            if profile is not None and profile.expected_failures:  # the declaration as the module words it now
                record_declaration(sec, profile)
            if before < SCHEMA:
                sec["provenance"]["upgraded"] = (f"{utc_now()}: result.json schema {before} -> {SCHEMA} "
                                                 "(tools/upgrade_reports.py; nothing re-trained)")
        files.write_json(path, record)
        print(path, f"schema {before} -> {SCHEMA}")
    report.render_all(report_root)


def record_declaration(sec: dict, profile) -> None:
    """Record ``profile``'s expected failures (the module's declaration now) in a profile section and judge the
    stored tests against it, as the driver judged them (lrsci.driver.judge_outcome: on the section's seeds, at
    its scale). A declaration worded otherwise than the stored one keeps the stored one, with when it was
    recorded, under ``earlier_declarations``: a declaration is evidence of what was expected when, so
    rewording one never erases the words it replaces. Only a new outcome message (a changed format,
    the same declaration) is re-rendered without a new timestamp for the declaration."""
    expected = dict(profile.expected_failures)
    seeds = sec.get("seeds") or report_seeds(profile)   # a section that did not record its seeds ran the report's
    outcome, message = judge_outcome(sec["tests"], profile, sec.get("headline"), seeds, data_seed(sec),
                                     sec.get("run_overrides"))
    prov = sec["provenance"]
    stored = sec.get("expected_failures")
    if stored != expected:
        if stored:
            prov.setdefault("earlier_declarations", []).append(
                {"recorded": prov.get("declaration_recorded", "with the run"), "expected_failures": stored})
        prov["declaration_recorded"] = (f"{utc_now()}: the module's expected failures recorded and judged "
                                        "against the stored tests by tools/upgrade_reports.py (nothing re-trained)")
    elif (outcome, message) != (sec.get("outcome"), sec.get("outcome_message")):
        prov["outcome_rejudged"] = (f"{utc_now()}: the stored tests judged again against the same declaration "
                                    "by tools/upgrade_reports.py (nothing re-trained)")
    sec["expected_failures"], sec["outcome"], sec["outcome_message"] = expected, outcome, message


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reports", nargs="?", default="reports", type=Path, help="the claim reports folder (default reports/)")
    args = ap.parse_args(argv)
    if not args.reports.is_dir() or not any(args.reports.glob("*/result.json")):
        ap.error(f"{args.reports} is no claim reports folder (no */result.json in it)")
    for root in (args.reports, *report.replication_roots(args.reports)):   # the same profiles on other seeds too
        upgrade(root, Path(__file__).resolve().parents[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The README's claims table says what the committed reports say (issue #11: they must agree)."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def table_rows() -> list[list[str]]:
    text = (ROOT / "README.md").read_text().split("## Claims", 1)[1]
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| [")]


def leading_verdict(cell: str) -> str:
    for verdict in ("not replicated", "replicated", "not run yet"):
        if cell.startswith(verdict):
            return verdict
    raise AssertionError(f"a claims-table cell must start with its verdict: {cell[:60]!r}")


def test_every_claim_with_a_report_is_in_the_table_and_each_cell_starts_with_its_reports_verdict():
    rows = table_rows()
    ids = [re.match(r"\[([a-z0-9-]+)\]", r[0]).group(1) for r in rows]
    reported = sorted(p.parent.name for p in (ROOT / "reports").glob("*/result.json"))
    assert sorted(ids) == reported
    for claim, row in zip(ids, rows):
        profiles = json.loads((ROOT / "reports" / claim / "result.json").read_text())["profiles"]
        for profile, cell in (("fast", row[2]), ("gpu", row[3])):
            stored = profiles.get(profile, {}).get("verdict", "not run yet")
            assert leading_verdict(cell) == stored, f"{claim} [{profile}]: README says {cell[:40]!r}, report {stored!r}"

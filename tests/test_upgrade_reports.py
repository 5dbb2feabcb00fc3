"""tools/upgrade_reports.py: recording a module's declaration in a stored report never erases the one it replaces."""
from __future__ import annotations

from types import SimpleNamespace

from lrsci.criteria import criterion, judge
from lrsci.stats import paired_t
from tests.helpers import ROOT, load_file

upgrade_reports = load_file(ROOT / "tools" / "upgrade_reports.py", "upgrade_reports")

NAME = "1. a > b"


def _section(expected: dict | None) -> dict:
    row = criterion(NAME, paired_t([1.0, 2.0, 1.5], [1.1, 2.2, 1.4]), "p<0.05", [-0.1, -0.2, 0.1], 0.05)
    sec = {"tests": [row], "headline": "a ≈ b", "provenance": {"declaration_recorded": "T0: with the run"}}
    if expected:
        sec["expected_failures"] = expected
        sec["outcome"], sec["outcome_message"] = judge(sec["tests"], expected, sec["headline"])
    return sec


def declaring(expected: dict, seeds: int = 3) -> SimpleNamespace:
    """What record_declaration reads of a profile: its declaration and its number of seeds."""
    return SimpleNamespace(expected_failures=expected, seeds=seeds, first_seed=0,
                           run=SimpleNamespace(data=SimpleNamespace(seed=0)))


def test_reworded_declaration_keeps_the_earlier_words_and_when_they_were_recorded():
    sec = _section({NAME: "old words"})
    upgrade_reports.record_declaration(sec, declaring({NAME: "new words"}))
    assert sec["expected_failures"] == {NAME: "new words"} and sec["outcome"] == "as declared"
    assert sec["provenance"]["earlier_declarations"] == [{"recorded": "T0: with the run",
                                                          "expected_failures": {NAME: "old words"}}]
    assert sec["provenance"]["declaration_recorded"] != "T0: with the run"


def test_same_declaration_keeps_its_timestamp_and_only_a_new_message_is_recorded_as_rejudged():
    sec = _section({NAME: "same words"})
    sec["outcome_message"] = "a message in an older format"
    upgrade_reports.record_declaration(sec, declaring({NAME: "same words"}))
    assert sec["provenance"]["declaration_recorded"] == "T0: with the run"
    assert "earlier_declarations" not in sec["provenance"]
    assert "outcome_rejudged" in sec["provenance"] and sec["outcome_message"].startswith("not replicated")


def test_unchanged_section_is_left_exactly_as_it_was():
    sec = _section({NAME: "same words"})
    before = repr(sec)
    upgrade_reports.record_declaration(sec, declaring({NAME: "same words"}))
    assert repr(sec) == before


def test_first_declaration_on_a_section_without_one_has_no_earlier_declarations():
    sec = _section(None)
    upgrade_reports.record_declaration(sec, declaring({NAME: "declared after the run"}))
    assert sec["outcome"] == "as declared" and "earlier_declarations" not in sec["provenance"]


def test_the_replication_folders_below_the_reports_are_upgraded_too(tmp_path, monkeypatch):
    for folder in ("reports/a", "reports/replication/seeds-7-8/a"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "result.json").write_text("{}")
    seen = []
    monkeypatch.setattr(upgrade_reports, "upgrade", lambda root, project: seen.append(root))
    assert upgrade_reports.main([str(tmp_path / "reports")]) == 0
    assert seen == [tmp_path / "reports", tmp_path / "reports" / "replication" / "seeds-7-8"]


def test_a_section_at_another_scale_is_judged_again_as_the_driver_judged_it():
    sec = _section({NAME: "same words"})
    sec["run_overrides"] = {"model.hidden": 1024}
    sec["outcome"], sec["outcome_message"] = upgrade_reports.judge_outcome(
        sec["tests"], declaring({NAME: "same words"}), sec["headline"], [0, 1, 2], None, sec["run_overrides"])
    before = repr(sec)
    upgrade_reports.record_declaration(sec, declaring({NAME: "same words"}))
    assert repr(sec) == before and sec["outcome_message"].startswith("at another scale (model.hidden=1024)")


def test_a_section_on_other_seeds_is_judged_again_as_not_the_protocols_report():
    sec = {**_section(None), "seeds": [90000, 90001, 90002]}
    upgrade_reports.record_declaration(sec, declaring({}))   # its row failed, and nothing is declared
    assert sec["outcome"] == "unexpected"
    assert sec["outcome_message"].startswith("on seeds 90000-90002, not the report seeds 0-2: this verdict is not")
    assert "expected_failures" not in sec["outcome_message"]   # no advice to declare a finding from other seeds
    on_report_seeds = {**_section(None), "seeds": [0, 1, 2]}
    upgrade_reports.record_declaration(on_report_seeds, declaring({}))
    assert "expected_failures" in on_report_seeds["outcome_message"]   # the protocol's own run: the advice stands

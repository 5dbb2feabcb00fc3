import json

import pytest

from lrsci import report
from lrsci.criteria import criterion, verdict
from lrsci.stats import paired_t

CLAIM = {"id": "demo-claim", "title": "a demo", "source": "nowhere §0", "statement": "a > b"}


def section(a, b, profile="fast"):
    rows = [criterion("a > b", paired_t(a, b), "p<0.05", [x - y for x, y in zip(a, b)])]
    return {"protocol": {"epochs": 1}, "seeds": [0, 1, 2], "tests": rows, "verdict": verdict(rows),
            "per_seed": {"a": dict(enumerate(a)), "b": dict(enumerate(b))}, "summary": "demo", "headline": "+1",
            "figure": {"file": f"fig-{profile}.png", "spec": {"title": "t", "ylabel": "acc", "panels": [
                {"title": "p", "marks": [1], "curves": [{"label": "x", "runs": [[1, 2, 3], [1, 2, 4]]}]}]}},
            "provenance": {"git": "abc", "date": "2026-01-01T00:00:00Z", "device_name": "cpu"}}


def test_write_render_and_index(tmp_path):
    report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
    folder = tmp_path / "demo-claim"
    rec = json.loads((folder / "result.json").read_text())
    assert rec["profiles"]["fast"]["verdict"] == "replicated"
    md = (folder / "report.md").read_text()
    assert "REPLICATED" in md and "fig-fast.png" in md and "| a > b |" in md
    assert (folder / "fig-fast.png").stat().st_size > 1000
    index = (tmp_path / "README.md").read_text()
    assert "[demo-claim](demo-claim/report.md)" in index and "**replicated**" in index
    report.write_section(tmp_path, CLAIM, "gpu", {**section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0], "gpu"),
                                                  "seeds": [3000, 3001, 3002]})
    index = (tmp_path / "README.md").read_text()
    assert "| seeds |" in index and "| 3000-3002 |" in index   # which protocol version a section ran under
    assert "Controls" not in index
    (tmp_path / "controls").mkdir()
    (tmp_path / "controls" / "no-patch.md").write_text("# a control\n")
    assert "[no-patch](controls/no-patch.md)" in report.render_index(tmp_path).read_text()


def test_profiles_merge_and_rerender_without_training(tmp_path):
    report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
    report.write_section(tmp_path, CLAIM, "gpu", section([1.0, 1.0, 1.1], [1.0, 1.5, 2.0], "gpu"))
    rec = json.loads((tmp_path / "demo-claim" / "result.json").read_text())
    assert set(rec["profiles"]) == {"fast", "gpu"}
    assert rec["profiles"]["gpu"]["verdict"] == "not replicated"
    (tmp_path / "demo-claim" / "report.md").unlink()
    (tmp_path / "demo-claim" / "fig-gpu.png").unlink()
    report.render_all(tmp_path)
    assert (tmp_path / "demo-claim" / "fig-gpu.png").exists()
    assert "NOT REPLICATED" in (tmp_path / "demo-claim" / "report.md").read_text()


def test_a_report_written_without_drawing_keeps_the_spec_and_draws_it_when_rendered_again(tmp_path):
    report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]), draw_figures=False)
    folder = tmp_path / "demo-claim"
    assert not (folder / "fig-fast.png").exists() and "fig-fast.png" in (folder / "report.md").read_text()
    assert json.loads((folder / "result.json").read_text())["profiles"]["fast"]["figure"]["spec"]["panels"]
    report.render_all(tmp_path)
    assert (folder / "fig-fast.png").stat().st_size > 1000


def test_nan_becomes_null(tmp_path):
    sec = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    sec["per_seed"]["a"][0] = float("nan")
    report.write_section(tmp_path, CLAIM, "fast", sec)
    assert json.loads((tmp_path / "demo-claim" / "result.json").read_text())["profiles"]["fast"]["per_seed"]["a"]["0"] is None


def test_identical_reanalysis_keeps_the_training_provenance(tmp_path):
    first = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    report.write_section(tmp_path, CLAIM, "fast", first)
    again = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    again["provenance"] = {"git": "later", "date": "2027-01-01T00:00:00Z", "runs_trained": 0}
    report.write_section(tmp_path, CLAIM, "fast", again)
    rec = json.loads((tmp_path / "demo-claim" / "result.json").read_text())
    assert rec["profiles"]["fast"]["provenance"]["git"] == "abc"
    changed = section([2.0, 3.0, 9.0], [1.0, 1.5, 2.0])
    changed["provenance"] = {"git": "later"}
    report.write_section(tmp_path, CLAIM, "fast", changed)
    rec = json.loads((tmp_path / "demo-claim" / "result.json").read_text())
    assert rec["profiles"]["fast"]["provenance"]["git"] == "later"


def test_a_run_that_trains_the_same_numbers_replaces_a_provenance_that_trained_nothing(tmp_path):
    loaded = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    loaded["provenance"] = {"git": "abc", "runs_trained": 0, "analysed_again": "then"}
    report.write_section(tmp_path, CLAIM, "fast", loaded)
    trained = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    trained["provenance"] = {"git": "later", "runs_trained": 6}
    report.write_section(tmp_path, CLAIM, "fast", trained)
    path = tmp_path / "demo-claim" / "result.json"
    assert json.loads(path.read_text())["profiles"]["fast"]["provenance"] == {"git": "later", "runs_trained": 6}
    again = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])          # a later training of the same numbers: kept
    again["provenance"] = {"git": "latest", "runs_trained": 6}
    report.write_section(tmp_path, CLAIM, "fast", again)
    assert json.loads(path.read_text())["profiles"]["fast"]["provenance"]["git"] == "later"


def test_a_reanalysis_that_only_adds_rows_keeps_the_provenance_of_the_run_and_says_when(tmp_path):
    report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
    more = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    more["tests"].append(criterion("b < a (reported)", paired_t([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]), "reported",
                                   None, reported_only=True))
    more["per_seed"]["c"] = {0: 1.0, 1: 2.0, 2: 3.0}
    more["provenance"] = {"git": "later", "date": "2027-01-01T00:00:00Z", "runs_trained": 0}
    report.write_section(tmp_path, CLAIM, "fast", more)
    sec = json.loads((tmp_path / "demo-claim" / "result.json").read_text())["profiles"]["fast"]
    assert len(sec["tests"]) == 2 and "c" in sec["per_seed"]          # the new rows and values are stored
    assert sec["provenance"]["git"] == "abc" and "at git later" in sec["provenance"]["analysed_again"]
    assert "Analysed again: 2027-01-01T00:00:00Z: analysed again at git later" in (
        tmp_path / "demo-claim" / "report.md").read_text()


@pytest.mark.parametrize("change", ["value", "trained"])
def test_a_reanalysis_that_changes_a_value_or_trains_takes_its_own_provenance(tmp_path, change):
    report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
    more = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    more["per_seed"]["c"] = {0: 1.0, 1: 2.0, 2: 3.0}
    if change == "value":
        more["per_seed"]["b"][0] = 1.25
    more["provenance"] = {"git": "later", "runs_trained": 0 if change == "value" else 6}
    report.write_section(tmp_path, CLAIM, "fast", more)
    prov = json.loads((tmp_path / "demo-claim" / "result.json").read_text())["profiles"]["fast"]["provenance"]
    assert prov["git"] == "later" and "analysed_again" not in prov


def test_fewer_seeds_than_the_protocol_is_flagged(tmp_path):
    sec = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    sec["protocol"] = {"seeds": 5}
    report.write_section(tmp_path, CLAIM, "fast", sec)
    assert "fewer than the protocol's 5" in (tmp_path / "demo-claim" / "report.md").read_text()


def test_a_corrupt_result_json_is_moved_aside_named_and_replaced(tmp_path):
    folder = tmp_path / "demo-claim"
    folder.mkdir()
    (folder / "result.json").write_text('{"id": "demo-claim", "profiles": {')  # truncated, as by a full disk
    with pytest.warns(UserWarning, match="result.json is unreadable.*moved it aside"):
        report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
    aside = list(folder.glob("result.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text().endswith('"profiles": {')  # kept, byte for byte
    assert json.loads((folder / "result.json").read_text())["profiles"]["fast"]["verdict"] == "replicated"


def test_list_and_report_name_a_corrupt_record_and_render_the_others(tmp_path):
    report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
    bad = tmp_path / "broken-claim" / "result.json"
    bad.parent.mkdir()
    bad.write_text("not json")
    with pytest.warns(UserWarning, match="broken-claim/result.json is unreadable"):
        records = report.load_all(tmp_path)
    assert [r["id"] for r in records] == ["demo-claim"]
    with pytest.warns(UserWarning, match="broken-claim"):
        paths = report.render_all(tmp_path)
    assert tmp_path / "demo-claim" / "report.md" in paths and bad.read_text() == "not json"


def test_two_writers_of_one_claim_both_land(tmp_path):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_profile, args=(str(tmp_path), name)) for name in ("fast", "gpu", "paper")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    rec = json.loads((tmp_path / "demo-claim" / "result.json").read_text())
    assert set(rec["profiles"]) == {"fast", "gpu", "paper"}


def _write_profile(root, name):
    report.write_section(root, CLAIM, name, section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0], name))


def test_a_new_declaration_rewrites_an_otherwise_identical_section(tmp_path):
    sec = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    report.write_section(tmp_path, CLAIM, "fast", sec)
    declared = {**sec, "expected_failures": {"a > b": "why"}, "outcome": "unexpected",
                "provenance": {**sec["provenance"], "git": "def"}}
    report.write_section(tmp_path, CLAIM, "fast", declared)
    rec = json.loads((tmp_path / "demo-claim" / "result.json").read_text())["profiles"]["fast"]
    assert rec["expected_failures"] == {"a > b": "why"} and rec["provenance"]["git"] == "def"


def test_a_zero_spread_interval_is_named_not_printed_as_an_interval():
    from lrsci.report import _ci_cell

    assert _ci_cell({"ci": [0.83, 0.83]}) == "— (every seed: the same value)"
    assert _ci_cell({"ci": [0.8, 0.9]}) == "[0.800, 0.900]"


@pytest.mark.parametrize("text", ["[]", "{}", '{"id": "x"}'])
def test_a_result_json_of_the_wrong_shape_is_named_and_moved_aside_when_writing(tmp_path, text):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "result.json").write_text(text)
    with pytest.raises(ValueError, match="x/result.json is unreadable.*not a claim record"):
        report.read_record(folder / "result.json", quarantine_bad=False)
    with pytest.warns(UserWarning, match="not a claim record.*moved it aside"):
        assert report.read_record(folder / "result.json") is None
    assert list(folder.glob("result.json.corrupt-*"))


def test_a_record_of_a_newer_schema_is_refused_not_relabelled(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "result.json").write_text(json.dumps({"id": "x", "profiles": {}, "schema": report.SCHEMA + 1}))
    with pytest.raises(ValueError, match="newer than this lrsci"):
        report.read_record(folder / "result.json")
    assert json.loads((folder / "result.json").read_text())["schema"] == report.SCHEMA + 1


def test_an_identical_reanalysis_keeps_the_training_provenance_and_takes_the_new_text(tmp_path):
    first = {**section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]), "summary": "first wording",
             "provenance": {"git": "aaa", "date": "then"}}
    report.write_section(tmp_path, CLAIM, "fast", first)
    again = {**first, "summary": "clearer wording", "provenance": {"git": "bbb", "date": "now"}}
    report.write_section(tmp_path, CLAIM, "fast", again)
    stored = json.loads((tmp_path / CLAIM["id"] / "result.json").read_text())["profiles"]["fast"]
    assert stored["summary"] == "clearer wording" and stored["provenance"] == {"git": "aaa", "date": "then"}


def test_a_section_without_a_known_verdict_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="verdict must be one of"):
        report.write_section(tmp_path, CLAIM, "fast", {**section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]), "verdict": "ok"})
    assert list(tmp_path.iterdir()) == []


def test_filing_a_measurement_beside_a_corrupt_or_absent_section_names_it_and_moves_nothing(tmp_path):
    report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
    folder = tmp_path / "demo-claim"
    with pytest.raises(ValueError, match="no 'gpu' section to file 'hessian_benchmark'"):
        report.set_provenance(folder, "gpu", "hessian_benchmark", {"hvps": 1})
    (folder / "result.json").write_text('{"id": "demo-claim", "profiles": {')
    with pytest.raises(ValueError, match="unreadable .*restore it from git"):
        report.set_provenance(folder, "fast", "hessian_benchmark", {"hvps": 1})
    assert (folder / "result.json").read_text() == '{"id": "demo-claim", "profiles": {'
    assert not list(folder.glob("*.corrupt-*"))


def test_a_result_json_that_is_not_text_is_moved_aside_when_writing(tmp_path):
    folder = tmp_path / "demo-claim"
    folder.mkdir()
    (folder / "result.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.warns(UserWarning, match="unreadable"):
        report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
    assert [p.read_bytes() for p in folder.glob("result.json.corrupt-*")] == [b"\xff\xfe\x00garbage"]


def test_reported_only_rows_and_small_numbers_are_shown_as_such():
    assert report._pass_cell({"passed": True, "reported_only": True}) == "reported (yes)"
    assert report._pass_cell({"passed": False}) == "NO"
    assert report._fmt(0.000123) == "0.000123" and report._fmt(0.5) == "0.500" and report._fmt(0.0) == "0.000"


@pytest.mark.parametrize("p, alpha, text", [(0.04996, 0.05, "0.04996"), (0.050004, 0.05, "0.05"),
                                            (0.03125, 0.05, "0.0312"), (0.0012345, 0.05, "0.00123"),
                                            (None, 0.05, "–")])
def test_a_p_value_is_never_printed_on_the_other_side_of_its_alpha(p, alpha, text):
    assert report._p_cell({"p_value": p, "alpha": alpha}) == text


def test_a_new_run_keeps_every_earlier_wording_of_the_declaration(tmp_path):
    first = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    first.update(expected_failures={"a > b": "first wording"})
    first["provenance"] = {"git": "abc", "runs_trained": 0, "declaration_recorded": "then",
                           "earlier_declarations": [{"recorded": "with the run", "expected_failures": {"a > b": "v0"}}]}
    report.write_section(tmp_path, CLAIM, "fast", first)
    again = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    again.update(expected_failures={"a > b": "second wording"})
    again["provenance"] = {"git": "later", "runs_trained": 6}
    report.write_section(tmp_path, CLAIM, "fast", again)
    prov = json.loads((tmp_path / "demo-claim" / "result.json").read_text())["profiles"]["fast"]["provenance"]
    assert prov["git"] == "later" and [d["expected_failures"]["a > b"] for d in prov["earlier_declarations"]] == [
        "v0", "first wording"]


def test_an_unexpected_outcome_shows_why_in_the_report(tmp_path):
    sec = {**section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]), "expected_failures": {"a > b": "too small"},
           "outcome": "unexpected", "outcome_message": "outcome differs from the declaration — declared as expected "
                                                      "to fail but passed: 'a > b'"}
    report.write_section(tmp_path, CLAIM, "fast", sec)
    text = (tmp_path / "demo-claim" / "report.md").read_text()
    assert "Outcome: **unexpected**" in text and "declared as expected to fail but passed: 'a > b'" in text

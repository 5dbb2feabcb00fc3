"""lrsci.report_compare and `lrsci compare`: a profile's verdicts on other seeds, criterion by criterion."""
import json

import pytest

from lrsci import cli
from lrsci.report_compare import compare, decision, render
from lrsci.report_schema import SCHEMA


def crit(criterion, passed, effect=1.0, ci=(0.5, 1.5), reported_only=False, n=5, test="paired t"):
    return {"criterion": criterion, "test": test, "passed": passed, "effect": effect, "ci": list(ci), "n": n,
            "reported_only": reported_only}


def write(root, cid, seeds, rows, profile="fast", verdict="replicated"):
    folder = root / cid
    folder.mkdir(parents=True)
    section = {"seeds": seeds, "tests": rows, "verdict": verdict}
    (folder / "result.json").write_text(json.dumps({"id": cid, "schema": SCHEMA, "title": cid, "source": "s",
                                                    "statement": "s", "profiles": {profile: section}}))


def two_folders(tmp_path):
    base, other = tmp_path / "reports", tmp_path / "again"
    write(base, "a", [0, 1, 2, 3, 4], [crit("a1", True), crit("a2", False, ci=(-1, 3))])
    write(other, "a", list(range(5000, 5010)), [crit("a1", True, 0.8, n=10), crit("a2", True, 1.2, n=10)])
    # one criterion, two rows: the t-test decides, the Wilcoxon beside it is reported only
    write(base, "b", [0, 1, 2, 3, 4], [crit("b1", True), crit("b1", False, reported_only=True, test="Wilcoxon")])
    write(other, "b", list(range(5000, 5010)), [crit("b1", True, n=10), crit("b1", True, reported_only=True, test="Wilcoxon")])
    write(base, "only-in-base", [0, 1], [crit("x", True)])
    return base, other


def test_a_claim_holds_only_when_every_required_criterion_decides_the_same(tmp_path):
    base, other = two_folders(tmp_path)
    found = {c.claim: c for c in compare(base, other)}
    assert set(found) == {"a", "b"}   # a claim run in one folder only is not compared
    assert not found["a"].holds and [r.criterion for r in found["a"].rows if not r.same] == ["a2"]
    assert found["b"].holds   # its reported-only row changed, and it does not decide
    assert [(r.test, r.same) for r in found["b"].rows] == [("paired t", True), ("Wilcoxon", False)]
    assert found["a"].other_seeds == list(range(5000, 5010))


def test_the_markdown_names_each_changed_criterion_with_both_effects(tmp_path):
    text = render(compare(*two_folders(tmp_path)), "reports", "again")
    assert "| a | 0-4 | 5000-5009 | replicated | replicated | **no** |" in text
    assert "| a | a2 | paired t | fail | pass ≠ | +1 [-1, +3] (n=5) | +1.2 [+0.5, +1.5] (n=10) |" in text
    assert "| b | b1 (reported only) | Wilcoxon | fail | pass ≠ |" in text


def test_a_criterion_present_on_one_side_only_or_unmeasured_is_named_not_guessed(tmp_path):
    base, other = tmp_path / "r1", tmp_path / "r2"
    write(base, "c", [0], [crit("c1", False, effect=None)])
    write(other, "c", [1], [crit("c2", True)])
    (c,) = compare(base, other)
    assert [(r.criterion, decision(r.base), decision(r.other)) for r in c.rows] == [
        ("c1", "undefined", "absent"), ("c2", "absent", "pass")]
    assert not c.holds


def test_a_folder_without_the_profile_is_an_error_naming_it(tmp_path):
    base, other = two_folders(tmp_path)
    with pytest.raises(ValueError, match="no claim report with a 'gpu' section"):
        compare(base, other, profile="gpu")
    with pytest.raises(ValueError, match="no such folder"):
        compare(base, tmp_path / "missing")


def test_the_cli_prints_the_comparison_and_exits_1_when_a_verdict_did_not_hold(tmp_path, capsys):
    base, other = two_folders(tmp_path)
    assert cli.main(["compare", str(base), str(other)]) == 1
    assert "| a | a2 | paired t | fail | pass ≠ |" in capsys.readouterr().out
    (other / "a" / "result.json").unlink()
    assert cli.main(["compare", str(base), str(other)]) == 0
    capsys.readouterr()
    assert cli.main(["compare", str(base), str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "none").mkdir()
    write(tmp_path / "none", "z", [9], [crit("z1", True)])   # a report folder, but no claim in common
    assert cli.main(["compare", str(base), str(tmp_path / "none")]) == 2
    assert "share no claim" in capsys.readouterr().err


def test_the_index_links_its_replications_and_a_replications_index_says_what_it_is(tmp_path):
    from lrsci import report

    base = tmp_path / "reports"
    write(base, "a", [0, 1], [crit("a1", True)])
    write(base / "replication" / "seeds-7-8", "a", [7, 8], [crit("a1", False)])
    assert report.replication_roots(base) == [base / "replication" / "seeds-7-8"]
    main = report.render_index(base).read_text()
    assert "[seeds-7-8](replication/seeds-7-8/README.md)" in main and "**Replication" not in main
    again = report.render_index(base / "replication" / "seeds-7-8").read_text()
    assert again.startswith("# lrsci reports\n\n**Replication `seeds-7-8`:**") and "| 7-8 |" in again


def test_a_sweep_puts_every_folders_decision_of_a_criterion_in_one_row(tmp_path, capsys):
    base, other = two_folders(tmp_path)
    wide = tmp_path / "wide"
    write(wide, "a", [9000, 9001], [crit("a1", False, -0.3, ci=(-1, 0.2), n=2), crit("a2", False, n=2)])
    assert cli.main(["compare", str(base), str(other), str(wide)]) == 1   # a held nowhere, b held in again
    out = capsys.readouterr().out
    assert "| a | reports | 0-4 | replicated | |" in out and "| a | again | 5000-5009 | replicated | **no** |" in out
    assert "| a | wide | 9000-9001 | replicated | **no** |" in out
    assert "| b | again | 5000-5009 | replicated | yes |" in out and "| b | wide |" not in out
    assert "| claim | criterion | test | reports | again | wide |" in out
    assert ("| a | a1 | paired t | pass +1 [+0.5, +1.5] (n=5) | pass +0.8 [+0.5, +1.5] (n=10) | "
            "fail ≠ -0.3 [-1, +0.2] (n=2) |") in out
    assert "| b | b1 (reported only) | Wilcoxon | fail +1 [+0.5, +1.5] (n=5) | pass ≠ +1 [+0.5, +1.5] (n=5) | – |" in out


def test_a_sweep_refuses_two_folders_of_one_name_and_a_folder_sharing_nothing(tmp_path, capsys):
    base, other = two_folders(tmp_path)
    twin = tmp_path / "elsewhere" / "again"
    write(twin, "a", [1, 2], [crit("a1", True)])
    assert cli.main(["compare", str(base), str(other), str(twin)]) == 2
    assert "the same name" in capsys.readouterr().err
    stranger = tmp_path / "stranger"
    write(stranger, "z", [1, 2], [crit("z1", True)])
    assert cli.main(["compare", str(base), str(other), str(stranger)]) == 2
    assert "share no claim" in capsys.readouterr().err


def test_criteria_a_scale_renamed_are_said_to_be_so_under_the_tables(tmp_path, capsys):
    base, other, third = tmp_path / "e400", tmp_path / "e1600", tmp_path / "e1600b"
    write(base, "gd", [0, 1], [crit("decay@100", False)])
    for root in (other, third):
        write(root, "gd", [2, 3], [crit("decay@400", True)])
    for root in (other, third):   # what --set epochs=1600 records
        record = json.loads((root / "gd" / "result.json").read_text())
        record["profiles"]["fast"]["run_overrides"] = {"epochs": 1600}
        (root / "gd" / "result.json").write_text(json.dumps(record))
    (c,) = compare(base, other)
    assert c.unmatched == ["decay@100", "decay@400"] and not c.holds
    text = render([c], "e400", "e1600")
    assert text.rstrip().endswith("gd: 2 required criteria are in one folder only (the scales differ: a criterion "
                                  "named by an epoch or step moves with --set epochs), so they cannot be compared by "
                                  "name: read them by their place in the design.")
    assert "≠: the decision differs from the base folder's" in text
    assert cli.main(["compare", str(base), str(other), str(third)]) == 1
    assert capsys.readouterr().out.count("gd: 2 required criteria are in one folder only") == 1   # once per claim
    assert "in one folder only" not in render(compare(*two_folders(tmp_path)), "reports", "again")


def test_a_folder_with_other_profiles_names_them_and_a_batched_section_is_marked(tmp_path):
    base, other = tmp_path / "reports", tmp_path / "batched"
    write(base, "a", [0, 1, 2], [crit("a1", True)])
    write(other, "a", [0, 1, 2], [crit("a1", True)])
    record = json.loads((other / "a" / "result.json").read_text())
    record["profiles"]["fast"]["provenance"] = {"executor": "batched"}
    (other / "a" / "result.json").write_text(json.dumps(record))
    assert "| 0-2 | 0-2 (batched runs) |" in render(compare(base, other), "reports", "batched")
    with pytest.raises(ValueError, match="hold the profiles fast: --profile NAME"):
        compare(base, other, "fsat")

"""A malformed analysis or figure spec is named, with what to write instead, before anything is stored."""
import dataclasses
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

from lrsci import analysis_check, driver, report
from lrsci.claim import ClaimError
from lrsci.criteria import criterion
from lrsci.stats import paired_t

FIXTURE = Path(__file__).parent / "fixtures" / "demo_claim.py"


def demo():
    spec = importlib.util.spec_from_file_location("demo_claim_for_checks", FIXTURE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def good_analysis():
    return demo().analyse({"a": demo().UP, "a2": demo().UP}, demo().FAST)


def test_the_demo_claims_analysis_and_figure_are_well_formed():
    m = demo()
    assert analysis_check.analysis_problems(good_analysis()) == []
    assert analysis_check.figure_problems(m.figure(None, m.FAST)) == []


@pytest.mark.parametrize("change, named", [
    (lambda a: a.pop("tests"), "no 'tests' list"),
    (lambda a: a["tests"].append(paired_t([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])), "tests[3] is a StatResult, not a criterion row: wrap it in lrsci.criteria.criterion"),
    (lambda a: a["tests"].append({"criterion": "x"}), "tests[3] lacks ['test', 'passed', 'threshold']"),
    (lambda a: a.update(per_seed={"final acc, large LR": [76.4, 79.7]}), "per_seed['final acc, large LR'] is a list, not {seed: value}"),
    (lambda a: a.update(extra_tables={"t": [1]}), "extra_tables['t']' is a list, not a dict"),
    (lambda a: a.update(headline=3.5), "'headline' is a float, not a str"),
    (lambda a: a["per_seed"]["a"].update({0: np.float32(1.0)}), "the analysis is not JSON"),
])
def test_a_malformed_analysis_is_named(change, named):
    analysis = good_analysis()
    change(analysis)
    assert any(named in p for p in analysis_check.analysis_problems(analysis)), analysis_check.analysis_problems(analysis)


@pytest.mark.parametrize("spec, named", [
    ({"panel": []}, "no 'panels' list"),
    ({"panels": [{"curves": []}]}, "figure panels[0] must be a dict with a 'title' str"),
    ({"panels": [{"title": "p", "curves": [{"label": "a", "runs": [1, 2]}]}]}, "panels[0].curves[0] must be"),
    ([1, 2], "figure() returned a list"),
])
def test_a_malformed_figure_spec_is_named(spec, named):
    assert any(named in p for p in analysis_check.figure_problems(spec))


def test_the_driver_refuses_a_malformed_analysis_before_writing_anything(tmp_path):
    m = demo()
    bad = lambda runs, p: {**m.analyse(runs, p), "per_seed": {"a": list(runs["a"])}}  # noqa: E731
    claim = dataclasses.replace(m.CLAIM, analyse=bad)
    ctx = driver.context(m.FAST, run_store=tmp_path / "runs", report_dir=tmp_path / "reports")
    with pytest.raises(ClaimError, match=r"demo-claim\[fast\]: nothing was written, because per_seed\['a'\] is a list"):
        driver.check(claim, m.FAST, ctx)
    assert not list((tmp_path / "reports").rglob("*.json")) and not list((tmp_path / "reports").rglob("*.md"))


def test_a_stored_section_that_cannot_render_is_named_and_the_others_render(tmp_path, monkeypatch, capsys):
    """A record written by hand or before sections were checked: report names it and exits 1; the rest render."""
    from lrsci import cli

    for cid in ("good-claim", "bad-claim"):
        report.write_section(tmp_path / "reports", {"id": cid, "title": "t", "source": "s", "statement": "x"}, "fast",
                             {"tests": [criterion("c", paired_t([1.0, 2.0, 3.1], [0.0, 0.1, 0.0]), "p<0.05")],
                              "per_seed": {"a": {0: 1.0}}, "verdict": "replicated", "provenance": {}})
    path = tmp_path / "reports" / "bad-claim" / "result.json"
    path.write_text(path.read_text().replace('"a": {\n     "0": 1.0\n    }', '"a": [1.0]'))
    assert '"a": [1.0]' in path.read_text()
    (tmp_path / "claims").mkdir()
    (tmp_path / "conftest.py").write_text("")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(["report"]) == 1
    assert "bad-claim/result.json cannot be rendered (AttributeError" in capsys.readouterr().err
    assert (tmp_path / "reports" / "good-claim" / "report.md").exists()


def test_a_report_folder_that_cannot_be_written_is_named_before_anything_trains(tmp_path):
    m = demo()
    trained = []
    claim = dataclasses.replace(m.CLAIM, train=lambda ctx, p: trained.append(1) or m.train(ctx, p))
    (tmp_path / "reports").write_text("a file where the report folder should be")
    ctx = driver.context(m.FAST, run_store=tmp_path / "runs", report_dir=tmp_path / "reports")
    with pytest.raises(report.ReportDirError, match=r"cannot write the report in .*reports/demo-claim .*--report-dir"):
        driver.check(claim, m.FAST, ctx)
    assert trained == []


def test_checking_a_new_report_folder_makes_nothing_before_the_report(tmp_path):
    """The check before training leaves no empty claim folder behind if the run is then stopped."""
    m = demo()
    ctx = driver.context(m.FAST, run_store=tmp_path / "runs", report_dir=tmp_path / "reports")
    report.check_report_dir(ctx.report_root, m.CLAIM.id)
    assert not (tmp_path / "reports").exists()

"""The patch claims with a long post-anneal stage (lrsci.post_anneal, tools/post_anneal.py; docs/replication.md,
replications 17 and 18): the two windows, the registered tests and shares, and the tool end to end at a tiny scale."""
import json
import random

import pytest

from lrsci import driver, patch_control, post_anneal
from lrsci.catalog import load_claims
from lrsci.runs import RunStore
from tests.helpers import ROOT, load_file, tool_refusal

TINY = {"data.train_size": 500, "data.test_size": 100, "anneal_epoch": 3}


def fake_values(gain_design: float, gain_end: float, gap: float = 2.0, n: int = 20, seed: int = 0) -> dict:
    """window_values' shape: clean accuracy per window, arm and seed around the given mean differences."""
    rng = random.Random(seed)
    values = {"clean": {}, "patch-only": {}}
    for window, gain in (("design end", gain_design), ("end", gain_end)):
        small = {s: 80 + rng.gauss(0, 1) for s in range(n)}
        values["clean"][window] = {"small": small,
                                   "large": {s: small[s] + gap + rng.gauss(0, 0.3) for s in range(n)},
                                   "noise": {s: small[s] + gain + rng.gauss(0, 0.3) for s in range(n)}}
        values["patch-only"][window] = {arm: {s: 50.0 for s in range(n)} for arm in post_anneal.ANALYSES["noise-gap"][1]}
    return values


ENDS = {"design end": 20, "end": 40}


def test_a_gain_that_shrinks_but_remains_passes_both_tests_and_its_share_is_n_over_g():
    a = post_anneal.analyse("noise-gap", fake_values(gain_design=1.5, gain_end=0.8), ENDS, width=5)
    c1, c2 = a["tests"]
    assert c1["test"].startswith("(C1)") and "epochs 36-40" in c1["test"] and c1["passed"]
    assert c2["test"].startswith("(C2)") and "N(epochs 16-20) − N(epochs 36-40)" in c2["test"] and c2["passed"]
    assert c2["effect"] == pytest.approx(0.7, abs=0.2)
    end = a["share_closed"]["epochs 36-40"]
    n = next(q["mean"] for q in a["quantities"] if q["quantity"] == "N = noise − small, epochs 36-40")
    g = next(q["mean"] for q in a["quantities"] if q["quantity"] == "G = large − small, epochs 36-40")
    assert end["share"] == pytest.approx(n / g) and end["ci95"][0] < end["share"] < end["ci95"][1]


def test_a_gain_that_holds_fails_c2_and_one_that_vanishes_fails_c1():
    held = post_anneal.analyse("noise-gap", fake_values(gain_design=1.0, gain_end=1.0), ENDS, width=5)
    assert held["tests"][0]["passed"] and not held["tests"][1]["passed"]
    gone = post_anneal.analyse("noise-gap", fake_values(gain_design=1.5, gain_end=-0.2), ENDS, width=5)
    assert not gone["tests"][0]["passed"] and gone["tests"][1]["passed"]


def test_the_analysis_is_the_same_from_its_json_and_moves_with_one_value():
    values = fake_values(gain_design=1.2, gain_end=0.9)
    analysis = post_anneal.analyse("noise-gap", values, ENDS, width=5)
    committed = json.loads(json.dumps(analysis))   # as the tool writes it: seeds as strings
    assert patch_control.differences(committed, post_anneal.analyse("noise-gap", values, ENDS, width=5)) == []
    values["clean"]["end"]["noise"][7] += 0.05
    assert "tests" in patch_control.differences(committed, post_anneal.analyse("noise-gap", values, ENDS, width=5))


@pytest.mark.parametrize("scale, says", [({"epochs": 20, "anneal_epoch": 10}, "needs more than 2 × anneal_epoch"),
                                         ({"epochs": 12, "anneal_epoch": 2}, "before a full window of 5")])
def test_a_budget_without_two_windows_is_refused(scale, says):
    profile, _ = post_anneal.setup(ROOT, "noise-gap", scale)
    with pytest.raises(ValueError, match=says):
        post_anneal.windows(profile)


def test_the_tool_needs_the_claims_report_and_is_written_once(tmp_path, capsys):
    err = tool_refusal("post_anneal", ["--report-dir", str(tmp_path), "--run-store", str(tmp_path / "runs")], capsys)
    assert "no fast report of activation-noise-fixes-small-lr" in err
    (tmp_path / "noise-gap.json").write_text("{}")
    err = tool_refusal("post_anneal", ["--report-dir", str(tmp_path), "--run-store", str(tmp_path / "runs")], capsys)
    assert "written already" in err


def claim_report(name: str, store, out) -> None:
    """The analysis' claim at 7 epochs (anneal after 3, so the design ends at epoch 6), 2 seeds, as `lrsci run --set`
    writes its report, less the PNG; its verdict at this scale is no matter here."""
    profile, _ = post_anneal.setup(ROOT, name, {**TINY, "epochs": 7})
    ctx = driver.context(profile, run_store=store, report_dir=out, seeds=2, seed_offset=0,
                         run_overrides={**TINY, "epochs": 7})
    ctx.draw_figures = False
    driver.check(load_claims(ROOT)[post_anneal.ANALYSES[name][0]][0], profile, ctx)


def test_the_tool_reads_the_claims_runs_and_the_design_end_is_the_shorter_runs_value(tmp_path, monkeypatch, capsys):
    """The registered runs' code path end to end at a scale of seconds, both analyses (the patch claim's two arms are
    the noise claim's, already stored); and a 6-epoch run has the same first 6 epochs as the 7-epoch one."""
    monkeypatch.setenv("LRSCI_WORKERS", "1")
    monkeypatch.setenv("LRSCI_PROGRESS", "0")
    store, out = tmp_path / "runs", tmp_path / "out"
    tool = load_file(ROOT / "tools" / "post_anneal.py", "post_anneal_tool")
    for name, runs, test in (("noise-gap", 6, "(C1) the noise's gain"), ("lead-gap", 4, "(D1) the large LR's lead")):
        claim_report(name, store, out)
        assert tool.main(["--analysis", name, "--report-dir", str(out), "--run-store", str(store)]) == 0
        result = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        assert result["runs"] == runs and result["analysis"]["windows"] == {"design end": "epochs 2-6",
                                                                              "end": "epochs 3-7"}
        assert test in capsys.readouterr().out and f"| {test}" in (out / f"{name}.md").read_text("utf-8")
    long_profile, arm_configs = post_anneal.setup(ROOT, "noise-gap", {**TINY, "epochs": 7})
    short_profile, _ = post_anneal.setup(ROOT, "noise-gap", {**TINY, "epochs": 6})
    runs = RunStore(store)
    for arm in ("large", "noise"):   # the two arms whose schedules change at the anneal
        long, short = runs.load(arm_configs(long_profile, 0)[arm]), runs.run(arm_configs(short_profile, 0)[arm])
        assert long.curve("test_acc@clean", 1, 6) == short.curve("test_acc@clean")


def lead_values(lead_design: float, lead_end: float, n: int = 20) -> dict:
    """The patch claim's two arms only, the large LR's lead given per window."""
    values = fake_values(gain_design=0.0, gain_end=0.0, n=n)
    for measure in values.values():
        for window, lead in (("design end", lead_design), ("end", lead_end)):
            measure[window].pop("noise")
            if measure is values["clean"]:
                small = measure[window]["small"]
                measure[window]["large"] = {s: small[s] + lead + 0.3 * ((s % 3) - 1) for s in small}
    return values


def test_a_lead_that_shrinks_but_remains_passes_d1_and_d2_and_its_remaining_share_is_the_ratio():
    a = post_anneal.analyse("lead-gap", lead_values(lead_design=2.5, lead_end=1.5), ENDS, width=5)
    d1, d2 = a["tests"]
    assert d1["test"].startswith("(D1)") and d1["passed"] and d2["test"].startswith("(D2)") and d2["passed"]
    assert d2["effect"] == pytest.approx(1.0, abs=0.05)
    remaining = a["share_remaining"]["G(epochs 36-40) / G(epochs 16-20)"]
    assert remaining["share"] == pytest.approx(1.5 / 2.5, abs=0.02) and "share_closed" not in a
    assert [q["quantity"] for q in a["quantities"]] == ["G = large − small, epochs 16-20", "G = large − small, epochs 36-40"]
    lasting = post_anneal.analyse("lead-gap", lead_values(lead_design=2.0, lead_end=2.0), ENDS, width=5)
    assert lasting["tests"][0]["passed"] and not lasting["tests"][1]["passed"]
    with pytest.raises(ValueError, match="expected one of"):
        post_anneal.analyse("no-such-gap", lead_values(2.0, 2.0), ENDS, width=5)


@pytest.mark.parametrize("name, values", [("noise-gap", fake_values(1.5, 0.8)), ("lead-gap", lead_values(2.5, 1.5))])
def test_a_result_renders_the_same_from_memory_and_from_its_json(name, values):
    result = {"analysis_name": name, "analysis": post_anneal.analyse(name, values, ENDS, width=5), "scale": "epochs=40",
              "window": 5, "runs": 60, "trained_on": "cpu", "provenance": {"git": "abc"}}
    text = post_anneal.render(result)
    assert text == post_anneal.render(json.loads(json.dumps(result)))
    assert f"replication {post_anneal.TITLES[name][1]}" in text and all(f"| {s} |" in text for s in range(20))


COMMITTED = sorted((ROOT / "reports" / "replication").glob("*/*-gap.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=[f"{p.parent.name}/{p.name}" for p in COMMITTED])
def test_a_committed_analysis_is_rendered_as_the_code_renders_its_json_now(path):
    result = json.loads(path.read_text(encoding="utf-8"))
    assert post_anneal.render(result) == path.with_suffix(".md").read_text(encoding="utf-8"), \
        f"{path.with_suffix('.md')}: render it again from its JSON (lrsci.post_anneal.render)"

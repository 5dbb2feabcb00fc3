"""The activation-noise claim with a long post-anneal stage (lrsci.noise_gap, tools/noise_gap.py; docs/replication.md,
replication 17): the two windows, the registered tests and share, and the tool end to end at a tiny scale."""
import json
import random

import pytest

from lrsci import driver, noise_gap, patch_control
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
        values["patch-only"][window] = {arm: {s: 50.0 for s in range(n)} for arm in noise_gap.ARMS}
    return values


ENDS = {"design end": 20, "end": 40}


def test_a_gain_that_shrinks_but_remains_passes_both_tests_and_its_share_is_n_over_g():
    a = noise_gap.analyse(fake_values(gain_design=1.5, gain_end=0.8), ENDS, width=5)
    c1, c2 = a["tests"]
    assert c1["test"].startswith("(C1)") and "epochs 36-40" in c1["test"] and c1["passed"]
    assert c2["test"].startswith("(C2)") and "N(epochs 16-20) − N(epochs 36-40)" in c2["test"] and c2["passed"]
    assert c2["effect"] == pytest.approx(0.7, abs=0.2)
    end = a["share_closed"]["epochs 36-40"]
    n = next(q["mean"] for q in a["quantities"] if q["quantity"] == "N = noise − small, epochs 36-40")
    g = next(q["mean"] for q in a["quantities"] if q["quantity"] == "G = large − small, epochs 36-40")
    assert end["share"] == pytest.approx(n / g) and end["ci95"][0] < end["share"] < end["ci95"][1]


def test_a_gain_that_holds_fails_c2_and_one_that_vanishes_fails_c1():
    held = noise_gap.analyse(fake_values(gain_design=1.0, gain_end=1.0), ENDS, width=5)
    assert held["tests"][0]["passed"] and not held["tests"][1]["passed"]
    gone = noise_gap.analyse(fake_values(gain_design=1.5, gain_end=-0.2), ENDS, width=5)
    assert not gone["tests"][0]["passed"] and gone["tests"][1]["passed"]


def test_the_analysis_is_the_same_from_its_json_and_moves_with_one_value():
    values = fake_values(gain_design=1.2, gain_end=0.9)
    analysis = noise_gap.analyse(values, ENDS, width=5)
    committed = json.loads(json.dumps(analysis))   # as the tool writes it: seeds as strings
    assert patch_control.differences(committed, noise_gap.analyse(values, ENDS, width=5)) == []
    values["clean"]["end"]["noise"][7] += 0.05
    assert "tests" in patch_control.differences(committed, noise_gap.analyse(values, ENDS, width=5))


@pytest.mark.parametrize("scale, says", [({"epochs": 20, "anneal_epoch": 10}, "needs more than 2 × anneal_epoch"),
                                         ({"epochs": 12, "anneal_epoch": 2}, "before a full window of 5")])
def test_a_budget_without_two_windows_is_refused(scale, says):
    profile, _ = noise_gap.setup(ROOT, scale)
    with pytest.raises(ValueError, match=says):
        noise_gap.windows(profile)


def test_the_tool_needs_the_claims_report_and_is_written_once(tmp_path, capsys):
    err = tool_refusal("noise_gap", ["--report-dir", str(tmp_path), "--run-store", str(tmp_path / "runs")], capsys)
    assert "no fast report of activation-noise-fixes-small-lr" in err
    (tmp_path / "noise-gap.json").write_text("{}")
    err = tool_refusal("noise_gap", ["--report-dir", str(tmp_path), "--run-store", str(tmp_path / "runs")], capsys)
    assert "written already" in err


def test_the_tool_reads_the_claims_runs_and_the_design_end_is_the_shorter_runs_value(tmp_path, monkeypatch, capsys):
    """The registered run's code path end to end at a scale of seconds: the claim at 7 epochs (anneal after 3, so
    the design ends at epoch 6), then the tool; and a 6-epoch run has the same first 6 epochs as the 7-epoch one."""
    monkeypatch.setenv("LRSCI_WORKERS", "1")
    monkeypatch.setenv("LRSCI_PROGRESS", "0")
    store, out = tmp_path / "runs", tmp_path / "out"
    long_profile, arm_configs = noise_gap.setup(ROOT, {**TINY, "epochs": 7})
    claim = load_claims(ROOT)[noise_gap.CLAIM][0]
    ctx = driver.context(long_profile, run_store=store, report_dir=out, seeds=2, seed_offset=0,
                         run_overrides={**TINY, "epochs": 7})
    ctx.draw_figures = False   # the report as `lrsci run --set` writes it, less its PNG
    driver.check(claim, long_profile, ctx)   # its verdict at this scale is no matter here
    tool = load_file(ROOT / "tools" / "noise_gap.py", "noise_gap_tool")
    assert tool.main(["--report-dir", str(out), "--run-store", str(store)]) == 0
    result = json.loads((out / "noise-gap.json").read_text(encoding="utf-8"))
    assert result["runs"] == 6 and result["analysis"]["windows"] == {"design end": "epochs 2-6", "end": "epochs 3-7"}
    assert "(C1) the noise's gain" in capsys.readouterr().out and "| (C2)" in (out / "noise-gap.md").read_text("utf-8")
    short_profile, _ = noise_gap.setup(ROOT, {**TINY, "epochs": 6})
    runs = RunStore(store)
    for arm in ("large", "noise"):   # the two arms whose schedules change at the anneal
        long, short = runs.load(arm_configs(long_profile, 0)[arm]), runs.run(arm_configs(short_profile, 0)[arm])
        assert long.curve("test_acc@clean", 1, 6) == short.curve("test_acc@clean")

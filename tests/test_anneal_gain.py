"""patch-memorized-by-small-lr's test 2 against the level just before the anneal (lrsci.anneal_gain,
tools/anneal_gain.py; docs/replication.md, replication 21)."""
import json

import pytest

from lrsci import anneal_gain, driver
from lrsci.catalog import load_claims
from lrsci.patch_control import differences
from tests.helpers import ROOT, load_file, tool_refusal


class Curve:
    def __init__(self, values):
        self.values = values

    def curve(self, key):
        assert key == anneal_gain.KEY
        return list(self.values)


def test_the_levels_are_read_from_the_windows_the_claim_uses():
    curve = [10, 10, 10, 20, 40, 50, 60, 70, 75, 80, 90, 92, 94, 96, 98]   # anneal after epoch 10
    values = anneal_gain.per_seed_values({0: {"large": Curve(curve)}}, anneal_epoch=10, width=5)
    assert values["pre (last W before the anneal)"][0] == 70        # median of epochs 6-10
    assert values["stage-1 mean"][0] == pytest.approx(42.5)          # the claim's baseline: epochs 1-10
    assert values["at epoch m"][0] == 80 and values["final"][0] == 94   # median of epochs 11-15
    with pytest.raises(ValueError, match="fewer epochs before the anneal"):
        anneal_gain.per_seed_values({0: {"large": Curve(curve)}}, anneal_epoch=4, width=5)


def fake_values(gain: float, n: int = 20) -> dict:
    values = {"final": {}, "pre (last W before the anneal)": {}, "stage-1 mean": {}, "at epoch m": {}}
    for s in range(n):
        pre = 50 + (s % 5)
        values["pre (last W before the anneal)"][s] = pre
        values["final"][s] = pre + gain + (s % 3) - 1
        values["stage-1 mean"][s] = pre - 25
        values["at epoch m"][s] = pre + 5
    return values


def test_the_gain_is_tested_against_the_claims_floor():
    passes = anneal_gain.analyse(fake_values(gain=30), floor=20, anneal_epoch=10, width=5)
    (test,) = passes["tests"]
    assert test["passed"] and test["floor"] == 20 and "epochs 6-10 > 20 pp" in test["test"]
    assert test["seeds_on_h1_side"] == 20 and test["effect"] == pytest.approx(30, abs=0.1)
    fails = anneal_gain.analyse(fake_values(gain=20.2), floor=20, anneal_epoch=10, width=5)
    assert not fails["tests"][0]["passed"]   # above the floor by less than the noise allows
    committed = json.loads(json.dumps(passes))
    assert differences(committed, anneal_gain.analyse(fake_values(30), 20, 10, 5)) == []


def test_the_tool_needs_the_claims_report_and_reads_its_runs_at_a_tiny_scale(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LRSCI_WORKERS", "1")
    monkeypatch.setenv("LRSCI_PROGRESS", "0")
    store, out = tmp_path / "runs", tmp_path / "out"
    assert "no fast report of patch-memorized-by-small-lr" in tool_refusal(
        "anneal_gain", ["--report-dir", str(out), "--run-store", str(store)], capsys)
    scale = {"data.train_size": 500, "data.test_size": 100, "epochs": 8, "anneal_epoch": 5}
    profile, _ = anneal_gain.setup(ROOT, scale)
    ctx = driver.context(profile, run_store=store, report_dir=out, seeds=2, seed_offset=0, run_overrides=scale)
    ctx.draw_figures = False
    driver.check(load_claims(ROOT)[anneal_gain.CLAIM][0], profile, ctx)   # its verdict here is no matter
    tool = load_file(ROOT / "tools" / "anneal_gain.py", "anneal_gain_tool")
    assert tool.main(["--report-dir", str(out), "--run-store", str(store)]) == 0
    result = json.loads((out / "anneal-gain.json").read_text(encoding="utf-8"))
    assert result["runs"] == 4 and result["analysis"]["pre_window"] == "epochs 1-5" and "(B2)" in capsys.readouterr().out
    assert anneal_gain.render(result) == (out / "anneal-gain.md").read_text(encoding="utf-8")
    assert "written already" in tool_refusal("anneal_gain", ["--report-dir", str(out), "--run-store", str(store)],
                                             capsys)


COMMITTED = sorted((ROOT / "reports" / "replication").glob("*/anneal-gain.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_a_committed_result_renders_as_its_json_does_now(path):
    result = json.loads(path.read_text(encoding="utf-8"))
    assert anneal_gain.render(result) == path.with_suffix(".md").read_text(encoding="utf-8")

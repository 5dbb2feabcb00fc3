"""two-layer-learning-order's order read off test accuracy (lrsci.learning_order, tools/learning_order.py;
docs/replication.md, replication 20)."""
import json

import pytest

from lrsci import driver, learning_order
from lrsci.catalog import load_claims
from lrsci.patch_control import differences
from tests.helpers import ROOT, load_file, tool_refusal


@pytest.mark.parametrize("curve, final, epoch", [
    ([50, 60, 80, 90, 90], 90, 4),     # 86 % is 90 % of the way from 50 to 90: 80 at epoch 3 is short of it
    ([50, 52, 55], 50, 4),             # nothing learned: E + 1
    ([50, 60, 70], 90, 4),             # never reached: E + 1
    ([95, 60, 90], 90, 1),             # the first crossing counts, as the claim's e_F
])
def test_the_epoch_is_the_first_at_nine_tenths_of_the_way_from_chance(curve, final, epoch):
    assert learning_order.epoch_reached(curve, final) == epoch


def fake_values(large_lead: float, small_lead: float, n: int = 12) -> dict:
    values = {}
    for s in range(n):
        jitter = (s % 3) - 1
        values.setdefault("large: e_P (test)", {})[s] = 3
        values.setdefault("large: e_Q (test)", {})[s] = 3 + large_lead + jitter
        values.setdefault("small: e_Q (test)", {})[s] = 4
        values.setdefault("small: e_P (test)", {})[s] = 4 + small_lead + jitter
        for arm in ("large", "small"):
            for f in "PQ":
                values.setdefault(f"{arm}: final {f}-only test acc", {})[s] = 90.0
    return values


def test_the_two_orders_are_tested_on_their_own_sides():
    a = learning_order.analyse(fake_values(large_lead=15, small_lead=0), epochs=30)
    assert [t["passed"] for t in a["tests"]] == [True, False]
    assert a["tests"][0]["effect"] == pytest.approx(15) and a["never_reached"] == {}
    both = learning_order.analyse(fake_values(large_lead=15, small_lead=3), epochs=30)
    assert all(t["passed"] for t in both["tests"])
    committed = json.loads(json.dumps(both))
    assert differences(committed, learning_order.analyse(fake_values(15, 3), epochs=30)) == []


def test_a_run_that_never_reaches_the_level_is_counted_and_named():
    values = fake_values(large_lead=15, small_lead=0)
    values["small: e_P (test)"][0] = 31
    a = learning_order.analyse(values, epochs=30)
    assert a["never_reached"] == {"small: e_P (test)": 1}
    text = learning_order.render({"analysis": a, "scale": "s", "window": 5, "runs": 24, "trained_on": "cpu",
                                  "provenance": {"git": "abc"}})
    assert "- small: e_P (test): 1 of 12" in text and "| (O1)" in text and "effect (epochs)" in text


def test_the_tool_needs_the_claims_report_and_reads_its_runs_at_a_tiny_scale(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LRSCI_WORKERS", "1")
    monkeypatch.setenv("LRSCI_PROGRESS", "0")
    store, out = tmp_path / "runs", tmp_path / "out"
    assert "no fast report of two-layer-learning-order" in tool_refusal(
        "learning_order", ["--report-dir", str(out), "--run-store", str(store)], capsys)
    scale = {"data.train_size": 400, "data.test_size": 2000, "epochs": 6, "anneal_epoch": 3}
    profile, _ = learning_order.setup(ROOT, scale)
    ctx = driver.context(profile, run_store=store, report_dir=out, seeds=2, seed_offset=0, run_overrides=scale)
    ctx.draw_figures = False
    driver.check(load_claims(ROOT)[learning_order.CLAIM][0], profile, ctx)   # its verdict here is no matter
    tool = load_file(ROOT / "tools" / "learning_order.py", "learning_order_tool")
    assert tool.main(["--report-dir", str(out), "--run-store", str(store)]) == 0
    result = json.loads((out / "learning-order.json").read_text(encoding="utf-8"))
    assert result["runs"] == 4 and result["analysis"]["epochs"] == 6 and "(O1)" in capsys.readouterr().out
    assert learning_order.render(result) == (out / "learning-order.md").read_text(encoding="utf-8")
    assert "written already" in tool_refusal("learning_order", ["--report-dir", str(out), "--run-store", str(store)],
                                             capsys)


COMMITTED = sorted((ROOT / "reports" / "replication").glob("*/learning-order.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_a_committed_result_renders_as_its_json_does_now(path):
    result = json.loads(path.read_text(encoding="utf-8"))
    assert learning_order.render(result) == path.with_suffix(".md").read_text(encoding="utf-8")

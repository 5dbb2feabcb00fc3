"""The no-patch control (lrsci.patch_control, tools/no_patch_control.py): only the patch is left out, the
tests and shares are computed as docs/replication.md (replication 15) registers them, and the tool refuses bad
input and a second run before anything trains."""
import json
import random

import pytest
import torch

from lrsci import patch_control
from lrsci.data.patch import make_patch_data
from tests.helpers import ROOT, load_file, tool_refusal
from tests.test_patch import fake_base


def claim_arms():
    module = load_file(ROOT / "claims" / "test_activation_noise_fixes_small_lr.py", "noise_claim_for_control")
    return module.arm_configs(module.FAST, 23000)


@pytest.mark.parametrize("control, option", [("no patch", {"patch_prob": 0.0}), ("blank patch", {"patch_sep": 0.0})])
def test_the_control_data_changes_one_option_and_nothing_else(control, option):
    arms = claim_arms()
    both = patch_control.control_arms(arms, control)
    assert sorted(both) == sorted(f"{d}/{a}" for d in ("patch", control) for a in ("large", "small", "noise"))
    for arm, config in arms.items():
        assert both[f"patch/{arm}"] == config
        plain, other = config.to_dict(), both[f"{control}/{arm}"].to_dict()
        assert other["data"]["options"] == {**plain["data"]["options"], **option}
        other["data"]["options"] = plain["data"]["options"]
        assert other == plain and both[f"{control}/{arm}"].key() != config.key()   # a run of its own in the store
    with pytest.raises(ValueError, match="not patch data"):
        patch_control.on_control(arms["large"].with_(**{"data.name": "fashion-mnist", "data.options": {}}), control)
    with pytest.raises(ValueError, match="expected one of"):
        patch_control.on_control(arms["large"], "no data")


def test_no_training_image_is_patched_and_the_evaluation_sets_are_the_patch_datas():
    base = fake_base(n=2000, n_test=200)
    patched, clean = make_patch_data(base, seed=0, patch_sep=0.5), make_patch_data(base, seed=0, patch_sep=0.5,
                                                                                   patch_prob=0.0)
    for epoch in range(3):
        assert torch.equal(clean.epoch_inputs(run_seed=23000, epoch=epoch), base.x_train)
    assert not torch.equal(patched.epoch_inputs(run_seed=23000, epoch=0), base.x_train)
    n = base.x_test.shape[0]   # clean rows first, then the patched copies, then the patch-only probe
    assert torch.equal(clean.x_test[:n], patched.x_test[:n]) and torch.equal(clean.x_test[2 * n:], patched.x_test[2 * n:])
    assert torch.equal(clean.y_test, patched.y_test)


def fake_finals(gap_patch: float, gap_none: float, gain_patch: float, gain_none: float, n: int = 20):
    rng = random.Random(5)
    clean = {}
    for data, gap, gain in (("patch", gap_patch, gain_patch), ("no patch", gap_none, gain_none)):
        small = {s: 85 + rng.gauss(0, 0.3) for s in range(n)}
        clean[f"{data}/small"] = small
        clean[f"{data}/large"] = {s: v + gap + rng.gauss(0, 0.3) for s, v in small.items()}
        clean[f"{data}/noise"] = {s: v + gain + rng.gauss(0, 0.3) for s, v in small.items()}
    only = {k: {s: 10.0 for s in range(n)} for k in clean}
    return clean, only


def test_a_gap_the_patch_widens_passes_and_one_that_is_there_without_it_does_not():
    widened = patch_control.analyse(*fake_finals(gap_patch=2.4, gap_none=0.4, gain_patch=1.9, gain_none=1.9))
    (a, b) = widened["tests"]
    assert a["passed"] and 1.6 < a["effect"] < 2.4 and a["seeds_on_h1_side"] >= 17 and a["n"] == 20
    assert not b["passed"] and abs(b["effect"]) < 0.4
    share = widened["patch_share"]["of G(patch)"]
    assert 0.7 < share["share"] < 0.95 and share["ci95"][0] < share["share"] < share["ci95"][1]
    rows = {q["quantity"]: q for q in widened["quantities"]}
    assert abs(rows["G = large − small, no patch"]["mean"] - 0.4) < 0.3
    assert abs(rows["noise − large, patch"]["mean"] - (1.9 - 2.4)) < 0.3


def test_a_share_whose_gap_changes_sign_across_seeds_gets_no_interval_and_says_why():
    clean, only = fake_finals(gap_patch=0.0, gap_none=0.0, gain_patch=0.0, gain_none=0.0)
    share = patch_control.analyse(clean, only)["patch_share"]["of G(patch)"]
    assert share["ci95"] is None and "changes sign" in share["why_no_interval"]


def test_the_table_shows_every_test_quantity_and_seed():
    clean, only = fake_finals(gap_patch=2.4, gap_none=2.3, gain_patch=1.9, gain_none=0.2)
    result = {"analysis": patch_control.analyse(clean, only), "final_window": 5, "runs": 120, "wall_seconds": 1.0,
              "provenance": {"git": "abc", "device_name": "cpu", "torch": "2.x", "date": "d"}}
    text = patch_control.render(result)
    assert text.count("| (A)") == 1 and text.count("| (B)") == 1 and "| N = noise − small, no patch |" in text
    assert all(f"| {s} |" in text for s in range(20)) and "120 runs" in text
    json.dumps(result["analysis"])   # what the tool writes: plain JSON


@pytest.mark.parametrize("argv, says", [
    (["--seeds", "1", "--seed-offset", "23000", "--run-store", "x"], "at least 2 seeds"),
    (["--seeds", "20", "--seed-offset", "-1", "--run-store", "x"], "whole numbers >= 0"),
])
def test_the_tool_refuses_bad_input_before_training(argv, says, capsys):
    assert says in tool_refusal("no_patch_control", argv, capsys)


def test_the_tool_is_run_once_per_output_folder(tmp_path, capsys):
    (tmp_path / "no-patch.json").write_text("{}")
    err = tool_refusal("no_patch_control", ["--seeds", "20", "--seed-offset", "23000", "--run-store",
                                            str(tmp_path / "runs"), "--out", str(tmp_path)], capsys)
    assert "was run already" in err and not (tmp_path / "runs").exists()


def test_the_tool_trains_the_six_arms_and_writes_its_result_at_a_tiny_scale(tmp_path, monkeypatch, capsys):
    """The registered run's code path end to end, at a scale of seconds (--set): 2 seeds × 3 arms × 2 data."""
    monkeypatch.setenv("LRSCI_WORKERS", "1")
    monkeypatch.setenv("LRSCI_PROGRESS", "0")
    tool = load_file(ROOT / "tools" / "no_patch_control.py", "no_patch_control_tool")
    scale = ["--set", "data.train_size=256", "--set", "data.test_size=64", "--set", "epochs=3", "--set", "anneal_epoch=1"]
    assert tool.main(["--seeds", "2", "--seed-offset", "0", "--run-store", str(tmp_path / "runs"),
                      "--out", str(tmp_path / "out"), *scale]) == 0
    result = json.loads((tmp_path / "out" / "no-patch.json").read_text(encoding="utf-8"))
    assert result["runs"] == 12 and result["run_overrides"]["epochs"] == 3 and result["analysis"]["seeds"] == [0, 1]
    assert {c["data"]["options"].get("patch_prob") for k, c in result["configs"].items() if k.startswith("no patch")} == {0.0}
    assert len(result["analysis"]["tests"]) == 2 and result["provenance"]["device"] == "cpu"
    text = (tmp_path / "out" / "no-patch.md").read_text(encoding="utf-8")
    assert "At another scale" in text and "(A) the patch widens" in capsys.readouterr().out


def test_a_fresh_analysis_is_compared_with_the_committed_one_key_by_key():
    clean, only = fake_finals(gap_patch=2.4, gap_none=1.2, gain_patch=1.4, gain_none=0.4)
    committed = json.loads(json.dumps(patch_control.analyse(clean, only)))   # as the tool writes it
    assert patch_control.differences(committed, patch_control.analyse(clean, only)) == []
    clean["no patch/small"][3] += 0.05
    assert patch_control.differences(committed, patch_control.analyse(clean, only)) == [
        "mean_final_clean", "patch_share", "per_seed", "quantities", "tests"]


def test_a_blank_patch_writes_the_same_rows_with_one_pattern_for_every_class():
    """patch_sep 0: the rows the patch data chooses are zeroed and overwritten as there, with z alone (ζ_y = 0),
    and every patch-only probe row is that same input whatever its label."""
    base = fake_base(n=2000, n_test=200)
    patched, blank = make_patch_data(base, seed=0, patch_sep=0.5), make_patch_data(base, seed=0, patch_sep=0.0)
    xp, xb = patched.epoch_inputs(run_seed=24000, epoch=0), blank.epoch_inputs(run_seed=24000, epoch=0)
    touched_p, touched_b = (xp != base.x_train).flatten(1).any(1), (xb != base.x_train).flatten(1).any(1)
    assert torch.equal(touched_p, touched_b) and 0.7 < touched_b.float().mean() < 0.9
    n = base.x_test.shape[0]
    probe = blank.x_test[2 * n:]
    assert torch.equal(probe, probe[:1].expand_as(probe)) and not torch.equal(patched.x_test[2 * n:], probe)
    assert torch.equal(blank.x_test[:n], patched.x_test[:n])


def test_a_blank_patch_control_is_named_and_written_as_its_own(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LRSCI_WORKERS", "1")
    monkeypatch.setenv("LRSCI_PROGRESS", "0")
    tool = load_file(ROOT / "tools" / "no_patch_control.py", "no_patch_control_tool_blank")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "no-patch.json").write_text("{}")   # another control's result does not stop this one
    scale = ["--set", "data.train_size=128", "--set", "data.test_size=32", "--set", "epochs=2", "--set", "anneal_epoch=1"]
    assert tool.main(["--control", "blank-patch", "--seeds", "2", "--seed-offset", "0", "--run-store",
                      str(tmp_path / "runs"), "--out", str(tmp_path / "out"), *scale]) == 0
    result = json.loads((tmp_path / "out" / "blank-patch.json").read_text(encoding="utf-8"))
    assert result["control"] == "blank-patch" and "G(patch) − G(blank patch)" in result["analysis"]["tests"][0]["test"]
    assert result["protocol"] == "docs/replication.md, replication 16"
    assert (tmp_path / "out" / "blank-patch.md").read_text(encoding="utf-8").startswith(
        "# The patch claims with a blank patch")

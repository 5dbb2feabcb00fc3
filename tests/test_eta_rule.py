"""The GD claims' η rule: ascending grid on dev seeds, stop at the first divergence, η = η_div / 2."""
import json

import pytest

from lrsci import eta_rule
from lrsci.calibration import CalibrationError
from tests.helpers import blobs, dev_context, tiny_config


def gd_config():
    return tiny_config(epochs=6, eval_train=False, **{"optim.batch_size": None, "optim.momentum": 0.0,
                                                      "optim.weight_decay": 0.0, "diverge_loss": 10.0})


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    return dev_context(tmp_path, monkeypatch, blobs(n_train=64, n_test=32, dim=8))


def test_rule_stops_at_first_divergence_and_halves_it(ctx):
    record = eta_rule.apply(ctx, gd_config(), grid=(1e6, 0.01, 0.1))  # unsorted on purpose
    rates = [t["rate"] for t in record["tried"]]
    assert rates == [0.01, 0.1, 1e6]  # ascending, up to the first rate that diverged
    assert all(r["stop_reason"] != "diverged" for t in record["tried"][:2] for r in t["runs"].values())
    assert any(r["stop_reason"] == "diverged" for r in record["tried"][2]["runs"].values())
    assert record["eta_div"] == 1e6 and record["eta"] == 5e5
    assert record["dev_seeds"] == [1000, 1001]
    assert "geometric grid" in record["rule"] and "η = η_div / 2" in record["rule"]   # the rule itself, recorded
    assert any(p.name.startswith(record["config_key"]) for p in ctx.store.root.iterdir())   # a run it trained


def test_no_divergence_gives_no_eta_and_the_claim_refuses(ctx, tmp_path):
    record = eta_rule.apply(ctx, gd_config(), grid=(0.01,))
    assert record["eta_div"] is None and record["eta"] is None

    class P:  # a device profile carrying that record
        name, device, params = "gpu", "cuda", {"eta_calibration": record}

        def __getitem__(self, k):
            return self.params[k]
    with pytest.raises(CalibrationError, match="no diverging rate"):
        eta_rule.require(P())
    P.params = {"eta_calibration": None}
    with pytest.raises(CalibrationError, match="calibrate_gd_eta.py --profile gpu"):
        eta_rule.require(P())


def test_record_written_once_read_back_and_corrupt_file_moved_aside(tmp_path):
    record = {"eta": 2.0, "eta_div": 4.0, "grid": [1.0, 2.0, 4.0]}
    path = eta_rule.write(record, "gpu", tmp_path)
    assert eta_rule.calibrated("gpu", tmp_path) == record and eta_rule.eta_of(record) == 2.0
    with pytest.raises(CalibrationError, match="already calibrated"):
        eta_rule.write(record, "gpu", tmp_path)
    path.write_text("{not json")
    with pytest.raises(CalibrationError, match="unreadable"):
        eta_rule.calibrated("gpu", tmp_path)
    assert not path.exists() and list(tmp_path.glob("gd-eta-gpu.json.corrupt-*"))
    assert eta_rule.calibrated("gpu", tmp_path) is None and eta_rule.eta_of(None) == eta_rule.UNCALIBRATED
    json.dumps(record)


def test_a_profile_without_a_calibration_parameter_is_not_stopped():
    class Fast:   # the fast profiles: η fixed in the module, no record to require
        name, device, params = "fast", "cpu", {"eta_rule": "by hand"}

        def __getitem__(self, k):
            return self.params[k]
    eta_rule.require(Fast())
    Fast.device = "cuda"
    eta_rule.require(Fast())


@pytest.mark.parametrize("text", ["[]", '{"eta": true}', '{"eta": -1}'])
def test_a_record_of_the_wrong_shape_is_named_and_moved_aside(tmp_path, text):
    path = eta_rule.path_for("gpu", tmp_path)
    path.write_text(text)
    with pytest.raises(CalibrationError, match="unreadable"):
        eta_rule.calibrated("gpu", tmp_path)
    assert not path.exists() and list(tmp_path.glob("gd-eta-gpu.json.corrupt-*"))


# ---- pinned by a mutation audit (2026-11-27): each test fails under a mutation that the tests above let through

class _FakeRun:
    def __init__(self, diverged):
        self.stop_reason = "diverged" if diverged else "budget"
        self.epochs_trained = 3
        self.diverged_at_step = 2 if diverged else None

    def series(self, name):
        return [1.0, 0.5]


class _FakeCtx:
    """Seed 1000 diverges from rate 4 on, seed 1001 only from rate 16 on."""
    seeds = [1000, 1001]
    first_divergent = {1000: 4.0, 1001: 16.0}

    def _on_device(self, job):
        return job

    def run_all(self, jobs):
        return [_FakeRun(j.config.optim.lr >= self.first_divergent[j.config.seed]) for j in jobs]


def test_eta_rule_one_diverging_seed_suffices_and_the_search_stops_there():   # R02, R03, R08
    cfg = tiny_config()
    record = eta_rule.apply(_FakeCtx(), cfg)
    assert [t["rate"] for t in record["tried"]] == [0.25, 0.5, 1.0, 2.0, 4.0]
    assert record["eta_div"] == 4.0 and record["eta"] == 2.0
    assert record["config_key"] == cfg.with_(seed=1000, **{"optim.lr": 0.25}).key()


def test_eta_rule_grid_is_2_to_the_k_for_k_minus_2_to_5():           # R04
    assert eta_rule.GRID == (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


def test_a_zero_eta_record_is_refused(tmp_path):                      # R06
    eta_rule.path_for("gpu", tmp_path).write_text('{"eta": 0}')
    with pytest.raises(CalibrationError, match="unreadable"):
        eta_rule.calibrated("gpu", tmp_path)


@pytest.mark.parametrize("argv, message", [
    (["--profile", "gpu", "--resume-above", "1e9", "--earlier", "x.json"], "leaves no grid rate to try"),
    (["--profile", "gpu", "--resume-above", "1"], "go together"),
    (["--profile", "gpu", "--earlier", "x.json"], "go together"),
])
def test_the_calibration_tool_refuses_a_resume_that_would_write_a_false_record(argv, message, capsys):
    from tests.helpers import tool_refusal

    assert message in tool_refusal("calibrate_gd_eta", argv, capsys)


def test_a_cuda_profile_is_not_calibrated_on_a_machine_without_cuda(tmp_path, capsys, monkeypatch):
    import torch
    from tests.helpers import ROOT, load_file
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    tool = load_file(ROOT / "tools" / "calibrate_autodecay.py", "calibrate_autodecay")
    with pytest.raises(SystemExit):
        tool.main(["--profile", "gpu", "--out-dir", str(tmp_path), "--run-store", str(tmp_path / "runs")])
    assert "trains on CUDA, which this machine does not have" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()                    # nothing started: no lock files either

"""autodecay-matches-stepdecay's calibration rule: the first (E, weight decay, tolerance), in the stated
order, under which AutoDecay decayed twice and stopped by its own rule before E on every dev seed."""
import pytest

from lrsci import autodecay_calibration as rule
from lrsci.calibration import CalibrationError
from tests.helpers import blobs, dev_context, tiny_config

STOPS_AT_25 = {"decay_epochs": [8, 16], "stop_reason": "rule", "epochs": 25}
STOPS_AT_40 = {"decay_epochs": [10, 20, 30], "stop_reason": "rule", "epochs": 40}
ONE_DECAY = {"decay_epochs": [12], "stop_reason": "rule", "epochs": 20}
BUDGET = {"decay_epochs": [10, 30], "stop_reason": "budget", "epochs": 45}


def tried(**by_setting):
    """Every setting's runs on two dev seeds: BUDGET unless given (keys like wd5e-4_tol0.12)."""
    out = {}
    for wd in rule.WEIGHT_DECAYS:
        for tol in rule.TOLERANCES:
            d = by_setting.get(f"wd{wd:g}_tol{tol:g}", BUDGET)
            out[(wd, tol)] = {1000: d, 1001: d}
    return out


def test_the_rule_reads_e_first_then_weight_decay_then_tolerance():
    # a 40-epoch stop qualifies only for E = 45; a 25-epoch stop for E = 30, which comes first
    assert rule.choose(tried(**{"wd0.0005_tol0.12": STOPS_AT_40, "wd0.005_tol0.2": STOPS_AT_25})) == \
        {"epochs": 30, "weight_decay": 5e-3, "tolerance": 0.2}
    assert rule.choose(tried(**{"wd0.0005_tol0.2": STOPS_AT_40, "wd0.005_tol0.12": STOPS_AT_40})) == \
        {"epochs": 45, "weight_decay": 5e-4, "tolerance": 0.2}


def test_every_dev_seed_must_qualify_and_one_decay_or_the_budget_does_not():
    mixed = tried(**{"wd0.0005_tol0.12": STOPS_AT_25})
    mixed[(5e-4, 0.12)][1001] = BUDGET
    assert rule.choose(mixed) is None
    assert rule.choose(tried(**{"wd0.0005_tol0.12": ONE_DECAY})) is None
    assert rule.choose(tried()) is None
    assert not rule.qualifies({"decay_epochs": [5, 9], "stop_reason": "rule", "epochs": 30}, 30)  # not before E


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    return dev_context(tmp_path, monkeypatch, blobs(n_train=64, n_test=32, dim=8))


def test_apply_trains_every_setting_on_the_dev_seeds_and_records_only_decisions(ctx):
    record = rule.apply(ctx, tiny_config(eval_train=False), factor=0.1)
    assert record["dev_seeds"] == [1000, 1001]
    assert [(t["weight_decay"], t["tolerance"]) for t in record["tried"]] == \
        [(wd, tol) for wd in rule.WEIGHT_DECAYS for tol in rule.TOLERANCES]
    for t in record["tried"]:
        for d in t["runs"].values():
            assert set(d) == {"decay_epochs", "stop_reason", "epochs"} and 1 <= d["epochs"] <= max(rule.BUDGETS)
            assert d["stop_reason"] in ("rule", "budget")
    assert record["chosen"] == rule.choose({(t["weight_decay"], t["tolerance"]): {int(s): d for s, d in
                                            t["runs"].items()} for t in record["tried"]})
    # the record states the rule it applied (the indented paragraph, not only its preamble) and its candidates
    assert "candidates, in this order" in record["rule"] and "decayed at least twice" in record["rule"]
    assert record["candidates"]["budgets"] == list(rule.BUDGETS) and record["candidates"]["min_decays"] == 2
    assert any(p.name.startswith(record["config_key"]) for p in ctx.store.root.iterdir())   # a run it trained


def test_record_written_once_read_back_corrupt_moved_aside_and_an_uncalibrated_profile_refuses(tmp_path):
    record = {"chosen": {"epochs": 30, "weight_decay": 5e-3, "tolerance": 0.12}, "tried": []}
    path = rule.write(record, "gpu", tmp_path)
    assert rule.calibrated("gpu", tmp_path) == record and rule.setting_of(record)["epochs"] == 30
    with pytest.raises(CalibrationError, match="already calibrated"):
        rule.write(record, "gpu", tmp_path)
    path.write_text("{not json")
    with pytest.raises(CalibrationError, match="unreadable"):
        rule.calibrated("gpu", tmp_path)
    assert not path.exists() and list(tmp_path.glob("autodecay-gpu.json.corrupt-*"))

    class P:
        name, device, params = "gpu", "cuda", {"autodecay_calibration": None}

        def __getitem__(self, k):
            return self.params[k]
    with pytest.raises(CalibrationError, match="calibrate_autodecay.py --profile gpu"):
        rule.require(P())
    P.params = {"autodecay_calibration": {"chosen": None}}
    with pytest.raises(CalibrationError, match="no candidate"):
        rule.require(P())
    assert rule.setting_of(None) == rule.UNCALIBRATED


def test_the_tool_refuses_an_uncalibrated_profile_name_and_an_existing_record_before_training(tmp_path, capsys):
    from tests.helpers import ROOT, load_file

    tool = load_file(ROOT / "tools" / "calibrate_autodecay.py", "cal")
    with pytest.raises(SystemExit):
        tool.main(["--profile", "fast", "--run-store", str(tmp_path / "runs")])
    assert "calibrated profiles are ['gpu']" in capsys.readouterr().err
    (tmp_path / "autodecay-gpu.json").write_text("{}")
    with pytest.raises(SystemExit):
        tool.main(["--profile", "gpu", "--out-dir", str(tmp_path), "--run-store", str(tmp_path / "runs")])
    assert "already calibrated" in capsys.readouterr().err and not (tmp_path / "runs").exists()


def test_each_dev_run_keeps_the_fast_profiles_constants_and_trains_the_longest_budget():
    cfg = rule.autodecay_config(tiny_config(), weight_decay=5e-3, tolerance=0.2, factor=0.1)
    assert cfg.schedule.kind == "autodecay" and cfg.schedule.factor == 0.1
    assert cfg.schedule.autodecay == {"beta": 0.9, "window": 3, "zeta": 0.85, "tolerance": 0.2}
    assert cfg.epochs == max(rule.BUDGETS) == 45 and cfg.optim.weight_decay == 5e-3


def test_a_run_that_diverged_or_a_setting_without_runs_never_qualifies():
    assert not rule.qualifies({"decay_epochs": [5, 9], "stop_reason": "diverged", "epochs": 12}, 30)
    assert rule.choose({(wd, tol): {} for wd in rule.WEIGHT_DECAYS for tol in rule.TOLERANCES}) is None


def test_a_record_whose_rule_chose_nothing_gives_the_placeholders():
    assert rule.setting_of({"chosen": None, "tried": []}) == rule.UNCALIBRATED


def test_the_record_names_the_first_dev_run_as_it_trained_on_the_device(ctx, monkeypatch):
    """config_key is the key of the run in the store: the config moved to the context's device."""
    from types import SimpleNamespace

    asked = []
    monkeypatch.setattr(ctx, "run_all", lambda jobs: asked.extend(jobs) or [SimpleNamespace(
        decay_epochs=[], stop_reason="budget", epochs_trained=45)] * len(jobs))
    record = rule.apply(ctx, tiny_config(device="auto"), factor=0.1)
    assert record["config_key"] == asked[0].config.with_(device="cpu").key() != asked[0].config.key()

"""Per-epoch measurements: recorded in the history, and invisible to the training numbers."""
import pytest
import torch

from lrsci.config import ConfigError, DataConfig, ModelConfig
from lrsci.train import Trainer

from tests.helpers import blobs, tiny_config

# A model whose training consumes the global RNG (activation noise) and has BatchNorm running
# statistics: exactly what a careless measurement would disturb.
CFG = tiny_config(model=ModelConfig("mlp", hidden=16, act_noise_std=0.3), epochs=4)
MEASURED = CFG.with_(measures={"hessian_top": {"k": 3, "examples": 64, "chunk": 32}, "weight_norm": {},
                               "fresh_bn_eval": {"chunk": 64}})
MEASURE_KEYS = {"hessian_top", "weight_norm", "fresh_bn_test_acc", "fresh_bn_test_loss"}


def train(config, epochs=None, resume_from=None):
    t = Trainer(config, blobs())
    if resume_from is not None:
        t.load_state_dict(resume_from)
    t.run(until_epoch=epochs)
    return t


def training_numbers(t: Trainer):
    history = [{k: v for k, v in rec.items() if k not in MEASURE_KEYS} for rec in t.history]
    return history, {k: v.clone() for k, v in t.model.state_dict().items()}


def test_a_measurement_leaves_the_training_numbers_bit_identical():
    plain, measured = train(CFG), train(MEASURED)
    h0, s0 = training_numbers(plain)
    h1, s1 = training_numbers(measured)
    assert h0 == h1  # exact float equality, every epoch
    assert all(torch.equal(s0[k], s1[k]) for k in s0)
    tops = [rec["hessian_top"] for rec in measured.history]
    assert all(len(t) == 3 and t == sorted(t, reverse=True) for t in tops)
    assert all(rec["weight_norm"] > 0 for rec in measured.history)


def test_a_resumed_measured_run_equals_an_uninterrupted_one():
    whole = train(MEASURED)
    half = train(MEASURED, epochs=2)
    resumed = train(MEASURED, resume_from=half.state_dict())
    assert resumed.history == whole.history  # measurements included: their seeds are (run seed, epoch)


def test_requesting_no_measurement_keeps_every_stored_key():
    # Pinned before measurements existed: a stored run must not be orphaned by the new field.
    before = tiny_config(data=DataConfig("ps10"))   # the config the key was pinned for
    assert before.key() == "bd1568ec705c11d3"
    assert "measures" not in before.to_dict()
    assert MEASURED.key() != CFG.key()


@pytest.mark.parametrize("measures, field", [({"nope": {}}, "measures"), ({"hessian_top": {"kk": 1}}, "hessian_top"),
                                             ({"sharpness": {"examples": 0}}, "examples"), ([1], "measures"),
                                             ({"weight_norm": 5}, "weight_norm")])
def test_bad_measurement_requests_are_config_errors(measures, field):
    with pytest.raises(ConfigError, match=field):
        CFG.with_(measures=measures)


def test_a_hessian_k_the_model_is_too_small_for_is_refused_before_the_run_store_is_written(tmp_path, monkeypatch):
    # Found at the first epoch's end, this left an unfinished run (its config.json and lock) in the store.
    from lrsci.harness import Job
    from lrsci.runs import RunStore
    from tests.helpers import dev_context

    n = sum(p.numel() for p in Trainer(CFG, blobs()).model.parameters())
    Trainer(CFG.with_(measures={"hessian_top": {"k": n - 1}}), blobs())   # the largest k ARPACK takes: accepted
    ctx = dev_context(tmp_path, monkeypatch, blobs())   # lrsci.runs.load_data gives blobs()
    for k in (n, n + 1):
        cfg = CFG.with_(measures={"hessian_top": {"k": k, "examples": 64, "chunk": 32}})
        refused = rf"measures\.hessian_top\.k={k} .*the model's {n} trainable parameters"
        with pytest.raises(ValueError, match=refused):
            RunStore(tmp_path / "runs").run(cfg)
        with pytest.raises(ValueError, match=refused):
            ctx.run_all([Job(cfg, "too many eigenvalues")])
        with pytest.raises(ValueError, match=refused):   # a Trainer built by hand: before its first epoch
            Trainer(cfg, blobs())
    assert not (tmp_path / "runs").exists()


def _careless(model, data, opts, seed):
    """A measurement that does everything a measurement must not: train-mode forward (moves BN
    running statistics, draws activation noise) and a draw from the global RNG."""
    model.train()
    model(data.x_train[:32])
    return {"careless": float(torch.randn(()))}


def test_isolation_absorbs_a_careless_measurement(monkeypatch):
    import lrsci.measures as measures

    monkeypatch.setitem(measures.MEASURES, "careless", (_careless, {}))
    careless = train(CFG.with_(measures={"careless": {}}))
    assert [{k: v for k, v in r.items() if k != "careless"} for r in careless.history] == train(CFG).history


def test_without_isolation_the_careless_measurement_would_change_the_run(monkeypatch):
    # Negative control: the equality above is the isolation's doing, not a weak comparison.
    import contextlib

    import lrsci.measures as measures

    monkeypatch.setitem(measures.MEASURES, "careless", (_careless, {}))
    monkeypatch.setattr(measures, "isolated", lambda model: contextlib.nullcontext())
    careless = train(CFG.with_(measures={"careless": {}}))
    assert [{k: v for k, v in r.items() if k != "careless"} for r in careless.history] != train(CFG).history


def test_fresh_bn_eval_normalises_with_the_current_weights_statistics():
    import copy

    from lrsci.measures import MEASURES

    t = train(CFG, epochs=2)
    data, fresh_bn_eval = blobs(), MEASURES["fresh_bn_eval"][0]
    # By hand: BatchNorm's running statistics replaced by the whole training set's (one chunk), then eval.
    by_hand = copy.deepcopy(t.model)
    for m in by_hand.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.reset_running_stats()
            m.momentum = 1.0           # one batch: its statistics are the running ones
    by_hand.eval()
    for m in by_hand.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.train()                  # BatchNorm alone: the activation noise stays off
    with torch.no_grad():
        by_hand(data.x_train)
        by_hand.eval()
        expected = 100.0 * float((by_hand(data.x_test).argmax(1) == data.y_test).float().mean())
    got = fresh_bn_eval(t.model, data, {"chunk": 10_000}, 0)
    assert got["fresh_bn_test_acc"] == pytest.approx(expected)
    # Stale running statistics are what it replaces: scramble them and eval mode changes, it does not.
    with torch.no_grad():
        for m in t.model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.add_(3.0)
    assert t.evaluate()["test_eval_loss"] != pytest.approx(got["fresh_bn_test_loss"])
    assert fresh_bn_eval(t.model, data, {"chunk": 10_000}, 0) == got   # it left the model as it was
    # Chunks are ghost batches: their statistics averaged, not the whole set's.
    assert fresh_bn_eval(t.model, data, {"chunk": 64}, 0) != got


def test_fresh_bn_eval_of_a_model_without_batchnorm_is_the_plain_evaluation():
    from lrsci.measures import MEASURES

    t = train(tiny_config(model=ModelConfig("two_layer", hidden=16), epochs=1))
    got = MEASURES["fresh_bn_eval"][0](t.model, blobs(), {"chunk": 50}, 0)
    plain = t.evaluate()
    assert got["fresh_bn_test_acc"] == pytest.approx(plain["test_acc"])
    assert got["fresh_bn_test_loss"] == pytest.approx(plain["test_eval_loss"], rel=1e-6)

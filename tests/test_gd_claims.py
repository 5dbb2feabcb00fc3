"""The helpers behind the two full-batch GD claims (claims/test_gd_*.py), checked at tiny size."""
import math
from pathlib import Path

import pytest
from scipy import stats as st

from lrsci.config import ModelConfig, OptimConfig
from lrsci.figures import render
from lrsci.runs import RunStore
from lrsci.stats import binomial_test
from lrsci.train import RunResult

from tests.helpers import load_file, tiny_config

CLAIMS = Path(__file__).resolve().parents[1] / "claims"


def _module(name):
    return load_file(CLAIMS / f"test_{name}.py", f"_gd_claim_{name}")


DECAY = _module("gd_decay_no_benefit")
DIVERGE = _module("gd_larger_lr_diverges")


# --- the exact binomial test ------------------------------------------------------------------------

@pytest.mark.parametrize("k, n, p0", [(0, 5, 0.25), (3, 5, 0.25), (4, 5, 0.25), (5, 5, 0.5), (7, 10, 0.3)])
def test_binomial_test_is_scipys_one_sided_binomtest(k, n, p0):
    r = binomial_test(k, n, p0)
    assert r.p_value == pytest.approx(st.binomtest(k, n, p0, alternative="greater").pvalue, rel=1e-12)
    assert (r.statistic, r.n, r.effect, r.margin) == (k, n, k / n, p0)
    assert binomial_test(k, n, p0, "less").p_value == pytest.approx(
        st.binomtest(k, n, p0, alternative="less").pvalue, rel=1e-12)


def test_with_five_seeds_p0_a_quarter_rejects_exactly_from_four_diverged():
    assert [binomial_test(k, 5, 0.25).passed(0.05) for k in range(6)] == [False] * 4 + [True] * 2


@pytest.mark.parametrize("k, n, p0", [(6, 5, 0.5), (-1, 5, 0.5), (1, 0, 0.5), (1, 5, 0.0), (1, 5, 1.0), (1.5, 5, 0.5)])
def test_binomial_test_refuses_bad_input(k, n, p0):
    with pytest.raises(ValueError):
        binomial_test(k, n, p0)


# --- the two claims share one GD setting ---------------------------------------------------------------

@pytest.mark.parametrize("profile", ["fast", "gpu"])
def test_both_gd_claims_train_the_same_gd_at_the_same_eta(profile):
    a, b = DECAY.CLAIM.profile(profile).run, DIVERGE.CLAIM.profile(profile).run
    assert a.optim.full_batch and a.optim.momentum == 0.0
    assert (a.data, a.model, a.optim, a.epochs, a.diverge_loss, a.precision) == \
        (b.data, b.model, b.optim, b.epochs, b.diverge_loss, b.precision)
    # eval_train only evaluates: the diverge claim's runs train the same numbers, stored apart
    assert a.with_(eval_train=True) == b


def test_fast_profiles_use_one_gd_chunk_so_batchnorm_sees_the_full_batch():
    for claim in (DECAY.CLAIM, DIVERGE.CLAIM):
        run = claim.profile("fast").run
        assert run.optim.gd_chunk >= run.data.train_size
    h = DIVERGE.FAST["hessian"]
    assert h["examples"] == h["chunk"] == DIVERGE.FAST.run.data.train_size  # the Hessian of GD's own objective


def test_hessian_steps_end_at_the_last_step():
    assert DIVERGE.hessian_steps(DIVERGE.FAST) == list(range(80, 401, 80))
    assert DIVERGE.hessian_steps(DIVERGE.GPU) == [100, 200]


# --- a measurement on a snapshot is the run's own per-epoch measurement -----------------------------------

GD = tiny_config(model=ModelConfig("mlp", hidden=8), optim=OptimConfig(lr=0.5, momentum=0.0, batch_size=None,
                                                                         gd_chunk=4096), epochs=3, seed=3)
OPTS = {"hessian_top": {"k": 3, "examples": 96, "chunk": 96}, "sharpness": {"examples": 96, "chunk": 96}}


@pytest.mark.slow
def test_measuring_a_snapshot_gives_the_numbers_the_run_would_record(tmp_path):
    store = RunStore(tmp_path)
    measured = store.run(GD.with_(measures=OPTS))
    plain = store.run(GD, snapshots=(1, 2, 3))
    assert [r["train_loss"] for r in plain.history] == [r["train_loss"] for r in measured.history]
    for step in (1, 2, 3):
        for name, opts in OPTS.items():
            assert DIVERGE.measure_at(store, plain, step, name, opts) == measured.history[step - 1][name]
    assert DIVERGE.measure_at(store, plain, 4, "sharpness", OPTS["sharpness"]) is None  # beyond the run's end
    assert plain.to_dict() == store.load(GD).to_dict()


def test_a_run_stored_without_the_snapshots_is_named(tmp_path):
    store = RunStore(tmp_path)
    run = store.run(GD.with_(epochs=1))
    with pytest.raises(FileNotFoundError, match="snap-1.pt"):
        DIVERGE.measure_at(store, run, 1, "sharpness", OPTS["sharpness"])


def test_a_measurement_is_taken_once_and_then_read_without_the_weights(tmp_path):
    store = RunStore(tmp_path)
    run = store.run(GD.with_(epochs=2), snapshots=(1, 2))
    first = DIVERGE.measure_at(store, run, 2, "sharpness", OPTS["sharpness"])
    record = DIVERGE.measurement_record(store, run, 2, "sharpness", OPTS["sharpness"])
    assert record["value"] == first and record["seconds"] > 0 and record["key"]["step"] == 2
    for snap in store.dir(GD.with_(epochs=2)).glob("snap-*.pt"):
        snap.unlink()   # as on a CPU far from the device's weights
    assert DIVERGE.measure_at(store, run, 2, "sharpness", OPTS["sharpness"]) == first
    with pytest.raises(FileNotFoundError, match="snap-1.pt"):   # another step is another measurement
        DIVERGE.measure_at(store, run, 1, "sharpness", OPTS["sharpness"])
    with pytest.raises(FileNotFoundError, match="snap-2.pt"):   # and so are other options
        DIVERGE.measure_at(store, run, 2, "sharpness", {**OPTS["sharpness"], "examples": 64})


def test_a_torn_snapshot_is_moved_aside_and_named_not_measured(tmp_path):
    store = RunStore(tmp_path)
    run = store.run(GD.with_(epochs=1), snapshots=(1,))
    snap = store.dir(GD.with_(epochs=1)) / "snap-1.pt"
    snap.write_bytes(snap.read_bytes()[:100])   # cut short, as by a full disk
    with pytest.warns(UserWarning, match="unreadable"), pytest.raises(FileNotFoundError, match="snap-1.pt"):
        DIVERGE.measure_at(store, run, 1, "sharpness", OPTS["sharpness"])
    assert not snap.exists() and [p.name for p in snap.parent.iterdir() if p.name.startswith("snap-1.pt")]


# --- analyses meet divergence as an outcome -------------------------------------------------------------

def _record(epoch, loss, acc=50.0):
    return {"epoch": epoch, "lr": 1.0, "train_loss": loss, "test_acc": acc, "test_eval_loss": loss}


def _run(profile, seed, losses, status="finished", lr=None, at=None):
    cfg = profile.run.with_(seed=seed, device="cpu", **({"optim.lr": lr} if lr else {}))
    history = [_record(i + 1, v, 70.0 + i * 1e-3) for i, v in enumerate(losses)]
    return RunResult(config=cfg.to_dict(), history=history, status=status, epochs_trained=len(history),
                     decay_epochs=[], diverged_at_step=at)


def test_diverge_analysis_handles_empty_and_short_histories(tmp_path):
    p = DIVERGE.FAST.extend("t", run=DIVERGE.FAST.run.with_(epochs=4), hessian={**DIVERGE.FAST["hessian"], "every": 2})
    top = [float(10 - i) for i in range(10)]
    runs = {
        0: {"eta": _run(p, 0, [2.3, 1.0, 0.5, 0.4]), "ceta": _run(p, 0, [], "diverged", 8.0, 0),
            "top": top, "lam_max": {2: 0.3, 4: top[0]}},
        1: {"eta": _run(p, 1, [2.3, 1.0, 0.5, 0.3]), "ceta": _run(p, 1, [2.3, 9.0], "diverged", 8.0, 2),
            "top": top, "lam_max": {2: 0.2, 4: top[0]}},
        2: {"eta": _run(p, 2, [2.3, 20.0], "diverged", at=2), "ceta": _run(p, 2, [2.3, 5, 2.3, 2.3], lr=8.0),
            "top": None, "lam_max": {2: None, 4: None}},
    }
    out = DIVERGE.analyse(runs, p)
    rows = {r["criterion"]: r for r in out["tests"]}
    assert rows[DIVERGE.STABLE]["passed"] is False  # seed 2 diverged at η
    assert rows[DIVERGE.DIVERGES]["statistic"] == 2 and rows[DIVERGE.DIVERGES]["passed"] is False
    assert out["per_seed"]["c·η=8: max train loss"] == {0: None, 1: 9.0, 2: 5}
    render(DIVERGE.figure_spec(runs, p), tmp_path / "fig.png")


def test_decay_analysis_fails_row_zero_when_a_run_diverged_and_compares_the_rest(tmp_path):
    p = DECAY.FAST.extend("t", run=DECAY.FAST.run.with_(epochs=8), window=2)
    ms = DECAY.decay_steps(p)
    runs = {}
    for s in range(3):
        runs[s] = {"none": _run(p, s, [1.0] * 6 + [0.10, 0.10])}
        for m in ms:
            runs[s][m] = _run(p, s, [1.0] * 6 + [0.105 + 0.001 * s + 1e-4 * m] * 2)
    runs[2][ms[0]] = _run(p, 2, [1.0, 30.0], "diverged", at=2)
    out = DECAY.analyse(runs, p)
    rows = {r["criterion"]: r for r in out["tests"]}
    assert rows[DECAY.STABLE]["passed"] is False
    loss_row = rows[f"(1) decay@{ms[0]}: final train loss ≡ no decay"]
    assert loss_row["n"] == 2 and math.isclose(loss_row["effect"], (0.0055 + 1e-4 * ms[0]) / 0.10, rel_tol=1e-6)
    assert rows[f"(1) decay@{ms[1]}: final train loss ≡ no decay"]["n"] == 3
    assert out["per_seed"][f"decay@{ms[0]}: final train loss"][2] is None
    render(DECAY.figure_spec(runs, p), tmp_path / "fig.png")


def test_a_no_decay_loss_of_exactly_zero_leaves_the_relative_loss_row_not_the_analysis():
    """float32 cross-entropy of a perfect fit can underflow to 0: that seed has no relative difference."""
    p = DECAY.FAST.extend("t", run=DECAY.FAST.run.with_(epochs=8), window=2)
    ms = DECAY.decay_steps(p)
    runs = {s: {"none": _run(p, s, [1.0] * 6 + [0.10 * s] * 2),
                **{m: _run(p, s, [1.0] * 6 + [0.101 * s + 1e-3 * m] * 2) for m in ms}} for s in range(3)}
    out = DECAY.analyse(runs, p)
    rows = {r["criterion"]: r for r in out["tests"]}
    assert rows[f"(1) decay@{ms[0]}: final train loss ≡ no decay"]["n"] == 2   # seed 0's baseline is 0
    assert out["per_seed"][f"decay@{ms[0]}: rel. loss diff"][0] is None

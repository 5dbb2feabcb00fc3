"""BatchedTrainer: K runs as one batched model give each run's own numbers (to float tolerance).

Tolerance: batched kernels round differently from unbatched ones. After the first epoch a run
trained in a batch matches the same run trained alone by the Trainer to ~1e-7 in its weights
(float32, CPU); like any rounding difference it then grows with training (a WRN-10-1 on 96 images:
1e-5 after 2 epochs, 3e-4 after 3). So the MLP is compared over 3 epochs, the WRN over 2, losses to
1e-5 relative, weights to 1e-5 / 1e-4 absolute; accuracies exactly (well-separated toy sets). A run
that diverges is frozen and leaves the others' numbers untouched.
"""
import math

import pytest
import torch

from lrsci.batched import EVAL_BATCH, BatchedTrainer, batchnorm_in_float32, check_batchable
from lrsci.config import ModelConfig, ScheduleConfig
from lrsci.data.base import ArrayData
from lrsci.train import Trainer
from lrsci.state_files import read_state
from tests.helpers import batch_killed_in_epoch, blobs, tiny_config

LOSS_RTOL = 1e-5


def alone(config, data):
    t = Trainer(config, data)
    while not t.done:
        t.train_epoch()
    return t


def images(n_train=96, n_test=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_test, 1, 12, 12, generator=g)
    y = (x[:, 0, :6].mean((1, 2)) > 0).long()
    return ArrayData("img", x[:n_train], y[:n_train], x[n_train:], y[n_train:], 2)


def assert_same_run(batched: BatchedTrainer, i: int, single: Trainer, weight_atol: float = 1e-5) -> None:
    a, b = single.result(), batched.results()[i]
    assert (a.status, a.epochs_trained, a.decay_epochs) == (b.status, b.epochs_trained, b.decay_epochs)
    for ra, rb in zip(a.history, b.history):
        assert ra.keys() == rb.keys() and ra["lr"] == rb["lr"] and ra["test_acc"] == rb["test_acc"]
        assert rb["train_loss"] == pytest.approx(ra["train_loss"], rel=LOSS_RTOL)
    state, mine = single.model.state_dict(), batched.model_state(i)
    for name, t in state.items():
        assert torch.allclose(mine[name].float(), t.float(), atol=weight_atol), name


@pytest.mark.parametrize("model, epochs, weight_atol", [(ModelConfig("mlp", hidden=16), 3, 1e-5),
                                                       (ModelConfig("wrn", depth=10, width=1), 2, 1e-4)])
def test_each_run_in_a_batch_is_the_run_trained_alone(model, epochs, weight_atol):
    data = blobs(n_train=256, n_test=64, dim=8) if model.name == "mlp" else images()
    schedules = [ScheduleConfig("constant"), ScheduleConfig("step", milestones=(1,), factor=0.1),
                 ScheduleConfig("constant")]
    configs = [tiny_config(seed=s, epochs=epochs, model=model, schedule=sch,
                           **{"optim.lr": lr, "optim.batch_size": 32})
               for s, lr, sch in zip((0, 1, 2), (0.05, 0.1, 0.02), schedules)]
    batched = BatchedTrainer(configs, data)
    batched.run()
    for i, c in enumerate(configs):
        assert_same_run(batched, i, alone(c, data), weight_atol)


def test_evaluation_chunks_are_a_kth_of_one_runs_and_give_the_same_figures(monkeypatch):
    """K runs are evaluated together, so a chunk holds K× one run's activations: it is cut to a K-th
    (in eval mode each example's output does not depend on its chunk)."""
    data = images(n_test=32)
    configs = [tiny_config(seed=s, epochs=1, model=ModelConfig("wrn", depth=10, width=1)) for s in range(3)]
    batched = BatchedTrainer(configs, data)
    batched.train_epoch()
    whole = batched.evaluate()
    seen = []
    real = batched.forward
    monkeypatch.setattr(batched, "forward", lambda x, **kw: seen.append(x.shape[0]) or real(x, **kw))
    monkeypatch.setitem(EVAL_BATCH, "cpu", 30)   # 30 images / 3 runs: chunks of 10
    chunked = batched.evaluate()
    assert max(seen) == 10 and len(seen) > 3
    for a, b in zip(whole, chunked):
        assert a.keys() == b.keys() and all(b[k] == pytest.approx(a[k], rel=1e-6) for k in a)


def test_a_diverging_run_is_frozen_and_does_not_touch_the_others():
    data = blobs(n_train=256, n_test=64, dim=8)
    ok = tiny_config(seed=0, epochs=3, diverge_loss=10.0)
    bad = ok.with_(seed=1, **{"optim.lr": 1e6})
    batched = BatchedTrainer([ok, bad, ok.with_(seed=2)], data)
    batched.run()
    res = batched.results()
    assert res[1].stop_reason == "diverged" and res[1].diverged_at_step is not None
    assert res[1].diverged_at_step == alone(bad, data).result().diverged_at_step
    assert_same_run(batched, 0, alone(ok, data))
    assert_same_run(batched, 2, alone(ok.with_(seed=2), data))
    assert all(math.isfinite(r["train_loss"]) for r in res[0].history + res[2].history)
    # the diverged run's training time stops where it ended; the others' is the batch's
    assert res[1].train_seconds < res[0].train_seconds == res[2].train_seconds == batched.train_seconds


def test_a_run_blown_up_by_its_epochs_last_update_diverges_at_that_step_as_alone():
    data = blobs(n_train=256, n_test=64, dim=8)
    ok = tiny_config(seed=0, epochs=2, **{"optim.batch_size": 256, "optim.momentum": 0.0})
    bad = ok.with_(seed=1, **{"optim.lr": 1e38})    # finite batch loss, then a last update no loss sees
    batched = BatchedTrainer([ok, bad], data)
    batched.run()
    res, lone = batched.results(), alone(bad, data).result()
    assert (res[1].stop_reason, res[1].diverged_at_step, res[1].history) == ("diverged", 1, [])
    assert (lone.stop_reason, lone.diverged_at_step, lone.history) == ("diverged", 1, [])
    assert res[1].images == lone.images == 256                # the epoch it diverged in counts, as alone
    assert_same_run(batched, 0, alone(ok, data))


@pytest.mark.parametrize("change, field", [({"optim.batch_size": 16}, "optim.batch_size"),
                                           ({"model": ModelConfig("mlp", hidden=8)}, "model"),
                                           ({"model": ModelConfig("mlp", hidden=16, act_noise_std=0.1)}, "model")])
def test_runs_that_cannot_share_a_batch_are_refused_by_name(change, field):
    base = tiny_config()
    with pytest.raises(ValueError, match=field):
        check_batchable([base, base.with_(**change)])


@pytest.mark.parametrize("change, match", [({"model": ModelConfig("mlp", hidden=16, act_noise_std=0.1)}, "activation noise"),
                                           ({"optim.batch_size": None}, "full-batch GD")])
def test_what_the_batched_engine_does_not_train_yet_is_refused(change, match):
    with pytest.raises(ValueError, match=match):
        check_batchable([tiny_config(**change)] * 2)


def test_per_run_inputs_of_the_patch_data_follow_each_runs_seed():
    from lrsci.config import DataConfig
    from lrsci.data.registry import load_data

    cfg = DataConfig("patch-fashion-mnist", train_size=128, test_size=32, seed=0, options={"patch_only_eval": 32})
    data = load_data(cfg)
    configs = [tiny_config(seed=s, epochs=2, data=cfg, model=ModelConfig("mlp", hidden=16)) for s in (0, 1)]
    batched = BatchedTrainer(configs, data)
    batched.run()
    for i, c in enumerate(configs):
        assert_same_run(batched, i, alone(c, data))


def test_batchnorm_in_float32_upcasts_a_bf16_input_exactly_and_leaves_float32_alone():
    """What the fix promises: a BatchNorm fed bf16 computes on the exact float32 upcast, and a float32
    input passes untouched."""
    torch.manual_seed(0)
    bn, ref = torch.nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    ref.load_state_dict(bn.state_dict())
    batchnorm_in_float32(torch.nn.Sequential(bn))
    x = torch.randn(6, 4, 5, 5).bfloat16()
    out = bn(x)
    assert out.dtype == torch.float32
    assert torch.equal(out, ref(x.float())) and torch.equal(bn.running_mean, ref.running_mean)
    x32 = torch.randn(6, 4, 5, 5)
    assert torch.equal(bn(x32), ref(x32))


def bf16_conv_then_bn(seed: int) -> torch.nn.Module:
    """A convolution computing in bf16 before a float32 BatchNorm: what CUDA autocast makes of each
    conv-BN pair (CPU autocast does not reach convolutions under vmap, so the bf16 is put in by hand)."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1).bfloat16(), torch.nn.BatchNorm2d(4),
                               torch.nn.ReLU())


def vmapped_loss_and_grads(models, x, fix: bool):
    from torch.func import functional_call, grad_and_value, stack_module_state, vmap
    params, buffers = stack_module_state(models)
    base = bf16_conv_then_bn(0).to("meta")
    if fix:
        batchnorm_in_float32(base)

    def loss(p, b, xb):
        return functional_call(base, (p, b), (xb,)).float().square().mean()
    return vmap(grad_and_value(loss))(params, buffers, x)


def test_under_vmap_a_bf16_input_to_batchnorm_fails_without_the_upcast_and_trains_with_it():
    """The H200 failure of the batched engine in bf16, staged on the CPU: vmap's batch-norm rule refuses a
    bf16 input beside float32 running statistics; with every BatchNorm's input upcast, forward and
    backward run and each run's loss and gradients are those of the same model alone, to bf16 rounding
    (vmap turns the K convolutions into one grouped bf16 convolution, which rounds in another order)."""
    models = [bf16_conv_then_bn(s) for s in (0, 1, 2)]
    x = torch.randn(3, 8, 1, 6, 6).bfloat16()
    with pytest.raises(RuntimeError, match="(?i)float|bfloat16"):
        vmapped_loss_and_grads(models, x, fix=False)
    grads, losses = vmapped_loss_and_grads(models, x, fix=True)
    for i, m in enumerate(models):
        batchnorm_in_float32(m)
        alone = m(x[i]).float().square().mean()
        alone.backward()
        torch.testing.assert_close(losses[i], alone.detach(), rtol=1e-2, atol=0)   # bf16: 8 significant bits
        for name, p in m.named_parameters():
            torch.testing.assert_close(grads[name][i].float(), p.grad.float(), rtol=2e-2, atol=1e-3)


@pytest.mark.gpu
def test_on_the_gpu_in_bf16_a_batched_run_stays_within_tolerance_of_the_run_alone():
    """bf16 rounds far more coarsely than float32, and batched kernels differently: over 2 epochs of a
    WRN-16-4, each run's training loss within 5 % and test accuracy within 3 pp of the run alone."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4096 + 1024, 1, 28, 28, generator=g)
    y = (x[:, 0, :14].mean((1, 2)) > 0).long() + 2 * (x[:, 0, :, :14].mean((1, 2)) > 0).long()
    data = ArrayData("img", x[:4096], y[:4096], x[4096:], y[4096:], 4).to(torch.device("cuda"))
    configs = [tiny_config(seed=s, epochs=2, device="cuda", precision="bf16", model=ModelConfig("wrn", depth=16, width=4),
                           **{"optim.lr": 0.1, "optim.batch_size": 128, "optim.momentum": 0.9}) for s in (0, 1, 2)]
    batched = BatchedTrainer(configs, data)
    batched.run()
    for i, c in enumerate(configs):
        a, b = alone(c, data).result().history[-1], batched.results()[i].history[-1]
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=0.05)
        assert abs(b["test_acc"] - a["test_acc"]) <= 3.0


# --- the batched executor: ClaimContext(executor="batched") -------------------------------------------


def test_the_batched_executor_trains_plain_arms_as_one_batch_in_its_own_store_folders(tmp_path, monkeypatch):
    from lrsci.harness import ClaimContext, Job
    from lrsci.runs import RunStore

    data = blobs(n_train=256, n_test=64, dim=8)
    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: data)           # the store's
    monkeypatch.setattr("lrsci.data.registry.load_data", lambda cfg, root=None: data)  # the executor's
    base = tiny_config(epochs=2)
    ctx = ClaimContext(profile="t", store=RunStore(tmp_path / "runs"), report_root=tmp_path / "rep", n_seeds=2,
                       device="cpu", workers=1, executor="batched")
    assert ctx.store.engine == "batched"
    arms = ctx.run_arms(lambda seed: {"a": base.with_(seed=seed), "b": base.with_(seed=seed, **{"optim.lr": 0.1})})
    trunk_cfg = base.with_(seed=7)
    trunk = ctx.run_all([Job(trunk_cfg, "trunk", snapshots=(1,))])[0]   # no partner: a batch of one
    assert ctx.store.trained and all(p.name.endswith("-batched") for p in (tmp_path / "runs").iterdir()
                                     if p.is_dir() and p.name != "batches")
    batched = [arms[s][a] for s in ctx.seeds for a in ("a", "b")]
    assert all(r.extra["trained_in_batch_of"] == 4 and r.extra["trained"]["engine"] == "batched" for r in batched)
    assert trunk.extra["trained_in_batch_of"] == 1 and (tmp_path / "runs" / ctx.store.dir(trunk_cfg).name
                                                        / "snap-1.pt").exists()
    for s in ctx.seeds:
        for arm, cfg in (("a", base.with_(seed=s)), ("b", base.with_(seed=s, **{"optim.lr": 0.1}))):
            single = alone(cfg, data).result()
            got = arms[s][arm]
            assert got.epochs_trained == single.epochs_trained
            assert got.history[-1]["train_loss"] == pytest.approx(single.history[-1]["train_loss"], rel=LOSS_RTOL)
    # the local executor's store does not see them: one key never holds numbers of two engines
    assert RunStore(tmp_path / "runs").load(base.with_(seed=0)) is None


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_an_interrupted_batch_resumes_from_its_checkpoint_with_the_same_numbers(tmp_path, monkeypatch):
    from lrsci import executors
    from lrsci.runs import RunStore

    data = blobs(n_train=256, n_test=64, dim=8)
    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: data)
    monkeypatch.setattr("lrsci.data.registry.load_data", lambda cfg, root=None: data)
    from lrsci.harness import Job

    configs = [tiny_config(seed=s, epochs=3) for s in (0, 1, 2)]
    jobs = [Job(c, "run") for c in configs]
    whole = RunStore(tmp_path / "whole", engine="batched")
    executors.train_batch(whole, jobs, progress=False)

    cut = RunStore(tmp_path / "cut", engine="batched")
    with batch_killed_in_epoch(monkeypatch), pytest.raises(KeyboardInterrupt):
        executors.train_batch(cut, jobs, progress=False)
    ckpt = executors.batch_checkpoint(cut, configs)
    assert ckpt.exists() and all(cut.load(c) is None for c in configs)
    resumed_from = read_state(ckpt)["epoch"]
    assert resumed_from == 1
    executors.train_batch(cut, jobs, progress=False)
    assert not ckpt.exists()
    for c in configs:
        assert cut.load(c).history == whole.load(c).history   # exactly: same process, same kernels

    # an unreadable checkpoint is moved aside, named, and the batch trains from its start
    torn = RunStore(tmp_path / "torn", engine="batched")
    bad = executors.batch_checkpoint(torn, configs)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="unusable batch checkpoint"):
        executors.train_batch(torn, jobs, progress=False)
    assert list(bad.parent.glob("*.corrupt-*")) and torn.load(configs[0]).history == whole.load(configs[0]).history

    # a checkpoint saved from other data bytes is moved aside too: resuming from it would mix two datasets
    other = RunStore(tmp_path / "other", engine="batched")
    with batch_killed_in_epoch(monkeypatch), pytest.raises(KeyboardInterrupt):
        executors.train_batch(other, jobs, progress=False)
    ckpt = executors.batch_checkpoint(other, configs)
    assert read_state(ckpt)["data_sha256"] == other.data_identity(configs[0])
    monkeypatch.setattr(other, "data_identity", lambda cfg: "changed")
    with pytest.warns(UserWarning, match="other data bytes"):
        executors.train_batch(other, jobs, progress=False)
    assert list(ckpt.parent.glob("*.corrupt-*")) and other.load(configs[0]).history == whole.load(configs[0]).history


def test_trunks_with_snapshots_and_their_forks_train_batched_as_they_would_alone(tmp_path, monkeypatch):
    from lrsci.harness import ClaimContext
    from lrsci.runs import RunStore

    data = blobs(n_train=256, n_test=64, dim=8)
    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: data)
    monkeypatch.setattr("lrsci.data.registry.load_data", lambda cfg, root=None: data)
    trunk = tiny_config(epochs=4, **{"optim.momentum": 0.9})

    def forks(executor, root):
        ctx = ClaimContext(profile="t", store=RunStore(tmp_path / root), report_root=tmp_path / "rep", n_seeds=2,
                           device="cpu", workers=1, executor=executor)
        return ctx, ctx.run_decay_forks(lambda seed: trunk.with_(seed=seed), [1, 2], 0.1)
    ctx, batched = forks("batched", "b")
    _, single = forks("local", "s")
    assert len(ctx.store.trained) == 6   # 2 trunks in one batch, then 2 forks at epoch 1 and 2 at epoch 2
    for seed in ctx.seeds:
        for arm in ("none", 1, 2):
            a, b = single[seed][arm], batched[seed][arm]
            assert a.forked_from == b.forked_from and a.decay_epochs == b.decay_epochs
            assert [r["lr"] for r in a.history] == [r["lr"] for r in b.history]
            for ra, rb in zip(a.history, b.history):
                assert rb["train_loss"] == pytest.approx(ra["train_loss"], rel=LOSS_RTOL)
            assert b.extra["trained_in_batch_of"] == 2


def test_a_batched_fork_without_its_parents_snapshot_trains_from_scratch_and_is_not_recorded_as_a_fork(
        tmp_path, monkeypatch):
    from lrsci import executors
    from lrsci.harness import Job
    from lrsci.runs import RunStore

    data = blobs(n_train=256, n_test=64, dim=8)
    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: data)
    monkeypatch.setattr("lrsci.data.registry.load_data", lambda cfg, root=None: data)
    trunk = tiny_config(epochs=3)
    child = trunk.with_(schedule=ScheduleConfig("step", milestones=(1,)))
    store = RunStore(tmp_path / "runs", engine="batched")
    (store.dir(child)).mkdir(parents=True)
    (store.dir(child) / "fork.json").write_text('{"key": "stale", "epoch": 1}')   # an earlier attempt's record
    executors.train_batch(store, [Job(child, "decay@1", fork=(trunk, 1))], progress=False)   # the trunk was never trained
    run = store.load(child)
    assert run.forked_from is None and run.epochs_trained == 3   # as the store's own runs record it
    assert not (store.dir(child) / "fork.json").exists()
    alone = RunStore(tmp_path / "alone", engine="batched")
    executors.train_batch(alone, [Job(child, "decay@1")], progress=False)
    assert run.history == alone.load(child).history   # the same numbers as the child batched from scratch


# --- the captured batched step (lrsci.graphed): on the CPU, the same static buffers run eagerly ----------


def same_batch(a: BatchedTrainer, b: BatchedTrainer) -> None:
    assert a.histories == b.histories and a.step == b.step and a.status == b.status
    assert a.diverged_at_step == b.diverged_at_step
    for name, t in {**a.params, **a.buffers}.items():   # exactly, NaN where a diverged run has NaN
        u = {**b.params, **b.buffers}[name]
        torch.testing.assert_close(u, t, rtol=0, atol=0, equal_nan=True, msg=name)


def test_the_static_batched_step_gives_the_eager_batched_numbers_with_a_partial_batch_decay_and_divergence():
    data = blobs(n_train=250, n_test=64)   # 250 = 7 batches of 32 + one of 26
    base = tiny_config(epochs=3, diverge_loss=10.0, **{"optim.momentum": 0.9, "optim.nesterov": True,
                                                       "optim.weight_decay": 5e-4})
    configs = [base, base.with_(seed=1, schedule=ScheduleConfig("step", milestones=(1,), factor=0.1)),
               base.with_(seed=2, **{"optim.lr": 1e6})]   # diverges: frozen through the static lrs tensor
    eager, static = BatchedTrainer(configs, data), BatchedTrainer(configs, data, step_graph=True)
    eager.run(), static.run()
    same_batch(eager, static)
    assert static.status[2] == "diverged" and static.status[:2] == ["finished", "finished"]
    assert static.step_kind == "static step, eager" and eager.step_kind == "eager"
    assert static.results()[0].extra == {"trained_in_batch_of": 3, "step": "static step, eager"}


def test_the_static_batched_step_resumes_and_copies_each_runs_redrawn_inputs():
    from lrsci.config import DataConfig
    from lrsci.data.registry import load_data

    cfg = DataConfig("patch-fashion-mnist", train_size=128, test_size=32, seed=0, options={"patch_only_eval": 32})
    data = load_data(cfg)   # per run and epoch its own inputs
    configs = [tiny_config(seed=s, epochs=3, data=cfg, model=ModelConfig("mlp", hidden=16),
                           **{"optim.momentum": 0.9}) for s in (0, 1)]
    eager = BatchedTrainer(configs, data)
    eager.run()
    first = BatchedTrainer(configs, data, step_graph=True)
    first.train_epoch()
    resumed = BatchedTrainer(configs, data, step_graph=True)
    resumed.load_state_dict(first.state_dict())
    resumed.run()
    same_batch(eager, resumed)


def test_a_batch_the_step_cannot_capture_is_refused_when_asked():
    with pytest.raises(ValueError, match="full-batch|activation noise"):
        BatchedTrainer([tiny_config(**{"optim.batch_size": None})] * 2, blobs(), step_graph=True)


def test_a_run_the_static_step_freezes_mid_epoch_stays_where_it_diverged():
    """A finite "divergence" (a batch loss above diverge_loss before the check of step 50, mid-epoch) makes
    the freeze visible: the frozen run's weights stay those of the same run alone, which stops there."""
    data = blobs(n_train=512, n_test=64)   # batch 8: 64 steps an epoch, the first check at step 50
    base = tiny_config(seed=1, epochs=2, diverge_loss=2.0, **{"optim.lr": 0.02, "optim.batch_size": 8,
                                                              "optim.momentum": 0.9})   # every batch loss < 2
    wild = base.with_(seed=2, **{"optim.lr": 0.2})   # a batch loss above 2 before step 50; weights stay finite
    static = BatchedTrainer([base, wild], data, step_graph=True)
    static.run()
    single = alone(wild, data)
    assert single.diverged_at_step == static.diverged_at_step[1] == 50 and static.status == ["finished", "diverged"]
    for name, t in single.model.state_dict().items():
        assert torch.isfinite(t.float()).all(), name
        # at rate 0.2, 50 steps amplify the batched kernels' rounding to ~5e-5; 14 more steps would move ~0.1
        assert torch.allclose(static.model_state(1)[name].float(), t.float(), atol=2e-4), name


def test_a_run_that_ends_before_the_others_leaves_the_state_it_ended_with():
    """A run at its budget still goes through the batch's forward and update (at learning rate 0) while the
    others train on; its BatchNorm statistics and momentum must not drift: its snapshot is that of the
    run alone (to the batched kernels' rounding)."""
    data = blobs(n_train=256, n_test=64)
    short = tiny_config(epochs=1, **{"optim.momentum": 0.9})
    batched = BatchedTrainer([short, short.with_(seed=1, epochs=3)], data)
    batched.run()
    single = alone(short, data)
    assert batched.status == ["finished", "finished"] and len(batched.histories[0]) == 1
    state, mine = single.model.state_dict(), batched.model_state(0)
    for name, t in state.items():
        assert torch.allclose(mine[name].float(), t.float(), atol=1e-6), name
    theirs = single.optimizer.state_dict()["state"]
    ours = batched.run_state(0)["optimizer"]["state"]
    for j in theirs:
        assert torch.allclose(ours[j]["momentum_buffer"], theirs[j]["momentum_buffer"], atol=1e-6), j


@pytest.mark.gpu
def test_on_the_gpu_the_captured_batched_step_stays_within_bf16_tolerance_of_the_eager_one():
    """The captured step replays the eager batched step's kernels on the same buffers; over 2 epochs of three
    WRN-16-4 runs (a partial last batch, a decay, one run at another rate) each run's training loss within
    5 % and test accuracy within 3 pp of the eager batch (bf16 kernels may pick other algorithms)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4096 + 1024, 1, 28, 28, generator=g)
    y = (x[:, 0, :14].mean((1, 2)) > 0).long() + 2 * (x[:, 0, :, :14].mean((1, 2)) > 0).long()
    data = ArrayData("img", x[:4096], y[:4096], x[4096:], y[4096:], 4).to(torch.device("cuda"))
    base = tiny_config(epochs=2, device="cuda", precision="bf16", model=ModelConfig("wrn", depth=16, width=4),
                       **{"optim.lr": 0.1, "optim.batch_size": 100, "optim.momentum": 0.9})   # 4096 = 40×100 + 96
    configs = [base, base.with_(seed=1, schedule=ScheduleConfig("step", milestones=(1,), factor=0.1)),
               base.with_(seed=2, **{"optim.lr": 0.05})]
    eager, graphed = BatchedTrainer(configs, data, step_graph=False), BatchedTrainer(configs, data, step_graph=True)
    eager.run(), graphed.run()
    assert graphed.step_kind == "cuda graph" and graphed.step == eager.step
    for i in range(len(configs)):
        a, b = eager.results()[i].history[-1], graphed.results()[i].history[-1]
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=0.05)
        assert abs(b["test_acc"] - a["test_acc"]) <= 3.0


def test_the_batched_executor_writes_no_snapshot_for_an_epoch_a_run_did_not_train(tmp_path, monkeypatch):
    """A run that ended (here: stopped by its AutoDecay rule after epoch 2) while the batch trained on got a
    snapshot of a later epoch it never trained; the run alone writes none. (A snapshot past a run's budget is
    refused when the job is built.)"""
    from lrsci.harness import ClaimContext, Job
    from lrsci.runs import RunStore

    data = blobs(n_train=128, n_test=32)
    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: data)
    monkeypatch.setattr("lrsci.data.registry.load_data", lambda cfg, root=None: data)
    quick = ScheduleConfig("autodecay", factor=0.1, autodecay={"window": 2, "tolerance": 10.0, "zeta": 1e-9})
    short, long = tiny_config(epochs=4, schedule=quick), tiny_config(seed=1, epochs=4)
    ctx = ClaimContext(profile="t", store=RunStore(tmp_path / "runs"), report_root=tmp_path / "rep", n_seeds=1,
                       device="cpu", workers=1, executor="batched")
    ctx.run_all([Job(short, "short", snapshots=(2, 3)), Job(long, "long", snapshots=(2, 3))])
    assert ctx.store.load(short).stop_reason == "rule" and len(ctx.store.load(short).history) == 2
    assert sorted(p.name for p in ctx.store.dir(short).glob("snap-*")) == ["snap-2.pt"]
    assert sorted(p.name for p in ctx.store.dir(long).glob("snap-*")) == ["snap-2.pt", "snap-3.pt"]


def test_a_nesterov_run_in_a_batch_is_the_run_trained_alone_and_keeps_its_own_counts():
    data = blobs(n_train=256, n_test=64, dim=8)
    configs = [tiny_config(seed=s, epochs=2, **{"optim.lr": lr, "optim.nesterov": True})
               for s, lr in ((0, 0.05), (1, 0.02))]
    batched = BatchedTrainer(configs, data)
    batched.run()
    for i, c in enumerate(configs):
        single = alone(c, data)
        assert_same_run(batched, i, single)
        assert batched.results()[i].images == single.result().images   # each run counts its own images
        mine, theirs = batched.run_state(i)["optimizer"], single.optimizer.state_dict()
        assert mine["param_groups"][0]["lr"] == theirs["param_groups"][0]["lr"]   # its own rate in its snapshot


def test_a_run_its_autodecay_rule_stops_ends_as_it_would_alone_while_the_other_trains_on():
    data = blobs(n_train=256, n_test=64, dim=8)
    quick = ScheduleConfig("autodecay", factor=0.1, autodecay={"window": 2, "tolerance": 10.0, "zeta": 1e-9})
    stops, trains_on = tiny_config(seed=0, epochs=4, schedule=quick), tiny_config(seed=1, epochs=4)
    batched = BatchedTrainer([stops, trains_on], data)
    batched.run()
    assert batched.status == ["stopped", "finished"] and batched.results()[0].stop_reason == "rule"
    assert_same_run(batched, 0, alone(stops, data))
    assert_same_run(batched, 1, alone(trains_on, data))


def test_an_eager_batch_freezes_a_run_whose_batch_loss_rose_above_the_limit_between_two_checks():
    """The eager step, like the static one, judges divergence on the largest batch loss since the last check,
    not the batch loss at the check (the run at rate 0.2 exceeds 2 before step 50 and is back under it there)."""
    data = blobs(n_train=512, n_test=64)
    base = tiny_config(seed=1, epochs=2, diverge_loss=2.0, **{"optim.lr": 0.02, "optim.batch_size": 8,
                                                              "optim.momentum": 0.9})
    wild = base.with_(seed=2, **{"optim.lr": 0.2})
    eager = BatchedTrainer([base, wild], data)
    eager.run()
    assert eager.status == ["finished", "diverged"]
    assert eager.diverged_at_step[1] == alone(wild, data).diverged_at_step == 50


@pytest.mark.parametrize("change, field", [({"diverge_loss": 5.0}, "diverge_loss"), ({"optim.momentum": 0.5}, "optim.momentum"),
                                           ({"optim.nesterov": True}, "optim.nesterov"),
                                           ({"optim.weight_decay": 0.0}, "optim.weight_decay"),
                                           ({"eval_train": False}, "eval_train")])
def test_every_field_the_batch_reads_from_its_first_run_must_be_shared(change, field):
    base = tiny_config()
    with pytest.raises(ValueError, match=field):
        check_batchable([base, base.with_(**change)])


def test_per_epoch_measurements_are_refused():
    cfg = tiny_config(measures={"sharpness": {}})
    with pytest.raises(ValueError, match="measurements"):
        check_batchable([cfg, cfg])


def test_a_batch_of_forks_continues_the_step_count_of_its_parents():
    data = blobs(n_train=256, n_test=64, dim=8)
    parent = Trainer(tiny_config(epochs=3), data)
    parent.train_epoch()
    state = parent.state_dict()
    forks = [tiny_config(epochs=3, schedule=ScheduleConfig("step", milestones=(1,), factor=f)) for f in (0.1, 0.5)]
    batched = BatchedTrainer(forks, data, starts=[state, state])
    assert (batched.epoch, batched.step) == (state["epoch"], state["step"]) and state["step"] == 8
    batched.train_epoch()
    assert batched.run_state(0)["step"] == 16


def test_a_batch_checkpoint_from_before_per_run_seconds_still_loads():
    data = blobs(n_train=64, n_test=16, dim=8)
    configs = [tiny_config(seed=s, epochs=2) for s in (0, 1)]
    first = BatchedTrainer(configs, data)
    first.train_epoch()
    state = first.state_dict()
    del state["run_seconds"]   # what a checkpoint written before this field held
    again = BatchedTrainer(configs, data)
    again.load_state_dict(state)
    assert again.run_seconds == [first.train_seconds] * 2
    again.run()
    assert [r.stop_reason for r in again.results()] == ["budget", "budget"]


def test_runs_that_cannot_share_a_batch_say_why_and_train_one_by_one(tmp_path, capsys):
    from lrsci import executors
    from lrsci.harness import Job
    from lrsci.runs import RunStore

    jobs = [Job(tiny_config(seed=s, **{"optim.batch_size": None}), "gd") for s in (0, 1)]
    assert executors.train_batch(RunStore(tmp_path / "s", engine="batched"), jobs, progress=False) == []
    err = capsys.readouterr().err
    assert "2 runs cannot train batched (" in err and "full-batch GD" in err and "each trains on its own" in err

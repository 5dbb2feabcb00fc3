import copy
import math

import pytest
import torch
import torch.nn.functional as F

from lrsci.config import ScheduleConfig
import lrsci.train as train_mod
from lrsci.train import Trainer
from tests.helpers import blobs, tiny_config


def history(cfg, data=None):
    t = Trainer(cfg, data or blobs())
    t.run()
    return t


def test_same_seed_same_numbers_on_cpu():
    a, b = history(tiny_config()), history(tiny_config())
    assert a.history == b.history
    assert history(tiny_config(seed=1)).history != a.history


def test_records_every_epoch_with_subsets():
    t = history(tiny_config())
    assert t.status == "finished" and len(t.history) == 4
    rec = t.history[-1]
    for key in ("train_loss", "train_acc", "test_acc", "test_eval_loss", "train_acc@odd", "test_acc@odd", "lr"):
        assert key in rec and math.isfinite(rec[key])
    assert rec["test_acc"] > 70  # the blobs are easy: it really learns


def test_step_schedule_sets_lr_per_epoch():
    t = history(tiny_config(schedule=ScheduleConfig("step", milestones=(2,), factor=0.1)))
    assert [r["lr"] for r in t.history] == pytest.approx([0.05, 0.05, 0.005, 0.005])


def test_full_batch_gd_step_is_the_exact_gradient_of_the_chunked_objective():
    cfg = tiny_config(epochs=1, **{"optim.batch_size": None, "optim.gd_chunk": 64, "optim.momentum": 0.0,
                                   "optim.weight_decay": 0.0})
    data = blobs()
    t = Trainer(cfg, data)
    manual = copy.deepcopy(t.model).train()
    t.run()
    # By hand: sum over chunks of (chunk loss sum / N), one plain gradient step.
    n = data.x_train.shape[0]
    loss = sum(F.cross_entropy(manual(data.x_train[i:i + 64]), data.y_train[i:i + 64], reduction="sum") / n
               for i in range(0, n, 64))
    loss.backward()
    with torch.no_grad():
        for p in manual.parameters():
            p -= cfg.optim.lr * p.grad
    assert t.step == 1
    assert t.history[0]["train_loss"] == pytest.approx(float(loss.detach()), rel=1e-6)
    for p, q in zip(t.model.parameters(), manual.parameters()):
        torch.testing.assert_close(p, q)


def test_divergence_is_an_outcome_not_a_crash():
    t = history(tiny_config(**{"optim.lr": 1e6, "optim.momentum": 0.9}, diverge_loss=50.0))
    assert t.status == "diverged" and t.diverged_at_step is not None
    assert t.result().status == "diverged"


def test_checkpoint_resume_gives_identical_numbers():
    cfg = tiny_config(**{"model.dropout": 0.3})  # dropout draws from the RNG: the state must travel
    straight = history(cfg)
    first = Trainer(cfg, blobs())
    first.run(until_epoch=2)
    state = first.state_dict()
    resumed = Trainer(cfg, blobs())
    torch.manual_seed(12345)  # disturb the global RNG: the checkpoint must restore it
    resumed.load_state_dict(state)
    resumed.run()
    assert resumed.history == straight.history


def test_a_checkpoint_from_another_update_kernel_keeps_this_runs_own():
    """A checkpoint saved by a fused (CUDA) or foreach optimizer does not switch this run's update path:
    torch's load_state_dict would take those flags from the saved groups."""
    cfg = tiny_config()
    straight = history(cfg)
    first = Trainer(cfg, blobs())
    first.run(until_epoch=2)
    state = copy.deepcopy(first.state_dict())
    for group in state["optimizer"]["param_groups"]:
        group.update(fused=True, foreach=True)   # as saved by another kernel
    resumed = Trainer(cfg, blobs())
    resumed.load_state_dict(state)
    assert [(g["fused"], g["foreach"]) for g in resumed.optimizer.param_groups] == [(None, None)]
    resumed.run()
    assert resumed.history == straight.history


def test_activation_noise_changes_training_only():
    noisy = history(tiny_config(**{"model.act_noise_std": 0.5}))
    clean = history(tiny_config())
    assert noisy.history != clean.history


def test_autodecay_run_reports_budget_when_it_trained_every_epoch_and_rule_when_the_rule_ended_it():
    """v1's gpu report called runs that trained all 18 of 18 epochs "stopped by the rule": the rule's own
    budget stop (max_steps = the run's epochs) was passed on as a rule stop."""
    from lrsci.config import ScheduleConfig
    from lrsci.train import Trainer
    from tests.helpers import blobs, tiny_config

    data = blobs()
    never_stable = ScheduleConfig("autodecay", factor=0.1, autodecay={"window": 50, "tolerance": 0.1})
    run = Trainer(tiny_config(epochs=5, schedule=never_stable), data)
    run.run()
    assert (run.result().epochs_trained, run.result().stop_reason) == (5, "budget")
    quick = ScheduleConfig("autodecay", factor=0.1, autodecay={"window": 2, "tolerance": 10.0, "zeta": 1e-9})
    run = Trainer(tiny_config(epochs=8, schedule=quick), data)
    run.run()   # stable at once, no significant drop: the rule stops after W observations
    assert (run.result().epochs_trained, run.result().stop_reason) == (2, "rule")


def test_train_evaluation_cut_to_named_subsets_gives_their_accuracies_exactly_and_nothing_split_wide():
    import pytest

    from lrsci.config import ConfigError, RunConfig
    from lrsci.train import Trainer
    from tests.helpers import blobs, tiny_config

    data = blobs()
    full, cut = (Trainer(tiny_config(epochs=2, eval_train=e), data) for e in (True, ("odd",)))
    full.run(), cut.run()
    for a, b in zip(full.history, cut.history):
        assert b["train_acc@odd"] == a["train_acc@odd"] and b["test_acc"] == a["test_acc"]
        assert "train_acc" not in b and "train_eval_loss" not in b and b["train_loss"] == a["train_loss"]
    cfg = tiny_config(eval_train=("odd",))
    assert RunConfig.from_dict(cfg.to_dict()) == cfg   # a list from JSON becomes the tuple again
    assert tiny_config(eval_train=True).key() == tiny_config().key()
    for bad in ((), ("",), (3,), "odd"):
        with pytest.raises(ConfigError, match="eval_train"):
            tiny_config(eval_train=bad)
    with pytest.raises(ValueError, match=r"\['noise'\]"):
        Trainer(tiny_config(eval_train=("noise",)), data).train_epoch()


def test_a_batch_loss_above_the_limit_between_checks_ends_the_run():
    """The divergence test is read every CHECK_EVERY steps, but it sees every batch: a loss spike at a step
    between two reads (here, early in the epoch, the run then recovering) still ends the run at the next read.
    Before, only the batch at the read was tested, and such a run ended "finished"."""
    from lrsci.train import CHECK_EVERY

    cfg = tiny_config(seed=2, epochs=2, diverge_loss=2.0, **{"optim.lr": 0.5, "optim.batch_size": 8,
                                                             "optim.momentum": 0.9})
    data = blobs(n_train=512, n_test=64)   # 64 steps an epoch: the first read at step 50
    for step_graph in (False, True):
        t = Trainer(cfg, data, step_graph=step_graph)
        t.run()
        assert t.status == "diverged" and t.diverged_at_step == CHECK_EVERY and t.history == []


def test_only_decays_that_took_effect_are_reported():
    """A plateau decision after the last epoch, or a milestone after a divergence, never lowered a trained
    epoch's rate: the run's decay_epochs leave them out (the schedule itself still records them)."""
    data = blobs()
    plateau = tiny_config(epochs=4, schedule=ScheduleConfig("plateau", factor=0.5,
                                                            plateau={"patience": 0, "threshold": 0.99}))
    t = Trainer(plateau, data)
    t.run()
    assert t.schedule.decay_epochs == [2, 3, 4] and t.result().decay_epochs == [2, 3]
    step = tiny_config(epochs=4, schedule=ScheduleConfig("step", milestones=(1, 3)))
    t = Trainer(step, data)
    t.run(until_epoch=2)
    assert t.result().decay_epochs == [1]


def test_autodecay_takes_its_budget_from_the_run_not_from_its_options():
    from lrsci.config import ConfigError

    with pytest.raises(ConfigError, match="schedule.autodecay"):
        ScheduleConfig("autodecay", autodecay={"max_steps": 5})


def test_full_batch_gd_resumed_between_steps_gives_the_straight_numbers():
    """Each GD step is the gradient of that step alone: resumed from a checkpoint (no gradients carried)
    it must give what the straight run gives — it would not if a step's gradients leaked into the next."""
    cfg = tiny_config(epochs=4, **{"optim.batch_size": None, "optim.gd_chunk": 100})   # 256 rows: 100, 100, 56
    straight = history(cfg)
    first = Trainer(cfg, blobs())
    first.run(until_epoch=2)
    resumed = Trainer(cfg, blobs())
    resumed.load_state_dict(first.state_dict())
    resumed.run()
    assert resumed.history == straight.history and straight.step == 4


def test_activation_noise_is_annealed_at_the_epoch_the_lr_decays(monkeypatch):
    """A noise milestone m scales the noise from the epoch a step-LR milestone m lowers the rate
    (Li et al. anneal the noise with the rate), not one epoch later."""
    stds = []
    real = train_mod.set_activation_noise
    monkeypatch.setattr(train_mod, "set_activation_noise", lambda model, std: stds.append(std) or real(model, std))
    cfg = tiny_config(epochs=4, schedule=ScheduleConfig("step", milestones=(2,), factor=0.1, noise_milestones=(2,),
                                                        noise_factor=0.01), **{"model.act_noise_std": 0.5})
    t = history(cfg)
    assert [r["lr"] for r in t.history] == pytest.approx([0.05, 0.05, 0.005, 0.005])
    assert stds == pytest.approx([0.5, 0.5, 0.005, 0.005])

# ---- pinned by a mutation audit of the engine, the store and the claim layer (2026-11-27)

def test_multi_epoch_gd_with_a_ragged_last_chunk_takes_the_exact_full_batch_gradient_each_epoch():
    """Every GD epoch is one step on the exact mean-loss gradient: the gradient does not carry over from the
    epoch before (zero_grad), and a last chunk smaller than gd_chunk weighs its own size / N, not chunk / N."""
    cfg = tiny_config(epochs=3, **{"optim.batch_size": None, "optim.gd_chunk": 64, "optim.momentum": 0.0,
                                   "optim.weight_decay": 0.0, "optim.lr": 0.5})
    data = blobs(n_train=200)     # chunks of 64, 64, 64 and 8
    t = Trainer(cfg, data)
    start = {k: v.clone() for k, v in t.model.state_dict().items()}
    t.run()
    manual = Trainer(cfg, data).model
    manual.load_state_dict(start)
    manual.train()
    n, losses = data.x_train.shape[0], []
    for _ in range(3):
        manual.zero_grad(set_to_none=True)
        loss = sum(F.cross_entropy(manual(data.x_train[i:i + 64]), data.y_train[i:i + 64], reduction="sum") / n
                   for i in range(0, n, 64))
        loss.backward()
        losses.append(float(loss.detach()))
        with torch.no_grad():
            for p in manual.parameters():
                p -= cfg.optim.lr * p.grad
    assert t.step == 3
    assert [r["train_loss"] for r in t.history] == pytest.approx(losses, rel=1e-5)
    for p, q in zip(t.model.parameters(), manual.parameters()):
        torch.testing.assert_close(p, q)


def test_gd_divergence_records_the_steps_taken_before_the_diverged_loss():
    """GD tests the full-batch loss before its step: diverged_at_step = steps taken = epochs completed."""
    cfg = tiny_config(epochs=30, diverge_loss=5.0, **{"optim.batch_size": None, "optim.gd_chunk": 256,
                                                       "optim.lr": 200.0, "optim.momentum": 0.9})
    t = Trainer(cfg, blobs())
    t.run()
    assert t.status == "diverged" and len(t.history) >= 1
    assert t.diverged_at_step == t.step == len(t.history)


def test_evaluation_is_the_eval_mode_mean_loss_and_accuracy_and_a_cut_train_split_is_the_union_of_its_subsets():
    data = blobs()
    low = torch.arange(data.x_train.shape[0]) < 100
    data.train_subsets["low"] = low
    data.test_subsets["low"] = torch.arange(data.x_test.shape[0]) < 50
    t = Trainer(tiny_config(epochs=2), data)
    t.run()
    rec = t.history[-1]
    t.model.eval()
    with torch.no_grad():
        for split, x, y, subsets in (("train", data.x_train, data.y_train, data.train_subsets),
                                     ("test", data.x_test, data.y_test, data.test_subsets)):
            out = t.model(x)
            assert rec[f"{split}_eval_loss"] == pytest.approx(float(F.cross_entropy(out, y)), rel=1e-6)
            correct = out.argmax(1) == y
            assert rec[f"{split}_acc"] == pytest.approx(100.0 * float(correct.float().mean()))
            for name, mask in subsets.items():
                assert rec[f"{split}_acc@{name}"] == pytest.approx(100.0 * float(correct[mask].float().mean()))
    # eval_train cut to two overlapping subsets: the rows are their union, each accuracy that of its own rows
    cut = Trainer(tiny_config(epochs=2, eval_train=("odd", "low")), data)
    cut.run()
    for a, b in zip(t.history, cut.history):
        assert (b["train_acc@odd"], b["train_acc@low"]) == (a["train_acc@odd"], a["train_acc@low"])


def test_full_batch_gd_draws_each_epochs_inputs_for_that_epoch():
    """A dataset that redraws its inputs every epoch (the patch data) is asked for epoch e in GD's epoch e."""
    data = blobs()
    asked = []
    data.epoch_inputs = lambda seed, epoch: (asked.append((seed, epoch)), data.x_train)[1]
    cfg = tiny_config(epochs=3, seed=4, **{"optim.batch_size": None, "optim.gd_chunk": 128})
    Trainer(cfg, data).run()
    assert asked == [(4, 0), (4, 1), (4, 2)]


def test_a_spike_between_reads_in_an_epoch_with_a_partial_last_batch_ends_the_run_on_both_step_paths():
    """41 steps of 8 and one of 3: no read at step 50 this epoch, only the epoch-end read after the partial
    batch. That read must test the worst batch of the epoch, not the partial batch alone (graphed path too)."""
    cfg = tiny_config(seed=0, epochs=1, diverge_loss=2.0, **{"optim.lr": 0.5, "optim.batch_size": 8,
                                                             "optim.momentum": 0.9})
    data = blobs(n_train=323, n_test=64)
    for step_graph in (False, True):
        t = Trainer(cfg, data, step_graph=step_graph)
        t.run()
        assert (t.status, t.diverged_at_step, t.history) == ("diverged", 41, [])


def test_images_are_counted_per_epoch_and_survive_a_checkpoint():
    cfg = tiny_config(epochs=4)
    first = Trainer(cfg, blobs())
    first.run(until_epoch=2)
    assert first.images == 2 * 256
    resumed = Trainer(cfg, blobs())
    resumed.load_state_dict(first.state_dict())
    resumed.run()
    assert resumed.result().images == 4 * 256


@pytest.mark.parametrize("batch_size", [None, 256])          # full-batch GD, and SGD with one batch per epoch
def test_a_run_blown_up_by_its_last_update_diverged_at_that_step(batch_size):
    # Every training loss is taken before its update, so nothing but the evaluation sees the last one.
    cfg = tiny_config(epochs=1, **{"optim.lr": 1e38, "optim.momentum": 0.0, "optim.batch_size": batch_size})
    t = Trainer(cfg, blobs())
    t.run()
    assert (t.status, t.diverged_at_step, t.history) == ("diverged", 1, [])
    assert t.result().stop_reason == "diverged"
    two = Trainer(cfg.with_(epochs=2), blobs())             # mid-run: no record of the blown-up epoch is kept
    two.run()
    assert (two.status, two.diverged_at_step, two.history) == ("diverged", 1, [])


@pytest.mark.parametrize("first", [0, -1, 1.0])
def test_a_curve_from_epoch_zero_or_below_is_refused_not_a_slice_from_the_end(first):
    t = Trainer(tiny_config(epochs=3), blobs())
    t.run()
    with pytest.raises(ValueError, match="must be an epoch number >= 1"):
        t.result().curve("test_acc", first)

"""ReduceOnPlateauSchedule: PyTorch's ReduceLROnPlateau behind lrsci's schedule interface."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from lrsci.config import ConfigError, RunConfig, ScheduleConfig
from lrsci.schedules import ReduceOnPlateauSchedule, build_schedule
from lrsci.train import Trainer
from tests.helpers import blobs, tiny_config


def drive(schedule, losses, start=0):
    """Feed one loss per epoch; return the LR each epoch was trained at."""
    lrs = []
    for e, loss in enumerate(losses, start):
        lrs.append(schedule.lr_at(e))
        assert schedule.observe(e, loss) is False      # never stops a run
    return lrs


def test_decays_after_patience_epochs_without_improvement():
    s = ReduceOnPlateauSchedule(0.1, factor=0.1, patience=2, threshold=0.01)
    # epoch 0 sets the best, epoch 1 improves it, epochs 2, 3, 4 do not (3 bad epochs > patience 2)
    lrs = drive(s, [1.0, 0.5, 0.5, 0.499, 0.5, 0.5, 0.5, 0.5, 0.5])
    assert lrs[:5] == pytest.approx([0.1] * 5)
    assert lrs[5:8] == pytest.approx([0.01] * 3)
    # epoch index 5 is the first at the lower rate; the count restarts, 3 more bad epochs → again
    assert s.decay_epochs == [5, 8] and lrs[8] == pytest.approx(0.001)


def test_an_improvement_above_threshold_resets_the_count():
    s = ReduceOnPlateauSchedule(1.0, factor=0.5, patience=1, threshold=0.1)
    # 0.95 is within 10 % of the best (bad), 0.8 beats it by more than 10 % (reset), then 2 bad
    lrs = drive(s, [1.0, 0.95, 0.8, 0.79, 0.78, 0.77])
    assert lrs == pytest.approx([1.0] * 5 + [0.5])
    assert s.decay_epochs == [5]


def test_decisions_are_pytorchs_own():
    """Same LRs as a real optimizer driven by torch's ReduceLROnPlateau on the same losses."""
    rng = np.random.default_rng(0)
    losses = list(np.maximum(0.05, 2.0 * 0.9 ** np.arange(60)) * (1 + 0.05 * rng.standard_normal(60)))
    kwargs = dict(patience=3, threshold=0.02, cooldown=1, min_lr=1e-4)
    s = ReduceOnPlateauSchedule(0.1, factor=0.1, **kwargs)
    opt = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.1, **kwargs)
    expected = []
    for loss in losses:
        expected.append(opt.param_groups[0]["lr"])
        ref.step(loss)
    assert drive(s, losses) == expected
    assert len(s.decay_epochs) >= 2


@pytest.mark.parametrize("cut", [0, 3, 7, 12])
def test_state_dict_round_trip(cut):
    losses = [1.0, 0.6, 0.55, 0.56, 0.55, 0.55, 0.4, 0.39, 0.39, 0.39, 0.39, 0.39, 0.39, 0.39]
    kwargs = dict(patience=2, threshold=0.05)
    whole = ReduceOnPlateauSchedule(0.1, **kwargs)
    full = drive(whole, losses)

    first = ReduceOnPlateauSchedule(0.1, **kwargs)
    head = drive(first, losses[:cut])
    buf = io.BytesIO()                     # through torch.save, as the run store's checkpoints do
    torch.save(first.state_dict(), buf)
    buf.seek(0)
    resumed = ReduceOnPlateauSchedule(0.1, **kwargs)
    resumed.load_state_dict(torch.load(buf, weights_only=False))
    assert resumed.decay_epochs == first.decay_epochs
    assert head + drive(resumed, losses[cut:], start=cut) == full
    assert resumed.decay_epochs == whole.decay_epochs == [6, 10, 13]
    assert resumed.scheduler.num_bad_epochs == whole.scheduler.num_bad_epochs
    assert resumed.scheduler.best == whole.scheduler.best


def test_build_schedule_and_config():
    cfg = ScheduleConfig("plateau", factor=0.1, plateau={"patience": 1, "threshold": 0.01})
    s = build_schedule(cfg, 0.1, 10)
    assert isinstance(s, ReduceOnPlateauSchedule)
    assert s.scheduler.patience == 1 and s.scheduler.threshold == 0.01 and s.scheduler.factor == 0.1
    run = RunConfig(schedule=cfg)
    again = RunConfig.from_dict(run.to_dict())
    assert again == run and again.key() == run.key()
    assert run.key() != run.with_(**{"schedule.plateau": {"patience": 2, "threshold": 0.01}}).key()
    with pytest.raises(ConfigError, match="schedule.factor"):
        ScheduleConfig("plateau", factor=1.0)


def test_unused_plateau_field_leaves_other_configs_keys_alone():
    d = RunConfig(schedule=ScheduleConfig("step", milestones=(2,))).to_dict()
    assert "plateau" not in d["schedule"]
    assert RunConfig.from_dict(d).to_dict() == d


def test_trainer_uses_it_and_resumes_exactly():
    cfg = tiny_config(epochs=8, schedule=ScheduleConfig("plateau", factor=0.1,
                                                         plateau={"patience": 0, "threshold": 0.2}))
    data = blobs()
    whole = Trainer(cfg, data)
    whole.run()
    assert whole.status == "finished" and whole.schedule.decay_epochs
    lrs = [r["lr"] for r in whole.history]
    assert lrs[0] == 0.05 and min(lrs) < 0.05
    part = Trainer(cfg, data)
    part.run(until_epoch=3)
    resumed = Trainer(cfg, data)
    resumed.load_state_dict(part.state_dict())
    resumed.run()
    assert resumed.history == whole.history
    assert resumed.result().decay_epochs == whole.result().decay_epochs

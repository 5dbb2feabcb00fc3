import json

import pytest

from lrsci import runs as runs_mod
from lrsci.config import ScheduleConfig
from lrsci.runs import RunStore, check_fork
from lrsci.train import Trainer
from tests.helpers import blobs, tiny_config


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(runs_mod, "load_data", lambda cfg, root=None: blobs())
    return RunStore(tmp_path / "runs")


def test_a_finished_run_is_never_trained_twice(store):
    cfg = tiny_config()
    first = store.run(cfg)
    again = store.run(cfg)
    assert store.trained == [cfg.key()]
    assert again.history == first.history
    assert json.loads((store.dir(cfg) / "config.json").read_text()) == cfg.to_dict()


def test_interrupted_run_resumes_and_ends_with_the_same_numbers(store):
    cfg = tiny_config(**{"model.dropout": 0.2})

    class Interrupt(Exception):
        pass

    def die_at_epoch_2(trainer, record):
        if trainer.epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        store.run(cfg, on_epoch=die_at_epoch_2)
    assert (store.dir(cfg) / "checkpoint.pt").exists()  # epoch 1 was checkpointed before the interrupt
    resumed = store.run(cfg)
    straight = Trainer(cfg, blobs())
    straight.run()
    assert resumed.history == straight.history
    assert not (store.dir(cfg) / "checkpoint.pt").exists()


def test_fork_equals_training_from_scratch(store):
    trunk = tiny_config(epochs=6)
    arm = trunk.with_(schedule=ScheduleConfig("step", milestones=(3,)))
    store.run(trunk, snapshots=(3,))
    forked = store.run(arm, fork=(trunk, 3))
    assert forked.forked_from == {"key": trunk.key(), "epoch": 3}
    scratch = Trainer(arm, blobs())
    scratch.run()
    assert forked.history == scratch.history
    # The shared prefix really is shared: identical first 3 epochs, different after.
    trunk_hist = store.load(trunk).history
    assert forked.history[:3] == trunk_hist[:3] and forked.history[3:] != trunk_hist[3:]


def test_fork_refuses_configs_that_do_not_share_the_prefix():
    trunk = tiny_config(epochs=6)
    with pytest.raises(ValueError, match="cannot fork"):
        check_fork(trunk.with_(**{"optim.lr": 0.2}), trunk, 3)
    with pytest.raises(ValueError, match="cannot fork"):
        check_fork(trunk.with_(schedule=ScheduleConfig("step", milestones=(2,))), trunk, 3)
    check_fork(trunk.with_(schedule=ScheduleConfig("step", milestones=(3,))), trunk, 3)


def test_missing_snapshot_falls_back_to_scratch(store):
    trunk = tiny_config(epochs=6)
    arm = trunk.with_(schedule=ScheduleConfig("step", milestones=(3,)))
    result = store.run(arm, fork=(trunk, 3))
    assert result.forked_from is None and result.epochs_trained == 6


def test_a_run_that_diverges_after_a_snapshot_epoch_keeps_that_snapshot(store, monkeypatch):
    """A run that "diverges" in epoch 3 (the check made to say so) must leave snap-2 as the state after epoch 2:
    it was once overwritten with the diverged state, so a fork at 2 would have begun from it."""
    cfg = tiny_config(epochs=4)
    monkeypatch.setattr(Trainer, "_diverged", lambda self, loss: self.epoch == 2)   # epochs count from 0
    result = store.run(cfg, snapshots=(2,))
    assert result.stop_reason == "diverged" and result.epochs_trained == 2
    snap = runs_mod.torch.load(store.dir(cfg) / "snap-2.pt", weights_only=False)
    two = Trainer(cfg, blobs())
    two.run(until_epoch=2)
    assert snap["epoch"] == 2 and snap["history"] == two.history
    for name, t in two.model.state_dict().items():
        assert runs_mod.torch.equal(snap["model"][name], t), name

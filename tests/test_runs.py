import json

import pytest

from lrsci import runs as runs_mod
from lrsci.config import ScheduleConfig
from lrsci.runs import RunStore, check_fork, check_snapshot
from lrsci.train import Trainer
from lrsci.state_files import read_state
from tests.helpers import Interrupt, blobs, data_that_changes, interrupt_at, tiny_config, trained


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


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_interrupted_run_resumes_and_ends_with_the_same_numbers(store):
    cfg = tiny_config(**{"model.dropout": 0.2})

    with pytest.raises(Interrupt):
        store.run(cfg, on_epoch=interrupt_at(2))
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


@pytest.mark.parametrize("epoch", [0, 5])
def test_a_snapshot_epoch_outside_the_runs_epochs_is_refused_before_it_trains(store, epoch):
    with pytest.raises(ValueError, match=rf"snapshot epoch {epoch} is outside 1\.\.4"):
        store.run(tiny_config(), snapshots=(2, epoch))
    assert not store.root.exists()


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
    snap = read_state(store.dir(cfg) / "snap-2.pt")
    two = Trainer(cfg, blobs())
    two.run(until_epoch=2)
    assert snap["epoch"] == 2 and snap["history"] == two.history
    for name, t in two.model.state_dict().items():
        assert runs_mod.torch.equal(snap["model"][name], t), name




def test_a_kill_between_snapshot_and_checkpoint_loses_no_snapshot(store, monkeypatch):
    """Killed while writing snap-2: the resume must train epoch 2 again and write it, not go on past it."""
    cfg = tiny_config(epochs=4)
    real_write = runs_mod.write_state

    def killed_at_snap_2(path, state, **kw):
        if path.name == "snap-2.pt":
            raise Interrupt
        real_write(path, state, **kw)
    monkeypatch.setattr(runs_mod, "write_state", killed_at_snap_2)
    with pytest.raises(Interrupt):
        store.run(cfg, snapshots=(2,))
    monkeypatch.setattr(runs_mod, "write_state", real_write)
    result = store.run(cfg, snapshots=(2,))
    assert result.history == trained(cfg).history
    snap = read_state(store.dir(cfg) / "snap-2.pt")
    assert snap["epoch"] == 2 and snap["history"] == result.history[:2]


def test_a_run_that_cannot_progress_raises_instead_of_looping(store, monkeypatch):
    """A checkpoint past the run's budget yet "running" (as a fork beyond the child's epochs once left)."""
    cfg = tiny_config(epochs=4)
    done = trained(cfg)
    store.dir(cfg).mkdir(parents=True)
    runs_mod.torch.save({**done.state_dict(), "status": "running"}, store.dir(cfg) / "checkpoint.pt")
    writes = []

    def counting(run_dir, state):  # fail, rather than hang, should the loop come back
        writes.append(state["epoch"])
        assert len(writes) < 20, "RunStore._train loops without progress"
    monkeypatch.setattr(runs_mod, "_save_checkpoint", counting)
    with pytest.raises(RuntimeError, match=f"run {cfg.key()} .*trained nothing at epoch 4"):
        store.run(cfg)
    assert writes == []


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_a_checkpoint_of_other_data_bytes_is_set_aside_and_the_run_restarts(tmp_path, monkeypatch):
    data = data_that_changes(monkeypatch)
    store, cfg = RunStore(tmp_path / "runs"), tiny_config(epochs=4)
    with pytest.raises(Interrupt):
        store.run(cfg, on_epoch=interrupt_at(3))
    data.update(seed=1, hash="bbbb")  # the dataset's bytes change before the resume
    with pytest.warns(UserWarning, match=r"checkpoint(\.prev)?\.pt: saved from other data bytes \(content hash aaaa\)"):
        result = store.run(cfg)
    assert result.history == trained(cfg, blobs(seed=1)).history   # not epochs 1-2 of one, 3-4 of the other
    assert result.extra["trained"]["data_sha256"] == "bbbb"
    assert len(list(store.dir(cfg).glob("checkpoint*.corrupt-*"))) == 2  # both kept, neither used


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_a_checkpoint_from_before_data_identities_still_resumes(tmp_path, monkeypatch):
    data_that_changes(monkeypatch)
    store, cfg = RunStore(tmp_path / "runs"), tiny_config(epochs=4)
    with pytest.raises(Interrupt):
        store.run(cfg, on_epoch=interrupt_at(3))
    for name in ("checkpoint.pt", "checkpoint.prev.pt"):
        path = store.dir(cfg) / name
        state = read_state(path)   # saved again in the plain format of that time
        assert state.pop("data_sha256") == "aaaa"
        runs_mod.torch.save(state, path)
    resumed = []
    result = store.run(cfg, on_epoch=lambda trainer, record: resumed.append(trainer.epoch))
    assert resumed == [3, 4] and result.history == trained(cfg).history
    assert not list(store.dir(cfg).glob("*.corrupt-*"))


def test_an_interrupted_autodecay_run_resumes_with_its_rules_state(store):
    """AutoDecay's rate depends on what its rule has seen: a resume must restore the rule (its EDMA, window
    and decays), or the resumed run restarts at the initial rate."""
    rule = {"beta": 0.5, "window": 2, "tolerance": 10.0, "zeta": 0.99}   # decays at almost any drop in loss
    cfg = tiny_config(epochs=6, schedule=ScheduleConfig("autodecay", autodecay=rule))
    straight = trained(cfg)
    assert straight.schedule.decay_epochs and straight.schedule.decay_epochs[0] <= 3   # a decay before the kill
    with pytest.raises(Interrupt):
        store.run(cfg, on_epoch=interrupt_at(4))
    resumed = store.run(cfg)
    assert resumed.history == straight.history and resumed.decay_epochs == straight.result().decay_epochs

# ---- pinned by a mutation audit of the engine, the store and the claim layer (2026-11-27)

@pytest.mark.parametrize("change", [{"seed": 1}, {"optim.momentum": 0.5}, {"optim.weight_decay": 0.0},
                                    {"optim.batch_size": 64}, {"model.hidden": 8}, {"model.dropout": 0.1},
                                    {"diverge_loss": 10.0}, {"eval_train": False}])
def test_a_fork_that_differs_from_its_parent_outside_the_schedule_is_refused(change):
    """Only the schedule after the fork point and the epochs may differ: a child of another seed, optimizer
    or model would otherwise start from a snapshot it never trained and be stored as its own run."""
    trunk = tiny_config(epochs=6)
    child = trunk.with_(schedule=ScheduleConfig("step", milestones=(3,)), **change)
    with pytest.raises(ValueError, match="cannot fork at epoch 3"):
        check_fork(child, trunk, 3)
    check_fork(trunk.with_(schedule=ScheduleConfig("step", milestones=(3,))), trunk, 3)   # the valid fork


def test_a_resumed_stateful_schedule_keeps_its_state(store):
    """A plateau run killed after epoch 2 resumes with its scheduler's state (its decays and the lowered rate),
    so it ends with the numbers of the uninterrupted run."""
    cfg = tiny_config(epochs=5, schedule=ScheduleConfig("plateau", factor=0.5,
                                                        plateau={"patience": 0, "threshold": 0.99}))
    with pytest.raises(Interrupt):
        store.run(cfg, on_epoch=interrupt_at(3))
    resumed = store.run(cfg)
    with runs_mod.cpu_threads(1):   # the store trains on one thread: the same reductions
        straight = trained(cfg)
    assert [r["lr"] for r in resumed.history] == [r["lr"] for r in straight.history]
    assert resumed.history == straight.history and resumed.decay_epochs == straight.result().decay_epochs


def test_a_snapshot_holding_another_epoch_is_not_forked(tmp_path):
    with pytest.raises(ValueError, match="holds epoch 4"):
        check_snapshot({"epoch": 4, "status": "running"}, tmp_path / "snap-3.pt", 3)
    check_snapshot({"epoch": 3, "status": "finished"}, tmp_path / "snap-3.pt", 3)


def test_auto_is_keyed_as_the_device_it_resolves_to_here(store, monkeypatch):
    """A CPU and a GPU train different numbers: an "auto" run from one must never answer for the other from a
    shared store, and on a CPU "auto" is the "cpu" run itself, not a second copy of it."""
    cpu, auto = tiny_config(device="cpu"), tiny_config(device="auto")
    store.run(cpu)
    assert store.dir(auto) == store.dir(cpu) and store.load(auto) is not None
    assert store.trained == [cpu.key()]   # nothing trained a second time
    monkeypatch.setattr(runs_mod.torch.cuda, "is_available", lambda: True)   # the same store seen from a GPU machine
    assert store.dir(auto) == store.dir(tiny_config(device="cuda")) != store.dir(cpu)
    assert store.load(auto) is None

"""Forks in the run store: a fork is taken only where it gives exactly the numbers of training the
child from scratch, and its record (fork.json, forked_from) says so only when it was taken."""
import json

import pytest

from lrsci import runs as runs_mod
from lrsci.config import ScheduleConfig
from lrsci.runs import RunStore, check_fork
from lrsci.state_files import read_state, write_state
from tests.helpers import Interrupt, blobs, data_that_changes, interrupt_at, tiny_config
from tests.helpers import trained as scratch


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(runs_mod, "load_data", lambda cfg, root=None: blobs())
    return RunStore(tmp_path / "runs")


def test_fork_compares_the_activation_noise_before_the_fork_point(store):
    trunk = tiny_config(epochs=6, **{"model.act_noise_std": 0.5})
    arm = trunk.with_(schedule=ScheduleConfig("step", milestones=(3,), noise_milestones=(1,)))
    with pytest.raises(ValueError, match="cannot fork at epoch 3"):
        check_fork(arm, trunk, 3)   # the arm anneals the noise after epoch 1, the trunk never
    store.run(trunk, snapshots=(3,))
    with pytest.raises(ValueError, match="cannot fork"):
        store.run(arm, fork=(trunk, 3))
    assert not store.dir(arm).exists()
    # Annealed after the fork point, the noise may differ: the fork still equals training from scratch.
    late = trunk.with_(schedule=ScheduleConfig("step", milestones=(3,), noise_milestones=(4,)))
    forked = store.run(late, fork=(trunk, 3))
    assert forked.forked_from == {"key": trunk.key(), "epoch": 3}
    assert forked.history == scratch(late).history


@pytest.mark.parametrize("schedule", [ScheduleConfig("plateau", plateau={"patience": 0}), ScheduleConfig("autodecay")])
def test_a_parent_with_a_stateful_schedule_is_refused(schedule):
    trunk = tiny_config(epochs=6, schedule=schedule)
    arm = trunk.with_(schedule=ScheduleConfig("step", milestones=(4,)))
    with pytest.raises(ValueError, match=f"cannot fork at epoch 4: the parent's schedule is '{schedule.kind}'"):
        check_fork(arm, trunk, 4)


def test_the_fork_epoch_must_lie_inside_both_runs(store):
    trunk = tiny_config(epochs=6)
    for child, parent, epoch in [(trunk.with_(epochs=3), trunk, 4),   # the child would never train an epoch
                                 (trunk.with_(epochs=3), trunk, 3),
                                 (trunk, trunk.with_(epochs=3), 4),   # the parent never reached the fork point
                                 (trunk, trunk, 0)]:
        with pytest.raises(ValueError, match=f"cannot fork at epoch {epoch}"):
            check_fork(child, parent, epoch)
    store.run(trunk, snapshots=(4,))
    with pytest.raises(ValueError, match="below the child's 3 epochs"):  # it once looped forever
        store.run(trunk.with_(epochs=3), fork=(trunk, 4))


def test_a_fork_from_a_parent_that_finished_at_the_fork_point_trains_its_own_epochs(store):
    trunk = tiny_config(epochs=3)
    arm = trunk.with_(epochs=6, schedule=ScheduleConfig("step", milestones=(3,)))
    store.run(trunk, snapshots=(3,))
    forked = store.run(arm, fork=(trunk, 3))
    assert forked.forked_from == {"key": trunk.key(), "epoch": 3}
    assert forked.status == "finished" and forked.epochs_trained == 6 and forked.diverged_at_step is None
    assert forked.history == scratch(arm).history


def test_a_snapshot_of_a_diverged_parent_is_not_forked(store):
    """Snapshots written before 7c9de9a could hold a diverged state; a child cannot go on from one."""
    trunk = tiny_config(epochs=6)
    arm = trunk.with_(schedule=ScheduleConfig("step", milestones=(3,)))
    store.run(trunk, snapshots=(3,))
    snap = store.dir(trunk) / "snap-3.pt"
    state = read_state(snap)
    write_state(snap, {**state, "status": "diverged", "diverged_at_step": state["step"]})
    with pytest.raises(ValueError, match=r"cannot fork at epoch 3: .*snap-3\.pt.*status 'diverged'"):
        store.run(arm, fork=(trunk, 3))
    assert not store.dir(arm).exists() and snap.exists()


def interrupted_fork(store, at: int):
    """A trunk with a snapshot at 3, and its decay arm forked there and killed after epoch ``at``."""
    trunk = tiny_config(epochs=6)
    arm = trunk.with_(schedule=ScheduleConfig("step", milestones=(3,)))
    store.run(trunk, snapshots=(3,))
    with pytest.raises(Interrupt):
        store.run(arm, fork=(trunk, 3), on_epoch=interrupt_at(at))
    return trunk, arm


def test_a_fork_retrained_from_scratch_loses_its_fork_record(store):
    trunk, arm = interrupted_fork(store, 4)
    assert (store.dir(arm) / "fork.json").exists()
    (store.dir(trunk) / "snap-3.pt").unlink()             # the snapshot is gone ...
    for name in ("checkpoint.pt", "checkpoint.prev.pt"):  # ... and the arm's checkpoints are unreadable
        (store.dir(arm) / name).write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="unreadable checkpoint"):
        result = store.run(arm, fork=(trunk, 3))
    assert result.forked_from is None and not (store.dir(arm) / "fork.json").exists()
    assert result.history == scratch(arm).history


def test_a_resumed_fork_keeps_its_fork_record(store):
    trunk, arm = interrupted_fork(store, 5)
    result = store.run(arm, fork=(trunk, 3))
    assert result.forked_from == {"key": trunk.key(), "epoch": 3} and result.history == scratch(arm).history


@pytest.mark.usefixtures("every_epoch_checkpoints")
@pytest.mark.parametrize("content", ['{"key": "tr', '["not", "a record"]'])
def test_a_resumed_fork_whose_fork_record_is_corrupt_keeps_its_provenance_from_the_checkpoint(store, content):
    trunk, arm = interrupted_fork(store, 5)
    (store.dir(arm) / "fork.json").write_text(content)
    with pytest.warns(UserWarning, match="unreadable fork record"):
        result = store.run(arm, fork=(trunk, 3))
    assert result.forked_from == {"key": trunk.key(), "epoch": 3} and result.history == scratch(arm).history
    assert len(list(store.dir(arm).glob("fork.json.corrupt-*"))) == 1                # named and kept, as found
    assert json.loads((store.dir(arm) / "fork.json").read_text()) == result.forked_from   # written afresh


def test_a_snapshot_of_other_data_bytes_is_set_aside_and_the_fork_trains_from_scratch(tmp_path, monkeypatch):
    data = data_that_changes(monkeypatch)
    store, trunk = RunStore(tmp_path / "runs"), tiny_config(epochs=6)
    arm = trunk.with_(schedule=ScheduleConfig("step", milestones=(3,)))
    store.run(trunk, snapshots=(3,))
    data.update(seed=1, hash="bbbb")  # the same file names now hold other bytes
    with pytest.warns(UserWarning, match=r"snap-3\.pt: saved from other data bytes"):
        result = store.run(arm, fork=(trunk, 3))
    assert result.forked_from is None and result.history == scratch(arm, blobs(seed=1)).history
    assert len(list(store.dir(trunk).glob("snap-3.pt.corrupt-*"))) == 1  # kept, not deleted


def test_decay_forks_keep_what_else_the_trunks_schedule_sets(tmp_path, monkeypatch):
    """run_decay_forks builds each arm from its trunk's schedule with one step added: a trunk that anneals its
    activation noise after epoch 4 gives arms that anneal it too (they once lost it silently)."""
    from tests.helpers import dev_context

    ctx = dev_context(tmp_path, monkeypatch, blobs())
    trunk = tiny_config(epochs=5, **{"model.act_noise_std": 0.3},
                        schedule=ScheduleConfig("constant", noise_milestones=(4,), noise_factor=0.1))
    runs = ctx.run_decay_forks(lambda seed: trunk.with_(seed=seed), [2], 0.1)
    arm = runs[ctx.seeds[0]][2]
    sched = arm.config["schedule"]
    assert (sched["kind"], sched["milestones"], sched["noise_milestones"]) == ("step", [2], [4])
    assert arm.forked_from["epoch"] == 2
    alone = scratch(trunk.with_(seed=ctx.seeds[0], schedule=ScheduleConfig(
        "step", milestones=(2,), factor=0.1, noise_milestones=(4,), noise_factor=0.1)))
    assert arm.history == alone.history


def test_an_unreadable_fork_record_of_a_run_retrained_from_scratch_is_moved_aside_not_deleted(store):
    trunk, arm = interrupted_fork(store, 4)
    (store.dir(trunk) / "snap-3.pt").unlink()
    for name in ("checkpoint.pt", "checkpoint.prev.pt"):
        (store.dir(arm) / name).write_bytes(b"garbage")
    (store.dir(arm) / "fork.json").write_text('{"id": "x"')
    with pytest.warns(UserWarning) as caught:
        result = store.run(arm, fork=(trunk, 3))
    assert any("unreadable fork record" in str(w.message) for w in caught)
    assert [p.read_text() for p in store.dir(arm).glob("fork.json.corrupt-*")] == ['{"id": "x"']
    assert result.forked_from is None and result.history == scratch(arm).history

"""Ctrl-C and SIGTERM while a run trains (lrsci.interrupts): the run ends its epoch, writes a checkpoint and
stops, and running it again gives the uninterrupted numbers; a second Ctrl-C stops at once; a program's own
handlers are left alone. The signals here are real, sent by this process to itself from an epoch's hook: Python
runs the handler as the hook's ``os.kill`` returns, so each lands at a known epoch. (The worker pool under a
terminal's Ctrl-C: tests/test_worker_interrupts.py.)"""
from __future__ import annotations

import os
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrsci import executors, interrupts
from lrsci import runs as runs_mod
from lrsci.config import ScheduleConfig
from lrsci.harness import Job
from lrsci.interrupts import StopRequested
from lrsci.runs import RunStore
from lrsci.state_files import read_state
from tests.helpers import blobs, tiny_config, trained

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")
HOUR = 3600   # a checkpoint clock that never comes due in a test: any checkpoint is the stop's


@pytest.fixture(autouse=True)
def python_defaults():
    """These tests are of the case where SIGINT and SIGTERM have Python's defaults. Another test in this process
    may have left its own handler behind (``ray.init`` sets one for SIGTERM and keeps it after ``ray.shutdown``),
    and that handler would take a SIGTERM sent here: the process would end."""
    old = {sig: signal.signal(sig, default) for sig, default in interrupts.DEFAULTS.items()}
    yield
    for sig, handler in old.items():
        signal.signal(sig, handler)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(runs_mod, "load_data", lambda cfg, root=None: blobs())
    return RunStore(tmp_path / "runs", checkpoint_seconds=HOUR)


def signals_at(epoch: int, *sigs):
    """An ``on_epoch`` hook that sends ``sigs`` to this process once the run has trained ``epoch`` epochs."""
    def hook(trainer, record):
        if trainer.epoch == epoch:
            for sig in sigs:
                os.kill(os.getpid(), sig)
    return hook


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_after_its_epoch_with_a_checkpoint_and_the_resume_gives_the_same_numbers(
        store, sig, capfd):
    cfg = tiny_config(epochs=6)
    with pytest.raises(StopRequested, match=rf"{sig.name}: run {cfg.key()} \(seed 0\) stopped after epoch 2 of 6"):
        store.run(cfg, on_epoch=signals_at(2, sig))
    assert f"lrsci: {sig.name}: run {cfg.key()} (seed 0) stops at the end of its epoch" in capfd.readouterr().err
    assert read_state(store.dir(cfg) / "checkpoint.pt")["epoch"] == 2   # the clock alone would have written none
    assert store.load(cfg) is None
    assert store.run(cfg).history == trained(cfg).history
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # Python's defaults are back
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_terminals_ctrl_c_passed_on_again_at_once_is_one_request(store):
    """A terminal's Ctrl-C and `lrsci run` passing it on, or SIGTERM from the worker pool's parent after it."""
    cfg = tiny_config(epochs=6)
    with pytest.raises(StopRequested, match="stopped after epoch 2"):
        store.run(cfg, on_epoch=signals_at(2, signal.SIGINT, signal.SIGINT, signal.SIGTERM))
    assert read_state(store.dir(cfg) / "checkpoint.pt")["epoch"] == 2


def test_a_second_ctrl_c_stops_at_once_without_a_checkpoint(store, monkeypatch):
    monkeypatch.setattr(interrupts, "SAME_REQUEST_SECONDS", 0.0)   # as if a person pressed it again later
    cfg = tiny_config(epochs=6)
    with pytest.raises(KeyboardInterrupt) as stopped:
        store.run(cfg, on_epoch=signals_at(2, signal.SIGINT, signal.SIGINT))
    assert not isinstance(stopped.value, StopRequested)
    assert not list(store.dir(cfg).glob("checkpoint*"))   # the epoch in progress is lost, as with any kill
    assert store.run(cfg).history == trained(cfg).history


def test_a_request_in_the_last_epoch_stores_the_run_and_then_stops(store):
    cfg = tiny_config(epochs=3)
    with pytest.raises(StopRequested, match="ended with that epoch and is stored"):
        store.run(cfg, on_epoch=signals_at(3, signal.SIGTERM))
    assert store.load(cfg).history == trained(cfg).history
    assert not list(store.dir(cfg).glob("checkpoint*"))


def test_a_programs_own_handler_is_left_alone(store):
    got = []
    mine = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    try:
        cfg = tiny_config(epochs=4)
        result = store.run(cfg, on_epoch=signals_at(2, signal.SIGINT))
        assert got == [signal.SIGINT] and result.epochs_trained == 4
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, mine)


def test_a_run_started_with_ctrl_c_ignored_keeps_ignoring_it(store):
    """`nohup lrsci run … &` from a script starts with SIGINT ignored: the run is meant to outlive a Ctrl-C typed
    in the terminal it came from, so lrsci does not put a handler over that."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # (python_defaults puts Python's default back after the test)
    cfg = tiny_config(epochs=4)
    result = store.run(cfg, on_epoch=signals_at(2, signal.SIGINT))
    assert result.epochs_trained == 4 and result.history == trained(cfg).history
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_a_signal_stops_a_batch_after_its_epoch_with_its_checkpoint(tmp_path, monkeypatch):
    from lrsci.batched import BatchedTrainer

    data = blobs(n_train=256, n_test=64, dim=8)
    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: data)
    monkeypatch.setattr("lrsci.data.registry.load_data", lambda cfg, root=None: data)
    configs = [tiny_config(seed=s, epochs=4) for s in (0, 1)]
    jobs = [Job(c, "run") for c in configs]
    whole = RunStore(tmp_path / "whole", engine="batched")
    executors.train_batch(whole, jobs, progress=False)

    real = BatchedTrainer.train_epoch

    def signalled_in_epoch_2(self):
        if self.epoch == 1:
            os.kill(os.getpid(), signal.SIGINT)   # while epoch 2 trains
        return real(self)
    cut = RunStore(tmp_path / "cut", engine="batched", checkpoint_seconds=HOUR)
    monkeypatch.setattr(BatchedTrainer, "train_epoch", signalled_in_epoch_2)
    with pytest.raises(StopRequested, match="the batch of 2 runs stopped after epoch 2"):
        executors.train_batch(cut, jobs, progress=False)
    monkeypatch.setattr(BatchedTrainer, "train_epoch", real)
    assert read_state(executors.batch_checkpoint(cut, configs))["epoch"] == 2
    executors.train_batch(cut, jobs, progress=False)
    for c in configs:
        assert cut.load(c).history == whole.load(c).history


def test_a_worker_asked_to_stop_starts_no_queued_run(monkeypatch):
    def stopped(*args):
        raise StopRequested("SIGINT: run x stopped after epoch 1 of 4")
    monkeypatch.setattr(executors, "train_job", stopped)
    monkeypatch.setattr(executors, "_STOPPING", False)
    with pytest.raises(StopRequested):
        executors._worker_run(("root", None, None, False, None, 0))
    monkeypatch.setattr(executors, "train_job", lambda *a: pytest.fail("a queued run started after the stop"))
    with pytest.raises(KeyboardInterrupt, match="asked to stop"):
        executors._worker_run(("root", None, None, False, None, 0))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([signal.SIGINT, signal.SIGTERM]), st.floats(0, 3)), min_size=1, max_size=6))
def test_the_first_signal_is_the_request_and_only_a_later_ctrl_c_stops_at_once(signals):
    """The rule, on its own (no signal sent): ``signals`` are (signal, seconds since the one before). The first,
    either kind, is the request and never raises; after it only a SIGINT a second or more later raises."""
    now = [100.0]
    request = interrupts.StopRequest("run x (seed 0)")
    request.clock = lambda: now[0]
    for i, (sig, gap) in enumerate(signals):
        now[0] += gap
        if i > 0 and sig == signal.SIGINT and now[0] - first_at >= interrupts.SAME_REQUEST_SECONDS:
            with pytest.raises(KeyboardInterrupt):
                request(sig, None)
            break
        request(sig, None)   # its line goes to stderr, which pytest captures
        if i == 0:
            first_at = now[0]
    assert request.signal == signals[0][0].name


def test_a_stop_at_a_snapshot_epoch_keeps_the_snapshot_and_the_fork_from_it_gives_the_same_numbers(store):
    trunk = tiny_config(epochs=6)
    with pytest.raises(StopRequested, match="stopped after epoch 3"):
        store.run(trunk, snapshots=(3,), on_epoch=signals_at(3, signal.SIGINT))
    run_dir = store.dir(trunk)
    assert read_state(run_dir / "snap-3.pt")["epoch"] == 3 and read_state(run_dir / "checkpoint.pt")["epoch"] == 3
    decayed = trunk.with_(schedule=ScheduleConfig("step", milestones=(3,)))
    assert store.run(decayed, fork=(trunk, 3)).history == trained(decayed).history
    assert store.run(trunk, snapshots=(3,)).history == trained(trunk).history

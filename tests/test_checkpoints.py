"""When a run writes its resume checkpoint (lrsci.checkpoints): after the first epoch that ends
``checkpoint_seconds`` after the run's start or its last checkpoint, never after the run has ended; snapshots
at their epochs regardless; and whichever epochs have one, a resumed run ends with the uninterrupted numbers."""
from __future__ import annotations

import pytest

from lrsci import checkpoints
from lrsci import runs as runs_mod
from lrsci.checkpoints import DEFAULT_SECONDS, ENV, seconds_from_env
from lrsci.runs import RunStore
from lrsci.state_files import read_state
from tests.helpers import Interrupt, blobs, interrupt_at, tiny_config, trained


@pytest.fixture
def fake_clock(monkeypatch):
    """A clock that stands still until a test moves it (``now[0] += s``)."""
    now = [0.0]
    monkeypatch.setattr(checkpoints.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def store_at(tmp_path, monkeypatch):
    monkeypatch.setattr(runs_mod, "load_data", lambda cfg, root=None: blobs())
    return lambda seconds: RunStore(tmp_path / "runs", checkpoint_seconds=seconds)


def ten_seconds_an_epoch(clock, run_dir, seen, stop_at=None):
    """An on_epoch hook: each epoch takes 10 s on ``clock``; it notes the epoch of the checkpoint in ``run_dir``
    (the earlier epochs': this hook runs before the store decides on this one) and interrupts at ``stop_at``."""
    def hook(trainer, record):
        clock[0] += 10
        path = run_dir / "checkpoint.pt"
        seen.append(read_state(path)["epoch"] if path.exists() else None)
        if trainer.epoch == stop_at:
            raise Interrupt
    return hook


def test_a_checkpoint_is_written_when_its_seconds_have_passed_and_the_resume_gives_the_same_numbers(store_at, fake_clock,
                                                                                                     capsys):
    store, cfg, seen = store_at(25), tiny_config(epochs=8), []
    with pytest.raises(Interrupt):
        store.run(cfg, on_epoch=ten_seconds_an_epoch(fake_clock, store.dir(cfg), seen, stop_at=7))
    # 30 s after the start (epoch 3) and 30 s after that (epoch 6); the hook sees each from the next epoch on
    assert seen == [None, None, None, 3, 3, 3, 6]
    assert read_state(store.dir(cfg) / "checkpoint.prev.pt")["epoch"] == 3
    capsys.readouterr()
    assert store.run(cfg).history == trained(cfg).history
    assert f"run {cfg.key()} (seed {cfg.seed}): resumed from its checkpoint at epoch 6 of 8" in capsys.readouterr().err


def test_seconds_zero_checkpoints_every_epoch_but_the_last(store_at, fake_clock):
    store, cfg, seen = store_at(0), tiny_config(epochs=4), []
    result = store.run(cfg, on_epoch=ten_seconds_an_epoch(fake_clock, store.dir(cfg), seen))
    assert seen == [None, 1, 2, 3]   # none after epoch 4: the run had ended, its result.json is its record
    assert result.history == trained(cfg).history
    assert not list(store.dir(cfg).glob("checkpoint*"))


def test_a_run_shorter_than_the_interval_writes_its_snapshots_only_and_restarts_with_the_same_numbers(store_at, fake_clock):
    store, cfg = store_at(DEFAULT_SECONDS), tiny_config(epochs=4)
    with pytest.raises(Interrupt):
        store.run(cfg, snapshots=(2,), on_epoch=interrupt_at(3))
    assert sorted(p.name for p in store.dir(cfg).iterdir() if p.suffix == ".pt") == ["snap-2.pt"]
    assert store.run(cfg).history == trained(cfg).history   # trained again from epoch 0: the same numbers


@pytest.mark.parametrize("raw, seconds", [("", DEFAULT_SECONDS), ("0", 0.0), (" 2.5 ", 2.5), ("600", 600.0)])
def test_the_interval_from_the_environment(monkeypatch, raw, seconds):
    monkeypatch.setenv(ENV, raw)
    assert seconds_from_env() == seconds
    monkeypatch.delenv(ENV)
    assert seconds_from_env() == DEFAULT_SECONDS


@pytest.mark.parametrize("raw", ["abc", "-1", "nan", "inf", "1e400"])
def test_a_bad_interval_is_refused_by_name(monkeypatch, tmp_path, raw):
    monkeypatch.setenv(ENV, raw)
    with pytest.raises(ValueError, match=f"{ENV}={raw!r}: expected seconds between checkpoints"):
        seconds_from_env()
    with pytest.raises(ValueError, match=f"{ENV}="):
        RunStore(tmp_path / "runs")   # the store reads it when built, not after a run has trained


@pytest.mark.parametrize("bad", [-0.5, True, "x", float("nan")])
def test_a_bad_interval_given_to_the_store_is_named(tmp_path, bad):
    with pytest.raises(ValueError, match="checkpoint_seconds="):
        RunStore(tmp_path / "runs", checkpoint_seconds=bad)
    assert RunStore(tmp_path / "runs", checkpoint_seconds=3).checkpoint_seconds == 3.0

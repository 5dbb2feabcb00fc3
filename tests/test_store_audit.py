"""`lrsci store`: what a run store holds that no run reads again, deleted only when asked."""
from __future__ import annotations

import re

import pytest
from filelock import FileLock

from tests.helpers import batch_killed_in_epoch, blobs, tiny_config
from lrsci import cli, executors, store_audit
from lrsci.harness import Job
from lrsci.runs import RunStore, lock_path
from lrsci.state_files import read_state, write_state
from lrsci.train import ENGINE_VERSION


def interrupted_batch(tmp_path, monkeypatch, device: str = "cpu"):
    """A batch of seeds 0-2 killed after one epoch: its checkpoint is left behind, none of its runs stored."""
    data = blobs(n_train=128, n_test=32, dim=8)
    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: data)
    monkeypatch.setattr("lrsci.data.registry.load_data", lambda cfg, root=None: data)
    store = RunStore(tmp_path / "runs", engine="batched")
    configs = [tiny_config(seed=s, epochs=2, device=device) for s in (0, 1, 2)]
    with batch_killed_in_epoch(monkeypatch), pytest.raises(KeyboardInterrupt):
        executors.train_batch(store, [Job(c, "run") for c in configs], progress=False)
    return store, configs


@pytest.fixture
def interrupted_then_rerun(tmp_path, monkeypatch):
    """interrupted_batch, whose runs the tests then train as batches {0, 1} and {2}."""
    return interrupted_batch(tmp_path, monkeypatch)


# device "auto" is stored as the device it resolves to, under another key than the config's own
@pytest.mark.usefixtures("every_epoch_checkpoints")
@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_a_batch_checkpoint_is_open_until_all_its_runs_are_stored_then_done(tmp_path, monkeypatch, device):
    store, configs = interrupted_batch(tmp_path, monkeypatch, device)
    ckpt = executors.batch_checkpoint(store, configs)
    found = store_audit.audit(store.root)
    assert found.open_batches == [ckpt] and not found.done_batches and len(found.unfinished) == 0
    executors.train_batch(store, [Job(c, "run") for c in configs[:2]], progress=False)
    assert store_audit.audit(store.root).open_batches == [ckpt]   # seed 2 still to train: a rerun resumes here
    executors.train_batch(store, [Job(configs[2], "run")], progress=False)
    found = store_audit.audit(store.root)
    assert found.done_batches == [ckpt] and not found.open_batches and len(found.finished) == 3


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_prune_deletes_only_the_kinds_named_and_every_run_still_loads(interrupted_then_rerun):
    store, configs = interrupted_then_rerun
    for c in (configs[:2], configs[2:]):
        executors.train_batch(store, [Job(x, "run") for x in c], progress=False)
    before = [store.load(c).history for c in configs]
    old = store.root / f"{'0' * 16}-e{ENGINE_VERSION - 1}"
    old.mkdir()
    (old / "result.json").write_text("{}")
    torn = store.dir(configs[0]) / "result.json.corrupt-20261128T000000"
    torn.write_text("half a file")
    moved_run = store.root / f"{store.dir(configs[1]).name}.corrupt-20261128T000000"   # a run folder set aside,
    (moved_run / "result.json.corrupt-20261127T000000").parent.mkdir()                # with its own set-aside
    (moved_run / "result.json.corrupt-20261127T000000").write_text("x")               # file: counted once
    junk = store.root / "batches" / f"{'f' * 20}.pt"
    junk.write_bytes(b"not a checkpoint")

    found = store_audit.audit(store.root)
    assert found.old_engine == [old] and sorted(found.set_aside) == sorted([torn, moved_run])
    assert found.unreadable_batches == [junk]
    deleted = store_audit.prune(found, ["done-batches", "set-aside"])
    assert deleted[0] == executors.batch_checkpoint(store, configs) and sorted(deleted[1:]) == sorted([torn, moved_run])
    assert old.exists() and junk.exists()                # not asked for / only named
    assert [store.load(c).history for c in configs] == before
    with FileLock(str(lock_path(old))):   # an older lrsci training it now: left alone
        assert store_audit.prune(store_audit.audit(store.root), ["old-engine"]) == [] and old.exists()
    assert store_audit.prune(store_audit.audit(store.root), ["old-engine"]) == [old] and not old.exists()


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_the_command_reports_prunes_and_refuses_bad_input(interrupted_then_rerun, capsys, tmp_path):
    store, configs = interrupted_then_rerun
    assert cli.main(["store", "--run-store", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"runs to train\s+1\s", out) and re.search(r"finished runs \(engine \d+\)\s+0\s", out)
    for c in configs:
        executors.train_batch(store, [Job(c, "run")], progress=False)
    assert cli.main(["store", "--run-store", str(store.root), "--prune", "done-batches"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"deleted {executors.batch_checkpoint(store, configs)}\n")
    assert re.search(r"runs all stored\s+0\s", out) and re.search(rf"\(engine {ENGINE_VERSION}\)\s+3\s", out)
    assert cli.main(["store", "--run-store", str(store.root), "--prune", "everything"]) == 2
    assert "expected one or more of set-aside, old-engine, done-batches" in capsys.readouterr().err
    assert cli.main(["store", "--run-store", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_set_aside_copies_in_the_data_cache_are_counted_and_pruned_with_the_stores(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    raw = cache / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(b"kept")
    torn = raw / "train-labels-idx1-ubyte.corrupt-20261128T000000"
    torn.write_bytes(b"moved aside when its sha256 changed")
    monkeypatch.setenv("LRSCI_CACHE", str(cache))
    (tmp_path / "runs").mkdir()
    assert cli.main(["store", "--run-store", str(tmp_path / "runs")]) == 0
    assert re.search(rf"in the data cache\s+1\s.*{cache}", capsys.readouterr().out)
    assert cli.main(["store", "--run-store", str(tmp_path / "runs"), "--prune", "set-aside"]) == 0
    assert f"deleted {torn}" in capsys.readouterr().out
    assert not torn.exists() and (raw / "train-images-idx3-ubyte").read_bytes() == b"kept"


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_a_checkpoint_written_before_it_named_its_folders_is_read_by_its_keys(interrupted_then_rerun):
    store, configs = interrupted_then_rerun
    ckpt = executors.batch_checkpoint(store, configs)
    state = read_state(ckpt, map_location="cpu")
    del state["run_dirs"]   # as an older lrsci wrote it
    write_state(ckpt, state)
    assert store_audit.audit(store.root).open_batches == [ckpt]
    for batch in (configs[:2], configs[2:]):   # other batches: this checkpoint is left with all its runs stored
        executors.train_batch(store, [Job(c, "run") for c in batch], progress=False)
    assert store_audit.audit(store.root).done_batches == [ckpt]


def test_a_fresh_clone_without_a_run_store_is_shown_as_such_not_as_an_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "claims").mkdir()   # a checkout where nothing has trained: no .runs/
    (tmp_path / "conftest.py").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LRSCI_RUNS", raising=False)
    assert cli.main(["store"]) == 0
    assert "no run store yet at" in capsys.readouterr().out
    assert not (tmp_path / ".runs").exists()

"""Fault injection on the run store: kills, corrupt files, a full disk, concurrent runs, stale runs.

Each test breaks something the way the world does and checks three things: nothing is lost
(bad files are moved aside, never deleted), the message names the file and what to do, and
the run ends with exactly the numbers an undisturbed run has.
"""
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lrsci import files
from lrsci import runs as runs_mod
from lrsci import state_files
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig
from lrsci.runs import RunStore
from lrsci.state_files import read_state
from lrsci.train import RunDiverged, Trainer
from tests.helpers import blobs, tiny_config

ROOT = Path(__file__).resolve().parents[1]
# Real (generated) data, so child processes need no monkeypatching.
PS10_CFG = RunConfig(data=DataConfig("ps10", train_size=2000, test_size=2000, options={"image_size": 2}),
                     model=ModelConfig("mlp", hidden=16), optim=OptimConfig(lr=0.05, batch_size=100),
                     epochs=4, device="cpu")


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(runs_mod, "load_data", lambda cfg, root=None: blobs())
    return RunStore(tmp_path / "runs")


def straight(cfg):
    t = Trainer(cfg, blobs())
    t.run()
    return t.history


def interrupted(store, cfg, at_epoch):
    class Interrupt(Exception):
        pass

    def stop(trainer, record):
        if trainer.epoch == at_epoch:
            raise Interrupt
    with pytest.raises(Interrupt):
        store.run(cfg, on_epoch=stop)


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_a_corrupt_checkpoint_is_set_aside_and_the_previous_one_resumes(store):
    cfg = tiny_config()
    interrupted(store, cfg, at_epoch=4)  # checkpoints of epochs 2 (prev) and 3 (latest) exist
    ckpt = store.dir(cfg) / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:100])  # truncated, as by a crash of the disk under it
    with pytest.warns(UserWarning, match=r"checkpoint\.pt: unreadable checkpoint.*moved it aside"):
        result = store.run(cfg)
    assert result.history == straight(cfg)
    assert len(list(store.dir(cfg).glob("checkpoint.pt.corrupt-*"))) == 1


def test_a_corrupt_result_is_set_aside_and_the_run_retrained(store):
    cfg = tiny_config()
    first = store.run(cfg)
    path = store.dir(cfg) / "result.json"
    truncated = path.read_text()[:50]
    path.write_text(truncated)
    with pytest.warns(UserWarning, match=r"result\.json: unreadable run result"):
        again = store.run(cfg)
    assert again.history == first.history and store.trained == [cfg.key(), cfg.key()]
    assert [p.read_text() for p in store.dir(cfg).glob("result.json.corrupt-*")] == [truncated]  # kept as found


@pytest.mark.parametrize("change, why", [
    (lambda d: {**d, "history": [{**d["history"][0], "test_acc": d["history"][0]["test_acc"] - 50.0},
                                 *d["history"][1:]]}, "does not match the digest"),   # an edited number
    (lambda d: {**d, "history": None, "content_sha256": None}, "'history' is NoneType"),   # parses, but no result
    (lambda d: {k: v for k, v in d.items() if k not in ("status", "content_sha256")}, "status"),
    (lambda d: [d], "JSON object"),
])
def test_a_result_changed_after_it_was_written_or_of_no_results_shape_is_set_aside(store, change, why):
    import json

    cfg = tiny_config()
    first = store.run(cfg)
    path = store.dir(cfg) / "result.json"
    path.write_text(json.dumps(change(json.loads(path.read_text()))))
    with pytest.warns(UserWarning, match=r"result\.json: unreadable run result.*" + why):
        again = store.run(cfg)
    assert again.history == first.history and store.trained == [cfg.key(), cfg.key()]
    assert len(list(store.dir(cfg).glob("result.json.corrupt-*"))) == 1


def test_a_result_written_before_results_carried_a_digest_is_read_as_it_is(store):
    import json

    cfg = tiny_config()
    first = store.run(cfg)
    path = store.dir(cfg) / "result.json"
    old = {k: v for k, v in json.loads(path.read_text()).items() if k != "content_sha256"}
    path.write_text(json.dumps(old))
    assert store.load(cfg).history == first.history and not list(store.dir(cfg).glob("*.corrupt-*"))


def test_a_result_another_process_moved_aside_first_is_retrained_not_a_crash(store, monkeypatch):
    # Two readers (no lock held) find one torn result.json; the other one moves it aside first.
    cfg = tiny_config()
    first = store.run(cfg)
    path = store.dir(cfg) / "result.json"
    path.write_text(path.read_text()[:50])

    def gone(p):
        Path(p).unlink()
        raise FileNotFoundError(f"cannot quarantine {p}: it is gone")
    with monkeypatch.context() as m:
        m.setattr(runs_mod.files, "quarantine", gone)
        assert store.load(cfg) is None
    assert store.run(cfg).history == first.history


def test_temporary_files_a_killed_writer_left_are_removed_when_the_run_trains_again(store):
    cfg = tiny_config()
    interrupted(store, cfg, at_epoch=2)
    left = [store.dir(cfg) / n for n in ("checkpoint.pt.a8gmy6ku.tmp", "snap-2.pt.x1.tmp", "result.json.q.tmp")]
    other = store.dir(cfg) / "measure-abc.json.k.tmp"    # written under another lock: not ours to remove
    for f in left + [other]:
        f.write_bytes(b"half")
    assert store.run(cfg).history == straight(cfg)
    assert not any(f.exists() for f in left) and other.exists()


def test_checkpoints_a_kill_left_beside_a_finished_result_are_dropped_when_it_is_read(store):
    cfg = tiny_config()
    first = store.run(cfg)
    (store.dir(cfg) / "checkpoint.pt").write_bytes(b"left by a kill after result.json was written")
    assert store.run(cfg).history == first.history and not (store.dir(cfg) / "checkpoint.pt").exists()


def test_a_corrupt_fork_snapshot_falls_back_to_training_from_scratch(store):
    trunk = tiny_config(epochs=6)
    arm = trunk.with_(schedule=ScheduleConfig("step", milestones=(3,)))
    store.run(trunk, snapshots=(3,))
    (store.dir(trunk) / "snap-3.pt").write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="snap-3.pt"):
        result = store.run(arm, fork=(trunk, 3))
    assert result.forked_from is None and result.history == straight(arm)


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_a_full_disk_is_named_and_loses_nothing(store, monkeypatch):
    cfg = tiny_config()
    real_write, writes = state_files._write_bytes, []

    def write(tmp, header, payload):  # the disk fills while the third checkpoint (epoch 3) is written
        writes.append(tmp)
        if len(writes) == 3:
            Path(tmp).write_bytes(b"partial")
            raise OSError(28, "No space left on device")
        return real_write(tmp, header, payload)
    monkeypatch.setattr(state_files, "_write_bytes", write)
    with pytest.raises(files.DiskFull, match=r"No space left on device while writing .*checkpoint\.pt.*--run-store"):
        store.run(cfg)
    run_dir = store.dir(cfg)
    assert not list(run_dir.glob("*.tmp"))  # the partial file is gone, the last good checkpoint stays
    assert read_state(run_dir / "checkpoint.pt")["epoch"] == 2
    monkeypatch.setattr(state_files, "_write_bytes", real_write)  # space freed
    assert store.run(cfg).history == straight(cfg)


def test_an_enospc_oserror_is_a_disk_full_error(tmp_path):
    def write(tmp):
        raise OSError(28, "No space left on device")
    with pytest.raises(files.DiskFull, match="report folder"):
        files.atomic_write(tmp_path / "x.json", write)
    assert list(tmp_path.iterdir()) == []


def test_a_new_engine_version_retrains_and_keeps_the_old_run(store, monkeypatch):
    cfg = tiny_config()
    store.run(cfg)
    old_dir = store.dir(cfg)
    monkeypatch.setattr(runs_mod, "ENGINE_VERSION", runs_mod.ENGINE_VERSION + 1)
    store.run(cfg)
    assert store.trained == [cfg.key(), cfg.key()] and old_dir.exists() and store.dir(cfg) != old_dir
    trained = json.loads((store.dir(cfg) / "result.json").read_text())["extra"]["trained"]
    assert trained["engine_version"] == runs_mod.ENGINE_VERSION and trained["git"]


def test_a_run_trained_on_other_data_bytes_is_not_reused(tmp_path, monkeypatch):
    data = {"hash": "aaaa"}

    def load(cfg, root=None):
        d = blobs()
        d.info["content_sha256"] = data["hash"]
        return d
    monkeypatch.setattr(runs_mod, "load_data", load)
    store, cfg = RunStore(tmp_path / "runs"), tiny_config()
    store.run(cfg)
    assert json.loads((store.dir(cfg) / "result.json").read_text())["extra"]["trained"]["data_sha256"] == "aaaa"
    data["hash"] = "bbbb"  # the same file names now hold other bytes
    assert store.load(cfg) is None and (store.dir(cfg) / "result.json").exists()   # without the run's lock:
    # another process may be training a fresh folder there, so only a holder of the lock moves it aside
    with pytest.warns(UserWarning, match="other data bytes"):
        store.run(cfg)
    assert store.trained == [cfg.key(), cfg.key()]
    assert len(list((tmp_path / "runs").glob(f"{store.dir(cfg).name}.corrupt-*"))) == 1  # the old run, kept


def test_a_config_that_fails_to_start_leaves_no_folder(tmp_path):
    store = RunStore(tmp_path / "runs", data_root=tmp_path / "nothing-here")
    cfg = PS10_CFG.with_(data=DataConfig("cifar10"))
    with pytest.raises(FileNotFoundError):
        store.run(cfg)
    assert not store.dir(cfg).exists()


def _train_in_child(root):
    import torch

    torch.set_num_threads(1)
    store = RunStore(root)
    store.run(PS10_CFG)
    return len(store.trained)


def test_two_processes_asking_for_one_run_train_it_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        trained = pool.map(_train_in_child, [str(tmp_path / "runs")] * 2)
    assert sorted(trained) == [0, 1]  # one trained, the other waited and loaded


CHILD = """
import sys, time, torch
torch.set_num_threads(1)
from lrsci.runs import RunStore
from tests.test_run_store_faults import PS10_CFG
slow = lambda trainer, record: time.sleep(0.3)
RunStore(sys.argv[1]).run(PS10_CFG.with_(epochs=8), on_epoch=slow)
"""


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_a_sigkilled_run_resumes_with_the_same_numbers(tmp_path):
    root, cfg = tmp_path / "runs", PS10_CFG.with_(epochs=8)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], cwd=ROOT)
    ckpt = RunStore(root).dir(cfg) / "checkpoint.pt"
    deadline = time.time() + 120
    while time.time() < deadline and not (ckpt.exists() and read_state(ckpt)["epoch"] >= 3):
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (RunStore(root).dir(cfg) / "result.json").exists()
    resumed = RunStore(root).run(cfg)
    fresh = RunStore(tmp_path / "fresh").run(cfg)
    assert resumed.history == fresh.history


def test_a_diverged_run_is_an_outcome_not_a_max_of_nothing(store):
    cfg = tiny_config(**{"optim.lr": 1e6}, diverge_loss=1.0)
    result = store.run(cfg)
    assert result.stop_reason == "diverged" and result.history == []
    with pytest.raises(RunDiverged, match=r"diverged at step \d+ after 0 complete epochs.*test_acc"):
        result.best("test_acc")


def test_a_run_store_that_is_a_file_is_named_before_training_not_in_a_workers_traceback(tmp_path):
    from lrsci.runs import RunStoreError

    (tmp_path / "store").write_text("not a folder")
    store = RunStore(tmp_path / "store")
    with pytest.raises(RunStoreError, match=r"run store .*store: cannot write there .*--run-store / LRSCI_RUNS"):
        store.check_writable()
    with pytest.raises(RunStoreError, match="cannot write there"):
        with store._lock(tiny_config()):
            pass

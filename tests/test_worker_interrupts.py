"""The local worker pool under interruption: Ctrl-C ends the parent and every worker (no queued run starts
after it; each worker ends its epoch with a checkpoint first), and workers whose parent was killed outright
(SIGKILL, no cleanup possible) end themselves, instead of training on as orphans that hold their runs' locks."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ctrl_c_as_in_a_terminal

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("every_epoch_checkpoints")   # start() waits for the workers' first checkpoints
SCRIPT = """
import sys
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from lrsci.executors import LocalExecutor
from lrsci.harness import Job
from lrsci.runs import RunStore
cfg = RunConfig(data=DataConfig("ps10", train_size=2000, test_size=2000, options={"image_size": 4}),
                model=ModelConfig("mlp", hidden=16), optim=OptimConfig(lr=0.05, batch_size=32), epochs=5000,
                device="cpu", eval_train=False)
LocalExecutor().train(RunStore(sys.argv[1]), [Job(cfg.with_(seed=s), "slow") for s in range(4)], 2, False)
"""


def start(tmp_path, ready: str = "*/checkpoint.pt", stderr=subprocess.DEVNULL):
    """The pool in its own process group, once both workers are training (two files match ``ready``: by
    default their first checkpoints)."""
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "runs")], cwd=ROOT, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=stderr,
                            preexec_fn=ctrl_c_as_in_a_terminal)
    deadline = time.time() + 60
    while len(list((tmp_path / "runs").glob(ready))) < 2:
        assert time.time() < deadline and proc.poll() is None, "the workers never started training"
        time.sleep(0.2)
    return proc


def assert_group_ends(proc, seconds: float, why: str) -> None:
    """Every process of ``proc``'s group ends within ``seconds`` (and is killed afterwards either way)."""
    try:
        assert group_gone(proc.pid, seconds), why
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def group_gone(pgid: int, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_ctrl_c_ends_the_parent_and_its_workers(tmp_path):
    proc = start(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)   # what a terminal's Ctrl-C sends: the whole foreground group
    proc.wait(timeout=30)
    assert_group_ends(proc, 15, "a worker kept running after Ctrl-C")
    assert len(list((tmp_path / "runs").glob("*/result.json"))) == 0   # no queued run was started and finished


@pytest.mark.slow
def test_workers_of_a_killed_parent_end_themselves(tmp_path):
    proc = start(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)    # the parent alone, with no chance to clean up
    proc.wait(timeout=10)
    assert_group_ends(proc, 15, "orphaned workers kept training")


@pytest.mark.slow
@pytest.mark.parametrize("send", ["ctrl-c", "sigterm-to-the-parent"])
def test_a_stop_lets_each_worker_end_its_epoch_with_a_checkpoint(tmp_path, monkeypatch, send):
    """A terminal's Ctrl-C reaches every worker; a SIGTERM to the parent alone (`kill`, a scheduler) reaches the
    workers through it. Either way each running run ends its epoch with a checkpoint and no queued run starts."""
    monkeypatch.setenv("LRSCI_CHECKPOINT_SECONDS", "3600")   # the clock writes none: every checkpoint is the stop's
    err = tmp_path / "stderr.txt"
    with err.open("w") as stream:
        proc = start(tmp_path, ready="*/config.json", stderr=stream)
        time.sleep(1.5)   # past each run's start-up, into its epochs (a few ms each)
        if send == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert_group_ends(proc, 15, "a worker kept running after Ctrl-C")
    text = err.read_text()
    assert "waiting for 2 workers to end their epoch with a checkpoint" in text, text
    started = [d for d in (tmp_path / "runs").iterdir() if d.is_dir() and (d / "config.json").exists()]
    assert len(started) == 2, text   # the queued runs never started
    for run_dir in started:
        assert (run_dir / "checkpoint.pt").exists() and not (run_dir / "result.json").exists(), text
        assert f"{run_dir.name.split('-e')[0]} (seed" in text and "stopped after epoch" in text

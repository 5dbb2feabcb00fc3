"""The local worker pool under interruption: Ctrl-C ends the parent and every worker (no queued run starts
after it), and workers whose parent was killed outright (SIGKILL, no cleanup possible) end themselves,
instead of training on as orphans that hold their runs' locks."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def start(tmp_path):
    """The pool in its own process group, once both workers are training (their first checkpoints exist)."""
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "runs")], cwd=ROOT, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(list((tmp_path / "runs").glob("*/checkpoint.pt"))) < 2:
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

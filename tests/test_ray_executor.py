"""The Ray executor: a claim trained as Ray tasks gives exactly the local executor's numbers,
a worker killed mid-run is retried and resumes from the run's checkpoint, a failed task is raised
only after the others are stored, a store the driver cannot see is an error, and asking for Ray
without it installed says how to install it.

One local Ray instance on two CPUs serves the module (started once: a few seconds).
"""
from __future__ import annotations

import _thread
import json
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from lrsci import driver, executors
from lrsci.catalog import load_claims
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from lrsci.harness import ClaimContext, Job
from lrsci.runs import RunStore
from lrsci.state_files import read_state
from tests.helpers import python_ctrl_c

pytestmark = pytest.mark.xdist_group("ray")  # one local Ray instance at a time, in one pytest worker
ROOT = Path(__file__).resolve().parents[1]
CFG = RunConfig(data=DataConfig("ps10", train_size=2000, test_size=2000, options={"image_size": 2}),
                model=ModelConfig("mlp", hidden=16), optim=OptimConfig(lr=0.05, batch_size=100),
                epochs=5, device="cpu")


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e \".[ray]\"")
    # address="local": a new instance on this machine's two cores, whatever RAY_ADDRESS says
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def tiny_ps10(profile):
    """ps10-decay-learns-complex's fast profile at a few seconds' size: trunks, forks, every arm."""
    data = replace(profile.run.data, train_size=2000, test_size=2000)
    run = profile.run.with_(data=data, model=ModelConfig("mlp", hidden=16), epochs=9)
    return replace(profile, seeds=2, run=run, params={**profile.params, "stage_epochs": 3, "window": 2})


def check(claim, profile, root: Path, executor, workers):
    ctx = ClaimContext(profile=profile.name, store=RunStore(root / "runs"), report_root=root / "reports",
                       n_seeds=2, device="cpu", workers=workers, executor=executor)
    return driver.check(claim, profile, ctx).section, ctx


def test_a_claim_on_ray_gives_the_local_numbers_and_verdict(ray_local, tmp_path):
    claim, _ = load_claims(ROOT)["ps10-decay-learns-complex"]
    profile = tiny_ps10(claim.profile("fast"))
    # locally in this process (LRSCI_WORKERS=1: the local workers' numbers, tests/test_harness.py)
    local, _ = check(claim, profile, tmp_path / "local", "local", workers=1)
    on_ray, ctx = check(claim, profile, tmp_path / "ray", "ray", workers=2)
    assert ctx.executor.name == "ray" and len(ctx.store.trained) == 8  # 6 constant runs, then 2 forks
    # exact equality (as JSON, where NaN equals NaN): per-seed values, every test row, the verdict,
    # and the figure's per-epoch curves of every run
    for key in ("per_seed", "tests", "verdict", "figure"):
        assert json.dumps(on_ray[key], sort_keys=True) == json.dumps(local[key], sort_keys=True), key
    assert all(r.forked_from for r in ctx.results if r.config["schedule"]["kind"] == "step")


def test_a_killed_worker_is_retried_and_resumes_from_its_checkpoint(ray_local, tmp_path, monkeypatch):
    marker, log = tmp_path / "killed", tmp_path / "epochs.log"

    def kill_once_after_epoch_3(trainer, record):  # a closure: Ray ships it by value to the worker
        with open(log, "a") as f:
            f.write(f"{os.getpid()} {trainer.epoch}\n")
        if trainer.epoch == 3 and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no exception: as a lost node

    monkeypatch.delenv("LRSCI_CHECKPOINT_SECONDS", raising=False)
    store = RunStore(tmp_path / "ray", checkpoint_seconds=0)   # a checkpoint every epoch, told to the task, not its env
    ctx = ClaimContext("fast", store, tmp_path / "reports", n_seeds=2, workers=2,
                       executor=executors.RayExecutor(hook=kill_once_after_epoch_3))
    [killed] = ctx.run_all([Job(CFG, "trunk")])
    uninterrupted = RunStore(tmp_path / "local").run(CFG)
    assert killed.history == uninterrupted.history and killed.epochs_trained == CFG.epochs
    # epochs 1-3 in the first worker; it died before saving epoch 3's checkpoint, so the retry
    # (another process) resumed after epoch 2 and trained 3-5: a resume, not a restart from epoch 1
    runs = [line.split() for line in log.read_text().splitlines()]
    first, retry = runs[0][0], [int(e) for pid, e in runs if pid != runs[0][0]]
    assert [int(e) for pid, e in runs if pid == first] == [1, 2, 3] and retry == [3, 4, 5]


def test_a_store_the_driver_cannot_see_is_an_error_not_a_retrain(ray_local, tmp_path, monkeypatch):
    ctx = ClaimContext("fast", RunStore(tmp_path / "runs"), tmp_path / "reports", n_seeds=2, executor="ray")
    # as a driver whose store path is another folder than the workers': it never sees their results
    monkeypatch.setattr(RunStore, "load", lambda self, config: None)
    with pytest.raises(RuntimeError, match="run store is not shared.*--run-store or LRSCI_RUNS"):
        ctx.run_all([Job(CFG.with_(epochs=1), "trunk")])
    assert ctx.store.trained == [] and ctx.results == []  # nothing retrained in this process


def test_a_failed_task_is_raised_after_the_others_are_stored(ray_local, tmp_path):
    def fail_seed_0(trainer, record):  # a closure: Ray ships it by value to the worker
        if trainer.config.seed == 0:
            raise RuntimeError("staged failure of seed 0")

    store = RunStore(tmp_path / "runs")
    jobs = [Job(CFG.with_(seed=s, epochs=2), "run") for s in (0, 1, 2)]
    with pytest.raises(Exception, match="staged failure of seed 0"):
        executors.RayExecutor(hook=fail_seed_0).train(store, jobs, 2, False)
    assert store.load(jobs[0].config) is None   # as the local workers: the others finished and were stored
    assert store.load(jobs[1].config) is not None and store.load(jobs[2].config) is not None


def test_asking_for_ray_without_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ImportError, match=r'pip install -e "\.\[ray\]"'):
        ClaimContext("fast", RunStore("unused"), Path("unused"), n_seeds=2, executor="ray")
    monkeypatch.setenv("LRSCI_EXECUTOR", "ray")
    with pytest.raises(ImportError, match="needs Ray"):
        ClaimContext("fast", RunStore("unused"), Path("unused"), n_seeds=2)


def test_an_unknown_executor_names_the_choices(monkeypatch):
    monkeypatch.setenv("LRSCI_EXECUTOR", "slurm")
    with pytest.raises(ValueError, match="LRSCI_EXECUTOR.*local, ray"):
        ClaimContext("fast", RunStore("unused"), Path("unused"), n_seeds=2)


def test_lrsci_run_passes_the_executor_to_pytest(monkeypatch):
    from lrsci import cli

    called = {}
    monkeypatch.setattr(cli, "run_child", lambda cmd, cwd, env: called.setdefault("cmd", cmd) and 0)
    cli.main(["run", "ps10-decay-learns-complex", "--executor", "ray"])
    assert called["cmd"][called["cmd"].index("--executor") + 1] == "ray"


def test_ctrl_c_at_the_driver_lets_each_task_end_its_epoch_with_a_checkpoint(ray_local, tmp_path):
    """Ctrl-C in the driver's terminal. (Not SIGTERM: a Ray driver's own fatal-signal handler aborts the process
    about a second after one, whatever Python does with it.)"""
    store = RunStore(tmp_path / "runs", checkpoint_seconds=3600)   # the clock writes none: any is the stop's
    jobs = [Job(CFG.with_(seed=s, epochs=5000), "run") for s in (0, 1, 2)]   # two CPUs: the third waits its turn

    def ctrl_c_once_two_runs_train():
        deadline = time.monotonic() + 120
        while len(list(store.root.glob("*/config.json"))) < 2:
            if time.monotonic() > deadline:
                return   # never signal a process that is no longer in train(): the test fails on its own
            time.sleep(0.2)
        time.sleep(1.0)   # into their epochs
        _thread.interrupt_main()   # as Ctrl-C in the driver's terminal
    threading.Thread(target=ctrl_c_once_two_runs_train, daemon=True).start()
    with python_ctrl_c(), pytest.raises(KeyboardInterrupt):
        executors.RayExecutor().train(store, jobs, 2, False)
    started = [d for d in store.root.iterdir() if d.is_dir() and (d / "config.json").exists()]
    assert len(started) == 2   # the queued run never started
    for run_dir in started:   # (that a checkpoint resumes to the uninterrupted numbers: tests/test_interrupts.py)
        assert read_state(run_dir / "checkpoint.pt")["epoch"] >= 1 and not (run_dir / "result.json").exists()
    assert not list(store.root.glob(".stop-*"))   # the stop file is removed once the tasks have ended

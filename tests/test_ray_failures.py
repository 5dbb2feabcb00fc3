"""A Ray task that fails does not cost the others: they finish and are stored, then the failure is raised."""
from __future__ import annotations

import pytest

from lrsci import executors
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from lrsci.harness import Job
from lrsci.runs import RunStore

pytestmark = pytest.mark.xdist_group("ray")  # one local Ray instance at a time, in one pytest worker
CFG = RunConfig(data=DataConfig("ps10", train_size=2000, test_size=2000, options={"image_size": 2}),
                model=ModelConfig("mlp", hidden=8), optim=OptimConfig(lr=0.05, batch_size=100),
                epochs=2, device="cpu")


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e \".[ray]\"")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_a_failed_task_is_raised_after_the_others_are_stored(ray_local, tmp_path):
    def fail_seed_0(trainer, record):  # a closure: Ray ships it by value to the worker
        if trainer.config.seed == 0:
            raise RuntimeError("staged failure of seed 0")

    store = RunStore(tmp_path / "runs")
    jobs = [Job(CFG.with_(seed=s), "run") for s in (0, 1, 2)]
    with pytest.raises(Exception, match="staged failure of seed 0"):
        executors.RayExecutor(hook=fail_seed_0).train(store, jobs, 2, False)
    assert store.load(jobs[0].config) is None
    assert store.load(jobs[1].config) is not None and store.load(jobs[2].config) is not None

"""The claim harness: parallel workers give exactly the numbers of a sequential run."""
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig
from lrsci.harness import ClaimContext, Job, protocol_record
from lrsci.runs import RunStore

CFG = RunConfig(data=DataConfig("ps10", train_size=2000, test_size=2000, options={"image_size": 2}),
                model=ModelConfig("mlp", hidden=16), optim=OptimConfig(lr=0.05, batch_size=100),
                epochs=3, device="cpu")


def context(tmp_path, workers):
    return ClaimContext("fast", RunStore(tmp_path / f"runs{workers}"), tmp_path / "reports", n_seeds=2,
                        workers=workers)


def test_parallel_workers_match_sequential_training(tmp_path):
    jobs = [Job(CFG.with_(seed=s), "trunk", snapshots=(1,)) for s in (0, 1)]
    parallel, sequential = context(tmp_path, 2), context(tmp_path, 1)
    a, b = parallel.run_all(jobs), sequential.run_all(jobs)
    assert [r.history for r in a] == [r.history for r in b]
    assert len(parallel.store.trained) == 2 and parallel.loaded == 0
    forks = [Job(CFG.with_(seed=s, schedule=ScheduleConfig("step", milestones=(1,))), "arm", fork=(CFG.with_(seed=s), 1))
             for s in (0, 1)]
    assert all(r.forked_from is not None for r in parallel.run_all(forks))


def test_loaded_runs_are_counted_as_loaded(tmp_path):
    ctx = context(tmp_path, 1)
    ctx.run_all([Job(CFG, "x")])
    again = ClaimContext("fast", ctx.store.__class__(ctx.store.root), tmp_path / "reports", n_seeds=2, workers=1)
    again.run_all([Job(CFG, "x")])
    assert again.loaded == 1 and again.store.trained == []


def test_protocol_record_expands_the_run():
    rec = protocol_record({"run": CFG, "seeds": 5}, extra=1)
    assert rec["run"]["optim"]["lr"] == 0.05 and rec["seeds"] == 5 and rec["extra"] == 1

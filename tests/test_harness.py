"""The claim harness: parallel workers give exactly the numbers of a sequential run."""
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig
import pytest

from lrsci.claim import Profile
from lrsci.harness import ClaimContext, Job, workers_from_env
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


def test_profile_record_expands_the_run():
    rec = Profile("fast", device="cpu", seeds=5, run=CFG, params={"extra": 1}).record()
    assert rec["run"]["optim"]["lr"] == 0.05 and rec["seeds"] == 5 and rec["extra"] == 1


@pytest.mark.parametrize("raw", ["abc", "0", "-2", "1.5", "²"])
def test_bad_lrsci_workers_names_the_variable(raw, monkeypatch):
    monkeypatch.setenv("LRSCI_WORKERS", raw)
    with pytest.raises(ValueError, match="LRSCI_WORKERS"):
        workers_from_env(2)


def test_lrsci_workers_default_and_value(monkeypatch):
    monkeypatch.delenv("LRSCI_WORKERS", raising=False)
    assert workers_from_env(3) == 3
    monkeypatch.setenv("LRSCI_WORKERS", "4")
    assert workers_from_env(3) == 4


@pytest.mark.parametrize("raw, on", [("", False), ("0", False), ("false", False), ("no", False), ("1", True),
                                     ("yes", True), ("ON", True)])
def test_lrsci_progress_means_what_it_says(raw, on, monkeypatch):
    from lrsci.harness import progress_from_env

    monkeypatch.setenv("LRSCI_PROGRESS", raw)
    assert progress_from_env() is on


def test_bad_lrsci_progress_and_context_sizes_are_named(tmp_path, monkeypatch):
    from lrsci.harness import ClaimContext, progress_from_env
    from lrsci.runs import RunStore

    monkeypatch.setenv("LRSCI_PROGRESS", "maybe")
    with pytest.raises(ValueError, match="LRSCI_PROGRESS"):
        progress_from_env()
    monkeypatch.delenv("LRSCI_PROGRESS")
    for kwargs, match in (({"n_seeds": 0}, "n_seeds"), ({"n_seeds": 2, "workers": -3}, "workers")):
        with pytest.raises(ValueError, match=match):
            ClaimContext(profile="t", store=RunStore(tmp_path), report_root=tmp_path, **kwargs)


def test_cuda_provenance_says_whether_float32_convolutions_ran_in_tf32(monkeypatch):
    import torch
    from lrsci.provenance import provenance

    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    assert provenance("cuda")["tf32"] == {"cudnn_conv": True, "matmul": torch.backends.cuda.matmul.allow_tf32}
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    assert provenance("cuda")["tf32"]["cudnn_conv"] is False
    assert "tf32" not in provenance("cpu")   # CPU reports keep their fields

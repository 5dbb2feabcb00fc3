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


@pytest.mark.parametrize("epoch", [0, 4, -1, 2.0, True])
def test_a_snapshot_epoch_outside_the_runs_epochs_is_refused_by_name(epoch):
    # 0 (the initial weights) and past the budget were never written, silently; a fork from them failed later
    with pytest.raises(ValueError, match=rf"snapshot epoch {epoch!r} is outside 1\.\.3"):
        Job(CFG, "trunk", snapshots=(1, epoch))
    Job(CFG, "trunk", snapshots=(1, 3))   # the first and the last epoch are fork and transfer points


def test_no_claim_profile_asks_for_a_snapshot_outside_its_runs(tmp_path, monkeypatch):
    """Every declared profile's first batch of jobs (the trunks: the only jobs with snapshots, e.g. decay
    milestones and stage ends), built by its own train() as pytest would, is accepted. Nothing trains: the
    context stops at the first run_all. Calibration records a gpu profile may still lack are not asked for."""
    from pathlib import Path

    from lrsci import calibration
    from lrsci.catalog import load_claims

    class Stop(Exception):
        pass

    class Recording(ClaimContext):
        def run_all(self, jobs):
            self.jobs = list(jobs)
            raise Stop

    monkeypatch.setattr(calibration, "require", lambda *a, **k: None)
    snapshots = 0
    for claim, _ in load_claims(Path(__file__).resolve().parents[1]).values():
        for p in claim.profiles:
            ctx = Recording(p.name, RunStore(tmp_path / "runs"), tmp_path / "reports", n_seeds=p.seeds,
                            seed_offset=p.first_seed, device=p.device, workers=1)
            with pytest.raises(Stop):   # a refused snapshot would raise ValueError here, naming it
                claim.train(ctx, p)
            snapshots += sum(len(j.snapshots) for j in ctx.jobs)
    assert snapshots > 0
    assert not (tmp_path / "runs").exists()


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
                                     ("yes", True), ("ON", True), ("off", False)])
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


class Stub:
    """The little of a Trainer that Progress reads."""

    def __init__(self, epoch, epochs=10, done=False):
        self.epoch, self.done, self.config = epoch, done, CFG.with_(epochs=epochs)


def test_progress_counts_only_epochs_trained_here_and_ends_the_last_epochs_line(monkeypatch):
    """A run resumed at epoch 8 of 10: the ETA is per epoch trained in this process, not per epoch since 1."""
    import io

    from lrsci import harness

    clock = iter([0.0, 0.0, 10.0, 20.0])   # built, started, epoch 9 after 10 s, epoch 10 after 20 s
    monkeypatch.setattr(harness.time, "perf_counter", lambda: next(clock))
    out = io.StringIO()
    bar = harness.Progress(stream=out)
    bar.start("trunk seed 0")
    bar(Stub(9), {"train_loss": 0.5, "test_acc": 80.0})
    assert out.getvalue().endswith("epoch   9/10 loss 0.500 test acc  80.0% ETA    10s")
    bar(Stub(10), {"train_loss": 0.25, "test_acc": 90.0})
    assert out.getvalue().endswith("ETA     0s\n") and out.getvalue().count("\n") == 1


def test_the_context_picks_its_workers_and_the_executors_store(tmp_path, monkeypatch):
    monkeypatch.delenv("LRSCI_WORKERS", raising=False)
    monkeypatch.delenv("LRSCI_RUNS_PER_GPU", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 5)
    make = lambda **kw: ClaimContext("fast", RunStore(tmp_path), tmp_path, n_seeds=1, **kw)  # noqa: E731
    assert make(device="cuda").workers == 3 and make(device="cpu").workers == 5
    monkeypatch.setattr("lrsci.harness.visible_gpus", lambda: 4)   # three workers share each GPU
    assert make(device="cuda").workers == 12 and make(device="cpu").workers == 5
    monkeypatch.setenv("LRSCI_RUNS_PER_GPU", "2")
    assert make(device="cuda").workers == 8 and make(device="cpu").workers == 5
    with pytest.raises(ValueError, match="workers"):
        make(workers=True)
    assert make(executor="batched").store.engine == "batched" and make().store.engine == "single"


def test_the_report_provenance_counts_this_invocations_runs(tmp_path, monkeypatch):
    """finish(): trained vs loaded runs, the epochs this invocation trained (a fork's shared prefix not
    counted twice), throughput, and where, on what data and by which commit the runs were trained."""
    from lrsci import harness
    from lrsci.harness import benchmark_info
    from tests.helpers import blobs, dev_context

    written = {}
    monkeypatch.setenv("LRSCI_GIT", "abc1234")   # the commit the runs are trained at, as a sender names it
    monkeypatch.setattr(harness, "write_section", lambda root, claim, profile, section, **kw: written.update(section))
    trunk = CFG.with_(epochs=3, device="auto")
    cached = dev_context(tmp_path, monkeypatch, blobs(), n_seeds=1)
    cached.run_all([Job(trunk.with_(seed=9), "old")])   # stored before this claim's context
    ctx = dev_context(tmp_path, monkeypatch, blobs(), n_seeds=1)
    forks = ctx.run_decay_forks(lambda seed: trunk.with_(seed=seed), [1], 0.1)
    ctx.run_all([Job(trunk.with_(seed=9), "old")])
    assert forks[1000][1].forked_from["epoch"] == 1
    section = ctx.finish({"id": "c"}, {"verdict": "supported"})
    prov = written["provenance"]
    assert section["seeds"] == [1000] and section["seed_offset"] == 1000 and section["profile"] == "t"
    assert (prov["runs_trained"], prov["runs_loaded"], prov["epochs_trained"]) == (2, 1, 3 + 2)
    assert prov["train_images"] == 3 * 256 * 3 and prov["images_per_second_per_run"] > 0
    assert prov["runs_trained_at_git"] == ["abc1234"] and prov["git"] == "abc1234"
    assert len(prov["runs_data_sha256"]) == 1 and prov["runs_wall_seconds_summed"] > 0
    assert benchmark_info(section)["runs_loaded"] == 1 and benchmark_info(section)["verdict"] == "supported"


def test_cuda_graphs_are_named_in_a_cuda_reports_provenance(tmp_path, monkeypatch):
    from lrsci import harness

    monkeypatch.setattr(harness, "write_section", lambda *a, **kw: None)
    monkeypatch.setenv("LRSCI_CUDA_GRAPHS", "1")
    ctx = ClaimContext("gpu", RunStore(tmp_path), tmp_path, n_seeds=1, device="cuda", workers=1)
    assert "CUDA graph" in ctx.finish({"id": "c"}, {"verdict": "supported"})["provenance"]["sgd_step"]

"""The executors' own logic, without Ray or worker processes: names, what a failed local pool leaves
running, the batch checkpoint's resume rules, the batched executor's store checks, the arguments the
Ray executor gives its tasks, and what it says when a run is missing from the driver's store."""

from concurrent.futures import Future

import pytest
import torch

from lrsci import executors
from lrsci.config import ScheduleConfig
from lrsci.harness import Job
from lrsci.runs import RunStore
from tests.helpers import blobs, tiny_config


@pytest.mark.parametrize("name, kind", [(" Local ", executors.LocalExecutor), ("BATCHED", executors.BatchedExecutor)])
def test_executor_names_ignore_case_and_surrounding_spaces(name, kind):
    assert isinstance(executors.make_executor(name), kind)


def test_a_failed_run_lets_the_pool_finish_the_others(monkeypatch):
    """A run that raises: the pool is shut down waiting, queued runs not cancelled (they get stored)."""
    calls = []

    class Pool:
        def __init__(self, *args, **kw):
            pass

        def submit(self, fn, args):
            future = Future()
            future.set_exception(RuntimeError("run 0 failed"))
            return future

        def shutdown(self, **kw):
            calls.append(kw)
    monkeypatch.setattr(executors, "ProcessPoolExecutor", Pool)
    jobs = [Job(tiny_config(seed=s), "run") for s in range(3)]
    with pytest.raises(RuntimeError, match="run 0 failed"):
        executors.LocalExecutor().train(RunStore("unused"), jobs, workers=2, progress=False)
    assert calls == [{"wait": True}]


class DonePool:
    """A process pool whose every run is done at once (stored by another worker): what the pool was given
    (``kw``) and what each run was sent (``sent``) are kept on the last one made."""
    last = None

    def __init__(self, *args, **kw):
        self.kw, self.sent = kw, []
        DonePool.last = self

    def submit(self, fn, args):
        self.sent.append(args)
        future = Future()
        future.set_result(("key", "host", "dir", False))
        return future

    def shutdown(self, **kw):
        pass


def test_workers_checkpoint_on_the_callers_interval_not_their_environments(monkeypatch, tmp_path):
    """The store's checkpoint interval travels with each job (lrsci.checkpoints), as Ray's tasks get it too."""
    used = []
    monkeypatch.setattr(executors, "ProcessPoolExecutor", DonePool)
    monkeypatch.setenv("LRSCI_CHECKPOINT_SECONDS", "30")   # what a worker's own environment would say
    jobs = [Job(tiny_config(seed=s), "run") for s in range(2)]
    executors.LocalExecutor().train(RunStore("unused", checkpoint_seconds=0), jobs, workers=2, progress=False)
    monkeypatch.setattr(RunStore, "run", lambda self, config, **kw: used.append(self.checkpoint_seconds))
    sent = DonePool.last.sent
    executors.train_job(*sent[0])   # as a worker runs it
    assert [a[5] for a in sent] == [0.0, 0.0] and used == [0.0]


class Stub:
    def __init__(self, error=None):
        self.error, self.loaded = error, None

    def load_state_dict(self, state):
        if self.error:
            raise self.error
        self.loaded = state


def test_a_checkpoint_that_fails_half_way_into_the_trainer_is_set_aside_and_reported(tmp_path):
    """resume() says False, so the caller starts a fresh batch instead of training a half-loaded one."""
    ckpt = tmp_path / "batch.pt"
    torch.save({"epoch": 2}, ckpt)
    with pytest.warns(UserWarning, match="unusable batch checkpoint .*KeyError"):
        assert executors.resume(Stub(KeyError("histories")), ckpt, "cpu") is False
    assert not ckpt.exists() and len(list(tmp_path.glob("batch.pt.corrupt-*"))) == 1
    ok = Stub()
    torch.save({"epoch": 2, "data_sha256": "aa"}, ckpt)
    assert executors.resume(ok, ckpt, "cpu", "aa") is True and ok.loaded["epoch"] == 2


def test_no_memory_to_load_a_batch_checkpoint_is_raised_and_keeps_the_file(tmp_path, monkeypatch):
    ckpt = tmp_path / "batch.pt"
    torch.save({"epoch": 2}, ckpt)
    monkeypatch.setattr(executors.torch, "load", lambda *a, **kw: (_ for _ in ()).throw(torch.OutOfMemoryError("oom")))
    with pytest.raises(torch.OutOfMemoryError):
        executors.resume(Stub(), ckpt, "cpu")
    assert ckpt.exists() and list(tmp_path.iterdir()) == [ckpt]


@pytest.fixture
def batched_store(tmp_path, monkeypatch):
    data = blobs(n_train=64, n_test=32, dim=8)
    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: data)
    monkeypatch.setattr("lrsci.data.registry.load_data", lambda cfg, root=None: data)
    return RunStore(tmp_path / "runs", engine="batched")


def test_a_batch_never_retrains_a_run_already_in_the_store(batched_store):
    configs = [tiny_config(seed=s, epochs=1) for s in range(3)]
    first = batched_store.run(configs[0])
    keys = executors.train_batch(batched_store, [Job(c, "run") for c in configs], progress=False)
    assert keys == [c.key() for c in configs[1:]]
    assert batched_store.load(configs[0]).history == first.history


def test_two_arms_asking_for_one_run_train_it_once_with_every_snapshot_either_asked_for(batched_store):
    a, b = tiny_config(seed=0, epochs=2), tiny_config(seed=1, epochs=2)
    jobs = [Job(a, "arm 1", snapshots=(1,)), Job(b, "arm 1"), Job(a, "arm 2", snapshots=(2,))]
    assert executors.train_batch(batched_store, jobs, progress=False) == [a.key(), b.key()]
    assert {p.name for p in batched_store.dir(a).glob("snap-*.pt")} == {"snap-1.pt", "snap-2.pt"}


def test_dropout_runs_are_left_to_train_one_by_one_not_crashed_in_vmap(batched_store):
    from lrsci.config import ModelConfig
    configs = [tiny_config(seed=s, epochs=1, model=ModelConfig("mlp", hidden=16, dropout=0.2)) for s in range(2)]
    assert executors.train_batch(batched_store, [Job(c, "run") for c in configs], progress=False) == []


def test_forks_whose_parent_snapshot_is_missing_train_from_scratch_with_the_numbers_of_a_fork(tmp_path, batched_store):
    parent = tiny_config(epochs=3, **{"optim.momentum": 0.9})
    child = parent.with_(schedule=ScheduleConfig("step", milestones=(2,)))
    forks = [Job(child.with_(seed=s), "fork", fork=(parent.with_(seed=s), 1)) for s in range(2)]
    whole = RunStore(tmp_path / "whole", engine="batched")   # parents first, with their snapshots
    executors.train_batch(whole, [Job(parent.with_(seed=s), "trunk", snapshots=(1,)) for s in range(2)], False)
    assert executors.train_batch(whole, forks, progress=False) == [j.config.key() for j in forks]
    # No parent at all: both forks train from scratch, batched, to the same numbers.
    assert executors.train_batch(batched_store, forks, progress=False) == [j.config.key() for j in forks]
    for j in forks:
        assert batched_store.load(j.config).history == whole.load(j.config).history
        assert batched_store.load(j.config).extra["trained_in_batch_of"] == 2
    # One parent's snapshot torn: its fork trains from scratch, the other from its snapshot; numbers unchanged.
    mixed = RunStore(tmp_path / "mixed", engine="batched")
    executors.train_batch(mixed, [Job(parent.with_(seed=s), "trunk", snapshots=(1,)) for s in range(2)], False)
    (mixed.dir(parent.with_(seed=1)) / "snap-1.pt").write_bytes(b"torn")
    with pytest.warns(UserWarning):
        executors.train_batch(mixed, forks, progress=False)
    for j in forks:
        got = mixed.load(j.config)
        assert got.history == whole.load(j.config).history and got.extra["trained_in_batch_of"] == 1


def test_a_run_with_no_partner_trains_batched_with_the_numbers_it_has_in_any_batch(tmp_path, batched_store):
    configs = [tiny_config(seed=s, epochs=2, **{"optim.momentum": 0.9}) for s in range(2)]
    executors.train_batch(batched_store, [Job(configs[1], "run")], progress=False)   # seed 1 first, alone
    together = RunStore(tmp_path / "together", engine="batched")
    executors.train_batch(together, [Job(c, "run") for c in configs], progress=False)
    alone, paired = batched_store.load(configs[1]), together.load(configs[1])
    assert alone.extra["trained_in_batch_of"] == 1 and paired.extra["trained_in_batch_of"] == 2
    assert alone.history == paired.history


def test_a_cpu_batch_trains_on_one_thread_whatever_the_caller_set(batched_store, monkeypatch):
    from lrsci.batched import BatchedTrainer

    seen, real = [], BatchedTrainer.train_epoch
    monkeypatch.setattr(BatchedTrainer, "train_epoch", lambda self: (seen.append(torch.get_num_threads()), real(self))[1])
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        executors.train_batch(batched_store, [Job(tiny_config(seed=s, epochs=1), "run") for s in range(2)], False)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


class FakeRay:
    """Records what RayExecutor hands each task; the task 'runs' by returning where it stored the run."""

    def __init__(self, store):
        self.store, self.options, self.args = store, [], []

    def is_initialized(self):
        return True

    def remote(self, fn):
        fake = self

        class Task:
            def options(self, **kw):
                fake.options.append(kw)
                return self

            def remote(self, *args):
                fake.args.append(args)
                return args[2]
        return Task()

    def get(self, job):   # seed 2's run was stored first by another worker: this task did not train it
        return job.config.key(), "node-7", str(self.store.dir(job.config)), job.config.seed != 2


def test_ray_tasks_get_the_absolute_store_path_and_the_callers_lrsci_variables(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LRSCI_WORKERS", "3")
    monkeypatch.setenv("OTHER_VAR", "x")
    store = RunStore("runs", checkpoint_seconds=7)   # relative: a worker's cwd is not ours
    monkeypatch.setattr(RunStore, "load", lambda self, config: object())
    ex = executors.RayExecutor.__new__(executors.RayExecutor)
    ex.ray, ex.hook = FakeRay(store), None
    jobs = [Job(tiny_config(seed=s, device=d), "run") for s, d in ((0, "cpu"), (1, "cuda"), (2, "cpu"))]
    assert ex.train(store, jobs, workers=2, progress=False) == [j.config.key() for j in jobs[:2]]
    assert [a[0] for a in ex.ray.args] == [str(tmp_path / "runs")] * 3
    assert [a[5] for a in ex.ray.args] == [7.0] * 3   # the store's checkpoint interval, not the worker's env
    env = ex.ray.options[0]["runtime_env"]["env_vars"]
    assert env["LRSCI_WORKERS"] == "3" and "OTHER_VAR" not in env
    assert [o["num_gpus"] for o in ex.ray.options] == [0, 0.3333, 0]   # three runs share a GPU, as locally
    assert all(o["max_retries"] == executors.MAX_RETRIES for o in ex.ray.options)


@pytest.mark.parametrize("value, address", [("", None), ("ray://head:10001", "ray://head:10001")])
def test_an_empty_ray_address_means_no_address(tmp_path, monkeypatch, value, address):
    import os

    store = RunStore(tmp_path / "runs")
    monkeypatch.setattr(RunStore, "load", lambda self, config: object())
    monkeypatch.setenv("RAY_ADDRESS", value)
    fake, seen = FakeRay(store), {}
    fake.is_initialized = lambda: False
    fake.init = lambda address=None: seen.update(address=address, env=os.environ.get("RAY_ADDRESS"))
    ex = executors.RayExecutor.__new__(executors.RayExecutor)
    ex.ray, ex.hook = fake, None
    ex.train(store, [Job(tiny_config(), "run")], workers=1, progress=False)
    assert seen == {"address": address, "env": address}   # ray.init reads $RAY_ADDRESS too: "" is gone there


def test_a_run_stored_under_another_folder_name_blames_the_nodes_code_version(tmp_path):
    store = RunStore(tmp_path / "runs")
    job = Job(tiny_config(), "trunk")
    with pytest.raises(RuntimeError, match="node-7 .*other lrsci code .*same commit on every node"):
        executors._check_stored(store, job, "node-7", str(tmp_path / "runs" / "0123456789abcdef-e0"))
    with pytest.raises(RuntimeError, match="run store is not shared"):
        executors._check_stored(store, job, "node-7", str(store.dir(job.config)))


def test_local_workers_spread_over_every_visible_gpu_in_the_order_they_start(monkeypatch):
    """Worker i trains on GPU i mod their number (``_worker_init`` runs once in each worker as it starts);
    with one GPU no worker sets a device. No GPU here: set_device is recorded, not called."""
    import multiprocessing

    chosen = []
    monkeypatch.setattr(executors.torch, "set_num_threads", lambda n: None)   # this process's threads stay
    monkeypatch.setattr(executors.torch.cuda, "set_device", chosen.append)
    slots = multiprocessing.get_context("spawn").Value("i", 0)   # what the pool hands each worker
    for _ in range(5):
        executors._worker_init(None, slots, 2)
    assert chosen == [0, 1, 0, 1, 0]
    executors._worker_init(None, None, 1)
    executors._worker_init(None, None, 0)
    assert chosen == [0, 1, 0, 1, 0]


@pytest.mark.parametrize("device, gpus, shared", [("cuda", 2, True), ("auto", 4, True), ("cuda", 1, False),
                                                  ("cpu", 2, False)])
def test_the_local_pool_hands_out_gpus_only_to_runs_on_cuda_and_only_when_there_are_several(
        monkeypatch, device, gpus, shared):
    monkeypatch.setattr(executors, "ProcessPoolExecutor", DonePool)
    monkeypatch.setattr(executors, "visible_gpus", lambda: gpus)
    jobs = [Job(tiny_config(seed=s, device=device), "run") for s in range(3)]
    executors.LocalExecutor().train(RunStore("unused"), jobs, workers=3, progress=False)
    given = DonePool.last.kw
    parent, slots, n = given["initargs"]
    assert given["initializer"] is executors._worker_init
    assert (slots is not None, slots.value if slots else None, n) == ((True, 0, gpus) if shared else
                                                                      (False, None, 0 if device == "cpu" else gpus))


@pytest.mark.parametrize("runs, share", [(1, 1.0), (2, 0.5), (3, 0.3333), (7, 0.1428), (100, 0.01)])
def test_a_ray_task_asks_for_a_share_of_a_gpu_that_lets_that_many_runs_fit_on_one(monkeypatch, runs, share):
    monkeypatch.setenv("LRSCI_RUNS_PER_GPU", str(runs))
    assert executors.ray_gpu_share() == share and runs * share <= 1.0


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "2.5", "101", "³"])
def test_a_bad_lrsci_runs_per_gpu_names_the_variable_and_what_it_counts(monkeypatch, raw):
    monkeypatch.setenv("LRSCI_RUNS_PER_GPU", raw)
    with pytest.raises(ValueError, match=r"LRSCI_RUNS_PER_GPU=.*<= 100 \(runs sharing one GPU\)"):
        executors.runs_per_gpu()

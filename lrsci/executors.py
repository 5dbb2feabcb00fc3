"""Where a claim's runs train: worker processes on this machine, or tasks on a Ray cluster.

Both executors have one method, ``train(store, jobs, workers, progress) -> keys trained``. They
write every run into the run store; the caller (``ClaimContext.run_all``) then reads each run
back from the store, so a result never travels any other way and the numbers are the store's.

``LRSCI_EXECUTOR`` (or ``--executor`` on pytest and ``lrsci run``) picks one:

- ``local`` (default): parallel worker processes here (``LRSCI_WORKERS``); a single job, or a
  single worker, trains in the calling process.
- ``ray``: every job is a Ray task asking for a 1/``LRSCI_RUNS_PER_GPU`` share of a GPU (device cuda) or
  one CPU. Connects with ``ray.init(address=$RAY_ADDRESS)`` (unset or empty: a running local cluster, else a new local
  instance); a process that already called ``ray.init`` is used as it is. A task whose worker
  dies is retried (``MAX_RETRIES``) and resumes from the run's last checkpoint (lrsci.checkpoints). Ctrl-C at
  the driver writes a stop file into the run store: every task ends its epoch with a checkpoint (lrsci.interrupts).
  The run store (and any data root) must be one path every node sees: see ``RayExecutor``.
  Ray is an optional dependency (``pip install -e ".[ray]"``), imported only when chosen.
- ``batched``: the runs that can share a batch (same architecture, data, batch size, precision;
  forks from the same epoch) train together as one vmapped model in this process
  (:class:`lrsci.batched.BatchedTrainer`; a run with no partner is a batch of one, on one thread
  on a CPU, so what a key holds does not depend on which runs were still to train); runs that
  cannot be batched (full-batch GD, activation noise, dropout) train one by one. Its runs live in
  their own store folders (``<key>-e<version>-batched``): they match single-run training only to
  float tolerance. Experimental: not used by the committed reports. A batch is checkpointed as a run
  is (lrsci.checkpoints; ``<run store>/batches/<hash of its run keys>.pt``): interrupted, it resumes there.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from . import files
from .checkpoints import CheckpointClock
from .interrupts import StopRequested, stop_at_epoch_end, waiter_stop
from .runs import RunStore, cpu_threads, record_fork
from .state_files import read_state, write_state
from .switches import count_from_env

EXECUTORS = ("local", "ray", "batched")
STOPPED_WORKER_EXIT_SECONDS = 5.0   # how long a worker whose run has stopped gets to exit before it is killed
MAX_RETRIES = 3  # a lost worker or node costs at most the epoch it was training, so retrying is cheap


def make_executor(name: str | None = None):
    """The executor called ``name``, else ``$LRSCI_EXECUTOR``, else local."""
    raw = (name or os.environ.get("LRSCI_EXECUTOR") or "local").strip().lower()
    if raw == "local":
        return LocalExecutor()
    if raw == "ray":
        return RayExecutor()
    if raw == "batched":
        return BatchedExecutor()
    raise ValueError(f"executor {raw!r} (LRSCI_EXECUTOR / --executor): expected one of {', '.join(EXECUTORS)}")


def train_job(root: str, data_root, job, progress: bool, hook=None,
              checkpoint_seconds: float | None = None, stop_file: str | None = None) -> tuple[str, str, str, bool]:
    """Train (or resume, or load) one job into the store at ``root``, in whatever process runs
    this. ``hook(trainer, record)`` is called after every epoch, after the progress line;
    ``checkpoint_seconds``: the caller's store's (None: this process's LRSCI_CHECKPOINT_SECONDS);
    ``stop_file``: once it exists, the run stops at the end of its epoch and a job not yet started does not
    start (RunStore.run). Returns (config key, host, run folder as this process sees it, whether this call
    trained it: False when another worker stored the same run first, so a report counts it once)."""
    from .harness import Progress  # here, not at the top: harness imports this module

    if stop_file is not None and os.path.exists(stop_file):
        raise StopRequested(f"stop file: run {job.config.key()} (seed {job.config.seed}) was not started")
    store = RunStore(root, data_root=data_root, checkpoint_seconds=checkpoint_seconds)
    bar = Progress(enabled=progress, lines=True)
    bar.start(f"{job.label} seed {job.config.seed}")

    def on_epoch(trainer, record):
        bar(trainer, record)
        if hook is not None:
            hook(trainer, record)
    store.run(job.config, snapshots=job.snapshots, fork=job.fork, on_epoch=on_epoch, stop_file=stop_file)
    key = job.config.key()
    return key, socket.gethostname(), str(store.dir(job.config)), key in store.trained


class LocalExecutor:
    """Worker processes on this machine: one single-threaded worker per core on the CPU,
    ``runs_per_gpu()`` sharing each GPU (a small network at batch 128 leaves most of an H100 idle). With
    several GPUs visible, worker i trains on GPU i mod their number, so the runs spread over all of them."""

    name = "local"

    def train(self, store: RunStore, jobs: list, workers: int, progress: bool) -> list[str]:
        if workers <= 1 or len(jobs) <= 1:
            return []  # nothing gained from a process: the caller trains these in its own process
        ctx = multiprocessing.get_context("spawn")  # fork() after torch has started threads is unsafe
        args = [(str(store.root), store.data_root, j, progress, None, store.checkpoint_seconds) for j in jobs]
        others = set(multiprocessing.active_children())
        gpus = gpus_for(jobs)
        slots = ctx.Value("i", 0) if gpus > 1 else None   # the order workers start in: each takes the next GPU
        pool = ProcessPoolExecutor(min(workers, len(jobs)), mp_context=ctx, initializer=_worker_init,
                                   initargs=(os.getpid(), slots, gpus))
        futures = [pool.submit(_worker_run, a) for a in args]
        # submit() starts the workers (a spawn pool starts one per submission up to its size), so they are the
        # children that are new now; a shutdown forgets them, and a stop needs them to wait for and to signal.
        pool_workers = [p for p in multiprocessing.active_children() if p not in others]
        with waiter_stop() as stop:   # Ctrl-C or SIGTERM to this process: the workers stop (a second: at once)
            try:
                results = [f.result() for f in futures]
            except (KeyboardInterrupt, SystemExit):   # from a signal, or a worker's run stopped by one
                stop.begin()
                _stop_workers(pool, futures, pool_workers)
                raise
            except Exception:
                pool.shutdown(wait=True)   # a run that failed lets the others finish and be stored
                raise
        pool.shutdown(wait=True)
        return [key for key, _, _, trained in results if trained]


def _stop_workers(pool: ProcessPoolExecutor, futures: list, workers: list) -> None:
    """Ctrl-C (or SIGTERM, or a worker's own stop): no queued run starts, and every worker ends its epoch,
    writes a checkpoint and ends (lrsci.interrupts), so no orphan trains on holding its run's lock and nothing
    trained is lost. A second Ctrl-C ends them at once (each run resumes from its last checkpoint)."""
    pool.shutdown(wait=False, cancel_futures=True)
    running = [f for f in futures if not f.done()]
    # A terminal's Ctrl-C reached the workers already; SIGTERM is the same request for them, not a second one.
    for proc in workers:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(proc.pid, signal.SIGTERM)
    try:
        alive = sum(proc.is_alive() for proc in workers)
        if running and alive:
            who = f"{alive} workers to end their" if alive > 1 else "1 worker to end its"
            print(f"[lrsci] waiting for {who} epoch with a checkpoint (Ctrl-C again stops at once)",
                  file=sys.stderr, flush=True)
        # f.done(), not concurrent.futures.wait: a future the shutdown cancelled is done but never "notified".
        # No result comes from a worker that has died (a SIGTERM before its run began to train).
        while not all(f.done() for f in running) and any(proc.is_alive() for proc in workers):
            time.sleep(0.1)
        for f in running:   # where each stopped run stopped (the workers' own exceptions end here)
            if f.done() and not f.cancelled() and isinstance(f.exception(), StopRequested):
                print(f"[lrsci] {f.exception()}", file=sys.stderr, flush=True)
        for proc in workers:
            proc.join(timeout=STOPPED_WORKER_EXIT_SECONDS)   # its run is saved; an idle one is killed below
    except KeyboardInterrupt:   # a second Ctrl-C
        pass
    finally:
        for proc in workers:
            proc.kill()   # a no-op for a worker that has ended


def gpus_for(jobs: list) -> int:
    """The GPUs local workers spread over: every visible one when a job trains on CUDA ("cuda", or "auto" on a
    machine with one), else 0. ``CUDA_VISIBLE_DEVICES`` chooses which. A run's config says "cuda", not which
    GPU, so its key, and whether the store has it, do not depend on the GPU that trained it."""
    return 0 if all(j.config.device == "cpu" for j in jobs) else visible_gpus()


def visible_gpus() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


RUNS_PER_GPU = 3   # issue #13: three runs at once on one H100 trained ~14.7k images/s each, ~44k together


def runs_per_gpu() -> int:
    """``LRSCI_RUNS_PER_GPU`` (default 3): how many runs share one GPU, as local workers or Ray tasks. Lower it
    for a network that fills a GPU (memory or compute), raise it for one that leaves it idle."""
    return count_from_env("LRSCI_RUNS_PER_GPU", RUNS_PER_GPU, "runs sharing one GPU", most=100)


def ray_gpu_share() -> float:
    """One run's share of a GPU as a Ray resource: 1/runs_per_gpu() rounded down to Ray's precision (0.0001), so
    that runs_per_gpu() of them fit on one GPU (1/7 rounded to nearest, 0.1429, would fit only 6)."""
    return math.floor(10_000 / runs_per_gpu()) / 10_000


def _worker_init(parent: int | None = None, slots=None, gpus: int = 0) -> None:
    torch.set_num_threads(1)
    if gpus > 1:   # one GPU: its default device already; "cuda" in this process is now this worker's GPU
        with slots.get_lock():
            slot, slots.value = slots.value, slots.value + 1
        torch.cuda.set_device(slot % gpus)
    if parent is not None:   # a parent killed outright (SIGKILL) cannot end its workers: they watch it
        threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(2.0)
    os._exit(1)   # the run resumes from its last checkpoint when asked again


EXIT_WITH_PARENT = "LRSCI_EXIT_WITH_PARENT"   # set by `lrsci run` to its own pid, for the pytest it starts


def exit_with_parent_from_env() -> bool:
    """In a process started by ``lrsci run``: end this process when that parent dies (SIGKILL cannot be passed
    on), as worker processes end with theirs. True when a watch was started."""
    raw = os.environ.get(EXIT_WITH_PARENT, "")
    if not raw.isdigit() or os.getppid() != int(raw):   # not started by it, or a grandchild that inherited it
        return False
    threading.Thread(target=_exit_when_orphaned, args=(int(raw),), daemon=True).start()
    return True


_STOPPING = False   # in a worker: a run of this process was stopped (Ctrl-C, SIGTERM); it starts no other


def _worker_run(args) -> tuple[str, str, str, bool]:
    global _STOPPING
    if _STOPPING:   # a run queued to this worker before the stop
        raise KeyboardInterrupt("this worker was asked to stop; the run was not started")
    try:
        return train_job(*args)
    except KeyboardInterrupt:
        _STOPPING = True
        # Stopping: no later signal may end this process while it sends its result back (the parent's SIGTERM
        # arrives as its run stops), which would leave the pool's result pipe half-written and the parent waiting.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        raise


class BatchedExecutor:
    """Jobs that can share a batch train as one batched model here; the rest are left to the caller."""

    name = "batched"
    engine = "batched"  # the store namespace its runs (and its fallbacks) are kept in

    def train(self, store: RunStore, jobs: list, workers: int, progress: bool) -> list[str]:
        trained = []
        for group in batch_groups(jobs):
            trained += train_batch(store, group, progress)
        return trained


def batch_groups(jobs: list) -> list[list]:
    """Jobs grouped by what a batch must share, forks by their fork epoch. A group of one is a batch of one:
    a run's batched numbers do not depend on which runs share its batch (tests/test_batched.py), but they
    are not the Trainer's, so a run the batched store keeps is trained by the BatchedTrainer whenever it can
    be — else what a key holds would depend on how many of its siblings were still to train."""
    from .batched import SHARED, SHARED_OPTIM

    groups: dict[str, list] = {}
    for job in jobs:
        c = job.config.to_dict()
        sig = json.dumps([{k: c[k] for k in SHARED}, {k: c["optim"][k] for k in SHARED_OPTIM},
                          job.fork[1] if job.fork else None], sort_keys=True)
        groups.setdefault(sig, []).append(job)
    return list(groups.values())


def _fork_start(store: RunStore, job, device) -> dict | None:
    """A fork's parent snapshot (Trainer format), or None when it is missing or unusable: that fork then
    trains from scratch, in a batch of its own (the same numbers as a fork from the snapshot, only slower)."""
    from .runs import check_fork, check_snapshot

    parent, epoch = job.fork
    check_fork(job.config, parent, epoch)
    snap = store.dir(parent) / f"snap-{epoch}.pt"
    # the store's own checks: a snapshot of other data bytes is set aside, a diverged parent refused
    state = store.usable_state(snap, device, store.data_identity(job.config))
    if state is None:
        return None
    check_snapshot(state, snap, epoch)
    return {**state, "status": "running", "diverged_at_step": None}   # the child goes on


def train_batch(store: RunStore, jobs: list, progress: bool) -> list[str]:
    """Train the jobs not yet stored as one batch (holding each run's lock); their keys. Snapshots a
    job asks for are written in the Trainer's format, so forks (batched or not) start from them. Forks
    whose parent snapshot is missing or unusable train from scratch, in a second batch."""
    from .batched import check_batchable
    from .train import resolve_device

    try:
        check_batchable([j.config for j in jobs])
    except ValueError as exc:   # e.g. activation noise, full-batch GD: these train one by one, and say why
        each = "it trains" if len(jobs) == 1 else "each trains"
        print(f"[lrsci] {_runs(len(jobs))} cannot train batched ({exc}): {each} on its own", file=sys.stderr,
              flush=True)
        return []
    jobs = _one_job_per_run(jobs)   # two arms may ask for one run: it trains (and is locked) once
    with contextlib.ExitStack() as locks:
        for j in sorted(jobs, key=lambda j: j.config.key()):
            locks.enter_context(store._lock(j.config))
        todo = [j for j in jobs if store.load(j.config, locked=True) is None]
        if not todo:
            return []
        device = resolve_device(todo[0].config.device)
        batches = [(todo, None)]
        if todo[0].fork:
            starts = [_fork_start(store, j, device) for j in todo]
            batches = [([j for j, st in zip(todo, starts) if st is not None], [st for st in starts if st is not None]),
                       ([j for j, st in zip(todo, starts) if st is None], None)]
        # one thread on a CPU, as the store's own runs: the numbers must not depend on the machine's cores
        with cpu_threads(1 if device.type == "cpu" else None):
            for batch, batch_starts in batches:
                if batch:
                    _train_one_batch(store, batch, batch_starts, device, progress)
    return [j.config.key() for j in todo]


def _runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def _train_one_batch(store: RunStore, todo: list, starts: list | None, device, progress: bool) -> None:
    """Train ``todo`` (locked, none stored) as one BatchedTrainer — from ``starts`` (parent snapshots) when
    given — with checkpoints as a run has them (lrsci.checkpoints), then store each run's result."""
    from .batched import BatchedTrainer
    from .data.registry import load_data

    started = time.perf_counter()
    configs = [j.config for j in todo]
    data_id = store.data_identity(configs[0])   # kept with every state, as the store's own runs keep it
    data = load_data(configs[0].data, store.data_root)
    ckpt = batch_checkpoint(store, configs)
    run_dirs = [store.dir(c).name for c in configs]
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    trainer = BatchedTrainer(configs, data, device, starts=starts)
    if not resume(trainer, ckpt, device, data_id):   # a checkpoint that failed half-way leaves a mix:
        trainer = BatchedTrainer(configs, data, device, starts=starts)   # start from a fresh batch
    clock = CheckpointClock(store.checkpoint_seconds)
    # Ctrl-C or SIGTERM: this epoch ends, with the batch's checkpoint, and then the batch stops (lrsci.interrupts)
    with stop_at_epoch_end(f"the batch of {_runs(len(todo))}") as stop:
        while not trainer.done:
            trainer.train_epoch()
            _write_batch_snapshots(store, todo, trainer, data_id)
            # run_dirs: the folders these runs are stored in (device "auto" resolved), for `lrsci store` to check
            if not trainer.done and (clock.take() or stop.requested):   # a finished batch's record: its results
                write_state(ckpt, {**trainer.state_dict(), "data_sha256": data_id, "run_dirs": run_dirs})
            if progress:
                running = sum(s == "running" for s in trainer.status)
                print(f"batch of {len(todo)}: epoch {trainer.epoch} done, {running} running", flush=True)
            if stop.requested and not trainer.done:
                raise stop.stopped(f"stopped after epoch {trainer.epoch}, with a checkpoint: running it again "
                                   "resumes there")
    for job, result in zip(todo, trainer.results()):
        # forked only if it started from its parent's snapshot: a fork trained from scratch (no usable
        # snapshot) is recorded as the store's own runs record it, with no fork.json (and a stale one goes)
        forked_from = {"key": job.fork[0].key(), "epoch": job.fork[1]} if job.fork and starts is not None else None
        store.dir(job.config).mkdir(parents=True, exist_ok=True)
        record_fork(store.dir(job.config), forked_from)
        if forked_from is not None:
            result.forked_from = forked_from
        store.save_result(job.config, result, device, started)
    ckpt.unlink(missing_ok=True)  # every run of the batch is stored: the checkpoint has done its job
    if stop.requested:   # asked during its last epoch: the runs are stored, and the process stops as asked
        raise stop.stopped("ended with that epoch and its runs are stored")


def _write_batch_snapshots(store: RunStore, todo: list, trainer, data_id) -> None:
    """The Trainer-format snapshot of each run that asked for one at this epoch (not one it ended before)."""
    for i, job in enumerate(todo):
        trained = trainer.histories[i] and trainer.histories[i][-1]["epoch"] == trainer.epoch
        if trainer.epoch in job.snapshots and trained:
            run_dir = store.dir(job.config)
            run_dir.mkdir(parents=True, exist_ok=True)
            write_state(run_dir / f"snap-{trainer.epoch}.pt", {**trainer.run_state(i), "data_sha256": data_id})


def _one_job_per_run(jobs: list) -> list:
    """Jobs with one config merged into the first (with every snapshot any of them asks for), in order."""
    merged: dict[str, object] = {}
    for j in jobs:
        first = merged.setdefault(j.config.key(), j)
        if first is not j and set(j.snapshots) - set(first.snapshots):
            merged[j.config.key()] = dataclasses.replace(first, snapshots=tuple(sorted({*first.snapshots,
                                                                                       *j.snapshots})))
    return list(merged.values())


def batch_checkpoint(store: RunStore, configs: list) -> Path:
    """Where a batch of exactly these runs (in this order) keeps its checkpoint."""
    digest = hashlib.sha256("\n".join(store.dir(c).name for c in configs).encode()).hexdigest()[:20]
    return store.root / "batches" / f"{digest}.pt"


def resume(trainer, path: Path, device, data_id: str | None = None) -> bool:
    """Continue from the batch's checkpoint if it is there, readable and saved from the data as it is now
    (``data_id``, its content hash; a checkpoint without one is accepted); any other is moved aside.
    False when one was moved aside: ``trainer`` may then hold part of it and must not train on."""
    if not path.exists():
        return True
    try:
        state = read_state(path, map_location=device)
        if state.get("data_sha256", data_id) != data_id:
            raise ValueError(f"saved from other data bytes ({state['data_sha256']}, now {data_id})")
        trainer.load_state_dict(state)
    except (torch.OutOfMemoryError, MemoryError):
        raise   # the file may be fine: no room to load it is not a reason to set it aside
    except Exception as exc:  # a torn or foreign file: say so, keep it for inspection, train from the start
        moved = files.quarantine(path)
        warnings.warn(f"{path}: unusable batch checkpoint ({type(exc).__name__}: {exc}); moved it aside to "
                      f"{moved.name} and train the batch from its start", stacklevel=2)
        return False
    return True


class RayExecutor:
    """Every job a Ray task; every result read back from the run store by this process.

    The store is shared by path: pass ``--run-store``/``LRSCI_RUNS`` a folder every node mounts
    at the same path (NFS or another shared filesystem with file locks). Tasks get the store's
    absolute path and the caller's ``LRSCI_*`` variables. If a task succeeds but this process
    then cannot find the run's result in its store, the store is not shared: ``train`` raises,
    naming the node and the path, rather than retrain the run here or lose it. A task that fails is
    raised only after every other task has ended, so the runs that could train are all stored.

    ``hook`` is passed to ``train_job`` in each task (e.g. a profiler; the tests inject a
    worker kill with it); it must be picklable.
    """

    name = "ray"

    def __init__(self, hook=None):
        self.ray = import_ray()
        self.hook = hook

    def train(self, store: RunStore, jobs: list, workers: int, progress: bool) -> list[str]:
        ray = self.ray
        if not ray.is_initialized():
            if os.environ.get("RAY_ADDRESS") == "":   # set but empty means unset; ray.init reads it too and
                del os.environ["RAY_ADDRESS"]          # would refuse "" as an "invalid address format"
            ray.init(address=os.environ.get("RAY_ADDRESS"))
        task = ray.remote(_ray_task)
        root = str(Path(store.root).resolve())  # a relative path would resolve in each worker's cwd
        data_root = store.data_root or os.environ.get("LRSCI_DATA")
        data_root = str(Path(data_root).expanduser().resolve()) if data_root else None
        env = {k: v for k, v in os.environ.items() if k.startswith("LRSCI_")}
        # Ctrl-C here: this file, in the store every node sees, asks each task to end its epoch with a checkpoint
        stop_file = str(Path(root) / f".stop-{os.getpid()}-{time.time_ns()}")
        gpu = ray_gpu_share()
        refs = [task.options(num_cpus=1, num_gpus=gpu if j.config.device.startswith("cuda") else 0,
                             max_retries=MAX_RETRIES, runtime_env={"env_vars": env},
                             name=f"lrsci {j.label} seed {j.config.seed}"
                             ).remote(root, data_root, j, progress, self.hook, store.checkpoint_seconds, stop_file)
                for j in jobs]
        keys, failed = [], []
        for job, ref in zip(jobs, refs):
            try:   # as the local workers: a run that failed lets the others finish and be stored
                key, host, run_dir, trained = ray.get(ref)
                _check_stored(store, job, host, run_dir)
            except (KeyboardInterrupt, SystemExit):   # Ctrl-C (SIGTERM: ray.init's handler exits, Ray's aborts)
                _stop_ray_tasks(ray, refs, stop_file)
                raise
            except Exception as exc:  # noqa: BLE001 -- raised below, once every other task has ended
                failed.append(exc)
                continue
            keys += [key] if trained else []
        if failed:
            if len(failed) > 1:
                warnings.warn(f"{len(failed)} of {len(jobs)} Ray tasks failed; the first is raised, the others "
                              f"were: {'; '.join(f'{type(e).__name__}: {e}'[:200] for e in failed[1:])}", stacklevel=2)
            raise failed[0]
        return keys


def _stop_ray_tasks(ray, refs: list, stop_file: str) -> None:
    """Ctrl-C at the driver: every task ends its epoch with a checkpoint and the queued ones do not start (the
    stop file); a second Ctrl-C cancels them at once (each run resumes from its last checkpoint)."""
    try:
        files.write_text(Path(stop_file), "stop\n")
        print("[lrsci] waiting for the Ray tasks to end their epoch with a checkpoint (Ctrl-C again stops at once)",
              file=sys.stderr, flush=True)
        ray.wait(refs, num_returns=len(refs))
    except (KeyboardInterrupt, SystemExit):   # a second Ctrl-C
        for ref in refs:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
    finally:
        Path(stop_file).unlink(missing_ok=True)


def _ray_task(root, data_root, job, progress, hook, checkpoint_seconds, stop_file=None):
    torch.set_num_threads(1)  # as the local workers: CPU runs train single-threaded (lrsci.runs.cpu_threads)
    return train_job(root, data_root, job, progress, hook, checkpoint_seconds, stop_file)


def _check_stored(store: RunStore, job, host: str, run_dir: str) -> None:
    """A run a task reports as trained must be in this process's store, else say why it is not."""
    if store.load(job.config) is not None:
        return
    here = str(Path(store.dir(job.config)).resolve())
    if Path(run_dir).name != Path(here).name:
        raise RuntimeError(f"run {job.label!r} seed {job.config.seed} was stored by node {host} as {run_dir}, but "
                           f"this process expects {here}: that node runs other lrsci code (another engine "
                           "version); install the same commit on every node")
    raise RuntimeError(f"run {job.label!r} seed {job.config.seed} was trained by a Ray task on node {host} into "
                       f"{run_dir}, but this process finds no result.json in {here}: the run store is not shared "
                       "between the nodes. Put it on a filesystem every node mounts at the same path (e.g. NFS) "
                       "and pass that path as --run-store or LRSCI_RUNS. (The run is kept on that node; nothing "
                       "is retrained here.)")


def import_ray():
    """``ray``, or an error that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError("the Ray executor (LRSCI_EXECUTOR=ray / --executor ray) needs Ray, which is not "
                          "installed: pip install -e \".[ray]\"") from exc
    return ray

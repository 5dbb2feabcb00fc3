"""The run store: every run is keyed by a hash of its config and trained at most once.

Layout under the store root (``.runs/`` by default, ``LRSCI_RUNS`` or ``--run-store``)::

    <key>-e<engine>/config.json          the config, readable
    <key>-e<engine>/checkpoint.pt        an unfinished run's latest checkpoint (resume point; lrsci.checkpoints)
    <key>-e<engine>/checkpoint.prev.pt   the one before (fallback if the latest is unreadable)
    <key>-e<engine>/snap-<e>.pt          kept snapshots after epoch e (fork points for other runs)
    <key>-e<engine>/result.json          the finished run: history, outcome, where/what it trained on
    <key>-e<engine>.lock                 held while one process trains the run

What a user can rely on: writes are atomic (temporary file + rename), so a kill or a full disk
leaves the old file or the new one, never half of one, and a full disk is reported as such; a
killed run resumes from its last checkpoint with the numbers an uninterrupted run would have (a run
stopped by Ctrl-C or SIGTERM first ends its epoch and writes one: lrsci.interrupts);
two processes asking for one run train it once (the second waits, then loads); an unreadable
file is moved aside as ``<name>.corrupt-<time>`` (never deleted) and training restarts from the
last good point; a run stored by another engine version, or trained on other data bytes (the
content hash recorded with it and with each checkpoint and snapshot), is never reused. A decay arm
forks from its no-decay trunk's snapshot at the decay epoch: the shared prefix is trained once, and
only where the fork gives the numbers of training the arm from scratch (:func:`check_fork`).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import torch
from filelock import FileLock

from . import files
from .checkpoints import CheckpointClock, check_seconds, seconds_from_env
from .config import RunConfig
from .data.registry import load_data
from .files import write_json as _write_json
from .interrupts import stop_at_epoch_end
from .state_files import read_state, write_state
from .provenance import cpu_model, device_name, git_hash, utc_now
from .train import ENGINE_VERSION, RunResult, Trainer, resolve_device

DEFAULT_ROOT = ".runs"


STATEFUL_SCHEDULES = ("autodecay", "plateau")


def check_fork(child: RunConfig, parent: RunConfig, epoch: int) -> None:
    """A fork is valid only if the child would have trained the parent's first ``epoch`` epochs.

    Schedules that decide from the losses they observe (AutoDecay, ReduceLROnPlateau) never fork:
    as the child, their state at the fork point would be the parent's, not their own; as the parent,
    the rates it trained at are not those of a freshly built schedule, which is all this can compare."""
    for role, cfg in (("child", child), ("parent", parent)):
        if cfg.schedule.kind in STATEFUL_SCHEDULES:
            raise ValueError(f"cannot fork at epoch {epoch}: the {role}'s schedule is {cfg.schedule.kind!r}, "
                             "whose rates depend on the losses it saw; train it from scratch")
    # The fork trains epochs epoch+1..child.epochs from the snapshot after ``epoch``: at least one, and
    # the parent must have trained that far (else the child loops or ends at the parent's budget).
    if not 1 <= epoch < child.epochs or epoch > parent.epochs:
        raise ValueError(f"cannot fork at epoch {epoch}: it must be >= 1, below the child's {child.epochs} "
                         f"epochs and at most the parent's {parent.epochs}")
    same = child.with_(schedule=parent.schedule, epochs=parent.epochs).to_dict() == parent.to_dict()
    if not same or _schedule_prefix(child, epoch) != _schedule_prefix(parent, epoch):
        raise ValueError(f"cannot fork at epoch {epoch}: the child config does not share the parent's first "
                         f"{epoch} epochs (only the schedule after the fork point and the epochs may differ)")


def check_snapshots(snapshots, epochs: int) -> None:
    """Snapshot epochs must be 1..epochs: a snapshot is kept after an epoch the run trains, so one at 0 (the
    initial weights) or past the budget was never written, silently, and a fork or transfer from it failed later."""
    for e in snapshots:
        if isinstance(e, bool) or not isinstance(e, int) or not 1 <= e <= epochs:
            raise ValueError(f"snapshot epoch {e!r} is outside 1..{epochs} (the run's epochs): a snapshot is kept "
                             "after an epoch the run trains")


def _schedule_prefix(cfg: RunConfig, epoch: int) -> list[tuple[float, float]]:
    """What the schedule sets for each epoch before ``epoch``, as Trainer.train_epoch applies it:
    the LR and the activation-noise std (stateless schedules only)."""
    from .schedules import build_schedule, noise_scale_at

    lrs = build_schedule(cfg.schedule, cfg.optim.lr, cfg.epochs)
    return [(lrs.lr_at(e), cfg.model.act_noise_std * noise_scale_at(cfg.schedule, e)) for e in range(epoch)]


@contextmanager
def cpu_threads(n: int | None):
    """Train CPU runs on one thread: results then do not depend on how many cores or workers
    a machine has (reductions are ordered the same), and parallelism comes from running
    several runs at once in worker processes."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def on_device(config: RunConfig) -> RunConfig:
    """``config`` with device "auto" replaced by the device it resolves to on this machine. A CPU and a GPU
    train different numbers, so an "auto" run trained on one must never answer for the other from a store
    both see (a Ray cluster's, or one copied between machines); and on a CPU "auto" is the "cpu" run, not
    a second copy of it."""
    return config if config.device != "auto" else config.with_(device=resolve_device("auto").type)


def run_folder_name(key: str, engine: str = "single") -> str:
    """``<key>-e<engine version>``, with ``-batched`` for the batched engine's runs (lrsci.store_audit reads it)."""
    return f"{key}-e{ENGINE_VERSION}" + ("" if engine == "single" else f"-{engine}")


def lock_path(run_dir: Path) -> Path:
    """A run's lock, beside its folder, not in it: a folder moved aside must not take its lock along."""
    return run_dir.with_name(f"{run_dir.name}.lock")


class RunStoreError(RuntimeError):
    """The run store cannot be used for training (not a folder, not writable)."""


class RunStore:
    def __init__(self, root: str | Path | None = None, data_root: str | Path | None = None, engine: str = "single",
                 checkpoint_seconds: float | None = None):
        self.root = Path(root or os.environ.get("LRSCI_RUNS") or DEFAULT_ROOT)
        self.data_root = data_root
        # seconds of training between resume checkpoints (None: LRSCI_CHECKPOINT_SECONDS or 30; 0: every epoch)
        self.checkpoint_seconds = seconds_from_env() if checkpoint_seconds is None else check_seconds(checkpoint_seconds)
        # "batched" (lrsci.batched, the batched executor) rounds differently from the Trainer: its runs
        # live in their own folders, so one key never holds numbers of two engines.
        if engine not in ("single", "batched"):
            raise ValueError(f"engine={engine!r}: expected 'single' or 'batched'")
        self.engine = engine
        self.trained: list[str] = []   # config keys trained (not loaded) by this store object

    def dir(self, config: RunConfig) -> Path:
        """Keyed by the config and the engine version: after a change to what training computes
        (ENGINE_VERSION bumped), stored runs are not reused; they stay on disk, untouched. A config asking
        for device "auto" is keyed as the device it resolves to here (:func:`on_device`)."""
        return self.root / run_folder_name(on_device(config).key(), self.engine)

    def _unwritable(self, exc: OSError) -> RunStoreError:
        return RunStoreError(f"run store {self.root}: cannot write there ({exc.strerror or exc}); training needs a "
                             "writable folder (--run-store / LRSCI_RUNS)")

    def check_writable(self) -> None:
        """Before training: the store is a folder this process can write (a finished store only read may be
        read-only). A RunStoreError names it with why, instead of a worker's traceback later."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            files.probe_writable(self.root)
        except OSError as exc:
            raise self._unwritable(exc) from None

    @contextmanager
    def _lock(self, config: RunConfig):
        """Hold the run's lock, beside the run folder, not in it: a run folder moved aside must not take its lock
        along. Training needs a store it can write; one it cannot is named with why, before anything trains."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(lock_path(self.dir(config))))
            lock.acquire()
        except OSError as exc:
            raise self._unwritable(exc) from None
        try:
            yield lock
        finally:
            lock.release()

    # --- reading what is stored ----------------------------------------------------------
    def load(self, config: RunConfig, *, locked: bool = False) -> RunResult | None:
        """The finished run, or None. An unreadable result is moved aside (and retrained); a run trained
        on other data bytes than the data here now is None, and moved aside only by a caller holding the
        run's lock (``locked``): without it, another process may be training the run's fresh folder there."""
        path = self.dir(config) / "result.json"
        if not path.exists():
            return None
        try:
            result = unsealed(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:   # moved aside (unreadable, or other data) by another process since exists()
            return None
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            _set_aside(path, f"unreadable run result ({exc})")
            return None
        if not self._same_data(config, result):
            if not locked:
                return None
            moved = files.quarantine(self.dir(config))
            warnings.warn(f"{path.parent} was trained on other data bytes than {config.data.name} has now "
                          f"(content hash differs); moved it aside to {moved.name}; retraining", stacklevel=2)
            return None
        return result

    def data_identity(self, config: RunConfig) -> str | None:
        """The content hash of the data a config trains on (None for generated datasets)."""
        return load_data(config.data, self.data_root).info.get("content_sha256")

    def _same_data(self, config: RunConfig, result: RunResult) -> bool:
        stored = result.extra.get("trained", {}).get("data_sha256")
        return stored is None or stored == self.data_identity(config)

    def _load_state(self, path: Path, device) -> dict | None:
        """A checkpoint or snapshot, or None if it cannot be read (then it is moved aside)."""
        try:
            return read_state(path, map_location=device)
        except (torch.OutOfMemoryError, MemoryError):
            raise   # the file may be fine: no room to load it is not a reason to set it aside
        except Exception as exc:  # torch raises RuntimeError, EOFError, UnpicklingError... for bad files
            _set_aside(path, f"unreadable checkpoint ({type(exc).__name__}: {exc})")
            return None

    def check_measures(self, config: RunConfig) -> None:
        """A measurement the model cannot take (hessian_top's k >= its parameter count), refused before the
        store is touched: the Trainer finds it too, but only once the run's lock is taken. The model is built
        on the meta device (no memory, no weights drawn) from the data's shapes, to count its parameters."""
        if not config.measures:
            return
        from .measures import check_measures_fit
        from .models import build_model

        data = load_data(config.data, self.data_root)
        with torch.device("meta"):
            check_measures_fit(config.measures, build_model(config.model, data.input_shape, data.num_classes))

    def _trainer(self, config: RunConfig) -> Trainer:
        device = resolve_device(config.device)
        return Trainer(config, load_data(config.data, self.data_root), device)

    def _start(self, config: RunConfig, fork: tuple[RunConfig, int] | None,
               data_id: str | None) -> tuple[Trainer, dict | None]:
        """A trainer at the last good point: the latest usable checkpoint, else the fork's snapshot,
        else epoch 0; and where the run was forked from (None when it starts from scratch)."""
        if fork is not None:
            check_fork(config, *fork)  # a bad fork fails before anything is trained or written
        trainer = self._trainer(config)
        for name in ("checkpoint.pt", "checkpoint.prev.pt"):  # resume an interrupted run
            state = self.usable_state(self.dir(config) / name, trainer.device, data_id)
            if state is not None:
                trainer.load_state_dict(state)
                # said, so a rerun after Ctrl-C is seen to go on rather than to start again
                print(f"[lrsci] run {config.key()} (seed {config.seed}): resumed from its checkpoint at epoch "
                      f"{trainer.epoch} of {config.epochs}", file=sys.stderr, flush=True)
                on_file = _read_fork_file(self.dir(config))   # read anyway: a corrupt one is named and set aside
                # the checkpoint's own record first (states written before it carried one: the file's)
                return trainer, state.get("forked_from", on_file)
        if fork is not None:
            parent, epoch = fork
            snap = self.dir(parent) / f"snap-{epoch}.pt"
            state = self.usable_state(snap, trainer.device, data_id)
            if state is not None:
                check_snapshot(state, snap, epoch)
                trainer.load_state_dict(state, schedule=False)
                # The parent may have ended at the fork point (its budget): the child goes on.
                trainer.status, trainer.diverged_at_step = "running", None
                return trainer, {"key": parent.key(), "epoch": epoch}
        return trainer, None

    def usable_state(self, path: Path, device, data_id: str | None) -> dict | None:
        """A checkpoint or snapshot to start from, or None. One saved from other data bytes is moved
        aside: continuing from it would mix two datasets in one run. One saved before states recorded
        their data (no ``data_sha256``) is accepted."""
        state = self._load_state(path, device) if path.exists() else None
        if state is not None and state.get("data_sha256", data_id) != data_id:
            _set_aside(path, f"saved from other data bytes (content hash {state['data_sha256']}) than "
                             f"the data has now ({data_id})")
            return None
        return state

    # --- training --------------------------------------------------------------------------
    def run(self, config: RunConfig, *, snapshots=(), fork: tuple[RunConfig, int] | None = None,
            on_epoch=None, stop_file: str | Path | None = None) -> RunResult:
        """Return the stored result of ``config``, training (or resuming) it first if needed.

        snapshots: epochs after which to keep a checkpoint for later forks.
        fork: (parent config, epoch) — start from the parent's snapshot at that epoch if present;
            otherwise train from scratch (which gives the same numbers, only slower).
        on_epoch: callback(trainer, record) after every epoch, e.g. a progress bar.
        stop_file: a path whose existence, checked after every epoch, asks the run to stop as Ctrl-C does
            (lrsci.interrupts): how a Ray driver stops its tasks on other nodes.

        One process trains a given run at a time (a file lock per run): a second process asking
        for it waits, then loads what the first one stored.
        """
        check_snapshots(snapshots, config.epochs)
        done = self.load(config)
        if done is None:
            self.check_measures(config)   # before the lock and the run's folder are written
            with self._lock(config):
                done = self.load(config, locked=True)  # finished by another process while this one waited
                if done is None:
                    return self._train(config, snapshots, fork, on_epoch, stop_file)
        _drop_leftover_checkpoints(self.dir(config))
        return done

    def _train(self, config, snapshots, fork, on_epoch, stop_file=None) -> RunResult:
        run_dir = self.dir(config)
        started = time.perf_counter()
        with cpu_threads(1 if resolve_device(config.device).type == "cpu" else None):
            data_id = self.data_identity(config)  # before the trainer: its init seeds the RNG after this
            trainer, forked_from = self._start(config, fork, data_id)  # a bad config fails here, before any file
            run_dir.mkdir(parents=True, exist_ok=True)
            _remove_stale_temporaries(run_dir)
            _write_json(run_dir / "config.json", on_device(config).to_dict())
            record_fork(run_dir, forked_from)
            wanted, clock = set(snapshots), CheckpointClock(self.checkpoint_seconds)
            # Ctrl-C or SIGTERM: this epoch ends, with a checkpoint, and then the run stops (lrsci.interrupts)
            with stop_at_epoch_end(f"run {config.key()} (seed {config.seed})") as stop:
                while not trainer.done:
                    before = trainer.epoch
                    trainer.run(until_epoch=before + 1, on_epoch=on_epoch)
                    if trainer.epoch == before and not trainer.done:  # a state past its budget but "running"
                        raise RuntimeError(f"run {config.key()} ({run_dir}) trained nothing at epoch {before} of "
                                           f"{config.epochs} yet is not done; its start state is inconsistent")
                    if stop_file is not None and os.path.exists(stop_file):
                        stop.ask("stop file")
                    snapshot = trainer.epoch > before and trainer.epoch in wanted
                    # a finished run's record is its result.json
                    checkpoint = not trainer.done and (clock.take() or stop.requested)
                    if snapshot or checkpoint:
                        self._save_states(run_dir, trainer, data_id, forked_from, snapshot, checkpoint)
                    if stop.requested and not trainer.done:
                        raise stop.stopped(f"stopped after epoch {trainer.epoch} of {config.epochs}, with a "
                                           "checkpoint: running it again resumes there")
        result = trainer.result()
        if forked_from is not None:
            result.forked_from = forked_from
        result.extra["trained"] = self._trained_record(config, trainer.device, started)
        _write_json(run_dir / "result.json", sealed(result))
        for name in ("checkpoint.pt", "checkpoint.prev.pt"):
            (run_dir / name).unlink(missing_ok=True)
        self.trained.append(config.key())
        if stop.requested:   # asked during its last epoch: the run is stored, and the process stops as asked
            raise stop.stopped("ended with that epoch and is stored")
        return result

    @staticmethod
    def _save_states(run_dir: Path, trainer: Trainer, data_id, forked_from, snapshot: bool, checkpoint: bool) -> None:
        state = {**trainer.state_dict(), "data_sha256": data_id, "forked_from": forked_from}
        # The snapshot before the checkpoint: a kill between the two then retrains this epoch and
        # writes the snapshot again, where the other order resumes past it and loses it.
        # A run that diverges does not complete its epoch: its snapshot of the epoch before stays.
        if snapshot:
            write_state(run_dir / f"snap-{trainer.epoch}.pt", state)
        if checkpoint:
            _save_checkpoint(run_dir, state)

    def _trained_record(self, config: RunConfig, device, started: float) -> dict:
        """Where, when, by which code and on which data bytes this run was trained; it travels
        with the run, for reports that only load it and for the store's data check."""
        record = {"git": git_hash(), "engine_version": ENGINE_VERSION, "engine": self.engine, "lrsci": _lrsci_version(),
                  "device_name": device_name(str(device)), "torch": torch.__version__, "date": utc_now(),
                  "data_sha256": self.data_identity(config), "wall_seconds": time.perf_counter() - started}
        if torch.device(device).type == "cpu":   # the vector unit picks the kernels, and so the last bits
            record.update(cpu_capability=torch.backends.cpu.get_cpu_capability(), cpu_model=cpu_model())
        return record

    def save_result(self, config: RunConfig, result: RunResult, device, started: float) -> None:
        """Store a finished run trained outside :meth:`run` (the batched executor), as :meth:`run` would."""
        run_dir = self.dir(config)
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_json(run_dir / "config.json", on_device(config).to_dict())
        result.extra["trained"] = self._trained_record(config, device, started)
        _write_json(run_dir / "result.json", sealed(result))  # the executor reports it trained (self.trained)


# result.json carries the SHA-256 of its own content (canonical JSON, without this field): a file changed
# after it was written (an edited digit, bit rot) is then named and set aside like any unreadable one,
# not read back as a result. Files written before the digest existed have none and are read as they are.
DIGEST = "content_sha256"


def stored_arms(store: RunStore, arms_for_seed, seeds: list[int]) -> dict:
    """{seed: {key: RunResult}} for ``arms_for_seed(seed)`` = {key: config}, from runs already in ``store``: nothing
    trains, and a run that is not stored is a LookupError naming it (the analyses of docs/replication.md)."""
    runs = {}
    for seed in seeds:
        runs[seed] = {}
        for key, config in arms_for_seed(seed).items():
            result = store.load(config)
            if result is None:
                raise LookupError(f"run {store.dir(config).name} ({key}, seed {seed}) is not stored")
            runs[seed][key] = result
    return runs


def _digest(d: dict) -> str:
    return hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def sealed(result: RunResult) -> dict:
    """The result as stored: its dict and the digest of it."""
    d = result.to_dict()
    return {**d, DIGEST: _digest(d)}


def unsealed(d) -> RunResult:
    """A stored result read back; ValueError if its digest does not match what it holds, or if it is
    not the shape of a result (RunResult.from_dict)."""
    if not isinstance(d, dict):
        raise ValueError(f"a run result is a JSON object, not {type(d).__name__}")
    d = dict(d)
    stored = d.pop(DIGEST, None)
    if stored is not None and stored != _digest(d):
        raise ValueError("its content does not match the digest written with it (changed since it was written)")
    return RunResult.from_dict(d)


def _save_checkpoint(run_dir: Path, state: dict) -> None:
    """The new checkpoint, keeping the previous one as the fallback should the new one be unreadable."""
    ckpt, prev = run_dir / "checkpoint.pt", run_dir / "checkpoint.prev.pt"

    def keep_previous():
        if ckpt.exists():
            os.replace(ckpt, prev)
    write_state(ckpt, state, before_publish=keep_previous)


def check_snapshot(state: dict, snap: Path, epoch: int) -> None:
    """A parent that diverged or was stopped at or before the fork point has no state a child
    could go on from (its budget ending there is fine: the child continues)."""
    if state["epoch"] != epoch or state["status"] not in ("running", "finished"):
        raise ValueError(f"cannot fork at epoch {epoch}: the parent's snapshot {snap} holds epoch "
                         f"{state['epoch']} with status {state['status']!r}; train the child from scratch")


def record_fork(run_dir: Path, forked_from: dict | None) -> None:
    """fork.json says where the run's state began; a run (re)started from scratch must not keep
    the provenance of an earlier, forked attempt (a readable one is that run's own bookkeeping and goes; an
    unreadable one is moved aside and named, as every corrupt file is)."""
    if forked_from is None:
        _read_fork_file(run_dir)
        (run_dir / "fork.json").unlink(missing_ok=True)
    else:
        _write_json(run_dir / "fork.json", forked_from)


def _read_fork_file(run_dir: Path) -> dict | None:
    """The provenance of a resumed run: it was forked if its first attempt was."""
    path = run_dir / "fork.json"
    try:
        return files.read_json_object(path)
    except ValueError as exc:
        _set_aside(path, f"unreadable fork record ({exc})")
        return None


# What training writes in a run folder, all under the run's lock: the temporary files of these names that a
# killed process (SIGKILL, the orphan watcher's exit) left half-written. Holding the lock, no writer owns them.
_LOCKED_WRITES = ("checkpoint.pt.", "checkpoint.prev.pt.", "snap-", "result.json.", "config.json.", "fork.json.")


def _drop_leftover_checkpoints(run_dir: Path) -> None:
    """A finished run's checkpoints are deleted after its result is written; a kill between the two left them.
    Safe without the lock: once the result is there no process trains the run, so none still needs them."""
    for name in ("checkpoint.pt", "checkpoint.prev.pt"):
        try:
            (run_dir / name).unlink(missing_ok=True)
        except OSError:   # a read-only store (e.g. one being packed): leave them
            pass


def _remove_stale_temporaries(run_dir: Path) -> None:
    for tmp in run_dir.glob("*.tmp"):
        if tmp.name.startswith(_LOCKED_WRITES):
            tmp.unlink(missing_ok=True)


def _set_aside(path: Path, why: str) -> None:
    try:
        moved = files.quarantine(path)
    except FileNotFoundError:   # another process read it without the lock too, and moved it aside first
        return
    warnings.warn(f"{path}: {why}; moved it aside to {moved.name} and will retrain from the last good point",
                  stacklevel=3)


def _lrsci_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lrsci")
    except PackageNotFoundError:
        return "unknown"

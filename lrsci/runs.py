"""The run store: every run is keyed by a hash of its config and trained at most once.

Layout under the store root (``.runs/`` by default, ``LRSCI_RUNS`` or ``--run-store``)::

    <key>-e<engine>/config.json          the config, readable
    <key>-e<engine>/checkpoint.pt        latest epoch of an unfinished run (resume point)
    <key>-e<engine>/checkpoint.prev.pt   the epoch before (fallback if the latest is unreadable)
    <key>-e<engine>/snap-<e>.pt          kept snapshots after epoch e (fork points for other runs)
    <key>-e<engine>/result.json          the finished run: history, outcome, where/what it trained on
    <key>-e<engine>.lock                 held while one process trains the run

What a user can rely on: writes are atomic (temporary file + rename), so a kill or a full disk
leaves the old file or the new one, never half of one, and a full disk is reported as such; a
killed run resumes from its last checkpoint with the numbers an uninterrupted run would have;
two processes asking for one run train it once (the second waits, then loads); an unreadable
file is moved aside as ``<name>.corrupt-<time>`` (never deleted) and training restarts from the
last good point; a run stored by another engine version, or trained on other data bytes (the
content hash recorded with it), is never reused. A decay arm forks from its no-decay trunk's
snapshot at the decay epoch: the shared prefix is trained once.
"""
from __future__ import annotations

import json
import os
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import torch
from filelock import FileLock

from . import files
from .config import RunConfig
from .data.registry import load_data
from .files import atomic_write as _atomic_write, write_json as _write_json
from .provenance import device_name, git_hash, utc_now
from .train import ENGINE_VERSION, RunResult, Trainer, resolve_device

DEFAULT_ROOT = ".runs"


def check_fork(child: RunConfig, parent: RunConfig, epoch: int) -> None:
    """A fork is valid only if the child would have trained the parent's first ``epoch`` epochs.

    Schedules that decide from the losses they observe (AutoDecay, ReduceLROnPlateau) never fork:
    their state at the fork point would be the parent's, not their own."""
    from .schedules import build_schedule

    same = child.with_(schedule=parent.schedule, epochs=parent.epochs).to_dict() == parent.to_dict()
    cs = build_schedule(child.schedule, child.optim.lr, child.epochs)
    ps = build_schedule(parent.schedule, parent.optim.lr, parent.epochs)
    if not same or any(cs.lr_at(e) != ps.lr_at(e) for e in range(epoch)) or child.schedule.kind in ("autodecay", "plateau"):
        raise ValueError(f"cannot fork at epoch {epoch}: the child config does not share the parent's first "
                         f"{epoch} epochs (only the LR after the fork point may differ)")


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


class RunStore:
    def __init__(self, root: str | Path | None = None, data_root: str | Path | None = None, engine: str = "single"):
        self.root = Path(root or os.environ.get("LRSCI_RUNS") or DEFAULT_ROOT)
        self.data_root = data_root
        # "batched" (lrsci.batched, the batched executor) rounds differently from the Trainer: its runs
        # live in their own folders, so one key never holds numbers of two engines.
        if engine not in ("single", "batched"):
            raise ValueError(f"engine={engine!r}: expected 'single' or 'batched'")
        self.engine = engine
        self.trained: list[str] = []   # config keys trained (not loaded) by this store object

    def dir(self, config: RunConfig) -> Path:
        """Keyed by the config and the engine version: after a change to what training computes
        (ENGINE_VERSION bumped), stored runs are not reused; they stay on disk, untouched."""
        suffix = "" if self.engine == "single" else f"-{self.engine}"
        return self.root / f"{config.key()}-e{ENGINE_VERSION}{suffix}"

    def _lock(self, config: RunConfig) -> FileLock:
        # Beside the run folder, not in it: a run folder moved aside must not take its lock along.
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / f"{self.dir(config).name}.lock"))

    # --- reading what is stored ----------------------------------------------------------
    def load(self, config: RunConfig) -> RunResult | None:
        """The finished run, or None. An unreadable result is moved aside (and retrained);
        a run trained on other data bytes than the data here now is moved aside too."""
        path = self.dir(config) / "result.json"
        if not path.exists():
            return None
        try:
            result = RunResult.from_dict(json.loads(path.read_text()))
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
            _set_aside(path, f"unreadable run result ({exc})")
            return None
        if not self._same_data(config, result):
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
            return torch.load(path, map_location=device, weights_only=False)
        except Exception as exc:  # torch raises RuntimeError, EOFError, UnpicklingError... for bad files
            _set_aside(path, f"unreadable checkpoint ({type(exc).__name__}: {exc})")
            return None

    def _trainer(self, config: RunConfig) -> Trainer:
        device = resolve_device(config.device)
        return Trainer(config, load_data(config.data, self.data_root), device)

    def _start(self, config: RunConfig, fork: tuple[RunConfig, int] | None) -> tuple[Trainer, dict | None]:
        """A trainer at the last good point: the latest readable checkpoint, else the fork's
        snapshot, else epoch 0."""
        trainer = self._trainer(config)
        for name in ("checkpoint.pt", "checkpoint.prev.pt"):  # resume an interrupted run
            path = self.dir(config) / name
            state = self._load_state(path, trainer.device) if path.exists() else None
            if state is not None:
                trainer.load_state_dict(state)
                return trainer, None
        if fork is not None:
            parent, epoch = fork
            check_fork(config, parent, epoch)
            snap = self.dir(parent) / f"snap-{epoch}.pt"
            state = self._load_state(snap, trainer.device) if snap.exists() else None
            if state is not None:
                trainer.load_state_dict(state, schedule=False)
                return trainer, {"key": parent.key(), "epoch": epoch}
        return trainer, None

    # --- training --------------------------------------------------------------------------
    def run(self, config: RunConfig, *, snapshots=(), fork: tuple[RunConfig, int] | None = None,
            on_epoch=None) -> RunResult:
        """Return the stored result of ``config``, training (or resuming) it first if needed.

        snapshots: epochs after which to keep a checkpoint for later forks.
        fork: (parent config, epoch) — start from the parent's snapshot at that epoch if present;
            otherwise train from scratch (which gives the same numbers, only slower).
        on_epoch: callback(trainer, record) after every epoch, e.g. a progress bar.

        One process trains a given run at a time (a file lock per run): a second process asking
        for it waits, then loads what the first one stored.
        """
        done = self.load(config)
        if done is not None:
            return done
        with self._lock(config):
            done = self.load(config)  # finished by another process while this one waited
            if done is not None:
                return done
            return self._train(config, snapshots, fork, on_epoch)

    def _train(self, config, snapshots, fork, on_epoch) -> RunResult:
        run_dir = self.dir(config)
        started = time.perf_counter()
        with cpu_threads(1 if resolve_device(config.device).type == "cpu" else None):
            trainer, forked_from = self._start(config, fork)  # a bad config fails here, before any file
            run_dir.mkdir(parents=True, exist_ok=True)
            _write_json(run_dir / "config.json", config.to_dict())
            if forked_from is not None:
                _write_json(run_dir / "fork.json", forked_from)
            wanted = set(snapshots)
            while not trainer.done:
                before = trainer.epoch
                trainer.run(until_epoch=before + 1, on_epoch=on_epoch)
                state = trainer.state_dict()
                _save_checkpoint(run_dir, state)
                # A run that diverges does not complete its epoch: its snapshot of the epoch before stays
                if trainer.epoch > before and trainer.epoch in wanted:
                    _atomic_write(run_dir / f"snap-{trainer.epoch}.pt", lambda tmp: torch.save(state, tmp))
        result = trainer.result()
        fork_file = run_dir / "fork.json"
        if forked_from is None and fork_file.exists():  # a resumed fork keeps its provenance
            forked_from = json.loads(fork_file.read_text())
        if forked_from is not None:
            result.forked_from = forked_from
        result.extra["trained"] = self._trained_record(config, trainer.device, started)
        _write_json(run_dir / "result.json", result.to_dict())
        for name in ("checkpoint.pt", "checkpoint.prev.pt"):
            (run_dir / name).unlink(missing_ok=True)
        self.trained.append(config.key())
        return result

    def _trained_record(self, config: RunConfig, device, started: float) -> dict:
        """Where, when, by which code and on which data bytes this run was trained; it travels
        with the run, for reports that only load it and for the store's data check."""
        return {"git": git_hash(), "engine_version": ENGINE_VERSION, "engine": self.engine, "lrsci": _lrsci_version(),
                "device_name": device_name(str(device)), "date": utc_now(),
                "data_sha256": self.data_identity(config), "wall_seconds": time.perf_counter() - started}

    def save_result(self, config: RunConfig, result: RunResult, device, started: float) -> None:
        """Store a finished run trained outside :meth:`run` (the batched executor), as :meth:`run` would."""
        run_dir = self.dir(config)
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_json(run_dir / "config.json", config.to_dict())
        result.extra["trained"] = self._trained_record(config, device, started)
        _write_json(run_dir / "result.json", result.to_dict())  # the executor reports it trained (self.trained)


def _save_checkpoint(run_dir: Path, state: dict) -> None:
    """The new checkpoint, keeping the previous one as the fallback should the new one be unreadable."""
    ckpt, prev = run_dir / "checkpoint.pt", run_dir / "checkpoint.prev.pt"

    def write(tmp):
        torch.save(state, tmp)
        if ckpt.exists():
            os.replace(ckpt, prev)
    _atomic_write(ckpt, write)


def _set_aside(path: Path, why: str) -> None:
    moved = files.quarantine(path)
    warnings.warn(f"{path}: {why}; moved it aside to {moved.name} and will retrain from the last good point",
                  stacklevel=3)


def _lrsci_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lrsci")
    except PackageNotFoundError:
        return "unknown"

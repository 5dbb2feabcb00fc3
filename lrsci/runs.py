"""The run store: every run is keyed by a hash of its config and trained at most once.

Layout under the store root (``.runs/`` by default, ``LRSCI_RUNS`` or ``--run-store``)::

    <key>/config.json     the config, readable
    <key>/checkpoint.pt   latest epoch of an unfinished run (resume point)
    <key>/snap-<e>.pt     kept snapshots after epoch e (fork points for other runs)
    <key>/result.json     the finished run: history and outcome

Writes are atomic (temp file + rename), so an interrupted process leaves either the old
file or the new one, never half of one. A decay arm forks from its no-decay trunk's
snapshot at the decay epoch: the shared prefix is trained once.
"""
from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import torch

from .config import RunConfig
from .data.registry import load_data
from .files import atomic_write as _atomic_write, write_json as _write_json
from .provenance import device_name, git_hash, utc_now
from .train import RunResult, Trainer, resolve_device

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
    def __init__(self, root: str | Path | None = None, data_root: str | Path | None = None):
        self.root = Path(root or os.environ.get("LRSCI_RUNS") or DEFAULT_ROOT)
        self.data_root = data_root
        self.trained: list[str] = []   # keys trained (not loaded) by this store object

    def dir(self, config: RunConfig) -> Path:
        return self.root / config.key()

    def load(self, config: RunConfig) -> RunResult | None:
        path = self.dir(config) / "result.json"
        if not path.exists():
            return None
        return RunResult.from_dict(json.loads(path.read_text()))

    def _trainer(self, config: RunConfig) -> Trainer:
        device = resolve_device(config.device)
        return Trainer(config, load_data(config.data, self.data_root), device)

    def _start(self, config: RunConfig, fork: tuple[RunConfig, int] | None) -> tuple[Trainer, dict | None]:
        trainer = self._trainer(config)
        ckpt = self.dir(config) / "checkpoint.pt"
        if ckpt.exists():  # resume an interrupted run
            trainer.load_state_dict(torch.load(ckpt, map_location=trainer.device, weights_only=False))
            return trainer, None
        if fork is not None:
            parent, epoch = fork
            check_fork(config, parent, epoch)
            snap = self.dir(parent) / f"snap-{epoch}.pt"
            if snap.exists():
                trainer.load_state_dict(torch.load(snap, map_location=trainer.device, weights_only=False),
                                        schedule=False)
                return trainer, {"key": parent.key(), "epoch": epoch}
        return trainer, None

    def run(self, config: RunConfig, *, snapshots=(), fork: tuple[RunConfig, int] | None = None,
            on_epoch=None) -> RunResult:
        """Return the stored result of ``config``, training (or resuming) it first if needed.

        snapshots: epochs after which to keep a checkpoint for later forks.
        fork: (parent config, epoch) — start from the parent's snapshot at that epoch if present;
            otherwise train from scratch (which gives the same numbers, only slower).
        on_epoch: callback(trainer, record) after every epoch, e.g. a progress bar.
        """
        done = self.load(config)
        if done is not None:
            return done
        run_dir = self.dir(config)
        run_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        _write_json(run_dir / "config.json", config.to_dict())
        with cpu_threads(1 if resolve_device(config.device).type == "cpu" else None):
            trainer, forked_from = self._start(config, fork)
            if forked_from is not None:
                _write_json(run_dir / "fork.json", forked_from)
            wanted = set(snapshots)
            while not trainer.done:
                trainer.run(until_epoch=trainer.epoch + 1, on_epoch=on_epoch)
                state = trainer.state_dict()
                _atomic_write(run_dir / "checkpoint.pt", lambda tmp: torch.save(state, tmp))
                if trainer.epoch in wanted:
                    _atomic_write(run_dir / f"snap-{trainer.epoch}.pt", lambda tmp: torch.save(state, tmp))
        result = trainer.result()
        fork_file = run_dir / "fork.json"
        if forked_from is None and fork_file.exists():  # a resumed fork keeps its provenance
            forked_from = json.loads(fork_file.read_text())
        if forked_from is not None:
            result.forked_from = forked_from
        # Where and when this run was trained travels with it, for reports that only load it.
        result.extra["trained"] = {"git": git_hash(), "device_name": device_name(str(trainer.device)),
                                   "date": utc_now(),
                                   "wall_seconds": time.perf_counter() - started}
        _write_json(run_dir / "result.json", result.to_dict())
        (run_dir / "checkpoint.pt").unlink(missing_ok=True)
        self.trained.append(config.key())
        return result

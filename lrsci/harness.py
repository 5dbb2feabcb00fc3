"""What every claim module needs between "here is my protocol" and "here is my verdict".

A :class:`ClaimContext` carries the user's choices (seeds, seed offset, run store, report
folder, device) into a claim, trains runs through the run store with progress, turns
statistical results into report rows, and writes the report with full provenance.
It is pytest-free, so ``lrsci`` stays importable without a test runner.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import RunConfig
from .provenance import provenance
from .report import write_section
from .runs import RunStore
from .stats import StatResult, bootstrap_ci
from .train import RunResult


class Progress:
    """One line per epoch on stderr: which run, epoch, loss, accuracy, ETA for the run."""

    def __init__(self, enabled: bool = True, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.label = ""
        self._t0 = time.perf_counter()
        self._first_epoch = 0

    def start(self, label: str) -> None:
        self.label, self._t0, self._first_epoch = label, time.perf_counter(), None

    def __call__(self, trainer, record: dict) -> None:
        if not self.enabled or not record:
            return
        if self._first_epoch is None:
            self._first_epoch = trainer.epoch - 1
        done = trainer.epoch - self._first_epoch
        per_epoch = (time.perf_counter() - self._t0) / max(done, 1)
        eta = per_epoch * (trainer.config.epochs - trainer.epoch)
        bar = "#" * int(20 * trainer.epoch / trainer.config.epochs)
        self.stream.write(f"\r{self.label:<28} [{bar:<20}] epoch {trainer.epoch:>3}/{trainer.config.epochs} "
                          f"loss {record['train_loss']:.3f} test acc {record['test_acc']:5.1f}% ETA {eta:5.0f}s")
        if trainer.done or trainer.epoch >= trainer.config.epochs:
            self.stream.write("\n")
        self.stream.flush()


@dataclass
class Job:
    """One run a claim needs: its config, a label for progress, fork points it provides or uses."""

    config: RunConfig
    label: str
    snapshots: tuple[int, ...] = ()
    fork: tuple[RunConfig, int] | None = None


@dataclass
class ClaimContext:
    profile: str
    store: RunStore
    report_root: Path
    n_seeds: int
    seed_offset: int = 0
    device: str = "cpu"
    progress: Progress = field(default_factory=lambda: Progress(enabled=bool(os.environ.get("LRSCI_PROGRESS"))))
    started: float = field(default_factory=time.perf_counter)
    loaded: int = 0

    @property
    def seeds(self) -> list[int]:
        return [self.seed_offset + i for i in range(self.n_seeds)]

    def run(self, config: RunConfig, label: str, **kwargs) -> RunResult:
        """Train (or load) one run through the store, with progress."""
        config = config.with_(device=self.device)
        if kwargs.get("fork"):
            parent, epoch = kwargs["fork"]
            kwargs["fork"] = (parent.with_(device=self.device), epoch)
        before = len(self.store.trained)
        self.progress.start(f"{label} seed {config.seed}")
        result = self.store.run(config, on_epoch=self.progress, **kwargs)
        self.loaded += len(self.store.trained) == before
        return result

    def run_all(self, jobs: list["Job"]) -> list[RunResult]:
        """Train (or load) independent runs; results in job order. Jobs must not depend on each
        other (train trunks in one call, their forks in the next)."""
        return [self.run(j.config, j.label, snapshots=j.snapshots, fork=j.fork) for j in jobs]

    def finish(self, claim: dict, section: dict) -> Path:
        """Add seeds and provenance to a profile's section and write the claim's report."""
        prov = provenance(self.device)
        prov.update(wall_seconds=time.perf_counter() - self.started, runs_trained=len(self.store.trained),
                    runs_loaded=self.loaded)
        section = {"profile": self.profile, "seeds": self.seeds, "seed_offset": self.seed_offset,
                   **section, "provenance": prov}
        return write_section(self.report_root, claim, self.profile, section)


def criterion(name: str, result: StatResult, threshold: str, values=None, alpha: float = 0.05,
              reported_only: bool = False, extra_pass: bool = True) -> dict:
    """A report row for one pre-registered test: the StatResult, its CI, threshold and pass."""
    row = {"criterion": name, **result.to_dict(), "threshold": threshold, "alpha": alpha,
           "passed": bool(result.passed(alpha) and extra_pass), "reported_only": reported_only}
    if values is not None:
        row["ci"] = list(bootstrap_ci(values))
    return row


def verdict(rows: list[dict]) -> str:
    required = [r for r in rows if not r.get("reported_only")]
    return "replicated" if required and all(r["passed"] for r in required) else "not replicated"

"""What every claim module needs between "here is my protocol" and "here is my verdict".

A :class:`ClaimContext` carries the user's choices (seeds, seed offset, run store, report
folder, device) into a claim, trains runs through the run store with progress, turns
statistical results into report rows, and writes the report with full provenance.
It is pytest-free, so ``lrsci`` stays importable without a test runner.

Parallel runs use worker processes started with "spawn": a plain script that drives a claim
(rather than pytest or ``lrsci run``) must keep its top-level code under
``if __name__ == "__main__":``, as with any spawn-based multiprocessing. ``LRSCI_WORKERS=1``
trains everything in the calling process instead. ``LRSCI_EXECUTOR=ray`` trains them as tasks
on a Ray cluster instead (lrsci.executors).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import RunConfig
from .executors import make_executor, runs_per_gpu, visible_gpus
from .provenance import provenance
from .report import check_report_dir, write_section
from .runs import RunStore, check_snapshots
from .switches import count_from_env, switch_from_env
from .train import RunResult


class Progress:
    """One line per epoch on stderr: which run, epoch, loss, accuracy, ETA for the run."""

    def __init__(self, enabled: bool = True, stream=None, lines: bool = False):
        self.enabled = enabled
        self.lines = lines  # one full line per epoch (parallel workers), else an in-place bar
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
        self.stream.write(f"{'' if self.lines else chr(13)}{self.label:<28} [{bar:<20}] epoch {trainer.epoch:>3}/{trainer.config.epochs} "
                          f"loss {record['train_loss']:.3f} test acc {record['test_acc']:5.1f}% ETA {eta:5.0f}s")
        if self.lines or trainer.done or trainer.epoch >= trainer.config.epochs:
            self.stream.write("\n")
        self.stream.flush()


@dataclass
class Job:
    """One run a claim needs: its config, a label for progress, fork points it provides or uses."""

    config: RunConfig
    label: str
    snapshots: tuple[int, ...] = ()
    fork: tuple[RunConfig, int] | None = None

    def __post_init__(self) -> None:
        check_snapshots(self.snapshots, self.config.epochs)   # when the claim builds it, before anything trains


@dataclass
class ClaimContext:
    profile: str
    store: RunStore
    report_root: Path
    n_seeds: int
    seed_offset: int = 0
    device: str = "cpu"
    progress: Progress = field(default_factory=lambda: Progress(enabled=progress_from_env()))
    workers: int = 0  # parallel runs; 0 = LRSCI_WORKERS, else one per CPU core / LRSCI_RUNS_PER_GPU per GPU
    executor: object = None  # where runs train: "local" | "ray" | an executor; None = LRSCI_EXECUTOR
    started: float = field(default_factory=time.perf_counter)
    loaded: int = 0
    results: list = field(default_factory=list)  # every run this claim used, for throughput
    # False: the report is written without drawing its figure (its spec stays in result.json), for a
    # re-analysis that compares numbers (tools/pack_report_runs.py)
    draw_figures: bool = True
    # --set: the scale the user asked for ({"model.width": 8}); every run must carry it (lrsci.overrides),
    # and the section records it, so its report is never taken for the protocol's
    run_overrides: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.n_seeds, bool) or not isinstance(self.n_seeds, int) or self.n_seeds < 1:
            raise ValueError(f"n_seeds={self.n_seeds!r}: a claim needs at least one seed")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 0:
            raise ValueError(f"workers={self.workers!r}: a whole number >= 1 (0 = LRSCI_WORKERS or the default)")
        if not self.workers:
            default = runs_per_gpu() * max(1, visible_gpus()) if self.device == "cuda" else (os.cpu_count() or 1)
            self.workers = workers_from_env(default)
        if self.executor is None or isinstance(self.executor, str):
            self.executor = make_executor(self.executor)
        engine = getattr(self.executor, "engine", "single")
        if self.store.engine != engine:  # an executor's runs are kept in its engine's folders
            self.store = RunStore(self.store.root, data_root=self.store.data_root, engine=engine,
                                  checkpoint_seconds=self.store.checkpoint_seconds)

    @property
    def seeds(self) -> list[int]:
        return [self.seed_offset + i for i in range(self.n_seeds)]

    def _run(self, job: "Job") -> RunResult:
        """Train (or load) one on-device job through the store, with progress."""
        if job.config.key() not in self.store.trained and self.store.load(job.config) is not None:
            self.loaded += 1  # finished before this claim started: nothing to train
        self.progress.start(f"{job.label} seed {job.config.seed}")
        result = self.store.run(job.config, snapshots=job.snapshots, fork=job.fork, on_epoch=self.progress)
        self.results.append(result)
        return result

    def run_all(self, jobs: list["Job"]) -> list[RunResult]:
        """Train (or load) independent runs; results in job order.

        Jobs must not depend on each other (train trunks in one call, their forks in the next:
        a fork then finds its trunk's snapshot in the store, whichever node trained the trunk).
        Runs not yet stored are trained by the executor, then read from the store: locally, on
        the CPU one single-threaded worker per core; on CUDA ``LRSCI_RUNS_PER_GPU`` (3) workers share each
        visible GPU (a small network at batch 128 leaves most of an H100 idle). ``LRSCI_WORKERS`` overrides.
        On Ray, one task per run (lrsci.executors).
        """
        jobs = [self._on_device(j) for j in jobs]
        if self.run_overrides:   # before anything trains: a run the claim built at its own scale is refused
            from .overrides import check_job

            for job in jobs:
                check_job(job.config, self.run_overrides, job.label)
        todo = [j for j in jobs if self.store.load(j.config) is None]
        if todo:
            for job in todo:   # a measurement the model cannot take: refused before the store is written to
                self.store.check_measures(job.config)
            self.store.check_writable()   # named now, not as a worker's traceback
            self._train_in_workers(todo)
        return [self._run(j) for j in jobs]

    def run_arms(self, arms_for_seed, labels: dict | None = None) -> dict:
        """Independent arms, paired by seed: ``arms_for_seed(seed) -> {arm: RunConfig}``.

        Trains (or loads) every seed × arm in one ``run_all`` and returns ``{seed: {arm: RunResult}}``;
        ``labels`` names the arms in progress lines (default: the arm's key)."""
        keys = [(seed, arm, cfg) for seed in self.seeds for arm, cfg in arms_for_seed(seed).items()]
        done = self.run_all([Job(cfg, (labels or {}).get(arm, str(arm))) for _, arm, cfg in keys])
        runs: dict = {seed: {} for seed in self.seeds}
        for (seed, arm, _), result in zip(keys, done):
            runs[seed][arm] = result
        return runs

    def run_decay_forks(self, trunk_for_seed, milestones, factor: float, label: str = "") -> dict:
        """Per seed, a no-decay trunk and one arm per milestone m that multiplies the LR by ``factor``
        after epoch m, forked from the trunk's snapshot there (the shared prefix trains once).

        Returns ``{seed: {"none": trunk, m: arm for each m}}``."""
        from dataclasses import replace

        trunks = {seed: trunk_for_seed(seed) for seed in self.seeds}
        done = self.run_all([Job(t, f"{label}no decay", snapshots=tuple(milestones)) for t in trunks.values()])
        runs = {seed: {"none": r} for seed, r in zip(trunks, done)}
        arms = [(seed, m) for seed in trunks for m in milestones]
        # the trunk's schedule with one step at m: what else it sets (activation-noise annealing) stays
        step_at = lambda t, m: t.with_(schedule=replace(t.schedule, kind="step", milestones=(m,), factor=factor))  # noqa: E731
        forks = self.run_all([Job(step_at(trunks[s], m),
                                  f"{label}decay@{m}", fork=(trunks[s], m)) for s, m in arms])
        for (seed, m), r in zip(arms, forks):
            runs[seed][m] = r
        return runs

    def _on_device(self, job: "Job") -> "Job":
        fork = job.fork and (job.fork[0].with_(device=self.device), job.fork[1])
        return Job(job.config.with_(device=self.device), job.label, job.snapshots, fork)

    def _train_in_workers(self, jobs: list["Job"]) -> None:
        # Whatever the executor leaves untrained (the local one: a single job or worker), _run trains here.
        self.store.trained += self.executor.train(self.store, jobs, self.workers, self.progress.enabled)

    def throughput(self) -> dict:
        """Epochs this invocation trained, and training images/s per run over every run used."""
        # a run two jobs share (the same config in two arms) trained once: count its epochs once
        fresh = list({key: r for r in self.results
                      if (key := RunConfig.from_dict(r.config).key()) in self.store.trained}.values())
        images = sum(r.images for r in self.results)
        seconds = sum(r.train_seconds for r in self.results)
        return {"epochs_trained": sum(r.epochs_trained - (r.forked_from or {}).get("epoch", 0) for r in fresh),
                "train_images": images, "train_seconds_summed": seconds,
                "images_per_second_per_run": images / seconds if seconds else None}

    def training_record(self) -> dict:
        """When, where and by which commit the runs behind this report were trained."""
        trained = [r.extra.get("trained", {}) for r in self.results]
        return {"runs_trained_at_git": sorted({t.get("git", "unknown") for t in trained}),
                "runs_trained_on": sorted({t.get("device_name", "unknown") for t in trained}),
                # the bytes the runs trained on (None: generated data, or runs stored before hashes)
                "runs_data_sha256": sorted({str(t.get("data_sha256")) for t in trained}),
                "runs_wall_seconds_summed": sum(t.get("wall_seconds", 0.0) for t in trained)}

    def check_can_report(self, claim_id: str) -> None:
        """Raise report.ReportDirError now if the claim's report could not be written after training."""
        check_report_dir(self.report_root, claim_id)

    def finish(self, claim: dict, section: dict) -> dict:
        """Add seeds and provenance to a profile's section, write the claim's report, return it."""
        prov = provenance(self.device)
        prov.update(wall_seconds=time.perf_counter() - self.started, runs_trained=len(self.store.trained),
                    runs_loaded=self.loaded, workers=self.workers, executor=getattr(self.executor, "name", type(self.executor).__name__),
                    **self.throughput(), **self.training_record())
        if self.device.startswith("cuda") and switch_from_env("LRSCI_CUDA_GRAPHS"):
            prov["sgd_step"] = "one captured CUDA graph per step where the run allows it (LRSCI_CUDA_GRAPHS=1)"
        section = {"profile": self.profile, "seeds": self.seeds, "seed_offset": self.seed_offset,
                   **section, "provenance": prov}
        if self.run_overrides:
            section["run_overrides"] = dict(self.run_overrides)
        write_section(self.report_root, claim, self.profile, section, draw_figures=self.draw_figures)
        return section


def progress_from_env(unset: bool = False) -> bool:
    """``LRSCI_PROGRESS``: on for 1/true/yes/on, off for 0/false/no/off, ``unset`` when unset or empty (on for a
    command a person waits on: `lrsci run`, the calibration tools); anything else is an error."""
    if not os.environ.get("LRSCI_PROGRESS", "").strip():
        return unset
    return switch_from_env("LRSCI_PROGRESS")


def workers_from_env(default: int) -> int:
    """``LRSCI_WORKERS`` as a positive integer, or ``default`` when unset."""
    return count_from_env("LRSCI_WORKERS", default, "runs trained at once")


def benchmark_info(section: dict) -> dict:
    """What a gpu test puts in pytest-benchmark's extra_info (and so in --benchmark-json)."""
    prov = section["provenance"]
    keys = ("device_name", "epochs_trained", "images_per_second_per_run", "workers", "wall_seconds",
            "runs_trained", "runs_loaded", "torch", "cuda", "git")
    return {"verdict": section["verdict"], **{k: prov.get(k) for k in keys}}

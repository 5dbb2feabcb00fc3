"""Options and fixtures shared by claims/ and tests/.

--seeds N          seeds per arm (default: each profile's own)
--seed-offset K    seeds K, K+1, ... instead of each profile's report seeds (e.g. 1000: the dev seeds)
--data-seed K      draw every run's data with seed K instead of the profile's (another PS10, another subset)
--report-dir DIR   where claim reports go (default reports/)
--data-root DIR    datasets (also LRSCI_DATA)
--run-store DIR    finished runs and checkpoints (also LRSCI_RUNS; default .runs/)
--require-gpu      a gpu test without CUDA fails instead of skipping
--executor NAME    where runs train: local worker processes (default), ray, or batched (also LRSCI_EXECUTOR)
--set FIELD=VALUE  the profile at another scale (model.width, epochs, ...; lrsci.overrides), repeatable; its
                   report is not the protocol's, so it goes to a --report-dir other than the committed reports/
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

try:  # a fixed example sequence under CI: a red build is reproducible
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")
except ImportError:  # pragma: no cover
    pass

ROOT = Path(__file__).parent
MAX_SEEDS = 1000  # a typo such as --seeds 1000000 must not silently queue a million runs


def pytest_sessionstart(session):
    # One intra-op thread: CPU results do not depend on the core count, and parallel
    # claim runs go to worker processes instead (lrsci.harness).
    import torch

    torch.set_num_threads(1)


def pytest_addoption(parser):
    g = parser.getgroup("lrsci")
    g.addoption("--seeds", type=int, default=None, help="seeds per arm (default: the profile's own)")
    g.addoption("--seed-offset", type=int, default=None,
                help="first seed of every arm (default: each profile's first_seed, its report seeds)")
    g.addoption("--data-seed", type=int, default=None,
                help="draw the data with this seed instead of the profile's (default: the profile's own)")
    g.addoption("--report-dir", default=str(ROOT / "reports"), help="claim reports folder")
    g.addoption("--data-root", default=os.environ.get("LRSCI_DATA"), help="dataset root (also LRSCI_DATA)")
    g.addoption("--run-store", default=os.environ.get("LRSCI_RUNS", str(ROOT / ".runs")),
                help="run store folder (also LRSCI_RUNS)")
    g.addoption("--require-gpu", action="store_true", help="fail gpu tests when CUDA is absent")
    g.addoption("--executor", choices=("local", "ray", "batched"), default=os.environ.get("LRSCI_EXECUTOR") or None,
                help="where runs train: local workers, a Ray cluster, or batched (also LRSCI_EXECUTOR)")
    from lrsci.overrides import allowed_text

    g.addoption("--set", action="append", default=None, metavar="FIELD=VALUE", dest="lrsci_set",
                help=f"run each profile at another scale: {allowed_text()} (repeatable; needs a --report-dir)")


def pytest_configure(config):
    seeds = config.getoption("--seeds")
    if seeds is not None and seeds < 2:
        raise pytest.UsageError(f"--seeds must be >= 2 (a paired test needs two seeds), got {seeds}")
    if seeds is not None and seeds > MAX_SEEDS:
        raise pytest.UsageError(f"--seeds {seeds} would train {seeds} runs per arm; at most {MAX_SEEDS} "
                                "are accepted (run several --seed-offset ranges if you really need more)")
    from lrsci.config import MAX_SEED

    for flag, top in (("--seed-offset", MAX_SEED + 1 - (seeds or MAX_SEEDS)), ("--data-seed", MAX_SEED)):
        if not 0 <= (config.getoption(flag) or 0) <= top:   # the last run seed must be a seed too
            raise pytest.UsageError(f"{flag} must be from 0 to {top} (a seed is at most {MAX_SEED})")
    _check_overrides(config)
    executor = config.getoption("--executor")   # from $LRSCI_EXECUTOR too, which argparse's choices never see
    if executor and executor.strip().lower() not in ("local", "ray", "batched"):
        raise pytest.UsageError(f"executor {executor!r} (--executor / LRSCI_EXECUTOR): expected local, ray or batched")
    if executor:  # ClaimContext reads it from the environment, as workers do
        os.environ["LRSCI_EXECUTOR"] = executor
    from lrsci.checkpoints import seconds_from_env
    from lrsci.executors import runs_per_gpu
    from lrsci.harness import workers_from_env
    from lrsci.switches import SWITCHES, switch_from_env

    try:   # refused here, in one line, rather than as a traceback in every claim
        workers_from_env(1), runs_per_gpu(), [switch_from_env(name) for name in SWITCHES], seconds_from_env()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    from lrsci.executors import exit_with_parent_from_env

    exit_with_parent_from_env()   # under `lrsci run`: a killed lrsci leaves no pytest training on


def _check_overrides(config) -> None:
    """--set: parsed once here (a bad field is one line, not a traceback per claim); a scaled run is not the
    protocol's report, so it never writes over the committed reports/ folder."""
    from lrsci.overrides import OverrideError, parse, refuse_committed_reports

    try:
        config.lrsci_overrides = parse(config.getoption("lrsci_set"))
        refuse_committed_reports(config.lrsci_overrides, config.getoption("--report-dir"), ROOT / "reports")
    except OverrideError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_runtest_setup(item):
    if item.get_closest_marker("gpu") is None:
        return
    import torch

    if not torch.cuda.is_available():
        reason = "gpu profile: CUDA is not available on this machine"
        if item.config.getoption("--require-gpu"):
            pytest.fail(f"{reason}, and --require-gpu was given", pytrace=False)
        pytest.skip(reason)

"""Tiny synthetic data and configs for engine tests (seconds, not minutes)."""
from __future__ import annotations

import importlib.util
import re
import signal
from contextlib import contextmanager
from pathlib import Path

import torch

from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from lrsci.data.base import ArrayData


ROOT = Path(__file__).resolve().parents[1]


def load_file(path: str | Path, name: str):
    """A Python file that is not an importable module (a claim module, a tool script) loaded as ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool_refusal(tool: str, argv: list[str], capsys) -> str:
    """What ``tools/<tool>.py`` says on stderr when it refuses ``argv`` (a usage error, before any training)."""
    import pytest

    with pytest.raises(SystemExit):
        load_file(ROOT / "tools" / f"{tool}.py", f"refusing_{tool}").main(argv)
    return capsys.readouterr().err


def device_script_function(name: str) -> str:
    """The bash text of one function of tools/device_session.sh, to run on its own in a test."""
    script = (ROOT / "tools" / "device_session.sh").read_text()
    return re.search(rf"^{name}\(\) \{{.*?^\}}", script, re.M | re.S).group(0)


def project_pytester(pytester):
    """``pytester`` set up as this project: its root conftest (the --seeds, --require-gpu and report
    options) and its marker list, so an in-process pytest run sees what ``pytest claims`` sees."""
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\nmarkers =\n    gpu: g\n    fast: f\n")
    return pytester


def blobs(n_train: int = 256, n_test: int = 128, dim: int = 8, seed: int = 0) -> ArrayData:
    """Two Gaussian classes in R^dim, shaped as 1×1×dim images, with an "odd" subset tag."""
    g = torch.Generator().manual_seed(seed)
    n = n_train + n_test
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 1, 1, dim, generator=g) + (2 * y - 1).view(-1, 1, 1, 1) * 0.8
    odd = torch.arange(n) % 2 == 1
    return ArrayData("blobs", x[:n_train], y[:n_train], x[n_train:], y[n_train:], 2,
                     {"odd": odd[:n_train]}, {"odd": odd[n_train:]})


# PS10's smallest draw (sizes are multiples of 2000; 4×4 pixels): a test that trains a tiny_config on the real
# generator, rather than on data it patched in, gets seconds of work, not the default 50k 32×32 images (1.2 GB).
TINY_PS10 = DataConfig("ps10", train_size=2000, test_size=2000, options={"image_size": 4})


def tiny_config(**changes) -> RunConfig:
    cfg = RunConfig(data=TINY_PS10, model=ModelConfig("mlp", hidden=16),
                    optim=OptimConfig(lr=0.05, batch_size=32), epochs=4, seed=0, device="cpu")
    return cfg.with_(**changes)


def dev_context(tmp_path, monkeypatch, data, n_seeds: int = 2):
    """A ClaimContext on dev seeds 1000.. that trains ``data`` on the CPU in this process (no dataset read)."""
    from lrsci.harness import ClaimContext
    from lrsci.runs import RunStore

    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: data)
    return ClaimContext(profile="t", store=RunStore(tmp_path / "runs"), report_root=tmp_path / "rep",
                        n_seeds=n_seeds, seed_offset=1000, device="cpu", workers=1)


def ctrl_c_as_in_a_terminal() -> None:
    """SIGINT with its default action (a child process's ``preexec_fn``), as a terminal's shell gives it, whatever
    this test process inherited: a process started in the background by a script (``cmd &``, no job control)
    starts with SIGINT ignored, passes that on to its children, and Python keeps it so (as it should: such a run
    is meant to ignore Ctrl-C). Tests of what Ctrl-C does must not depend on how the suite was started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def python_ctrl_c():
    """Within it, SIGINT raises KeyboardInterrupt in this process (Python's default), even if the suite was started
    with SIGINT ignored (see :func:`ctrl_c_as_in_a_terminal`)."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


class Interrupt(Exception):
    """Raised by :func:`interrupt_at`: a kill in the middle of a run, as a test can stage it."""


def interrupt_at(epoch: int):
    """An ``on_epoch`` hook that interrupts a run once it has trained ``epoch`` epochs."""
    def stop(trainer, record):
        if trainer.epoch == epoch:
            raise Interrupt
    return stop


def trained(cfg, data=None):
    """The Trainer of ``cfg`` run to its end, from scratch, outside any store."""
    from lrsci.train import Trainer

    t = Trainer(cfg, data or blobs())
    t.run()
    return t


def data_that_changes(monkeypatch) -> dict:
    """The store's data as a dict a test can change (its seed, its content hash) between two runs."""
    from lrsci import runs as runs_mod

    data = {"seed": 0, "hash": "aaaa"}

    def load(cfg, root=None):
        d = blobs(seed=data["seed"])
        d.info["content_sha256"] = data["hash"]
        return d
    monkeypatch.setattr(runs_mod, "load_data", load)
    return data


@contextmanager
def batch_killed_in_epoch(monkeypatch, epoch: int = 2):
    """Within the block, a BatchedTrainer is killed (KeyboardInterrupt) as it starts its ``epoch``-th epoch,
    counted over every batch the block trains; after it, batches train as usual."""
    from lrsci.batched import BatchedTrainer

    real, calls = BatchedTrainer.train_epoch, {"n": 0}

    def dies(self):
        calls["n"] += 1
        if calls["n"] == epoch:
            raise KeyboardInterrupt("killed")
        return real(self)
    monkeypatch.setattr(BatchedTrainer, "train_epoch", dies)
    try:
        yield
    finally:
        monkeypatch.setattr(BatchedTrainer, "train_epoch", real)


def listed_blocks(out: str) -> dict:
    """`lrsci list -v`'s output as {(claim, profile): its line and the indented lines under it, joined}."""
    blocks, key = {}, None
    for line in out.splitlines()[1:]:
        if not line.startswith(" "):
            key = tuple(line.split()[:2])
            blocks[key] = line
        else:
            blocks[key] += "\n" + line.strip()
    return blocks

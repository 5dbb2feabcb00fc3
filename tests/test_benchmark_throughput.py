"""Throughput (#13): plain loop, the engine, K engine processes, and K runs as one batched model.

No timed assertion: pytest-benchmark (or, under pytest-xdist, which switches it off, the dict the
test builds) records images/s and the ratios in extra_info; ``--benchmark-json`` carries them. The
CPU test uses the fast profiles' MLP on Fashion-MNIST-sized random inputs (no dataset needed); the
gpu test measures WideResNet-16-4 on 28×28 inputs, bf16, batch 128, with FLOP/s and the fraction
of the card's measured bf16 peak.
"""
import json
import os

import pytest
import torch

from lrsci import throughput
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from lrsci.data.base import ArrayData
from lrsci.provenance import provenance


def random_images(n_train: int, n_test: int = 64, seed: int = 0) -> ArrayData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_train + n_test, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (n_train + n_test,), generator=g)
    return ArrayData("random-28x28", x[:n_train], y[:n_train], x[n_train:], y[n_train:], 10)


def config(model: ModelConfig, device: str, precision: str = "fp32") -> RunConfig:
    return RunConfig(data=DataConfig("fashion-mnist"), model=model, device=device, precision=precision, epochs=1,
                     optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=128), eval_train=False)


def partial_log(test: str):
    """With LRSCI_BENCH_LOG set (the device session does), each number is appended there as a JSON line
    the moment it is measured: a session cut off mid-benchmark keeps what it measured."""
    path = os.environ.get("LRSCI_BENCH_LOG")
    if not path:
        return None

    def log(name, value):
        with open(path, "a") as f:
            f.write(json.dumps({"test": test, "measurement": name, "value": value}) + "\n")
    return log


def record(benchmark, fn, device):
    out = {}
    benchmark.pedantic(lambda: out.update(fn()), rounds=1, iterations=1)
    benchmark.extra_info.update(out, provenance=provenance(device))   # tools/benchmark_report.py files it
    return out


def test_throughput_on_cpu(benchmark):
    cfg = config(ModelConfig("mlp", hidden=256), "cpu")
    # Benchmarks switched off (pytest-xdist: the smoke) keep no number: there the code path runs at a quarter size,
    # and without K = 5 (the same code as K = 2; five worker processes on two cores only slow the claims beside it).
    n, ks = (512, (1, 2)) if benchmark.disabled else (2048, (1, 2, 5))
    out = record(benchmark, lambda: throughput.report(cfg, random_images(n), ks=ks, log=partial_log("cpu")), "cpu")
    for key in ("plain_loop_images_per_s", "engine_images_per_s"):
        assert out[key] > 0
    for key in ("concurrent_engines_images_per_s", "batched_engine_images_per_s"):
        assert set(out[key]) == set(ks) and all(v > 0 for v in out[key].values())
    assert out["errors"] == {}   # on the CPU every path must run


def test_a_failing_measurement_is_recorded_and_the_others_kept(monkeypatch):
    def broken(*a, **kw):
        raise RuntimeError("no such kernel")
    monkeypatch.setattr(throughput, "batched_engine", broken)
    monkeypatch.setattr(throughput, "concurrent_engines", lambda *a, **kw: 1.0)   # no worker processes: ~5 s
    cfg = config(ModelConfig("mlp", hidden=32), "cpu")
    out = throughput.report(cfg, random_images(512), ks=(1,))
    assert out["batched_engine_images_per_s"] == {1: None} and out["k1_batched_over_plain"] is None
    assert out["errors"] == {"k1_batched": "RuntimeError: no such kernel"}
    heard = []
    throughput.report(cfg, random_images(512), ks=(1,), log=lambda name, v: heard.append((name, v)))
    assert [n for n, _ in heard] == ["plain_loop", "engine", "k1_processes", "k1_batched"]
    assert heard[-1][1] == "RuntimeError: no such kernel" and heard[0][1] > 0
    assert out["concurrent_engines_images_per_s"][1] == 1.0 and out["engine_over_plain"] > 0


class _Proc:
    def __init__(self, exitcode):
        self.exitcode = exitcode


def test_a_worker_that_died_before_the_shared_start_is_an_error_not_a_hang():
    """The siblings of a failed worker wait at the barrier and report nothing: the parent must notice the
    dead one instead of waiting on the queue (a GPU session's benchmark call would lose every number)."""
    import multiprocessing as mp

    empty = mp.get_context("spawn").Queue()
    with pytest.raises(RuntimeError, match="exited with code 1"):
        throughput._spans([_Proc(None), _Proc(1)], empty, poll_s=0.01)
    full = mp.get_context("spawn").Queue()
    for span in ((0.0, 1.0, 64), (0.5, 2.0, 64)):
        full.put(span)
    assert throughput._spans([_Proc(0), _Proc(None)], full, poll_s=0.01) == [(0.0, 1.0, 64), (0.5, 2.0, 64)]


def test_engine_processes_that_cannot_train_raise_and_are_ended():
    cfg = config(ModelConfig("two_layer"), "cpu")   # a vector model on images: every worker fails to build it
    with pytest.raises(RuntimeError, match="throughput worker exited"):
        throughput.concurrent_engines(cfg, random_images(64), k=2)


class _Clock:
    """time.perf_counter stand-in: each call is ``step`` seconds after the previous one."""
    def __init__(self, step=1.0):
        self.now, self.step = 0.0, step

    def perf_counter(self):
        self.now += self.step
        return self.now


def test_the_plain_loop_counts_every_timed_epochs_images(monkeypatch):
    monkeypatch.setattr(throughput, "time", _Clock(step=2.0))   # t0, then the end: 2 s for the timed epochs
    cfg = config(ModelConfig("mlp", hidden=8), "cpu")
    assert throughput.plain_loop(cfg, random_images(64), epochs=3, warmup_steps=1) == 3 * 64 / 2.0


class _FakeTrainer:
    """Counts like a trainer: the warm-up epoch takes 10 s, every later one 1 s; each trains all images."""
    made = []

    def __init__(self, configs, data, step_graph=None):
        self.configs, self.n, self.images, self.train_seconds = configs, data.x_train.shape[0], 0, 0.0
        _FakeTrainer.made.append(self)

    def train_epoch(self):
        self.train_seconds += 10.0 if self.images == 0 else 1.0
        self.images += self.n


def test_engine_and_batched_rates_leave_out_the_warm_up_and_count_every_run(monkeypatch):
    import lrsci.batched

    data, cfg = random_images(64), config(ModelConfig("mlp", hidden=8), "cpu")
    monkeypatch.setattr(throughput, "Trainer", lambda c, d, step_graph=None: _FakeTrainer([c], d))
    assert throughput.engine(cfg, data, epochs=2) == 2 * 64 / 2.0
    monkeypatch.setattr(lrsci.batched, "BatchedTrainer", _FakeTrainer)
    assert throughput.batched_engine(cfg, data, k=3, epochs=2) == 3 * 2 * 64 / 2.0
    assert [c.seed for c in _FakeTrainer.made[-1].configs] == [cfg.seed, cfg.seed + 1, cfg.seed + 2]


def test_concurrent_engines_aggregate_all_images_over_the_whole_span(monkeypatch):
    class Ctx:
        Barrier = Queue = staticmethod(lambda *a: None)

        class Process:
            def __init__(self, target, args):
                pass
            start = join = lambda self: None
            is_alive = lambda self: False  # noqa: E731

    monkeypatch.setattr(throughput.mp, "get_context", lambda kind: Ctx)
    monkeypatch.setattr(throughput, "_spans", lambda procs, out: [(0.0, 2.0, 100), (1.0, 4.0, 100)])
    cfg = config(ModelConfig("mlp", hidden=8), "cpu")
    assert throughput.concurrent_engines(cfg, random_images(64), k=2) == 200 / 4.0
    with pytest.raises(ValueError, match="k=0"):
        throughput.concurrent_engines(cfg, random_images(64), k=0)


def test_a_worker_that_finished_cleanly_while_a_sibling_reports_late_is_not_an_error():
    import queue

    class Late:
        def __init__(self):
            self.calls = 0

        def get(self, timeout):
            self.calls += 1
            if self.calls == 2:   # the second span is not there yet at the first look
                raise queue.Empty
            return (0.0, 1.0, 64)

    assert throughput._spans([_Proc(0), _Proc(None)], Late(), poll_s=0.01) == [(0.0, 1.0, 64)] * 2


def test_report_ratios_are_over_the_plain_loop_and_non_finite_numbers_are_none(monkeypatch):
    monkeypatch.setattr(throughput, "plain_loop", lambda *a, **k: 100.0)
    monkeypatch.setattr(throughput, "engine", lambda *a, **k: 50.0)
    monkeypatch.setattr(throughput, "concurrent_engines", lambda *a, **k: 300.0)
    monkeypatch.setattr(throughput, "batched_engine", lambda *a, **k: float("inf"))
    out = throughput.report(config(ModelConfig("mlp", hidden=8), "cpu"), random_images(64), ks=(2,))
    assert out["engine_over_plain"] == 0.5 and out["k2_processes_over_plain"] == 3.0
    assert out["k2_batched_over_plain"] is None


@pytest.mark.gpu
def test_throughput_wrn16_4_on_gpu(benchmark):
    cfg = config(ModelConfig("wrn", depth=16, width=4), "cuda", precision="bf16")
    out = record(benchmark, lambda: throughput.report(cfg, random_images(12_800), ks=(1, 3, 5, 8),
                                                     log=partial_log("cuda")), "cuda")
    assert out["flops_per_image"] > 0 and 0 < out["plain_fraction_of_peak"] < 1
    assert out["errors"] == {}   # recorded first (extra_info), then failed on: every path must run on a GPU

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
    out = record(benchmark, lambda: throughput.report(cfg, random_images(2048), ks=(1, 2, 5),
                                                     log=partial_log("cpu")), "cpu")
    for key in ("plain_loop_images_per_s", "engine_images_per_s"):
        assert out[key] > 0
    for key in ("concurrent_engines_images_per_s", "batched_engine_images_per_s"):
        assert set(out[key]) == {1, 2, 5} and all(v > 0 for v in out[key].values())
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


@pytest.mark.gpu
def test_throughput_wrn16_4_on_gpu(benchmark):
    cfg = config(ModelConfig("wrn", depth=16, width=4), "cuda", precision="bf16")
    out = record(benchmark, lambda: throughput.report(cfg, random_images(12_800), ks=(1, 3, 5, 8),
                                                     log=partial_log("cuda")), "cuda")
    assert out["flops_per_image"] > 0 and 0 < out["plain_fraction_of_peak"] < 1
    assert out["errors"] == {}   # recorded first (extra_info), then failed on: every path must run on a GPU

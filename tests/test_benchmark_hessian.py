"""Time of the top-10 Hessian eigenvalues (lrsci.hessian) of a WideResNet-16-4 over 10 000 Fashion-MNIST images.

gd-larger-lr-diverges measures λ_1..λ_10 with this function; #8 asks what one such measurement costs
at WideResNet scale on one GPU. The gpu test times it (pytest-benchmark, one round: it is tens of
seconds) and records the number of Hessian-vector products and the time per product in extra_info;
no timed assertion. The CPU test runs the same code at tiny size so the path is checked in CI.
"""
import time

import pytest
import torch

from lrsci.config import DataConfig, ModelConfig
from lrsci.data.registry import load_data
from lrsci.hessian import hvp_operator, top_eigenvalues
from lrsci.models import build_model
from lrsci.provenance import provenance


def counted_top_eigenvalues(model, x, y, k, chunk):
    """top_eigenvalues, and how many Hessian-vector products it took (counted on the same operator)."""
    import lrsci.hessian as H

    calls = {"n": 0}
    real = H.hvp_operator

    def counting(*a, **kw):
        op = real(*a, **kw)
        matvec = op.matvec

        def counted(v):
            calls["n"] += 1
            return matvec(v)
        return H.LinearOperator(op.shape, matvec=counted, rmatvec=counted, dtype=op.dtype)
    H.hvp_operator = counting
    try:
        return top_eigenvalues(model, x, y, k=k, chunk=chunk), calls["n"]
    finally:
        H.hvp_operator = real


def wrn_and_data(n: int, depth: int, width: int, device: str):
    data = load_data(DataConfig("fashion-mnist", train_size=n, test_size=100, seed=0))
    torch.manual_seed(0)
    model = build_model(ModelConfig("wrn", depth=depth, width=width), data.input_shape, data.num_classes).to(device)
    return model, data.x_train.to(device), data.y_train.to(device)


def check_spectrum(vals, k):
    assert len(vals) == k and all(v == v and abs(v) < 1e12 for v in vals)
    assert vals == sorted(vals, reverse=True)


def test_hessian_top10_path_on_cpu():
    model, x, y = wrn_and_data(16, depth=10, width=1, device="cpu")
    vals, hvps = counted_top_eigenvalues(model, x, y, k=2, chunk=8)
    check_spectrum(vals, 2)
    assert hvps > 0 and hvp_operator(model, x, y).shape[0] == sum(p.numel() for p in model.parameters())


@pytest.mark.gpu
def test_hessian_top10_wrn16_4_10k_images_gpu(benchmark):
    model, x, y = wrn_and_data(10_000, depth=16, width=4, device="cuda")
    out = {}

    def measure():
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        out["vals"], out["hvps"] = counted_top_eigenvalues(model, x, y, k=10, chunk=1024)
        torch.cuda.synchronize()
        out["seconds"] = time.perf_counter() - t0
    benchmark.pedantic(measure, rounds=1, iterations=1)
    check_spectrum(out["vals"], 10)
    # tools/benchmark_report.py files this into reports/benchmarks/hessian.json and gd-larger-lr-diverges' provenance
    benchmark.extra_info.update(examples=10_000, chunk=1024, k=10, hvps=out["hvps"], seconds=out["seconds"],
                                seconds_per_hvp=out["seconds"] / out["hvps"], top10=out["vals"],
                                provenance=provenance("cuda"),
                                note="untrained WRN-16-4 (init seed 0), fp32 parameters (convolutions in TF32 where provenance.tf32 says so), BatchNorm in training mode")

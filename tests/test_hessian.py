"""lrsci.hessian: top-k Hessian eigenvalues against dense ground truth, and its contracts.

Tolerances (relative to the largest |eigenvalue| of the dense reference):
  float64 model: 1e-4;  float32 model vs float64 reference: 1e-3.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.func import functional_call

from lrsci.hessian import hvp_operator, parameter_count, top_eigenvalues
from lrsci.models import ActivationNoise


def mlp(d, h, c, seed, bn=False):
    layers = lambda: [nn.Linear(d, h)] + ([nn.BatchNorm1d(h)] if bn else []) + [nn.Tanh(), nn.Linear(h, c)]
    return seeded(seed, lambda: nn.Sequential(*layers()))


def seeded(seed, build):
    with torch.random.fork_rng():  # the tests leave the global RNG alone too
        torch.manual_seed(seed)
        return build()


def data(n, d, c, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed + 1)
    return torch.randn(n, d, generator=g, dtype=dtype), torch.randint(0, c, (n,), generator=g)


def dense_top(model, x, y, k, chunk=None):
    """Top-k eigenvalues of the dense float64 Hessian of the (chunk-weighted) mean loss.

    The model is evaluated in train mode from a flat parameter vector; buffers are passed
    as clones so BN's running statistics in the model are not updated.
    """
    model = copy.deepcopy(model).double().train()
    x = x.double()
    names = [n for n, p in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    theta0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    n, step = x.shape[0], chunk or x.shape[0]

    def loss(theta):
        ps = dict(zip(names, (t.view(s) for t, s in zip(theta.split([s.numel() for s in shapes]), shapes))))
        bufs = {k: b.clone() for k, b in model.named_buffers()}
        total = 0.0
        for i in range(0, n, step):
            out = functional_call(model, {**ps, **bufs}, (x[i:i + step],))
            total = total + F.cross_entropy(out, y[i:i + step]) * (out.shape[0] / n)
        return total

    H = torch.autograd.functional.hessian(loss, theta0)
    return torch.linalg.eigvalsh(H).flip(0)[:k], H


def assert_close_rel(got, ref, rtol):
    scale = ref.abs().max().item()
    err = max(abs(a - b) for a, b in zip(got, ref.tolist()))
    assert err <= rtol * scale, (got, ref.tolist(), err, scale)


sizes = dict(d=st.integers(2, 5), h=st.integers(2, 6), c=st.integers(2, 4),
             n=st.integers(4, 12), seed=st.integers(0, 10_000))


@settings(max_examples=12, deadline=None)
@given(**sizes, k=st.integers(1, 3))
def test_matches_dense_hessian_float64(d, h, c, n, seed, k):
    model = mlp(d, h, c, seed).double()
    x, y = data(n, d, c, seed, torch.float64)
    ref, _ = dense_top(model, x, y, k)
    got = top_eigenvalues(model, x, y, k=k, tol=1e-10)
    assert got == sorted(got, reverse=True) and all(type(e) is float for e in got)
    assert_close_rel(got, ref, 1e-4)


@settings(max_examples=8, deadline=None)
@given(**sizes)
def test_matches_dense_hessian_float32(d, h, c, n, seed):
    model = mlp(d, h, c, seed)
    x, y = data(n, d, c, seed)
    ref, _ = dense_top(model, x, y, 2)
    assert_close_rel(top_eigenvalues(model, x, y, k=2), ref, 1e-3)


def test_operator_is_the_dense_hessian():
    model = mlp(3, 4, 3, 0).double()
    x, y = data(7, 3, 3, 0, torch.float64)
    _, H = dense_top(model, x, y, 1)
    op = hvp_operator(model, x, y, chunk=3)
    assert op.shape == (parameter_count(model),) * 2 == H.shape
    eye = torch.eye(H.shape[0], dtype=torch.float64).numpy()
    assert torch.allclose(torch.from_numpy(op.matmat(eye)), H, rtol=0, atol=1e-10)


def test_chunking_without_bn_is_exact():
    model = mlp(4, 6, 3, 1)
    x, y = data(10, 4, 3, 1)
    full = top_eigenvalues(model, x, y, k=4)
    chunked = top_eigenvalues(model, x, y, k=4, chunk=3)
    scale = max(abs(e) for e in full)
    assert max(abs(a - b) for a, b in zip(full, chunked)) <= 1e-4 * scale


@pytest.mark.parametrize("chunk", [None, 4])
def test_batchnorm_ghost_batches_and_state_untouched(chunk):
    model = mlp(3, 5, 3, 2, bn=True).double()
    x, y = data(10, 3, 3, 2, torch.float64)
    with torch.no_grad():
        model.train()(x)  # move running stats away from their initial values
    model.eval()
    model[1].train()  # mixed flags must come back as they were
    flags = [m.training for m in model.modules()]
    bufs = [b.clone() for b in model.buffers()]
    params = [p.clone() for p in model.parameters()]
    model[0].weight.grad = torch.ones_like(model[0].weight)
    ref, _ = dense_top(model, x, y, 3, chunk=chunk)  # train-mode (batch stats) objective
    got = top_eigenvalues(model, x, y, k=3, chunk=chunk, tol=1e-10)
    assert_close_rel(got, ref, 1e-4)
    assert all(torch.equal(a, b) for a, b in zip(bufs, model.buffers()))
    assert [m.training for m in model.modules()] == flags
    assert all(torch.equal(a, b) for a, b in zip(params, model.parameters()))
    assert torch.equal(model[0].weight.grad, torch.ones_like(model[0].weight))
    assert all(p.grad is None for n, p in model.named_parameters() if n != "0.weight")


def test_buffers_restored_on_exception():
    model = mlp(3, 5, 3, 2, bn=True).eval()
    bufs = [b.clone() for b in model.buffers()]

    def bad_loss(out, y):
        raise RuntimeError("boom")

    x, y = data(6, 3, 3, 0)
    with pytest.raises(RuntimeError, match="boom"):
        top_eigenvalues(model, x, y, k=2, loss_fn=bad_loss)
    assert all(torch.equal(a, b) for a, b in zip(bufs, model.buffers()))
    assert not any(m.training for m in model.modules())


@pytest.mark.parametrize("noise", [nn.Dropout(0.3), ActivationNoise(0.5)])
def test_global_rng_untouched_and_deterministic(noise):
    model = seeded(0, lambda: nn.Sequential(nn.Linear(4, 6), noise, nn.Tanh(), nn.Linear(6, 3)).train())
    x, y = data(8, 4, 3, 3)
    state = torch.get_rng_state()
    a = top_eigenvalues(model, x, y, k=3, seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    b = top_eigenvalues(model, x, y, k=3, seed=5)
    assert a == b  # same seed, same noise masks, same Lanczos start: identical


def test_deterministic_for_a_seed():
    model = mlp(4, 6, 3, 4)
    x, y = data(9, 4, 3, 4)
    assert top_eigenvalues(model, x, y, k=5, seed=3) == top_eigenvalues(model, x, y, k=5, seed=3)


def test_small_convnet_with_chunks():
    model = seeded(0, lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                            nn.Flatten(), nn.Linear(4 * 4 * 4, 5)))
    x, y = data(12, 3 * 6 * 6, 5, 0)
    x = x.view(12, 3, 6, 6)
    bufs = [b.clone() for b in model.buffers()]
    got = top_eigenvalues(model, x, y, k=4, chunk=5, tol=1e-4)
    assert len(got) == 4 and all(type(e) is float for e in got)
    assert got == sorted(got, reverse=True)
    assert all(torch.equal(a, b) for a, b in zip(bufs, model.buffers()))


def test_bad_inputs():
    model = mlp(3, 2, 2, 0)  # 3*2+2 + 2*2+2 = 14 parameters
    x, y = data(5, 3, 2, 0)
    assert parameter_count(model) == 14
    with pytest.raises(ValueError, match="k=0"):
        top_eigenvalues(model, x, y, k=0)
    with pytest.raises(ValueError, match=r"k=14 must be < the number of parameters \(14\)"):
        top_eigenvalues(model, x, y, k=14)
    with pytest.raises(ValueError, match="x"):
        top_eigenvalues(model, x[:0], y[:0], k=2)
    with pytest.raises(ValueError, match="x has 5 rows but y has 4"):
        top_eigenvalues(model, x, y[:4], k=2)
    with pytest.raises(ValueError, match="chunk=0"):
        top_eigenvalues(model, x, y, k=2, chunk=0)
    with pytest.raises(ValueError, match="model parameters are torch.bfloat16; convert"):
        top_eigenvalues(copy.deepcopy(model).bfloat16(), x, y, k=2)
    with pytest.raises(ValueError, match="model parameters are torch.float16"):
        top_eigenvalues(copy.deepcopy(model).half(), x, y, k=2)
    frozen = copy.deepcopy(model).requires_grad_(False)
    with pytest.raises(ValueError, match="model has no trainable parameters"):
        top_eigenvalues(frozen, x, y, k=2)


def test_every_bad_argument_is_named_before_the_solver_runs():
    model = mlp(3, 2, 2, 0)
    x, y = data(6, 3, 2, 0)
    cases = [({"x": x.numpy()}, "x must be a torch.Tensor"), ({"x": x.tolist()}, "x must be a torch.Tensor"),
             ({"x": torch.tensor(1.0)}, "x must be .* 0-d tensor"), ({"y": y.tolist()}, "y must be a torch.Tensor"),
             ({"x": x.double()}, r"x is torch.float64 but the model's parameters are torch.float32"),
             ({"loss_fn": None}, "loss_fn must be a callable"), ({"seed": -1}, r"seed=-1 must be an integer in \[0, 2\*\*63\)"), ({"seed": 2 ** 70}, "seed="),
             ({"tol": -1.0}, "tol=-1.0 must be a number >= 0"),
             ({"loss_fn": lambda o, t: F.cross_entropy(o, t, reduction="none")},
              r"loss_fn must return the MEAN loss as a one-element tensor .* returned a tensor of shape \(6,\)"),
             ({"loss_fn": lambda o, t: 1.0}, "loss_fn must return the MEAN loss .* returned a float")]
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            top_eigenvalues(model, **{"x": x, "y": y, "k": 2, **change})
    bn = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    x9, y9 = data(9, 3, 2, 0)
    with pytest.raises(ValueError, match="chunk=8 leaves a chunk of one example"):
        top_eigenvalues(bn, x9, y9, k=2, chunk=8)
    assert len(top_eigenvalues(bn, x9, y9, k=2, chunk=3)) == 2           # chunks of 3: fine


def test_the_operator_works_under_a_callers_no_grad():
    model = mlp(3, 2, 2, 0)
    x, y = data(6, 3, 2, 0)
    op = hvp_operator(model, x, y)
    v = torch.ones(parameter_count(model), dtype=torch.float64).numpy()
    free = op.matvec(v)
    with torch.no_grad():
        assert (op.matvec(v) == free).all()


def test_eigenvalues_under_no_grad_and_integer_arguments_only():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    x, y = torch.randn(16, 3), torch.randint(0, 2, (16,))
    free = top_eigenvalues(model, x, y, k=2)
    with torch.no_grad():
        assert top_eigenvalues(model, x, y, k=2) == free   # autograd is switched on for the HVPs
    for bad in ({"k": 2.0}, {"k": True}, {"chunk": 2.5}, {"chunk": True}):
        with pytest.raises(ValueError, match="must be an integer"):
            top_eigenvalues(model, x, y, **{"k": 2, **bad})


def test_numpy_integers_int32_labels_and_a_linear_loss_are_handled():
    """numpy integer arguments and int32 labels give the int64 answer; a zero Hessian gives zeros, not ARPACK's error."""
    model = mlp(3, 2, 2, 0)
    x, y = data(6, 3, 2, 0)
    want = top_eigenvalues(model, x, y, k=2, chunk=3, seed=1)
    assert top_eigenvalues(model, x, y.int(), k=np.int64(2), chunk=np.int32(3), seed=np.int64(1)) == want
    assert top_eigenvalues(nn.Linear(3, 2), x, y, k=2, loss_fn=lambda o, t: o.mean()) == [0.0, 0.0]


def test_a_model_mixing_dtypes_is_named():
    model = mlp(3, 2, 2, 0)
    model[0].double()
    x, y = data(6, 3, 2, 0)
    with pytest.raises(ValueError, match="model parameters mix torch.float32, torch.float64"):
        top_eigenvalues(model, x, y, k=2)

"""lrsci/hessian.py and lrsci/measures.py: seeds, modes and the measured quantities (pinned by a mutation audit, 2026-11-27)."""
import math

import numpy as np

import pytest
import torch
from torch import nn

from lrsci.hessian import hvp_operator, top_eigenvalues
from lrsci.measures import measure_seed, take_measurements
from lrsci.models import build_model
from tests.helpers import blobs, tiny_config


def _dropout_net():
    torch.manual_seed(0)
    return build_model(tiny_config(**{"model.dropout": 0.3, "model.hidden": 6}).model, (1, 1, 8), 2)


def test_the_hessians_noise_draw_follows_its_seed_not_the_callers_rng():
    model, data = _dropout_net(), blobs(n_train=64)
    x, y = data.x_train, data.y_train
    torch.manual_seed(1)
    a = top_eigenvalues(model, x, y, k=2, seed=5)
    torch.manual_seed(2)
    b = top_eigenvalues(model, x, y, k=2, seed=5)
    assert a == b                                           # the caller's global RNG plays no part
    assert top_eigenvalues(model, x, y, k=2, seed=6) != a   # the seed picks the dropout masks


def test_a_loss_linear_in_the_parameters_has_zero_curvature():
    torch.manual_seed(0)
    lin = nn.Linear(3, 2)
    x, y = torch.randn(10, 3), torch.zeros(10, dtype=torch.long)
    op = hvp_operator(lin, x, y, loss_fn=lambda out, t: out.sum())
    assert not op.matvec(np.ones(op.shape[0])).any()


def test_measurements_are_the_stated_quantities_with_their_options_and_seed():
    from lrsci.runs import cpu_threads

    data = blobs(n_train=48)
    torch.manual_seed(0)
    model = build_model(tiny_config(**{"model.hidden": 4}).model, (1, 1, 8), 2)
    model.eval()
    opts = {"hessian_top": {"k": 2, "examples": 32, "chunk": 16}, "sharpness": {"examples": 32, "chunk": 16},
            "weight_norm": {}}
    with cpu_threads(1):
        got = take_measurements(model, data, opts, run_seed=3, epoch=2)
        x, y = data.x_train[:32], data.y_train[:32]
        seed = measure_seed(3, 2, "hessian_top")
        assert got["hessian_top"] == top_eigenvalues(model, x, y, k=2, chunk=16, seed=seed)
        assert got["hessian_top"] != top_eigenvalues(model, x, y, k=2, chunk=None, seed=seed)   # ghost batches of 16
        assert got["sharpness"] == pytest.approx(
            top_eigenvalues(model, x, y, k=1, chunk=16, seed=measure_seed(3, 2, "sharpness"))[0], rel=1e-6)
    norm = math.sqrt(sum(float((p.detach().double() ** 2).sum()) for p in model.parameters()))
    assert got["weight_norm"] == pytest.approx(norm, rel=1e-12)
    assert not any(m.training for m in model.modules())     # the eval flags the caller set come back
    assert measure_seed(3, 2, "hessian_top") != measure_seed(3, 3, "hessian_top")   # each epoch its own draw


def test_isolated_puts_back_each_modules_train_flag():
    from lrsci.measures import isolated

    torch.manual_seed(0)
    model = build_model(tiny_config(**{"model.hidden": 6}).model, (1, 1, 8), 2)
    model.eval()
    model.net[1].train()          # a mixed state: one BatchNorm in training mode
    flags = [m.training for m in model.modules()]
    with isolated(model):
        model.train()
    assert [m.training for m in model.modules()] == flags

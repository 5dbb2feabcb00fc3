"""Bias-corrected EDMA (You et al. 2019, App. A.1.2, Eq. 1-3): forms, linearity, variance."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lrsci.edma import (
    EDMA,
    edma_explicit,
    edma_series,
    edma_variance,
    edma_variance_limit,
    edma_weights,
)

betas = st.floats(min_value=0.01, max_value=0.99, allow_nan=False)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
losses = st.lists(finite, min_size=1, max_size=60)
steps = st.integers(min_value=1, max_value=400)
sigma2s = st.floats(min_value=0.0, max_value=1e3, allow_nan=False)

ALPHA = 0.01


def _scale(xs) -> float:
    return max([1.0] + [abs(x) for x in xs])


# ------------------------------------------------------------------ Eq. 1 vs Eq. 2
@settings(deadline=None)
@given(values=losses, beta=betas)
def test_recursive_equals_explicit(values, beta):
    m = EDMA(beta)
    tol = 1e-9 * _scale(values)
    for t, x in enumerate(values, start=1):
        g = m.update(x)
        assert m.t == t
        assert m.value == g
        assert g == pytest.approx(edma_explicit(values[:t], beta), rel=1e-9, abs=tol)
    assert edma_series(values, beta) == pytest.approx(
        [edma_explicit(values[:t], beta) for t in range(1, len(values) + 1)], rel=1e-9, abs=tol)


@settings(deadline=None)
@given(values=losses, beta=betas)
def test_weights_sum_to_one_and_give_explicit_form(values, beta):
    w = edma_weights(len(values), beta)
    assert w.shape == (len(values),)
    assert np.all(w >= 0) and w[-1] > 0 and np.all(np.diff(w) >= 0)   # newest weighs most
    assert math.fsum(w) == pytest.approx(1.0, rel=1e-12)
    assert float(w @ np.asarray(values)) == pytest.approx(
        edma_explicit(values, beta), rel=1e-9, abs=1e-9 * _scale(values))


@settings(deadline=None)
@given(beta=betas)
def test_first_value_is_the_first_observation(beta):
    m = EDMA(beta)
    assert m.value is None and m.t == 0
    assert m.update(3.25) == pytest.approx(3.25, rel=1e-12)


# ------------------------------------------------------------------ linearity / unbiasedness
@settings(deadline=None)
@given(pairs=st.lists(st.tuples(finite, finite), min_size=1, max_size=60), beta=betas)
def test_linear_in_the_observations(pairs, beta):
    """ĝ of ℓ + ε equals ĝ of ℓ plus ĝ of ε (so zero-mean noise leaves the mean at g)."""
    ell = [a for a, _ in pairs]
    eps = [b for _, b in pairs]
    both = [a + b for a, b in pairs]
    tol = 1e-9 * (_scale(ell) + _scale(eps))
    g_both = edma_series(both, beta)
    g_sum = [a + b for a, b in zip(edma_series(ell, beta), edma_series(eps, beta))]
    assert g_both == pytest.approx(g_sum, rel=1e-9, abs=tol)


@settings(deadline=None)
@given(c=finite, t=st.integers(1, 200), beta=betas)
def test_constant_sequence_is_a_fixed_point(c, t, beta):
    m = EDMA(beta)
    for _ in range(t):
        g = m.update(c)
    assert g == pytest.approx(c, rel=1e-9, abs=1e-9)


@settings(deadline=None)
@given(values=losses, cut=st.integers(0, 60), beta=betas)
def test_state_dict_round_trip_and_reset(values, cut, beta):
    cut = min(cut, len(values))
    a = EDMA(beta)
    for x in values[:cut]:
        a.update(x)
    b = EDMA(0.5)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    for x in values[cut:]:
        assert a.update(x) == b.update(x)
    a.reset()
    assert a.t == 0 and a.value is None and a.beta == beta


# ------------------------------------------------------------------ Eq. 3
@settings(deadline=None)
@given(t=steps, beta=betas, sigma2=sigma2s)
def test_variance_formula_equals_direct_sum(t, beta, sigma2):
    direct = (1 - beta) ** 2 / (1 - beta ** t) ** 2 * math.fsum(beta ** (2 * i) for i in range(t))
    assert edma_variance(t, beta, sigma2) == pytest.approx(direct * sigma2, rel=1e-9, abs=1e-300)
    w = edma_weights(t, beta)   # Var of a weighted sum of i.i.d. terms: σ² Σ w²
    assert edma_variance(t, beta, sigma2) == pytest.approx(
        sigma2 * math.fsum(w * w), rel=1e-9, abs=1e-300)


@settings(deadline=None)
@given(t=steps, beta=betas, sigma2=st.floats(1e-3, 1e3))
def test_variance_decreases_from_sigma2_to_the_limit(t, beta, sigma2):
    assert edma_variance(1, beta, sigma2) == pytest.approx(sigma2, rel=1e-12)
    v, v_next = edma_variance(t, beta, sigma2), edma_variance(t + 1, beta, sigma2)
    lim = edma_variance_limit(beta, sigma2)
    assert v_next <= v
    if beta ** t > 1e-6:             # the decrease is representable in floating point
        assert v_next < v
    assert v >= lim * (1 - 1e-12)
    assert v <= sigma2 * (1 + 1e-12)
    big_t = math.ceil(math.log(1e-15) / math.log(beta))
    assert edma_variance(big_t, beta, sigma2) == pytest.approx(lim, rel=1e-12)


def test_paper_figure_beta_0_9_converges_to_about_0_05_sigma2():
    assert edma_variance_limit(0.9) == pytest.approx(1 / 19)
    assert edma_variance_limit(0.9) == pytest.approx(0.0526, abs=5e-5)
    assert edma_variance_limit(0.9, sigma2=4.0) == pytest.approx(4 / 19)
    assert edma_variance(50, 0.9) == pytest.approx(1 / 19, rel=0.011)   # "rapidly converge"
    assert edma_variance(100, 0.9) == pytest.approx(1 / 19, rel=1e-4)


# ------------------------------------------------------------------ Monte Carlo
N_DRAWS = 20_000


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
@pytest.mark.parametrize("t", [1, 3, 10, 60])
def test_monte_carlo_variance_matches_eq3(beta, t):
    """(n−1)s²/Var ~ χ²(n−1) for Gaussian ĝ(t); two-sided test at α = 0.01."""
    rng = np.random.default_rng(1000 * t + int(100 * beta))
    sigma = 0.7
    noise = rng.normal(0.0, sigma, size=(N_DRAWS, t))
    g_hat = noise @ edma_weights(t, beta)
    # the vectorised weights are the online estimator: check on a subset of draws
    for row, g in zip(noise[:50], g_hat[:50]):
        assert edma_series(row, beta)[-1] == pytest.approx(g, rel=1e-9, abs=1e-12)
    var_theory = edma_variance(t, beta, sigma ** 2)
    stat = (N_DRAWS - 1) * g_hat.var(ddof=1) / var_theory
    chi2 = stats.chi2(N_DRAWS - 1)
    p = 2 * min(chi2.cdf(stat), chi2.sf(stat))
    assert p > ALPHA, (beta, t, g_hat.var(ddof=1), var_theory, p)


@pytest.mark.parametrize("beta", [0.5, 0.9])
def test_monte_carlo_zero_mean_noise_leaves_mean_at_g(beta):
    """ĝ(t) − g(t) over noise draws has mean 0 (one-sample t-test, α = 0.01), at every t."""
    rng = np.random.default_rng(7 + int(100 * beta))
    t_max = 30
    ts = np.arange(1, t_max + 1)
    truth = 0.3 + 2.0 * np.exp(-ts / 6.0)          # a falling noise-free loss ℓ(t)
    g = np.array(edma_series(truth, beta))
    noise = rng.uniform(-0.5, 0.5, size=(N_DRAWS, t_max))   # zero mean, not Gaussian
    observed = truth + noise
    for t in (1, 5, 30):
        g_hat = observed[:, :t] @ edma_weights(t, beta)
        res = stats.ttest_1samp(g_hat - g[t - 1], 0.0)
        assert res.pvalue > ALPHA, (beta, t, res)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("beta", [0.0, 1.0, -0.1, 1.5, float("nan"), float("inf"), True, "0.9"])
def test_bad_beta_raises(beta):
    with pytest.raises(ValueError, match="beta"):
        EDMA(beta)
    with pytest.raises(ValueError, match="beta"):
        edma_variance(3, beta)
    with pytest.raises(ValueError, match="beta"):
        edma_variance_limit(beta)
    with pytest.raises(ValueError, match="beta"):
        edma_explicit([1.0], beta)


@pytest.mark.parametrize("t", [0, -1, 1.5, 2.0, True, None])
def test_bad_t_raises(t):
    with pytest.raises(ValueError, match=r"\bt="):
        edma_variance(t, 0.9)
    with pytest.raises(ValueError, match=r"\bt="):
        edma_weights(t, 0.9)


@pytest.mark.parametrize("sigma2", [-1.0, float("nan"), float("inf")])
def test_bad_sigma2_raises(sigma2):
    with pytest.raises(ValueError, match="sigma2"):
        edma_variance(2, 0.9, sigma2)


def test_bad_values_raise():
    with pytest.raises(ValueError, match="values"):
        edma_explicit([], 0.9)
    with pytest.raises(ValueError, match="finite"):
        edma_series([1.0, float("nan")], 0.9)
    m = EDMA(0.9)
    m.update(1.0)
    with pytest.raises(ValueError, match="finite"):
        m.update(float("inf"))
    assert m.t == 1 and m.value == pytest.approx(1.0)


# ---- pinned by a mutation audit (2026-11-27): each test fails under a mutation that the tests above let through

def test_edma_reset_restarts_from_f0_zero():                          # E09 (test_edma alone misses it)
    m = EDMA(0.9)
    for x in (5.0, 4.0, 3.0):
        m.update(x)
    m.reset()
    assert m.update(2.0) == pytest.approx(2.0, rel=1e-12)


def test_edma_load_state_dict_rejects_non_finite_f():                 # E12
    with pytest.raises(ValueError, match="f="):
        EDMA().load_state_dict({"beta": 0.9, "t": 3, "f": float("inf")})

"""The P/Q toy distribution of Li, Wei, Ma (2019) (as the NeurIPS reviews describe it).

Two kinds of feature carry the label y ∈ {−1, +1} (class index (y + 1) / 2):

* **P** — easy to fit, hard to generalize: linearly separable with a small margin, plus a lot
  of Gaussian noise. ``x_P = y · gamma · w + sigma · ξ`` in R^{dim_p}, with ``w`` a random unit
  vector and ``ξ ~ N(0, I)``. A linear function of x_P fits it; the noise makes what is
  learned from few examples generalize poorly (it can be memorized instead).
* **Q** — hard to fit, easy to generalize: no noise, but it needs a nonlinearity.
  ``x_Q = α · z`` for y = −1 and ``x_Q = α · (z + s·ζ)`` for y = +1, with ``α ~ U(0, 1)``,
  a random sign ``s = ±1``, and ``z ⊥ ζ`` random directions in R^{dim_q} of norms ``z_norm``
  and ``zeta_norm``. The class means of both classes point along z, so no linear function
  of x_Q separates them (``α(z + ζ)`` and ``α(z − ζ)`` average to ``α z``); a ReLU unit along
  ±ζ does, with a margin proportional to α · zeta_norm.

Each example carries P only (``x_Q = 0``), Q only (``x_P = 0``) or both: a small fraction
``frac_p_only`` P only, a large fraction ``frac_q_only`` Q only, the rest both ("a very small
fraction of data only has P-feature, a large fraction only has Q-feature and the remaining
data has both"). The input is ``x = (x_P, x_Q) ∈ R^{dim_p + dim_q}`` (N × D float32).

Constants (defaults; every one is a ``DataConfig.options`` key, recorded in ``info``):
    dim_p 1600, gamma 0.1, sigma 0.05 — Bayes accuracy on P alone Φ(gamma/sigma) = 97.7 %, but
    the noise norm sigma·√dim_p = 2 is 20× the margin, so a linear rule learned from the ~100
    P-only training rows of 2000 generalizes far worse than one learned from all ~900 rows with
    P (a mean-difference rule: Φ(2/√(1 + sigma²·dim_p/(n·gamma²)))) = 81 % vs 95 %);
    dim_q 20, z_norm 5.0, zeta_norm 1.0 — Q has 5× P's input scale along z and no noise;
    frac_p_only 0.05, frac_q_only 0.55 (both: 0.40).
These are the values the two-layer-learning-order claim calibrated on development seeds (its
calibration record says what else was tried); a claim may override any of them.

Labels are balanced (round-robin, shuffled) within each kind, in train and test. Test subsets
``p_only``, ``q_only`` and ``both`` (and the same train subsets) make the engine report
accuracy on each kind every epoch. Everything is drawn from ``numpy.random.Generator``s
seeded from ``seed`` (independent streams for the directions, train rows and test rows).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .base import ArrayData

DEFAULTS = {"dim_p": 1600, "dim_q": 20, "gamma": 0.1, "sigma": 0.05, "z_norm": 5.0, "zeta_norm": 1.0,
            "frac_p_only": 0.05, "frac_q_only": 0.55}
KINDS = ("p_only", "q_only", "both")
_STREAM_DIRS, _STREAM_TRAIN, _STREAM_TEST = 1, 2, 3


def _rng(seed: int, tag: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), 0x5051_544F, tag]))


def check_options(opts: dict) -> dict:
    unknown = sorted(set(opts) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"toy-pq: unknown options {unknown}; known: {sorted(DEFAULTS)}")
    o = {**DEFAULTS, **opts}
    for k in ("dim_p", "dim_q"):
        if not isinstance(o[k], int) or isinstance(o[k], bool) or o[k] < (1 if k == "dim_p" else 2):
            raise ValueError(f"toy-pq: {k}={o[k]!r} must be an integer >= {1 if k == 'dim_p' else 2}")
    for k in ("gamma", "sigma", "z_norm", "zeta_norm"):
        if not isinstance(o[k], (int, float)) or isinstance(o[k], bool) or not (math.isfinite(o[k]) and o[k] >= 0):
            raise ValueError(f"toy-pq: {k}={o[k]!r} must be a finite number >= 0")
    fp, fq = o["frac_p_only"], o["frac_q_only"]
    if not (0 <= fp <= 1 and 0 <= fq <= 1 and fp + fq <= 1):
        raise ValueError(f"toy-pq: frac_p_only={fp!r}, frac_q_only={fq!r} must be in [0, 1] with sum <= 1")
    return o


def _directions(o: dict, seed: int):
    rng = _rng(seed, _STREAM_DIRS)
    w = rng.normal(size=o["dim_p"])
    w /= np.linalg.norm(w)
    q = np.linalg.qr(rng.normal(size=(o["dim_q"], 2)))[0]  # two orthonormal columns
    return w, o["z_norm"] * q[:, 0], o["zeta_norm"] * q[:, 1]


def _counts(n: int, o: dict) -> dict[str, int]:
    n_p = int(round(o["frac_p_only"] * n))
    n_q = int(round(o["frac_q_only"] * n))
    if n_p + n_q > n:   # two halves rounded up past n (e.g. n = 7 at 0.5 / 0.5): the larger part gives way
        n_q = n - n_p
    return {"p_only": n_p, "q_only": n_q, "both": n - n_p - n_q}


def _sample(n: int, o: dict, w, z, zeta, rng: np.random.Generator):
    counts = _counts(n, o)
    kind = np.concatenate([np.full(c, i) for i, c in enumerate(counts[k] for k in KINDS)])
    y = np.concatenate([rng.permutation(np.arange(c) % 2) for c in (counts[k] for k in KINDS)])
    ys = 2.0 * y - 1.0
    # x_P = y·gamma·w + sigma·noise, built in place: at dim_p = 1600 the float64 temporaries of the plain
    # expression cost seconds. The same products and one commutative sum, so the same bits.
    x_p = rng.normal(size=(n, o["dim_p"]))
    x_p *= o["sigma"]
    x_p += ys[:, None] * o["gamma"] * w[None, :]
    alpha = rng.uniform(0.0, 1.0, size=n)
    sign = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    x_q = alpha[:, None] * (z[None, :] + (y * sign)[:, None] * zeta[None, :])
    x_p[kind == 1] = 0.0  # Q only
    x_q[kind == 0] = 0.0  # P only
    order = rng.permutation(n)
    dim_p = x_p.shape[1]
    x = np.empty((n, dim_p + x_q.shape[1]), dtype=np.float32)   # rows shuffled straight into float32
    x[:, :dim_p] = x_p[order]
    x[:, dim_p:] = x_q[order]
    return torch.from_numpy(x), torch.from_numpy(y[order].astype(np.int64)), torch.from_numpy(kind[order])


def make_toy(n_train: int = 2000, n_test: int = 4000, seed: int = 0, **options) -> ArrayData:
    """The P/Q toy distribution as an :class:`ArrayData` (see the module docstring)."""
    o = check_options(options)
    for name, n in (("n_train", n_train), ("n_test", n_test)):
        if not isinstance(n, int) or n < 2:
            raise ValueError(f"toy-pq: {name}={n!r} must be an integer >= 2")
    w, z, zeta = _directions(o, seed)
    x_tr, y_tr, k_tr = _sample(n_train, o, w, z, zeta, _rng(seed, _STREAM_TRAIN))
    x_te, y_te, k_te = _sample(n_test, o, w, z, zeta, _rng(seed, _STREAM_TEST))
    subsets = lambda k: {name: k == i for i, name in enumerate(KINDS)}  # noqa: E731
    info = {"dataset": "toy-pq (Li, Wei, Ma 2019: P/Q features)", "params": {**o, "n_train": n_train,
            "n_test": n_test, "seed": seed}, "counts": {"train": _counts(n_train, o), "test": _counts(n_test, o)},
            "bayes_acc_p_only": 0.5 * (1 + math.erf(o["gamma"] / (o["sigma"] * math.sqrt(2)))) if o["sigma"] > 0 else 1.0,
            "layout": f"x = (x_P in R^{o['dim_p']}, x_Q in R^{o['dim_q']}); absent part = 0; class 1 <-> y = +1"}
    return ArrayData("toy-pq", x_tr, y_tr, x_te, y_te, 2, subsets(k_tr), subsets(k_te), info)

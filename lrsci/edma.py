"""Bias-corrected exponential decay moving average (EDMA) and its variance.

You, Long, Wang, Jordan (2019), "How Does Learning Rate Decay Help Modern Neural
Networks?", Appendix A.1.2. For observations ℓ̂(1), ℓ̂(2), … and a decay factor
β ∈ (0, 1):

* Eq. 1 (explicit form)::

      ĝ(t) = (1 − β) / (1 − βᵗ) · Σ_{i=0}^{t−1} βⁱ ℓ̂(t − i),      t ≥ 1

* Eq. 2 (recursive form, O(1) state)::

      f(0) = 0,   f(t) = β f(t − 1) + (1 − β) ℓ̂(t),   ĝ(t) = f(t) / (1 − βᵗ)

* Eq. 3 (variance, for i.i.d. noise of variance σ² added to the loss)::

      Var ĝ(t) = (1 − β)/(1 + β) · (1 + βᵗ)/(1 − βᵗ) · σ²

  which decreases in t from σ² at t = 1 towards (1 − β)/(1 + β) · σ²
  (≈ 0.0526 σ² at β = 0.9; the paper's "0.05 σ²").

The weights of Eq. 1 sum to one, so ĝ is an unbiased, linear estimate of the moving
average g of the noise-free loss.
"""
from __future__ import annotations

import math
from numbers import Real
from typing import Any, Iterable

import numpy as np

__all__ = [
    "EDMA",
    "edma_explicit",
    "edma_series",
    "edma_weights",
    "edma_variance",
    "edma_variance_limit",
]


def _check_beta(beta: Any) -> float:
    if isinstance(beta, bool) or not isinstance(beta, Real) or not (0.0 < float(beta) < 1.0):
        raise ValueError(f"beta={beta!r} is not allowed: the EDMA decay factor must be a real "
                         f"number in the open interval (0, 1)")
    return float(beta)


def _check_t(t: Any) -> int:
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or int(t) < 1:
        raise ValueError(f"t={t!r} is not allowed: the step t must be an integer >= 1")
    return int(t)


def _check_sigma2(sigma2: Any) -> float:
    if (isinstance(sigma2, bool) or not isinstance(sigma2, Real)
            or not math.isfinite(float(sigma2)) or float(sigma2) < 0.0):
        raise ValueError(f"sigma2={sigma2!r} is not allowed: the noise variance must be a "
                         f"finite real number >= 0")
    return float(sigma2)


def _check_values(values: Iterable[Any]) -> list[float]:
    xs = [float(v) for v in values]
    if not xs:
        raise ValueError("values is empty: the EDMA needs at least one observation (t >= 1)")
    if not all(math.isfinite(x) for x in xs):
        raise ValueError("values must all be finite (no NaN or infinity)")
    return xs


class EDMA:
    """Online bias-corrected EDMA (Eq. 2) with O(1) state: ``t`` and ``f(t)``.

    >>> m = EDMA(beta=0.9)
    >>> m.update(2.0)        # ĝ(1) = ℓ̂(1)
    2.0
    >>> round(m.update(1.0), 6)
    1.473684

    ``value`` is ``None`` before the first update (ĝ is defined for t ≥ 1 only).
    """

    def __init__(self, beta: float = 0.9):
        self.beta = _check_beta(beta)
        self._t = 0
        self._f = 0.0

    @property
    def t(self) -> int:
        """Number of observations folded in since construction or the last ``reset``."""
        return self._t

    @property
    def value(self) -> float | None:
        """ĝ(t) = f(t) / (1 − βᵗ), or ``None`` when t = 0."""
        if self._t == 0:
            return None
        return self._f / (1.0 - self.beta ** self._t)

    def update(self, x: float) -> float:
        """Fold in the observation ℓ̂(t + 1) and return the new ĝ(t + 1).

        Raises ``ValueError`` for a non-finite ``x`` (the state is left unchanged).
        """
        x = float(x)
        if not math.isfinite(x):
            raise ValueError(f"x={x!r} is not allowed: EDMA observations must be finite")
        self._f = self.beta * self._f + (1.0 - self.beta) * x
        self._t += 1
        return self._f / (1.0 - self.beta ** self._t)

    def reset(self) -> None:
        """Back to f(0) = 0, t = 0 (β is kept)."""
        self._t = 0
        self._f = 0.0

    def state_dict(self) -> dict[str, Any]:
        return {"beta": self.beta, "t": self._t, "f": self._f}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        beta = _check_beta(state["beta"])
        t = state["t"]
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or int(t) < 0:
            raise ValueError(f"t={t!r} is not allowed: the stored step must be an integer >= 0")
        f = float(state["f"])
        if not math.isfinite(f):
            raise ValueError(f"f={f!r} is not allowed: the stored EDMA state must be finite")
        self.beta, self._t, self._f = beta, int(t), f

    def __repr__(self) -> str:
        return f"EDMA(beta={self.beta!r}, t={self._t}, value={self.value!r})"


def edma_weights(t: int, beta: float) -> np.ndarray:
    """The Eq. 1 weights of ℓ̂(1), …, ℓ̂(t) in ĝ(t), in observation order (they sum to 1).

    ``weights[j] = (1 − β)/(1 − βᵗ) · β^(t − 1 − j)`` for the (j+1)-th observation, so
    ``ĝ(t) = weights @ [ℓ̂(1), …, ℓ̂(t)]``.
    """
    t = _check_t(t)
    beta = _check_beta(beta)
    powers = beta ** np.arange(t - 1, -1, -1, dtype=np.float64)
    return powers * ((1.0 - beta) / (1.0 - beta ** t))


def edma_explicit(values: Iterable[float], beta: float) -> float:
    """ĝ(t) by the explicit Eq. 1, with t = len(values) and ``values[0]`` = ℓ̂(1).

    Summed with ``math.fsum``; meant as an independent check of :class:`EDMA`.
    """
    beta = _check_beta(beta)
    xs = _check_values(values)
    t = len(xs)
    scale = (1.0 - beta) / (1.0 - beta ** t)
    return scale * math.fsum(beta ** (t - 1 - j) * x for j, x in enumerate(xs))


def edma_series(values: Iterable[float], beta: float) -> list[float]:
    """[ĝ(1), …, ĝ(t)] for ``values`` = [ℓ̂(1), …, ℓ̂(t)], by the recursion (Eq. 2)."""
    beta = _check_beta(beta)
    xs = _check_values(values)
    m = EDMA(beta)
    return [m.update(x) for x in xs]


def edma_variance(t: int, beta: float, sigma2: float = 1.0) -> float:
    """Var ĝ(t) by Eq. 3: (1 − β)/(1 + β) · (1 + βᵗ)/(1 − βᵗ) · σ².

    For i.i.d. noise of variance σ² added to the loss (the paper's assumptions)."""
    t = _check_t(t)
    beta = _check_beta(beta)
    sigma2 = _check_sigma2(sigma2)
    bt = beta ** t
    return (1.0 - beta) / (1.0 + beta) * (1.0 + bt) / (1.0 - bt) * sigma2


def edma_variance_limit(beta: float, sigma2: float = 1.0) -> float:
    """lim_{t→∞} Var ĝ(t) = (1 − β)/(1 + β) · σ²."""
    beta = _check_beta(beta)
    sigma2 = _check_sigma2(sigma2)
    return (1.0 - beta) / (1.0 + beta) * sigma2

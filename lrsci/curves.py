"""Read numbers off learning curves (lists of per-epoch values, epoch 1 first)."""
from __future__ import annotations

import math


def first_epoch_reaching(series: list[float], fraction: float = 0.9, *, target: float | None = None,
                         default: int | None = None) -> int:
    """First epoch (1-based) whose value is at least ``target`` (default: ``fraction`` of the final value).

    ``default`` is returned when no epoch reaches it (a censored reach: the caller says what it bounds);
    without one that is a ValueError naming the target. A curve ending in NaN has no final value to reach."""
    if not series:
        raise ValueError("empty curve")
    target = fraction * series[-1] if target is None else target
    hit = next((i + 1 for i, v in enumerate(series) if v >= target), default)
    if hit is None:
        raise ValueError(f"no epoch of the curve ({len(series)} epochs) reaches {target!r}")
    return hit


def window_mean(series: list[float], end: int, k: int = 3) -> float:
    """Mean of the ``k`` epochs ending at epoch ``end`` (1-based, inclusive): a level read off a
    noisy curve without picking its best epoch."""
    if not 1 <= end <= len(series):
        raise ValueError(f"epoch {end} outside the curve (1..{len(series)})")
    if k < 1:
        raise ValueError(f"a window of k={k} epochs: k must be at least 1")
    window = series[max(0, end - k):end]
    return math.fsum(window) / len(window)


def stage_gain(series: list[float], decay: int, next_end: int, k: int = 3) -> float:
    """Level at the end of the stage after a decay minus the level just before it."""
    return window_mean(series, next_end, k) - window_mean(series, decay, k)

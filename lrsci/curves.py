"""Read numbers off learning curves (lists of per-epoch values, epoch 1 first)."""
from __future__ import annotations

import math


def first_epoch_reaching(series: list[float], fraction: float = 0.9) -> int:
    """First epoch (1-based) whose value is at least ``fraction`` of the final value."""
    if not series:
        raise ValueError("empty curve")
    target = fraction * series[-1]
    return next(i + 1 for i, v in enumerate(series) if v >= target)


def window_mean(series: list[float], end: int, k: int = 3) -> float:
    """Mean of the ``k`` epochs ending at epoch ``end`` (1-based, inclusive): a level read off a
    noisy curve without picking its best epoch."""
    if not 1 <= end <= len(series):
        raise ValueError(f"epoch {end} outside the curve (1..{len(series)})")
    window = series[max(0, end - k):end]
    return math.fsum(window) / len(window)


def stage_gain(series: list[float], decay: int, next_end: int, k: int = 3) -> float:
    """Level at the end of the stage after a decay minus the level just before it."""
    return window_mean(series, next_end, k) - window_mean(series, decay, k)

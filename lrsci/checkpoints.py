"""How often a run in training writes its resume checkpoint.

A checkpoint is written after the first epoch that ends at least ``LRSCI_CHECKPOINT_SECONDS`` (default 30)
after the run started or after its last checkpoint; 0 writes one after every epoch. So a kill loses at most
that much training plus the epoch in progress (Ctrl-C and SIGTERM lose none: lrsci.interrupts), and
rerunning resumes with the numbers an uninterrupted run would have produced (every checkpoint holds the whole
state, RNG included: which epochs have one never changes a number).

Why not after every epoch: a checkpoint costs a few milliseconds (serialise, hash, write, fsync), which is
nothing beside a GPU epoch but a third of the time of a full-batch GD run, whose "epochs" are single steps
of a small network (gd-decay-no-benefit's fast profile: 50 s with one per step, 34 s without). Snapshots,
the fork points other runs start from, are written at their epochs regardless.
"""
from __future__ import annotations

import math
import os
import time

ENV = "LRSCI_CHECKPOINT_SECONDS"
DEFAULT_SECONDS = 30.0


def check_seconds(value, name: str = "checkpoint_seconds") -> float:
    """``value`` as seconds between checkpoints: a finite number >= 0, else a ValueError naming ``name``."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name}={value!r}: expected seconds between checkpoints, a number >= 0 "
                         "(0 = after every epoch)")
    return seconds


def seconds_from_env() -> float:
    """``LRSCI_CHECKPOINT_SECONDS``, or the default when it is unset or empty."""
    raw = os.environ.get(ENV, "").strip()
    return check_seconds(raw, ENV) if raw else DEFAULT_SECONDS


class CheckpointClock:
    """Says when a checkpoint is due: ``seconds`` after the clock was made or last said so."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.last = time.monotonic()

    def take(self) -> bool:
        """True if a checkpoint is due now (the caller writes it), and the count starts again; else False."""
        now = time.monotonic()
        if now - self.last < self.seconds:
            return False
        self.last = now
        return True

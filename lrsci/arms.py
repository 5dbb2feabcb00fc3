"""Arms that several claims train, written once.

Li, Wei, Ma (2019) compare the same two schedules in every experiment: a large learning rate
annealed once (η0, multiplied by ``anneal_factor`` after ``anneal_epoch``) and a small constant
one (``small_lr``), from the same base run and seed.
"""
from __future__ import annotations

from .claim import Profile
from .config import RunConfig, ScheduleConfig


def large_annealed_and_small(p: Profile, seed: int) -> dict[str, RunConfig]:
    """{"large": η0 then ×anneal_factor after anneal_epoch, "small": constant small_lr} for one seed."""
    base = p.run.with_(seed=seed)
    anneal = ScheduleConfig("step", milestones=(p["anneal_epoch"],), factor=p["anneal_factor"])
    return {"large": base.with_(schedule=anneal), "small": base.with_(**{"optim.lr": p["small_lr"]})}

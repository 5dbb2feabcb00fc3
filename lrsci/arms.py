"""Arms that several claims train, written once.

Li, Wei, Ma (2019) compare the same two schedules in every experiment: a large learning rate
annealed once (η0, multiplied by ``anneal_factor`` after ``anneal_epoch``) and a small constant
one (``small_lr``), from the same base run and seed. You et al.'s decay claims (SGD and GD) decay
at fractions of the budget (:func:`decay_points`).
"""
from __future__ import annotations

from .claim import Profile
from .config import RunConfig, ScheduleConfig


def large_annealed_and_small(p: Profile, seed: int) -> dict[str, RunConfig]:
    """{"large": η0 then ×anneal_factor after anneal_epoch, "small": constant small_lr} for one seed."""
    base = p.run.with_(seed=seed)
    anneal = ScheduleConfig("step", milestones=(p["anneal_epoch"],), factor=p["anneal_factor"])
    return {"large": base.with_(schedule=anneal), "small": base.with_(**{"optim.lr": p["small_lr"]})}


def decay_points(p: Profile, unit: str = "epoch") -> list[int]:
    """round(f × E) for each of the profile's ``decay_fractions`` (E: its epochs; for full-batch GD a step each).

    Each must be a distinct point in 1..E−1, so every decay arm is an arm of its own, trained before and after its
    decay. A budget too small for that (``--set epochs=3``: ¼, ½, ¾ → 1, 2, 2) raises ValueError naming the points;
    lrsci.driver.with_run_overrides calls it through the claim's ``derived`` before anything trains."""
    total, fractions = p.run.epochs, list(p["decay_fractions"])
    points = [round(f * total) for f in fractions]
    if len(set(points)) < len(points) or not all(0 < m < total for m in points):
        raise ValueError(f"the decays at {fractions} of {total} {unit}s fall at {unit}s {points}: each must be a "
                         f"different {unit} in 1..{total - 1}, so this budget is too small for the design")
    return points

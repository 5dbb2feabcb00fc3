"""autodecay-matches-stepdecay's gpu rule constants, fixed by a stated rule on development seeds.

AutoDecay's constants were set on the CPU MLP (fast profile); on the WideResNet they never let the rule
stop (v1 gpu: one decay, then the budget). Protocol v2 fixes the gpu profile's weight decay, stability
tolerance and epoch budget E by this rule, written before any GPU development run:

    candidates, in this order: E in (30, 45) (StepDecay's milestones E/3, 2E/3), then weight decay in
    (5e-4, 5e-3) (the other gpu profiles', then the fast profile's), then tolerance in (0.12, 0.2) (the
    fast profile's, then a looser one); β = 0.9, W = 3, ζ = 0.85, LR 0.1 and factor 0.1 stay as in the
    fast profile. Train AutoDecay alone (budget 45 epochs) on the dev seeds for each (weight decay,
    tolerance). The first candidate for which, on every dev seed, AutoDecay decayed at least twice (the
    three stages of StepDecay) and its own rule stopped it before epoch E, is the gpu profile's.

Only the rule's decisions (decay epochs, stop reason and epoch) are read; no accuracy, and no StepDecay or
ReduceLROnPlateau run, enters the choice. A run's decisions before epoch E do not depend on the budget
(the budget only stops the run at its last epoch), so one 45-epoch run per seed and setting answers both
E = 30 and E = 45. If no candidate qualifies, the record says so and the gpu profile refuses to run,
rather than a setting picked by hand.

The result, with every dev run's decisions, is written once to
``claims/calibration/autodecay-<profile>.json`` (atomically, never overwritten);
:func:`calibrated` reads it, :func:`setting_of` gives the chosen constants, :func:`require` stops a
profile that has none.
"""
from __future__ import annotations

from itertools import product
from pathlib import Path

from . import calibration
from .calibration import CALIBRATION_DIR
from .config import RunConfig, ScheduleConfig
from .harness import Job

BUDGETS = (30, 45)
WEIGHT_DECAYS = (5e-4, 5e-3)
TOLERANCES = (0.12, 0.2)
MIN_DECAYS = 2
# The fast profile's constants the rule leaves alone.
FIXED = {"beta": 0.9, "window": 3, "zeta": 0.85}
# Until a profile is calibrated its config carries these (never trained: require() stops it first).
UNCALIBRATED = {"epochs": 30, "weight_decay": 5e-4, "tolerance": 0.12}


def path_for(profile: str, folder: Path | None = None) -> Path:
    return Path(folder or CALIBRATION_DIR) / f"autodecay-{profile}.json"


def autodecay_config(base: RunConfig, weight_decay: float, tolerance: float, factor: float,
                     budget: int = max(BUDGETS)) -> RunConfig:
    rule = {**FIXED, "tolerance": tolerance}
    return base.with_(epochs=budget, schedule=ScheduleConfig("autodecay", factor=factor, autodecay=rule),
                      **{"optim.weight_decay": weight_decay})


def decisions(run) -> dict:
    return {"decay_epochs": list(run.decay_epochs), "stop_reason": run.stop_reason,
            "epochs": run.epochs_trained}


def qualifies(d: dict, budget: int) -> bool:
    """Decayed at least MIN_DECAYS times and stopped by its own rule before epoch ``budget``."""
    return d["stop_reason"] == "rule" and d["epochs"] < budget and len(d["decay_epochs"]) >= MIN_DECAYS


def choose(tried: dict) -> dict | None:
    """The first candidate, in the rule's order, that qualifies on every dev seed; None if none does.

    ``tried`` maps (weight decay, tolerance) to {seed: decisions}."""
    for budget, wd, tol in product(BUDGETS, WEIGHT_DECAYS, TOLERANCES):
        runs = tried[(wd, tol)]
        if runs and all(qualifies(d, budget) for d in runs.values()):
            return {"epochs": budget, "weight_decay": wd, "tolerance": tol}
    return None


def apply(ctx, base: RunConfig, factor: float) -> dict:
    """Train every (weight decay, tolerance) on ``ctx.seeds`` (the dev seeds) at once; the record."""
    settings = list(product(WEIGHT_DECAYS, TOLERANCES))
    jobs = [Job(autodecay_config(base.with_(seed=s), wd, tol, factor), f"AutoDecay wd {wd:g} tol {tol:g}")
            for wd, tol in settings for s in ctx.seeds]
    runs = iter(ctx.run_all(jobs))
    tried = {(wd, tol): {s: decisions(next(runs)) for s in ctx.seeds} for wd, tol in settings}
    chosen = choose(tried)
    first = ctx._on_device(jobs[0]).config   # the first dev run, as it trained (its key names it in the store)
    return {"rule": calibration.rule_text(__doc__), "dev_seeds": list(ctx.seeds), "fixed": FIXED,
            "candidates": {"budgets": list(BUDGETS), "weight_decays": list(WEIGHT_DECAYS),
                           "tolerances": list(TOLERANCES), "min_decays": MIN_DECAYS},
            "config_key": first.key(),
            "tried": [{"weight_decay": wd, "tolerance": tol, "runs": {str(s): d for s, d in r.items()}}
                      for (wd, tol), r in tried.items()],
            "chosen": chosen}


def write(record: dict, profile: str, folder: Path | None = None) -> Path:
    """Write the record once; a calibration is not redone by accident."""
    return calibration.write_once(path_for(profile, folder), record, f"AutoDecay's {profile!r} constants")


def _check(record: dict) -> None:
    chosen = record["chosen"]
    if chosen is not None:
        int(chosen["epochs"]), float(chosen["weight_decay"]), float(chosen["tolerance"])


def calibrated(profile: str, folder: Path | None = None) -> dict | None:
    """The record of ``profile``, or None if never calibrated."""
    return calibration.read(path_for(profile, folder), _check,
                            f"{calibration.TOOLS['autodecay_calibration']} --profile {profile}")


def setting_of(record: dict | None) -> dict:
    """The chosen constants of a record, or the placeholders of an uncalibrated profile."""
    return dict(record["chosen"]) if record and record.get("chosen") else dict(UNCALIBRATED)


def require(profile) -> None:
    """Stop a device profile whose constants were never calibrated (or whose rule chose none)."""
    calibration.require(profile, "autodecay_calibration", lambda r: r.get("chosen") is not None,
                        lambda r: f"no candidate of the calibration rule qualified on every dev seed (see "
                                  f"{path_for(profile.name)}), so the gpu protocol is undefined")

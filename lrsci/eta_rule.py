"""The GD claims' learning-rate rule, applied on development seeds and recorded once per profile.

You et al. (§4.1) run full-batch GD at the largest rate that trains. lrsci never tunes that rate to
make a claim pass; it fixes it by a stated rule on development seeds before any final run:

    on the geometric grid 2^k (k = -2..5, i.e. 0.25 ... 32), train the profile's no-decay config on
    the dev seeds for its E steps; η_div = the smallest grid rate at which at least one dev seed
    diverges (the engine's stop reason "diverged"); η = η_div / 2.

Rates are tried in ascending order and the search stops at η_div: the smallest diverging rate is
then known and larger rates cost nothing. A grid on which nothing diverges gives no η (the claim
says so and refuses to run), rather than a rate picked by hand.

The result, with every dev run's outcome, is written once to ``claims/calibration/gd-eta-<profile>.json``
(atomically); the gpu profiles of both GD claims read η from there (:func:`calibrated`). The fast
profile's η was fixed by the same rule by hand before this module existed; its record is in the
claim module's calibration comment.
"""
from __future__ import annotations

from pathlib import Path

from . import calibration
from .calibration import CALIBRATION_DIR
from .config import RunConfig
from .harness import Job

GRID = tuple(2.0 ** k for k in range(-2, 6))


def path_for(profile: str, folder: Path | None = None) -> Path:
    return Path(folder or CALIBRATION_DIR) / f"gd-eta-{profile}.json"


def _outcome(run) -> dict:
    losses = run.series("train_loss")
    return {"stop_reason": run.stop_reason, "steps": run.epochs_trained,
            "diverged_at_step": getattr(run, "diverged_at_step", None),
            "final_train_loss": losses[-1] if losses else None,
            "max_train_loss": max(losses) if losses else None}


def apply(ctx, config: RunConfig, grid=GRID) -> dict:
    """Run the rule on ``ctx.seeds`` (the dev seeds) for ``config`` at each grid rate; the record.

    ``record["eta"]`` is η_div / 2, or None when no grid rate diverged.
    """
    rates = sorted(float(r) for r in grid)
    tried, eta_div, first = [], None, None
    for rate in rates:
        jobs = [Job(config.with_(seed=s, **{"optim.lr": rate}), f"η rule {rate:g}") for s in ctx.seeds]
        first = first or ctx._on_device(jobs[0]).config   # the first dev run, as it trained (its key in the store)
        runs = ctx.run_all(jobs)
        tried.append({"rate": rate, "runs": {str(s): _outcome(r) for s, r in zip(ctx.seeds, runs)}})
        if any(r.stop_reason == "diverged" for r in runs):
            eta_div = rate
            break
    return {"rule": calibration.rule_text(__doc__), "grid": rates, "dev_seeds": list(ctx.seeds),
            "config_key": first.key() if first else None, "E": config.epochs, "tried": tried,
            "eta_div": eta_div, "eta": None if eta_div is None else eta_div / 2}


def write(record: dict, profile: str, folder: Path | None = None) -> Path:
    """Write a calibration record, once."""
    return calibration.write_once(path_for(profile, folder), record, f"η for profile {profile!r}")


def _check(record: dict) -> None:
    eta = record.get("eta")
    if eta is not None and (isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta > 0):
        raise ValueError(f"eta={eta!r} is not a learning rate > 0")


def calibrated(profile: str, folder: Path | None = None) -> dict | None:
    """The calibration record of ``profile``, or None if it was never calibrated."""
    return calibration.read(path_for(profile, folder),
                            _check,
                            f"{calibration.TOOLS['eta_calibration']} --profile {profile}")


# Until a profile is calibrated its config carries this rate, which is never trained on the device:
# :func:`require` stops the claim first. It only keeps the profile's config well formed.
UNCALIBRATED = 1.0


def eta_of(record: dict | None) -> float:
    """η of a calibration record, or the placeholder of an uncalibrated profile."""
    return float(record["eta"]) if record and record.get("eta") is not None else UNCALIBRATED


def require(profile) -> None:
    """Stop a device profile whose η was never calibrated (or whose rule found no rate)."""
    calibration.require(profile, "eta_calibration", lambda r: r.get("eta") is not None,
                        lambda r: f"the η rule found no diverging rate on the grid {r.get('grid')}, so η is undefined "
                                  f"(see {path_for(profile.name)})")

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

At another scale (``--set``) η is the rule's at that scale, not the profile's: the rate at the edge of
divergence moves with the network, the data and the step count, and a claim about GD at "the largest rate
that trains" asked at a rate calibrated for another network would be another claim. The rule is applied
there once, on the same dev seeds (``tools/calibrate_gd_eta.py --profile fast --set model.hidden=256``),
its record kept as ``gd-eta-<profile>@<scale>.json``; :func:`at_scale` gives a scaled profile that η and
the record, and refuses a scale the rule was not applied at, naming the command. The size of the test set is
no part of that scale (:func:`rule_scale`): the rule's outcome is whether training diverges, and the test set is
only evaluated, never trained on.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from . import calibration, files
from .calibration import CALIBRATION_DIR, CalibrationError
from .config import RunConfig
from .harness import Job
from .overrides import OverrideError, describe, parse

GRID = tuple(2.0 ** k for k in range(-2, 6))
# --set fields that change what is measured, not what trains: the rule's outcome cannot depend on them.
EVAL_ONLY = ("data.test_size",)


def rule_scale(scale: dict | None) -> dict:
    """The part of a --set ``scale`` the η rule's outcome depends on (all of it but :data:`EVAL_ONLY`)."""
    return {k: v for k, v in (scale or {}).items() if k not in EVAL_ONLY}


# The profile parameter that marks a profile whose η is this rule's (its text), and the one holding its record.
RULE_PARAM, RECORD_PARAM = "eta_rule", "eta_calibration"


def path_for(profile: str, folder: Path | None = None, scale: dict | None = None) -> Path:
    """The record of ``profile`` at its own scale, or at the --set ``scale`` (its :func:`rule_scale`)."""
    return Path(folder or CALIBRATION_DIR) / f"gd-eta-{profile}{calibration.scale_suffix(rule_scale(scale))}.json"


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


def write(record: dict, profile: str, folder: Path | None = None, scale: dict | None = None) -> Path:
    """Write a calibration record, once (a scaled one carries its ``scale``: :func:`calibrated` checks it)."""
    scale = rule_scale(scale)
    at = f" at {calibration.set_options(scale).strip()}" if scale else ""
    return calibration.write_once(path_for(profile, folder, scale), {**record, **({"scale": scale} if scale else {})},
                                  f"η for profile {profile!r}{at}")


def _checker(scale: dict | None):
    def check(record: dict) -> None:
        eta = record.get("eta")
        if eta is not None and (isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta > 0):
            raise ValueError(f"eta={eta!r} is not a learning rate > 0")
        found, named = record.get("scale") or {}, scale or {}
        if found != named:   # a record renamed or copied to another scale's name
            own = "the profile's own"
            raise ValueError(f"it was calibrated at scale {found or own}, its file name says {named or own}")
    return check


def calibrated(profile: str, folder: Path | None = None, scale: dict | None = None) -> dict | None:
    """The calibration record of ``profile`` (at the --set ``scale``), or None if it was never calibrated."""
    scale = rule_scale(scale)
    return calibration.read(path_for(profile, folder, scale), _checker(scale),
                            f"{calibration.TOOLS[RECORD_PARAM]} --profile {profile}{calibration.set_options(scale)}")


# Until a profile is calibrated its config carries this rate, which is never trained on the device:
# :func:`require` stops the claim first. It only keeps the profile's config well formed.
UNCALIBRATED = 1.0


def eta_of(record: dict | None) -> float:
    """η of a calibration record, or the placeholder of an uncalibrated profile."""
    return float(record["eta"]) if record and record.get("eta") is not None else UNCALIBRATED


def require(profile) -> None:
    """Stop a device profile whose η was never calibrated (or whose rule found no rate)."""
    calibration.require(profile, RECORD_PARAM, lambda r: r.get("eta") is not None,
                        lambda r: f"the η rule found no diverging rate on the grid {r.get('grid')}, so η is undefined "
                                  f"(see {path_for(profile.name)})")


def scaled_records(profile: str, folder: Path | None = None) -> list[dict]:
    """Every record of ``profile`` at a --set scale (``gd-eta-<profile>@*.json``), in file-name order: the scales
    its GD claims can run at. An unreadable one raises CalibrationError, having been moved aside (calibrated)."""
    paths = sorted(Path(folder or CALIBRATION_DIR).glob(f"gd-eta-{profile}@*.json"))
    return [r for r in (record_named(path.name[len("gd-eta-"):-len(".json")], folder) for path in paths) if r]


def record_named(stem: str, folder: Path | None = None) -> dict | None:
    """The record in ``gd-eta-<stem>.json``, ``stem`` being a profile ("gpu") or a profile at a scale
    ("gpu@model.width=2", as :func:`path_for` names it), read at the scale its name says. A name that is not a
    scale is moved aside and named (CalibrationError)."""
    profile, _, named = stem.partition("@")
    if not named:
        return calibrated(profile, folder)
    try:
        scale = parse(named.split(","))
    except OverrideError as exc:
        path = path_for(profile, folder).with_name(f"gd-eta-{stem}.json")
        raise CalibrationError(f"{path}: its name is not a scale ({exc}); moved to {files.quarantine(path)}") from None
    return calibrated(profile, folder, scale)


def at_scale(profile, scale: dict, *, protocol: dict | None = None, folder: Path | None = None):
    """``profile``, already at the --set ``scale`` (lrsci.overrides.apply), with η the rule's at that scale and
    its record as the ``eta_calibration`` parameter (so the report's protocol carries it). A profile whose η is
    not the rule's, or its own scale, is returned as is.

    The record is read from ``folder`` (claims/calibration), or, given the ``protocol`` a stored section ran
    under, taken from there (a report is judged on the record it ran with, not on this machine's files).
    Raises :class:`CalibrationError` when there is none, or the rule found no η at this scale. Only the scale's
    training part counts (:func:`rule_scale`): ``--set data.test_size=10000`` alone keeps the profile's η."""
    scale = rule_scale(scale)
    if not scale or RULE_PARAM not in profile.params:
        return profile
    record = calibrated(profile.name, folder, scale) if protocol is None else protocol.get(RECORD_PARAM)
    where = f"profile {profile.name!r} at --set {describe(scale)}"
    if record is None:
        raise CalibrationError(
            f"{where}: GD's η is the η rule's at the scale it trains, and the rule has not been applied at this "
            f"scale. Apply it first, on dev seeds: `python {calibration.TOOLS[RECORD_PARAM]} --profile "
            f"{profile.name}{calibration.set_options(scale)}` (writes {path_for(profile.name, folder, scale).name})")
    if record.get("eta") is None:
        raise CalibrationError(f"{where}: the η rule found no diverging rate on the grid {record.get('grid')} at this "
                               f"scale, so η is undefined (see {path_for(profile.name, folder, scale)})")
    return replace(profile, run=profile.run.with_(**{"optim.lr": float(record["eta"])}),
                   params={**profile.params, RECORD_PARAM: record})

"""A claim at a scale the user picks: ``--set model.width=8 --set epochs=40`` (pytest and ``lrsci run``).

A profile's protocol is its arms, rates, schedules, tests and thresholds; its scale is how big the network,
the data and the budget are. ``--set`` changes the scale of the profile's base run config (every arm derives
from it) and nothing else, so the same pre-registered tests are asked of a bigger or smaller experiment:

* only the fields in :data:`SCALE_FIELDS`, and only those the profile uses (``model.depth`` of an MLP, or
  ``precision`` on a CPU, would change nothing: refused, not ignored). Rates, momentum, schedules, noise and data are the
  protocol's science: a different one is a new profile (docs/adding-a-claim.md), written before it runs;
* a profile's parameters counted in epochs (``Profile.epoch_params``: ps10's ``stage_epochs``, an
  ``anneal_epoch``) move with ``--set epochs`` and only with it, and must then all be given
  (``--set epochs=90 --set stage_epochs=30``): a bigger budget rescales the design rather than stretching
  its last stage, and alone they would change the design, not its scale;
* every run the claim trains must carry the value (:func:`check_job`): a claim that sets a field itself for
  an arm (its own epochs, say) cannot be scaled by it, and is refused before anything trains;
* the section records ``run_overrides``; its report, the index and ``lrsci list`` say it is not the
  protocol's report, and it is never written into the committed ``reports/`` folder (conftest.py), so a
  scaled run cannot take the place of the verdict the protocol was registered for.

A value a profile fixes by a stated rule follows the rule at the new scale: GD's η is the η rule's applied
there, on dev seeds, once (``tools/calibrate_gd_eta.py --set ...``; lrsci.eta_rule.at_scale), and a scale the
rule was not applied at is refused, naming that command (the test set's size is no part of that scale:
lrsci.eta_rule.rule_scale). AutoDecay's constants stay those of the profile's
own scale (the fast ones were set by hand; the gpu rule fixes the epoch budget itself, which ``--set epochs``
would contradict). The report's protocol shows every value the runs used, and the η record they used.
"""
from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path
from typing import Any

from .config import ConfigError, RunConfig

# field -> (the models that read it, or None for every model; what it is)
SCALE_FIELDS: dict[str, tuple[tuple[str, ...] | None, str]] = {
    "model.width": (("wrn", "small_cnn"), "WideResNet widen factor k; small_cnn: 4 × width channels"),
    "model.depth": (("wrn",), "WideResNet depth, 6n + 4"),
    "model.hidden": (("mlp", "two_layer"), "hidden units"),
    "data.train_size": (None, "training examples (a seeded subset; PS10: a multiple of its pattern count)"),
    "data.test_size": (None, "test examples"),
    "epochs": (None, "epochs of every run (arms' decay points follow where the claim derives them from it)"),
    "optim.batch_size": (None, "examples per SGD step (not full-batch GD)"),
    "precision": (None, "fp32 or bf16 (bf16: autocast on CUDA only)"),
}
TEXT_FIELDS = ("precision",)


class OverrideError(ValueError):
    """A ``--set`` the profile cannot take; the message names the field and what is allowed."""


def allowed_text() -> str:
    return ", ".join(SCALE_FIELDS)


def parse(items: list[str] | None) -> dict[str, Any]:
    """``["model.width=8", "epochs=40"]`` -> ``{"model.width": 8, "epochs": 40}``, in the order given.

    Values are whole numbers, except precision's. A plain name outside :data:`SCALE_FIELDS` with a whole
    number may be an epoch parameter of a profile (:func:`apply` decides, per profile). A field given twice,
    any other field or a value of the wrong kind raises :class:`OverrideError`."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or not raw:
            raise OverrideError(f"--set {item!r}: expected FIELD=VALUE, e.g. --set model.width=8")
        if key not in SCALE_FIELDS and not _maybe_epoch_param(key, raw):
            raise OverrideError(_not_scale(key))
        if key in out:
            raise OverrideError(f"--set {key} is given twice ({out[key]} and {raw})")
        out[key] = raw if key in TEXT_FIELDS else _whole_number(key, raw)
    return out


def _not_scale(key: str, profile=None) -> str:
    takes = f"--set takes {allowed_text()}, and with epochs a profile's epoch parameters"
    if profile is not None:   # a whole number under a plain name: it could have been an epoch parameter
        return (f"--set {key}: not a scale field, nor an epoch parameter of profile {profile.name!r} (it has "
                f"{', '.join(profile.epoch_params) or 'none'}); {takes}")
    why = ("the seed of each run is --seed-offset's, the data's --data-seed's" if key in ("seed", "data.seed")
           else "a profile's rates, schedule, noise and data are its protocol: declare a profile for another "
                "one (docs/adding-a-claim.md)")
    near = difflib.get_close_matches(key, list(SCALE_FIELDS), n=1, cutoff=0.8)
    if near:   # a typo of a field (model.hiden)
        return f"--set {key}: not a scale field (did you mean {near[0]}?); {takes}"
    return f"--set {key}: not a scale field ({why}); {takes}"


def _maybe_epoch_param(key: str, raw: str) -> bool:
    return key.isidentifier() and key not in ("seed", "device") and raw.isascii() and raw.isdigit()


def _whole_number(key: str, raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise OverrideError(f"--set {key}={raw}: expected a whole number >= 1")
    return int(raw)


def get(config: RunConfig, key: str) -> Any:
    """The value of a dotted field of ``config``: get(cfg, "model.width")."""
    value: Any = config
    for part in key.split("."):
        value = getattr(value, part)
    return value


def apply(profile, overrides: dict[str, Any]):
    """``profile`` with its base run config at the scale ``overrides`` names (``{}``: the profile as is).
    Raises :class:`OverrideError` for a field its model does not read or a value its config refuses."""
    if not overrides:
        return profile
    fields = {k: v for k, v in overrides.items() if k in SCALE_FIELDS}
    params = _epoch_params(profile, {k: v for k, v in overrides.items() if k not in SCALE_FIELDS}, fields)
    model = profile.run.model.name
    for key in fields:
        readers = SCALE_FIELDS[key][0]
        if readers is not None and model not in readers:
            raise OverrideError(f"--set {key}: profile {profile.name!r} trains model {model!r}, which does not read "
                                f"{key} ({SCALE_FIELDS[key][1]}; read by {', '.join(readers)})")
    if "precision" in fields and profile.device == "cpu":
        raise OverrideError(f"--set precision: profile {profile.name!r} trains on the CPU, where precision is not used "
                            "(bf16 is autocast on CUDA only), so it would change nothing but the report")
    if "optim.batch_size" in overrides and profile.run.optim.full_batch:
        raise OverrideError(f"--set optim.batch_size: profile {profile.name!r} trains full-batch gradient descent "
                            "(batch_size None); a batch size would make it another method, not another scale")
    try:
        run = profile.run.with_(**fields)
    except ConfigError as exc:
        raise OverrideError(f"--set on profile {profile.name!r}: {exc}") from None
    return replace(profile, run=run, params={**profile.params, **params})


def _epoch_params(profile, params: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The epoch parameters asked for, checked against ``profile``: each one it declares, all of them with
    ``--set epochs``, none without it."""
    for key in params:
        if key not in profile.epoch_params:
            raise OverrideError(_not_scale(key, profile))
    if "epochs" in fields:
        missing = [k for k in profile.epoch_params if k not in params]
        if missing:
            counted = ", ".join(f"{k}={profile.params[k]}" for k in missing)
            raise OverrideError(f"--set epochs: profile {profile.name!r} counts {counted} of its {profile.run.epochs} "
                                f"epochs; set {'it' if len(missing) == 1 else 'them'} for the new budget too "
                                f"({' '.join(f'--set {k}=...' for k in missing)})")
    elif params:
        raise OverrideError(f"--set {next(iter(params))}: an epoch parameter moves with --set epochs only (alone it "
                            "would change the protocol's design, not its scale)")
    return params


def refuse_committed_reports(overrides: dict[str, Any], report_dir, committed) -> None:
    """A scaled run's report is not the protocol's: it must not go into (and replace a section of) the committed
    reports folder ``committed``."""
    if overrides and Path(report_dir).resolve() == Path(committed).resolve():
        raise OverrideError(f"--set runs a profile at another scale, whose report is not the protocol's: name a "
                            f"--report-dir other than {Path(committed).resolve()} (e.g. reports/replication/<name>), "
                            "so the committed report stays the protocol's")


def check_job(config: RunConfig, overrides: dict[str, Any], label: str) -> None:
    """Refuse a run the claim built without an override's value (it set the field itself for this arm): the
    user asked for a scale the claim would not train, and a report would say it had."""
    for key, value in overrides.items():
        if key in SCALE_FIELDS and get(config, key) != value:   # epoch parameters are the claim's, not the run's
            raise OverrideError(f"--set {key}={value}: the claim sets {key}={get(config, key)!r} itself for its "
                                f"run {label!r}, so it cannot be scaled by {key}; nothing was trained")


def describe(overrides: dict[str, Any]) -> str:
    """``model.width=8, epochs=40``: how a report and ``lrsci list`` name the scale."""
    return ", ".join(f"{k}={v}" for k, v in overrides.items())

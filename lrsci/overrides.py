"""A claim at a scale the user picks: ``--set model.width=8 --set epochs=40`` (pytest and ``lrsci run``).

A profile's protocol is its arms, rates, schedules, tests and thresholds; its scale is how big the network,
the data and the budget are. ``--set`` changes the scale of the profile's base run config (every arm derives
from it) and nothing else, so the same pre-registered tests are asked of a bigger or smaller experiment:

* only the fields in :data:`SCALE_FIELDS`, and only those the profile's model reads (``model.depth`` of an
  MLP would change nothing: refused, not ignored). Rates, momentum, schedules, noise and data are the
  protocol's science: a different one is a new profile (docs/adding-a-claim.md), written before it runs;
* every run the claim trains must carry the value (:func:`check_job`): a claim that sets a field itself for
  an arm (its own epochs, say) cannot be scaled by it, and is refused before anything trains;
* the section records ``run_overrides``; its report, the index and ``lrsci list`` say it is not the
  protocol's report, and it is never written into the committed ``reports/`` folder (conftest.py), so a
  scaled run cannot take the place of the verdict the protocol was registered for.

Calibrated values (a profile's η rule, AutoDecay's constants) stay those calibrated at the profile's own
scale; the report's protocol shows every value the runs used.
"""
from __future__ import annotations

from dataclasses import replace
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

    Values are whole numbers, except precision's. A field given twice, a field outside
    :data:`SCALE_FIELDS` or a value of the wrong kind raises :class:`OverrideError`."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or not raw:
            raise OverrideError(f"--set {item!r}: expected FIELD=VALUE, e.g. --set model.width=8")
        if key not in SCALE_FIELDS:
            why = ("the seed of each run is --seed-offset's, the data's --data-seed's" if key in ("seed", "data.seed")
                   else "a profile's rates, schedule, noise and data are its protocol: declare a profile for another "
                        "one (docs/adding-a-claim.md)")
            raise OverrideError(f"--set {key}: not a scale field ({why}); --set takes {allowed_text()}")
        if key in out:
            raise OverrideError(f"--set {key} is given twice ({out[key]} and {raw})")
        out[key] = raw if key in TEXT_FIELDS else _whole_number(key, raw)
    return out


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
    model = profile.run.model.name
    for key in overrides:
        readers = SCALE_FIELDS[key][0]
        if readers is not None and model not in readers:
            raise OverrideError(f"--set {key}: profile {profile.name!r} trains model {model!r}, which does not read "
                                f"{key} ({SCALE_FIELDS[key][1]}; read by {', '.join(readers)})")
    if "optim.batch_size" in overrides and profile.run.optim.full_batch:
        raise OverrideError(f"--set optim.batch_size: profile {profile.name!r} trains full-batch gradient descent "
                            "(batch_size None); a batch size would make it another method, not another scale")
    try:
        run = profile.run.with_(**overrides)
    except ConfigError as exc:
        raise OverrideError(f"--set on profile {profile.name!r}: {exc}") from None
    return replace(profile, run=run)


def check_job(config: RunConfig, overrides: dict[str, Any], label: str) -> None:
    """Refuse a run the claim built without an override's value (it set the field itself for this arm): the
    user asked for a scale the claim would not train, and a report would say it had."""
    for key, value in overrides.items():
        if get(config, key) != value:
            raise OverrideError(f"--set {key}={value}: the claim sets {key}={get(config, key)!r} itself for its "
                                f"run {label!r}, so it cannot be scaled by {key}; nothing was trained")


def describe(overrides: dict[str, Any]) -> str:
    """``model.width=8, epochs=40``: how a report and ``lrsci list`` name the scale."""
    return ", ".join(f"{k}={v}" for k, v in overrides.items())

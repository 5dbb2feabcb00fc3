"""A claim as a declared object: what it says, where it runs, how it trains, judges and draws.

A claim module in ``claims/`` holds one :class:`Claim` named ``CLAIM``. Everything else
(pytest items, the CLI, reports) is generated from it by one driver (:mod:`lrsci.driver`):

    CLAIM = Claim(
        id="sgd-post-decay-boost", title=..., source="You et al. 2019, §4.2, Fig. 7", statement=...,
        profiles=[FAST, GPU],            # Profile objects; GPU = FAST.extend("gpu", device="cuda", ...)
        train=train_arms,                # (ctx, profile) -> runs, trained through ctx.run_all
        analyse=analyse,                 # (runs, profile) -> {"tests": [...], "per_seed": {...}, ...}
        figure=figure_spec,              # (runs, profile) -> a figure spec (lrsci.figures)
    )

A :class:`Profile` is plain data written before the final run: its device ("cpu" → pytest
mark ``fast``, "cuda" → ``gpu``), default seeds, the base :class:`~lrsci.config.RunConfig`,
the claim's own parameters (thresholds, LRs, α), and — when a claim does not replicate at
that scale — the exact required criteria it is expected to fail, each with its reason.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from .config import RunConfig

DEVICE_MARKS = {"cpu": "fast", "cuda": "gpu"}  # a profile's pytest mark follows from where it runs
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class ClaimError(ValueError):
    """A claim or profile declaration is malformed (named, with what to change)."""


def _frozen(d: Mapping | None) -> Mapping:
    return MappingProxyType(dict(d or {}))


PROFILE_FIELDS = ("device", "seeds", "run", "optional_data", "first_seed", "epoch_params")   # what extend() replaces as fields

@dataclass(frozen=True)
class Profile:
    """One scale at which a claim is checked. Read parameters as ``profile["alpha"]``."""

    name: str
    device: str                                  # "cpu" or "cuda"
    seeds: int                                   # seeds per arm unless --seeds says otherwise
    run: RunConfig                               # the base run every arm derives from
    params: Mapping[str, Any] = field(default_factory=dict)   # the claim's own protocol values
    expected_failures: Mapping[str, str] = field(default_factory=dict)  # required criterion -> why
    optional_data: bool = False                  # skip, with a reason, when its dataset is absent
    # The report's seeds are first_seed, first_seed + 1, ... (--seed-offset K runs K, K + 1, ... instead).
    # A new protocol version takes a range no earlier run touched, so its report seeds are fresh.
    first_seed: int = 0
    # Parameters counted in epochs of the run (a stage's length, an anneal epoch): a user's --set epochs must set
    # each of them too (lrsci.overrides), so a bigger budget rescales the design instead of stretching its last
    # stage. Not part of the recorded protocol: it says how the parameters are read, not what they are.
    epoch_params: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _ID.match(self.name):
            raise ClaimError(f"profile name {self.name!r}: use lower-case words joined by '-' (e.g. 'gpu-cifar10')")
        if self.device not in DEVICE_MARKS:
            raise ClaimError(f"profile {self.name!r}: device={self.device!r}, expected one of {tuple(DEVICE_MARKS)}")
        if not isinstance(self.seeds, int) or self.seeds < 2:
            raise ClaimError(f"profile {self.name!r}: seeds={self.seeds!r}; a paired test needs at least 2")
        if not isinstance(self.first_seed, int) or self.first_seed < 0:
            raise ClaimError(f"profile {self.name!r}: first_seed={self.first_seed!r} must be an integer >= 0")
        if not isinstance(self.run, RunConfig):
            raise ClaimError(f"profile {self.name!r}: run must be a RunConfig, got {type(self.run).__name__}")
        for key in ("run", "seeds", "device", "first_seed"):
            if key in self.params:
                raise ClaimError(f"profile {self.name!r}: {key!r} is a Profile field, not a claim parameter")
        for criterion, reason in dict(self.expected_failures).items():
            if not criterion or not isinstance(reason, str) or not reason.strip():
                raise ClaimError(f"profile {self.name!r}: expected failure {criterion!r} needs a reason")
        for name in self.epoch_params:
            value = self.params.get(name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ClaimError(f"profile {self.name!r}: epoch parameter {name!r} must be a parameter holding a whole "
                                 f"number of epochs, got {value!r}")
        object.__setattr__(self, "epoch_params", tuple(self.epoch_params))
        object.__setattr__(self, "params", _frozen(self.params))
        object.__setattr__(self, "expected_failures", _frozen(self.expected_failures))

    def __getitem__(self, key: str) -> Any:
        try:
            return self.params[key]
        except KeyError:
            raise KeyError(f"profile {self.name!r} has no parameter {key!r}; it has {sorted(self.params)}") from None

    @property
    def mark(self) -> str:
        return DEVICE_MARKS[self.device]

    def extend(self, name: str, *, expected_failures: Mapping[str, str] | None = None, **changes) -> "Profile":
        """A new profile: this one with ``name`` and the given fields or parameters replaced.

        Expected failures are not inherited: each profile declares its own (a finding at one
        scale says nothing about another).
        """
        fields = {k: changes.pop(k) for k in PROFILE_FIELDS if k in changes}
        for key in set(changes) - set(self.params):   # a new parameter: refused if it looks like a misspelt name,
            near = difflib.get_close_matches(key, [*PROFILE_FIELDS, *self.params], n=1, cutoff=0.8)   # which
            if near:                                   # would otherwise add a parameter and leave the field as it was
                raise ClaimError(f"profile {name!r}: {key!r} is neither a field nor a parameter of {self.name!r}; "
                                 f"did you mean {near[0]!r}? (a new parameter needs a name unlike the existing ones)")
        return replace(self, name=name, params={**self.params, **changes},
                       expected_failures=expected_failures or {}, **fields)

    def record(self) -> dict:
        """The protocol as JSON: the claim's parameters, seeds, and the run config expanded."""
        return {**self.params, "seeds": self.seeds, "first_seed": self.first_seed, "run": self.run.to_dict()}


@dataclass(frozen=True)
class Claim:
    """A claim of a paper, its profiles, and the three functions that check it."""

    id: str
    title: str
    source: str
    statement: str
    profiles: Sequence[Profile]
    train: Callable[[Any, Profile], Any]             # (ClaimContext, profile) -> runs
    analyse: Callable[[Any, Profile], dict]          # (runs, profile) -> tests, per_seed, headline, summary
    figure: Callable[[Any, Profile], dict]           # (runs, profile) -> figure spec
    derived: Callable[[Profile], dict] | None = None  # protocol values computed from a profile, recorded
    benchmark_info: Callable[[dict], dict] | None = None  # extra pytest-benchmark fields for device runs
    # Per profile, what the figures say beside the verdict, written AFTER its final run: shown in the report
    # (labelled so) while the section is the current protocol's; never a criterion, never part of the protocol.
    readings: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ClaimError(f"claim id {self.id!r}: use lower-case words joined by '-'")
        names = [p.name for p in self.profiles]
        if not names or len(set(names)) != len(names):
            raise ClaimError(f"claim {self.id!r}: profiles must be non-empty with unique names, got {names}")
        object.__setattr__(self, "profiles", tuple(self.profiles))
        unknown = set(self.readings) - set(names)
        if unknown:
            raise ClaimError(f"claim {self.id!r}: readings for profiles it does not declare: {sorted(unknown)}")

    def profile(self, name: str) -> Profile:
        for p in self.profiles:
            if p.name == name:
                return p
        raise ClaimError(f"{self.id} has no profile {name!r}; it has: {', '.join(p.name for p in self.profiles)}")

    @property
    def header(self) -> dict:
        """What a report says about the claim itself."""
        return {"id": self.id, "title": self.title, "source": self.source, "statement": self.statement}

    def protocol(self, profile: Profile) -> dict:
        return {**profile.record(), **(self.derived(profile) if self.derived else {})}

    def ran_current_protocol(self, profile: Profile, section: dict) -> bool:
        """Whether a stored report section was run under the protocol ``profile`` declares now: its
        parameters, its report seeds, its data seed and its scale. A gpu report of v1 beside a v2 declaration that
        has not run yet is not; nor is a section run on other seeds (--seed-offset, --seeds, --data-seed) or at
        another scale (--set: lrsci.overrides)."""
        ran = section.get("seeds") or report_seeds(profile)   # a section that did not record them ran the report's
        return (self.ran_declared_parameters(profile, section) and not other_seeds_reason(profile, ran, data_seed(section))
                and not section.get("run_overrides"))

    def ran_declared_parameters(self, profile: Profile, section: dict) -> bool:
        """Whether a stored section's protocol parameters and run config are those ``profile`` declares now (its
        seeds aside). The run configs are compared by their keys, which do not depend on how a recorded config
        spells a value (1 or 1.0), and with the data seed aside (:func:`data_seed`: --data-seed is checked on its
        own). A recorded config this version cannot read is not the declared one."""
        stored = {k: v for k, v in section.get("protocol", {}).items() if k not in ("seeds", "first_seed", "run")}
        declared = {k: v for k, v in self.protocol(profile).items() if k not in ("seeds", "first_seed", "run")}
        return (json.loads(json.dumps(declared, default=str)) == stored
                and _same_run(profile.run, (section.get("protocol") or {}).get("run")))


def _same_run(declared: RunConfig, recorded: dict | None) -> bool:
    if recorded is None:   # a section written before protocols recorded their run config: its parameters decide
        return True
    try:
        ran = RunConfig.from_dict(recorded)
    except (TypeError, ValueError):
        return False
    return ran.with_(**{"data.seed": declared.data.seed}).key() == declared.key()


def data_seed(section: dict) -> int | None:
    """The seed a stored section's data were drawn with (its protocol's run config), None where it is not recorded."""
    return ((section.get("protocol") or {}).get("run") or {}).get("data", {}).get("seed")


def other_seeds_reason(profile: Profile, seeds: list[int], data_seed: int | None) -> str | None:
    """What makes a run on ``seeds`` (data drawn with ``data_seed``; None: the profile's) another run than the
    protocol's report, in words ("seeds 90000-90004, not the report seeds 3000-3004"); None when it is that run."""
    why = []
    if list(seeds) != report_seeds(profile):
        why.append(f"seeds {seed_range(list(seeds))}, not the report seeds {seed_range(report_seeds(profile))}")
    if data_seed is not None and data_seed != profile.run.data.seed:
        why.append(f"data seed {data_seed}, not the profile's {profile.run.data.seed}")
    return "; ".join(why) or None


def seed_range(seeds: list[int]) -> str:
    """"0-4" for seeds 0..4; "–" for none (a table cell)."""
    return f"{min(seeds)}-{max(seeds)}" if seeds else "–"


def report_seeds(profile: Profile) -> list[int]:
    """The seeds a profile's report runs on: ``first_seed`` and the ``seeds - 1`` after it."""
    return list(range(profile.first_seed, profile.first_seed + profile.seeds))


def claim_id_for_file(stem: str) -> str:
    """The claim id a module's file name promises: test_sgd_post_decay_boost -> sgd-post-decay-boost."""
    return stem.removeprefix("test_").replace("_", "-")

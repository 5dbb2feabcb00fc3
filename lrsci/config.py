"""Run configuration: what to train, on what, how, for how long — validated on construction.

A :class:`RunConfig` is plain data. Its canonical JSON (``to_dict``) is what the run
store hashes, so two configs that would train the same numbers share one stored run.
Every bad value raises :class:`ConfigError` naming the field and what is allowed.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

MODELS = ("wrn", "small_cnn", "mlp",
          "two_layer")                    # Li et al.'s two-layer net: lrsci.models.two_layer
# The rows of the real datasets' splits, so a size no copy of them can serve is refused when the config is made
# (the files themselves are checked when they are read; a smaller copy, e.g. a test fixture, is refused then).
SPLIT_ROWS = {name: {"train_size": train, "test_size": 10_000}
              for names, train in ((("fashion-mnist", "patch-fashion-mnist"), 60_000),
                                   (("cifar10", "patch-cifar10"), 50_000)) for name in names}
DATASETS = ("fashion-mnist", "cifar10",
            "ps10",                        # You et al. §5: lrsci.data.ps10
            "fashion-mnist-split",         # transfer source/targets: lrsci.data.transfer_targets
            "patch-fashion-mnist", "patch-cifar10",  # Li et al.'s patch: lrsci.data.patch
            "toy-pq")                      # Li et al.'s P/Q toy: lrsci.data.toy
SCHEDULES = ("constant", "step", "autodecay", "plateau")
DEVICES = ("cpu", "cuda", "auto")
PRECISIONS = ("fp32", "bf16")


class ConfigError(ValueError):
    """A configuration value is outside what lrsci accepts."""

    def __init__(self, field_name: str, value: Any, allowed: str):
        super().__init__(f"{field_name}={value!r} is not allowed: {allowed}")
        self.field = field_name


def _check(ok: bool, name: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(name, value, allowed)


def _positive_int(name: str, value: Any, minimum: int = 1) -> None:
    _check(isinstance(value, int) and not isinstance(value, bool) and value >= minimum,
           name, value, f"an integer >= {minimum}")


MAX_SEED = 2**32 - 1   # seeds are mixed into torch generator seeds (e.g. seed * 1_000_003 + epoch), which are int64


def _seed(name: str, value: Any) -> None:
    _check(isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEED,
           name, value, f"an integer from 0 to {MAX_SEED}")


def _number(name: str, value: Any, ok=lambda v: True, allowed: str = "a finite number") -> None:
    """A real, finite number (not a string, bool or inf) for which ``ok(value)`` holds."""
    real = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    _check(real and ok(value), name, value, allowed)


def _float(obj, attr: str, name: str, ok=lambda v: True, allowed: str = "a finite number") -> None:
    """As :func:`_number`, then stored as a float: ``lr=1`` and ``lr=1.0`` train the same numbers, so
    they must hash to one run key (the key is the config's JSON, where 1 and 1.0 differ)."""
    value = getattr(obj, attr)
    _number(name, value, ok, allowed)
    setattr(obj, attr, float(value))


def _known_keys(name: str, given: dict, known) -> None:
    """Dict options are checked against what their consumer accepts, at construction, not mid-run."""
    unknown = sorted(set(given) - set(known))
    _check(not unknown, name, unknown, f"keys among {sorted(known)}")


def _keywords(fn, skip=()) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p not in skip and p != "self"]


def _defaults(fn) -> dict:
    """{keyword: its default} of ``fn``, for the keywords that have one."""
    return {p.name: p.default for p in inspect.signature(fn).parameters.values()
            if p.default is not inspect.Parameter.empty}


def _numbers_as_declared(options: dict, defaults: dict) -> dict:
    """``options`` with a whole number given where the default is a float made that float (1 -> 1.0), as the run
    config's own rates are (:func:`_float`): one run, one key, however the number was written."""
    return {k: float(v) if isinstance(defaults.get(k), float) and isinstance(v, int) and not isinstance(v, bool)
            else v for k, v in options.items()}


def _data_option_defaults(name: str) -> dict:
    """The defaults of a dataset's options (what :func:`_data_option_rules` allows), by the module that reads them."""
    if name == "ps10":
        from .data.ps10 import build_ps10

        return _defaults(build_ps10)
    if name == "fashion-mnist-split":
        from .data.transfer_targets import load_fashion_mnist_split

        return _defaults(load_fashion_mnist_split)
    if name == "toy-pq":
        from .data import toy

        return dict(toy.DEFAULTS)
    if name.startswith("patch-"):
        from .data import patch

        return dict(patch.DEFAULTS)
    return {}


def _data_option_rules(name: str):
    """(allowed option keys, a check of their values or None) for a dataset; its module knows both."""
    if name == "ps10":
        from .data.ps10 import build_ps10

        return _keywords(build_ps10, skip=("n_train", "n_test", "seed")), None   # checked with the sizes below
    if name == "fashion-mnist-split":
        from .data.transfer_targets import check_split_options, load_fashion_mnist_split

        keys = _keywords(load_fashion_mnist_split, skip=("data_root", "train_size", "test_size", "seed"))
        return keys, lambda opts: check_split_options(**opts)
    if name == "toy-pq":
        from .data import toy

        return list(toy.DEFAULTS), toy.check_options
    if name.startswith("patch-"):
        from .data import patch

        return ["download", *patch.PATCH_OPTIONS], patch.check_options
    return ["download"], None  # torchvision-backed loaders


@dataclass
class DataConfig:
    name: str = "fashion-mnist"
    train_size: int | None = None   # seeded random subset; None = the whole split
    test_size: int | None = None
    seed: int = 0                   # subset / generator seed: fixed per claim, not per run seed
    options: dict = field(default_factory=dict)  # dataset-specific knobs (e.g. PS10's image_size)

    def __post_init__(self) -> None:
        _check(self.name in DATASETS, "data.name", self.name, f"one of {DATASETS}")
        for key in ("train_size", "test_size"):
            value = getattr(self, key)
            if value is not None:
                _positive_int(f"data.{key}", value)
                rows = SPLIT_ROWS.get(self.name, {}).get(key)
                _check(rows is None or value <= rows, f"data.{key}", value,
                       f"at most the {rows} rows of {self.name}'s {key.split('_')[0]} split (a seeded subset of it)")
        _check(isinstance(self.options, dict), "data.options", self.options, "a dict")
        keys, check_values = _data_option_rules(self.name)
        _known_keys("data.options", self.options, keys)
        self.options = _numbers_as_declared(self.options, _data_option_defaults(self.name))
        if self.name == "ps10":   # its sizes are options of the generator too (multiples of its pattern count)
            from .data.ps10 import check_ps10

            sizes = {k: v for k, v in (("n_train", self.train_size), ("n_test", self.test_size)) if v is not None}
            check_values = lambda opts: check_ps10(**sizes, **opts)  # noqa: E731
        if check_values is not None:  # values too (e.g. classes 0..9, a known rendering)
            try:
                check_values({k: v for k, v in self.options.items() if k != "download"})
            except (ValueError, TypeError) as exc:   # TypeError: a value of the wrong type met an operator
                for size, name in (("train_size", "n_train="), ("test_size", "n_test=")):
                    if name in str(exc):
                        raise ConfigError(f"data.{size}", getattr(self, size), str(exc)) from None
                raise ConfigError("data.options", self.options, str(exc)) from None
        _check(isinstance(self.options.get("download", False), bool), "data.options", self.options,
               "download as True or False")
        _seed("data.seed", self.seed)


@dataclass
class ModelConfig:
    name: str = "small_cnn"
    depth: int = 16          # WideResNet only: 6n + 4
    width: int = 4           # WideResNet widen factor k; small_cnn: 4 * width channels in its first conv
    hidden: int = 256        # mlp hidden units
    dropout: float = 0.0
    act_noise_std: float = 0.0  # Gaussian noise before each ReLU (training only; Li et al.)

    def __post_init__(self) -> None:
        _check(self.name in MODELS, "model.name", self.name, f"one of {MODELS}")
        _positive_int("model.depth", self.depth)
        _check(self.name != "wrn" or (self.depth - 4) % 6 == 0 and self.depth >= 10,
               "model.depth", self.depth, "6n + 4 with n >= 1 (10, 16, 22, 28, ...)")
        _positive_int("model.width", self.width)
        _positive_int("model.hidden", self.hidden)
        _float(self, "dropout", "model.dropout", lambda v: 0.0 <= v < 1.0, "0 <= dropout < 1")
        _float(self, "act_noise_std", "model.act_noise_std", lambda v: v >= 0.0, "a finite number >= 0")


@dataclass
class OptimConfig:
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    batch_size: int | None = 128   # None = full-batch gradient descent
    gd_chunk: int = 1024           # full-batch GD: examples per accumulation chunk

    def __post_init__(self) -> None:
        _float(self, "lr", "optim.lr", lambda v: v > 0, "a finite learning rate > 0")
        _float(self, "momentum", "optim.momentum", lambda v: 0.0 <= v < 1.0, "0 <= momentum < 1")
        _check(isinstance(self.nesterov, bool), "optim.nesterov", self.nesterov, "True or False")
        _check(not self.nesterov or self.momentum > 0, "optim.nesterov", self.nesterov,
               "Nesterov needs momentum > 0")
        _float(self, "weight_decay", "optim.weight_decay", lambda v: v >= 0, "a finite number >= 0")
        if self.batch_size is not None:
            _positive_int("optim.batch_size", self.batch_size)
        _positive_int("optim.gd_chunk", self.gd_chunk)

    @property
    def full_batch(self) -> bool:
        return self.batch_size is None


@dataclass
class ScheduleConfig:
    kind: str = "constant"
    milestones: tuple[int, ...] = ()   # step: epochs after which the LR is multiplied by factor
    factor: float = 0.1
    autodecay: dict = field(default_factory=dict)  # AutoDecayRule keyword arguments
    plateau: dict = field(default_factory=dict)  # torch ReduceLROnPlateau keyword arguments (kind "plateau")
    noise_milestones: tuple[int, ...] = ()  # activation noise multiplied by noise_factor after these
    noise_factor: float = 1e-5

    def __post_init__(self) -> None:
        _check(self.kind in SCHEDULES, "schedule.kind", self.kind, f"one of {SCHEDULES}")
        for name in ("milestones", "noise_milestones"):
            ms = getattr(self, name)
            _check(isinstance(ms, (tuple, list)), f"schedule.{name}", ms, "a tuple of epochs, e.g. (8,) or (8, 12)")
            setattr(self, name, tuple(ms))
        _float(self, "factor", "schedule.factor", lambda v: 0.0 < v <= 1.0, "a decay factor in (0, 1]")
        _check(isinstance(self.autodecay, dict), "schedule.autodecay", self.autodecay, "a dict")
        from .autodecay import AutoDecayRule  # its keyword arguments are the allowed keys
        from torch.optim.lr_scheduler import ReduceLROnPlateau

        _known_keys("schedule.autodecay", self.autodecay, _keywords(AutoDecayRule.__init__, skip=("factor", "max_steps")))   # max_steps: the run's epochs
        _check(isinstance(self.plateau, dict), "schedule.plateau", self.plateau, "a dict")
        _known_keys("schedule.plateau", self.plateau, _keywords(ReduceLROnPlateau.__init__, skip=("optimizer", "factor")))
        self.autodecay = _numbers_as_declared(self.autodecay, _defaults(AutoDecayRule.__init__))
        self.plateau = _numbers_as_declared(self.plateau, _defaults(ReduceLROnPlateau.__init__))
        _check(self.kind != "step" or len(self.milestones) > 0, "schedule.milestones",
               self.milestones, "at least one epoch for a step schedule")
        _check(self.kind == "step" or not self.milestones, "schedule.milestones", self.milestones,
               f"none for a {self.kind!r} schedule, which never reads them (kind='step' decays at milestones)")
        for name in ("milestones", "noise_milestones"):
            ms = getattr(self, name)
            _check(all(isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in ms)
                   and list(ms) == sorted(set(ms)),
                   f"schedule.{name}", ms, "strictly increasing integers >= 1")
        _float(self, "noise_factor", "schedule.noise_factor", lambda v: 0.0 < v <= 1.0, "(0, 1]")
        _check(self.kind not in ("plateau", "autodecay") or self.factor < 1.0, "schedule.factor", self.factor,
               f"a decay factor in (0, 1) for the {self.kind} schedule")
        self._check_rule_values()

    def _check_rule_values(self) -> None:
        """The AutoDecay / ReduceLROnPlateau constants, by building the rule once now (not mid-run)."""
        from torch.optim.lr_scheduler import ReduceLROnPlateau

        from .autodecay import AutoDecayRule

        try:
            if self.kind == "autodecay":
                AutoDecayRule(**self.autodecay, factor=self.factor)
            elif self.kind == "plateau":
                ReduceLROnPlateau(_optimizer_probe_class()(), **self.plateau, factor=self.factor)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"schedule.{self.kind}", getattr(self, self.kind), str(exc)) from None


@functools.cache
def _optimizer_probe_class():
    import torch

    class OptimizerProbe(torch.optim.Optimizer):
        """One parameter group and nothing else, for ReduceLROnPlateau to check its constants against. Not a
        real optimizer: torch's Optimizer.__init__ imports torch._dynamo (2 s), which `lrsci list` would pay
        for the plateau configs it reads."""
        def __init__(self):   # Optimizer.__init__ is what this avoids
            self.defaults, self.state, self.param_groups = {"lr": 0.1}, {}, [{"lr": 0.1, "params": []}]
    return OptimizerProbe


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    epochs: int = 10
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"        # bf16: autocast on CUDA only (ignored on CPU)
    # Evaluate the train split every epoch (accuracy, loss, per-subset accuracy); or a tuple of train
    # subset names: only those rows, only their per-subset accuracies (what a claim reads, for less work).
    eval_train: bool | tuple = True
    diverge_loss: float = 1e4      # a batch loss above this (or non-finite) ends the run as diverged
    measures: dict = field(default_factory=dict)  # per-epoch measurements: {name: options} (lrsci.measures)

    def __post_init__(self) -> None:
        _positive_int("epochs", self.epochs)
        _seed("seed", self.seed)
        _check(self.device in DEVICES, "device", self.device, f"one of {DEVICES}")
        _check(self.precision in PRECISIONS, "precision", self.precision, f"one of {PRECISIONS}")
        _float(self, "diverge_loss", "diverge_loss", lambda v: v > 0, "a finite number > 0")
        if isinstance(self.eval_train, list):   # from JSON
            object.__setattr__(self, "eval_train", tuple(self.eval_train))
        _check(isinstance(self.eval_train, bool) or (
            isinstance(self.eval_train, tuple) and self.eval_train and all(isinstance(n, str) and n for n in self.eval_train)),
            "eval_train", self.eval_train, "True, False, or a non-empty tuple of train subset names")
        for name in ("milestones", "noise_milestones"):   # a milestone at or past the last epoch never applies
            ms = getattr(self.schedule, name)
            _check(all(m < self.epochs for m in ms), f"schedule.{name}", ms, f"epochs before the last one (< {self.epochs})")
        if self.measures:
            from .measures import validate_measures

            validate_measures(self.measures)
            self.measures = {name: dict(opts or {}) for name, opts in self.measures.items()}   # None: the defaults, {}

    def to_dict(self) -> dict:
        d = asdict(self)
        d["schedule"]["milestones"] = list(self.schedule.milestones)
        d["schedule"]["noise_milestones"] = list(self.schedule.noise_milestones)
        if not d["schedule"]["plateau"]:   # absent when unused: keys of earlier configs stay the same
            del d["schedule"]["plateau"]
        if not d["measures"]:              # likewise: a run without measurements keeps its key
            del d["measures"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        parts = {"data": DataConfig, "model": ModelConfig, "optim": OptimConfig, "schedule": ScheduleConfig}
        kwargs = {k: (parts[k](**v) if k in parts else v) for k, v in d.items()}
        return cls(**kwargs)

    def key(self) -> str:
        """Content hash: equal for configs that train identical numbers. ``data.options["download"]`` (whether
        torchvision may fetch missing files) is left out: the run store checks the data's bytes themselves."""
        d = self.to_dict()
        d["data"]["options"] = {k: v for k, v in d["data"]["options"].items() if k != "download"}
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_(self, **changes) -> "RunConfig":
        """A copy with top-level fields or dotted sub-fields replaced: with_(**{"optim.lr": 0.01})."""
        nested: dict[str, dict] = {}
        top = {}
        for k, v in changes.items():
            if "." in k:
                part, sub = k.split(".", 1)
                nested.setdefault(part, {})[sub] = v
            else:
                top[k] = v
        for part, subs in nested.items():
            top[part] = replace(getattr(self, part), **subs)
        return replace(self, **top)


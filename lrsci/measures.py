"""Per-epoch measurements a run can ask for by name (``RunConfig(measures={name: options})``).

A measurement looks at the model after an epoch's evaluation and returns numbers that go
into that epoch's history record. It must not change the run: it sees the model through
:func:`isolated`, which forks the global RNG (CPU and CUDA), puts back every buffer
(BatchNorm running statistics) bit for bit and restores each module's train/eval flag, and
it gets its own seed, derived from (run seed, epoch, name). So a run trained with
measurements has exactly the numbers of the same run without them, and a resumed or forked
run still equals an uninterrupted one (tests/test_measures.py checks both).

Registry (name -> options, with defaults):
  hessian_top   {"k": 10, "examples": 1024, "chunk": 256}
      top-k eigenvalues of the training loss's Hessian (lrsci.hessian.top_eigenvalues) over
      the first ``examples`` training examples, BatchNorm in training mode over ghost batches of
      ``chunk`` (GD's objective only when ``chunk`` is the run's ``optim.gd_chunk`` and ``examples``
      its whole training set: pass them so; the default 256 is not gd_chunk's default 1024);
      record key "hessian_top" = list of k floats, descending.
  sharpness     {"examples": 1024, "chunk": 256}
      the top eigenvalue alone (k = 1); record key "sharpness".
  weight_norm   {}
      the L2 norm of all parameters; record key "weight_norm".
  fresh_bn_eval {"chunk": 1024}
      test accuracy and loss in eval mode with BatchNorm statistics taken afresh at the current
      weights: the mean of each training chunk's batch statistics over the whole training set
      (chunks of ``chunk``: GD's ghost batches when it is the run's ``optim.gd_chunk``), in place of
      the running averages. Why: running statistics average the last ~1/momentum steps, so when the
      weights move fast (GD at the edge of stability, a loss spike) eval mode normalises today's
      weights with yesterday's statistics and its accuracy is not that of the network being trained
      (gd-decay-no-benefit's reading measures the gap). Record keys "fresh_bn_test_acc" (%) and
      "fresh_bn_test_loss"; for a model without BatchNorm they equal test_acc and test_eval_loss.
"""
from __future__ import annotations

import copy
import hashlib
from contextlib import contextmanager
from typing import Callable

import torch
from torch import nn

MeasureFn = Callable[[nn.Module, object, dict, int], dict]
# Bump when a measurement's numbers change (its options, solver or seed): results kept beside a run
# (lrsci.derived: a claim's measurement on a stored snapshot) under another version are taken again.
MEASURE_VERSION = 1


def _hessian_top(model, data, opts: dict, seed: int) -> dict:
    from .hessian import top_eigenvalues

    n = min(opts["examples"], data.x_train.shape[0])
    values = top_eigenvalues(model, data.x_train[:n], data.y_train[:n], k=opts["k"],
                             chunk=opts["chunk"], seed=seed)
    return {"hessian_top": values}


def _sharpness(model, data, opts: dict, seed: int) -> dict:
    return {"sharpness": _hessian_top(model, data, {**opts, "k": 1}, seed)["hessian_top"][0]}


def _weight_norm(model, data, opts: dict, seed: int) -> dict:
    with torch.no_grad():
        return {"weight_norm": float(torch.sqrt(sum((p.double() ** 2).sum() for p in model.parameters())))}


def _fresh_bn_eval(model, data, opts: dict, seed: int) -> dict:
    from .train import per_example   # here: lrsci.train imports this module

    fresh = copy.deepcopy(model)   # momentum is an attribute, not a buffer: change a copy, not the run's model
    norms = [m for m in fresh.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    chunk = opts["chunk"]
    with torch.no_grad():
        if norms:
            for m in norms:
                m.reset_running_stats()
                m.momentum = None            # a cumulative mean over the chunks, each weighted alike
            fresh.eval()                     # dropout and activation noise off, as in any evaluation;
            for m in norms:                  # only BatchNorm takes its batches' statistics
                m.train()
            for start in range(0, data.x_train.shape[0], chunk):
                fresh(data.x_train[start:start + chunk])
        fresh.eval()
    losses, correct = per_example(fresh, data.x_test, data.y_test, chunk)
    return {"fresh_bn_test_acc": 100.0 * float(correct.float().mean()), "fresh_bn_test_loss": float(losses.mean())}


# name -> (function, default options)
MEASURES: dict[str, tuple[MeasureFn, dict]] = {
    "hessian_top": (_hessian_top, {"k": 10, "examples": 1024, "chunk": 256}),
    "sharpness": (_sharpness, {"examples": 1024, "chunk": 256}),
    "weight_norm": (_weight_norm, {}),
    "fresh_bn_eval": (_fresh_bn_eval, {"chunk": 1024}),
}


def validate_measures(measures: dict) -> None:
    """Unknown names or option keys are configuration errors, caught when the config is built."""
    from .config import ConfigError

    if not isinstance(measures, dict):
        raise ConfigError("measures", measures, "a dict {name: options}")
    for name, opts in measures.items():
        if name not in MEASURES:
            raise ConfigError("measures", name, f"one of {sorted(MEASURES)}")
        if opts is not None and not isinstance(opts, dict):
            raise ConfigError(f"measures.{name}", opts, "a dict of its options ({} for the defaults)")
        unknown = set(opts or {}) - set(MEASURES[name][1])
        if unknown:
            raise ConfigError(f"measures.{name}", sorted(unknown), f"options among {sorted(MEASURES[name][1])}")
        for key, value in (opts or {}).items():
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise ConfigError(f"measures.{name}.{key}", value, "an integer >= 1")


def check_measures_fit(measures: dict, model: nn.Module) -> None:
    """Hessian eigenvalues the model has too few parameters for (ARPACK needs k < the Hessian's dimension).
    Not in validate_measures: the count needs the built model. Found only at the first epoch's end, the
    refusal left an unfinished run in the store (RunStore.check_measures calls this before it writes)."""
    from .config import ConfigError

    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)   # as lrsci.hessian counts them
    for name, opts in measures.items():
        if name not in ("hessian_top", "sharpness"):
            continue
        k = {**MEASURES[name][1], **(opts or {})}.get("k", 1)   # sharpness: the top eigenvalue alone
        if k >= n_params:
            raise ConfigError(f"measures.{name}.k", k, f"k must be < the model's {n_params} trainable "
                                                       "parameters (the Hessian's dimension)")


def measure_seed(run_seed: int, epoch: int, name: str) -> int:
    """A seed of the measurement's own, independent of the training RNG stream."""
    digest = hashlib.sha256(f"{run_seed}:{epoch}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


@contextmanager
def isolated(model: nn.Module):
    """Run a measurement without leaving a trace on the model or the RNG."""
    devices = [p.device for p in model.parameters() if p.device.type == "cuda"][:1]
    buffers = [b.detach().clone() for b in model.buffers()]
    modes = [m.training for m in model.modules()]
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            with torch.no_grad():
                for b, saved in zip(model.buffers(), buffers):
                    b.copy_(saved)
            for m, mode in zip(model.modules(), modes):
                m.training = mode


def take_measurements(model: nn.Module, data, measures: dict, run_seed: int, epoch: int) -> dict:
    """Every requested measurement of ``model`` after ``epoch``, merged into one record."""
    out: dict = {}
    for name, opts in measures.items():
        fn, defaults = MEASURES[name]
        with isolated(model):
            out.update(fn(model, data, {**defaults, **(opts or {})}, measure_seed(run_seed, epoch, name)))
    return out

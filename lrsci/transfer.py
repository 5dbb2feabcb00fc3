"""Transfer learning from stage snapshots, and the transferability of what each stage added.

You et al. (2019, §6) train a source model with a step-decay schedule (two decays, three
stages), keep a snapshot at the end of every stage, transfer each snapshot to a target dataset,
and define the transferability of the patterns stage i added as

    T_i = (tacc_i - tacc_{i-1}) / (acc_i - acc_{i-1}),      i = 2, ..., n

where ``acc_i`` is the stage-i snapshot's accuracy on the source task and ``tacc_i`` its accuracy
on the target after transfer (:func:`transferability`). Source-to-source transfer gives 1.

Two transfer modes, each with its own stated optimizer (:class:`TransferSpec`):

* ``"fix"`` — the snapshot is a frozen feature extractor: every layer up to the classifier, in
  eval mode (BatchNorm running statistics of the source). Its features of the target's train and
  test images (the input of the source classifier) are standardized with the target-train mean
  and std per feature, and a new linear classifier is trained on them.
* ``"finetune"`` — the source classifier is replaced by a new one and *all* layers are trained on
  the target (BatchNorm in train mode, so its statistics adapt), then evaluated in eval mode.

Both train with mini-batch SGD (momentum, weight decay, batch size as stated), the learning rate
annealed per step by a cosine from ``lr`` to 0 over ``epochs`` (so the result is a converged
model, not one caught mid-oscillation), cross-entropy loss. Deterministic by seed: the new
classifier is initialized under ``torch.manual_seed(seed)`` (in a forked RNG, so global state is
untouched) and the batch order of epoch e is ``randperm`` with seed ``seed * 1_000_003 + e`` — the
same head initialization and the same batches for every snapshot of one seed, so snapshots of
one seed are compared like with like. On the CPU transfer runs on one thread (like the run
store's training), so results do not depend on the machine's core count.

A transfer step is not a run of the engine: :func:`transfer_snapshots` caches its result as JSON
beside the source run in the run store (``transfer-<key>.json``, written atomically, under a file
lock; lrsci.derived), keyed by the target data config and content hash, the spec, the seed and the
snapshot epochs, so a re-run transfers nothing twice, and reading it needs neither the snapshots
nor the device.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from . import derived
from .config import DataConfig, RunConfig
from .data.base import ArrayData
from .data.registry import load_data
from .models import build_model
from .provenance import device_name, git_hash, utc_now

MODES = ("fix", "finetune")
# Bump when a change alters the numbers a transfer produces: cached transfers of an older
# version are then not reused (they stay on disk).
TRANSFER_VERSION = 2   # 2: a feature constant on the target train set keeps scale 1 in "fix" (it was divided by 1e-6)
EVAL_BATCH = 2048


class TransferError(ValueError):
    """Transferability is undefined for these accuracies, or a transfer cannot be done (named)."""


def transferability(source_acc: Sequence[float], target_acc: Sequence[float]) -> list[float]:
    """[T_2, ..., T_n] with T_i = (tacc_i - tacc_{i-1}) / (acc_i - acc_{i-1}) (You et al. §6).

    ``source_acc[i]`` and ``target_acc[i]`` belong to the snapshot at the end of stage i+1.
    Raises :class:`TransferError` for lengths that differ, fewer than two stages, a non-finite
    accuracy, or a stage whose source accuracy did not change (a zero denominator).
    """
    s, t = list(source_acc), list(target_acc)
    if len(s) != len(t):
        raise TransferError(f"transferability: {len(s)} source accuracies but {len(t)} target accuracies; "
                            "give one of each per stage snapshot")
    if len(s) < 2:
        raise TransferError(f"transferability needs at least two stages, got {len(s)}")
    for name, values in (("source", s), ("target", t)):
        for i, v in enumerate(values):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise TransferError(f"transferability: {name} accuracy of stage {i + 1} is {v!r}, not a finite number")
    out = []
    for i in range(1, len(s)):
        gain = s[i] - s[i - 1]
        if gain == 0:
            raise TransferError(f"transferability of stage {i + 1} is undefined: its source accuracy did not change "
                                f"(acc_{i + 1} = acc_{i} = {s[i]!r}), so the denominator is zero")
        out.append((t[i] - t[i - 1]) / gain)
    return out


@dataclass(frozen=True)
class TransferSpec:
    """How a snapshot is transferred: the mode and its optimizer (SGD, cosine-annealed lr)."""

    mode: str                  # "fix" | "finetune"
    lr: float                  # peak learning rate, annealed by a cosine to 0 over the epochs
    epochs: int
    batch_size: int = 128
    momentum: float = 0.9
    weight_decay: float = 5e-4

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise TransferError(f"transfer mode {self.mode!r}: expected one of {MODES}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise TransferError(f"transfer lr={self.lr!r}: expected a finite number > 0")
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise TransferError(f"transfer {name}={v!r}: expected an integer >= 1")
        if not 0 <= self.momentum < 1 or not self.weight_decay >= 0:
            raise TransferError(f"transfer momentum={self.momentum!r} / weight_decay={self.weight_decay!r}: "
                                "expected 0 <= momentum < 1 and weight_decay >= 0")

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- models
def _classifier_path(model: nn.Module) -> str:
    """The dotted name of the model's classifier: its last ``nn.Linear`` (lrsci's models end in one)."""
    names = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not names:
        raise TransferError(f"{type(model).__name__} has no nn.Linear classifier to replace")
    return names[-1]


def _set_module(model: nn.Module, path: str, module: nn.Module) -> None:
    parent_path, _, leaf = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, leaf, module)


def _new_head(old: nn.Linear, num_classes: int, seed: int, device) -> nn.Linear:
    with torch.random.fork_rng(devices=_all_cuda()):
        torch.manual_seed(seed)
        head = nn.Linear(old.in_features, num_classes)
    return head.to(device)


def _cosine(lr: float, step: int, total: int) -> float:
    return 0.5 * lr * (1.0 + math.cos(math.pi * step / total))


def _sgd_train(params, forward, x: torch.Tensor, y: torch.Tensor, spec: TransferSpec, seed: int) -> None:
    """Mini-batch SGD of ``forward`` on (x, y) with the spec's optimizer and cosine schedule."""
    opt = torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay)
    n, bs = x.shape[0], spec.batch_size
    total, step = spec.epochs * math.ceil(n / bs), 0
    for epoch in range(spec.epochs):
        g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        order = torch.randperm(n, generator=g).to(x.device)
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            if idx.numel() == 1 and n > 1:   # BatchNorm cannot train on one example: that last batch is skipped
                continue
            for group in opt.param_groups:
                group["lr"] = _cosine(spec.lr, step, total)
            loss = F.cross_entropy(forward(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1


@torch.no_grad()
def _apply(fn, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([fn(x[i:i + EVAL_BATCH]) for i in range(0, x.shape[0], EVAL_BATCH)])


def _accuracy(fn, x: torch.Tensor, y: torch.Tensor) -> float:
    return 100.0 * float((_apply(fn, x).argmax(1) == y).float().mean())


def transfer_accuracy(model: nn.Module, target: ArrayData, spec: TransferSpec, seed: int,
                      device: torch.device | str = "cpu") -> float:
    """Target test accuracy (%) of ``model`` transferred to ``target`` as ``spec`` says.

    ``model`` (a source snapshot) is not modified. Deterministic for a given seed and device.
    """
    device = torch.device(device)
    data = target if target.x_train.device == device else target.to(device)
    model = copy.deepcopy(model).to(device)
    path = _classifier_path(model)
    head = _new_head(model.get_submodule(path), target.num_classes, seed, device)
    with torch.random.fork_rng(devices=_all_cuda()):   # manual_seed below seeds every device's generator
        torch.manual_seed(seed)  # anything stochastic in the body (dropout, noise) is seeded too
        if spec.mode == "fix":
            _set_module(model, path, nn.Identity())
            model.eval()
            for p in model.parameters():
                p.requires_grad_(False)
            f_train, f_test = _apply(model, data.x_train), _apply(model, data.x_test)
            mean, std = f_train.mean(0, keepdim=True), f_train.std(0, keepdim=True)
            # A feature constant on the target's train set (a dead ReLU) keeps scale 1: divided by ~0 it would
            # blow up to ~1e5 on the test rows where it is not, and the head never learned its weight there.
            std = torch.where(std < 1e-6, torch.ones_like(std), std)
            f_train, f_test = (f_train - mean) / std, (f_test - mean) / std
            head.train()
            _sgd_train(head.parameters(), head, f_train, data.y_train, spec, seed)
            head.eval()
            return _accuracy(head, f_test, data.y_test)
        _set_module(model, path, head)
        model.train()
        _sgd_train(model.parameters(), model, data.x_train, data.y_train, spec, seed)
        model.eval()
        return _accuracy(model, data.x_test, data.y_test)


# --------------------------------------------------------------------------- snapshots, cached
def load_snapshot(store, source: RunConfig, epoch: int, input_shape, num_classes: int, device) -> nn.Module:
    """The source run's model after ``epoch`` (its ``snap-<epoch>.pt`` in the run store)."""
    path = store.dir(source) / f"snap-{epoch}.pt"
    state = store._load_state(path, device) if path.exists() else None
    if state is None:
        raise TransferError(f"{path} is missing or unreadable: the source run must be trained with "
                            f"snapshots=(..., {epoch}, ...). Move its folder {path.parent} aside and run again "
                            "to retrain it with the snapshot")
    with torch.random.fork_rng(devices=[]):   # the init draws, overwritten at once, leave the caller's RNG alone
        model = build_model(source.model, tuple(input_shape), num_classes)
    model.load_state_dict(state["model"])
    return model.to(device)


def _all_cuda() -> list[int]:
    """Every CUDA device: torch.manual_seed reseeds them all, so a fork must restore them all."""
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


def cache_key(source: RunConfig, epochs: Sequence[int], target: DataConfig, target_sha: str | None,
              spec: TransferSpec, seed: int) -> dict:
    return {"transfer_version": TRANSFER_VERSION, "source": source.key(), "snapshot_epochs": list(epochs),
            # whether torchvision may download the target is no part of what it is (as in RunConfig.key)
            "target": {**asdict(target), "options": {k: v for k, v in target.options.items() if k != "download"}},
            "target_content_sha256": target_sha, "spec": spec.to_dict(), "seed": seed}


def transfer_snapshots(store, source: RunConfig, epochs: Sequence[int], target: DataConfig, spec: TransferSpec,
                       seed: int, device: torch.device | str = "cpu") -> dict:
    """Transfer the source run's snapshots after ``epochs`` to ``target``; cached beside the run.

    Returns ``{"tacc": [target test acc (%) per snapshot], "key": {...}, "trained": {...}}``.
    A cached result with the same key is returned without training; an unreadable one is moved
    aside (``.corrupt-<time>``) and recomputed.
    """
    from .runs import cpu_threads
    from .train import resolve_device

    data = load_data(target, store.data_root)
    key = cache_key(source, epochs, target, data.info.get("content_sha256"), spec, seed)

    def transfer() -> dict:
        started = time.perf_counter()
        dev = resolve_device(str(device))   # only to transfer: a stored result is read on any machine
        src_data = load_data(source.data, store.data_root)
        with cpu_threads(1 if dev.type == "cpu" else None):
            target_data = data.to(dev)
            tacc = [transfer_accuracy(load_snapshot(store, source, e, src_data.input_shape, src_data.num_classes,
                                                    dev), target_data, spec, seed, dev) for e in epochs]
        return {"tacc": tacc, "trained": {"git": git_hash(), "device_name": device_name(str(dev)), "date": utc_now(),
                                          "wall_seconds": time.perf_counter() - started}}
    return derived.cached(derived.path_for(store.dir(source), "transfer", key), key, transfer,
                          valid=lambda r: all(isinstance(v, float) for v in r["tacc"]), what="transfer result")

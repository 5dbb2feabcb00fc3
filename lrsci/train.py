"""One training loop for mini-batch SGD and full-batch gradient descent.

``Trainer`` owns the model, optimizer, schedule and history of one run. It trains an epoch
at a time, evaluates every epoch (train and test loss/accuracy, plus accuracy on every named
subset the dataset declares), and can be captured to and restored from a checkpoint that
includes the RNG state — so a resumed or forked run continues with exactly the numbers an
uninterrupted run would have produced on the CPU. On CUDA it continues the same run, but not bit for
bit: some kernels (cuDNN's algorithm choice, reductions with atomics) round differently call to call.

Full-batch GD (``optim.batch_size=None``): each epoch is one optimizer step on the exact
gradient of the mean training loss, accumulated over fixed chunks of ``optim.gd_chunk``
examples in dataset order. BatchNorm stays in training mode, so each chunk is normalised
with its own batch statistics ("ghost batches" of size gd_chunk): the step is the exact
gradient of that objective, and running statistics are updated once per chunk.

Divergence is an outcome, not a crash: a non-finite batch loss, or one above
``diverge_loss``, ends the run with ``status="diverged"`` and the global step recorded. GD tests the
full-batch loss before each step (``diverged_at_step`` = the steps taken before it); SGD keeps the
largest batch loss of the epoch on the device and reads it every ``CHECK_EVERY`` steps and at the
epoch's end (``diverged_at_step`` = the step of that read), so no batch goes unseen and the GPU is not
synchronised every step. Each of those losses is taken before its update; the update after an epoch's
last batch (or GD step) is judged by the evaluation that follows: non-finite evaluation losses are a
divergence at that step, and the epoch keeps no record (:func:`finite_eval`).

A record (one per epoch): ``train_loss`` is the mean training loss as training saw it — for SGD the mean
of the epoch's batch losses, each before its update; for GD the full-batch loss at the weights before
the epoch's one step — while everything else (the evaluation losses and accuracies, measurements) is
taken after the epoch, at the weights it ends with. For GD the two are one step apart.
"""
from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .config import RunConfig
from .data.base import ArrayData
from .graphed import StepGraph, graph_unsupported, step_kind
from .measures import check_measures_fit, take_measurements
from .models import build_model, set_activation_noise
from .schedules import build_schedule, noise_scale_at
from .switches import switch_from_env

EVAL_BATCH = {"cpu": 2048, "cuda": 8192}
# Bump whenever a change alters the numbers training produces (loss, order, schedule, eval):
# the run store keys runs by it, so stored runs of an older engine are never reused.
# 2: fused SGD on CUDA (its rounding differs from the per-tensor update); an SGD run diverges on any batch
#    whose loss passes diverge_loss (before: only the batch checked every 50 steps and the epoch's last).
ENGINE_VERSION = 2
CHECK_EVERY = 50   # SGD steps between host reads of the divergence test (a read syncs the GPU)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was asked for but torch.cuda.is_available() is False")
    return torch.device(name)


class RunDiverged(ValueError):
    """An analysis asked a diverged run for epochs it never reached."""

    def __init__(self, run: "RunResult", key: str, first: int, last: int):
        cfg = run.config
        super().__init__(
            f"the run with seed {cfg.get('seed')}, lr {cfg.get('optim', {}).get('lr')} "
            f"(key {RunConfig.from_dict(cfg).key()}) diverged at step {run.diverged_at_step} after "
            f"{len(run.history)} complete epochs, so it has no {key!r} for epochs {first}..{last}. "
            "Divergence is an outcome: a claim that can meet it must test it (RunResult.stop_reason).")
        self.run = run


@torch.no_grad()
def per_example(forward, x: torch.Tensor, y: torch.Tensor, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy (float32) and correctness of ``forward``'s outputs per example of (x, y), ``batch`` rows at a
    time: what every evaluation reads (the Trainer's, and measurements such as fresh_bn_eval)."""
    losses, correct = [], []
    for start in range(0, x.shape[0], batch):
        out = forward(x[start:start + batch]).float()
        losses.append(F.cross_entropy(out, y[start:start + batch], reduction="none"))
        correct.append(out.argmax(1) == y[start:start + batch])
    return torch.cat(losses), torch.cat(correct)


def eval_splits(data: ArrayData, eval_train: bool | tuple) -> list[tuple]:
    """(name, x, y, subsets, whole) of every split a run is evaluated on each epoch: train first if asked,
    then test. ``whole`` is False for a train split cut down to the subsets named in ``eval_train``: its
    rows are only those, so it reports their per-subset accuracies and no split-wide numbers."""
    splits = [("test", data.x_test, data.y_test, data.test_subsets, True)]
    if eval_train is True:
        splits.insert(0, ("train", data.x_train, data.y_train, data.train_subsets, True))
    elif eval_train:
        missing = [n for n in eval_train if n not in data.train_subsets]
        if missing:
            raise ValueError(f"eval_train names train subsets {missing} that {data.name} does not have "
                             f"(it has {sorted(data.train_subsets)})")
        rows = torch.stack([data.train_subsets[n] for n in eval_train]).any(0)
        splits.insert(0, ("train", data.x_train[rows], data.y_train[rows],
                          {n: data.train_subsets[n][rows] for n in eval_train}, False))
    return splits


def split_metrics(split: str, loss: torch.Tensor, correct: torch.Tensor, subsets: dict, whole: bool = True) -> dict:
    """One split's record entries from per-example loss and correctness: accuracy (%) and mean loss (for
    a whole split), and the accuracy on each named subset (NaN for an empty one)."""
    out = {f"{split}_acc": 100.0 * float(correct.float().mean()),
           f"{split}_eval_loss": float(loss.mean())} if whole else {}
    for name, mask in subsets.items():
        out[f"{split}_acc@{name}"] = 100.0 * float(correct[mask].float().mean()) if mask.any() else float("nan")
    return out


def finite_eval(record: dict) -> bool:
    """The evaluation after an epoch gave finite losses. The training losses checked for divergence are each
    taken before their update, so the update after an epoch's last batch (or GD step) is judged here: a network
    it blew up (weights or outputs no longer finite) diverged at that step, and its record is not kept."""
    return all(math.isfinite(v) for k, v in record.items() if k.endswith("_eval_loss"))


# Why a run ended, by its final status: it used its epoch budget, its schedule's rule stopped
# it (AutoDecay's significant-drop test), or it diverged.
STOP_REASONS = {"finished": "budget", "stopped": "rule", "diverged": "diverged"}


@dataclass
class RunResult:
    """What a finished run leaves behind (JSON-serialisable through ``to_dict``)."""

    config: dict
    history: list[dict]            # one record per completed epoch (accuracies in percent)
    status: str                    # "finished" | "diverged" | "stopped" (AutoDecay's stop)
    epochs_trained: int
    decay_epochs: list[int]
    diverged_at_step: int | None = None
    device: str = "cpu"
    train_seconds: float = 0.0     # summed over every piece of training, resumes included
    images: int = 0                # training images processed (for images/s)
    forked_from: dict | None = None
    extra: dict = field(default_factory=dict)
    stop_reason: str | None = None  # "budget" | "rule" | "diverged": why the run ended

    def __post_init__(self) -> None:
        if self.stop_reason is None:  # runs stored before stop_reason existed say it through status
            self.stop_reason = STOP_REASONS.get(self.status)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict) -> "RunResult":
        """A result from its dict; TypeError or ValueError naming the field when it is not a result's shape
        (a stored file that parses as JSON but holds, say, ``"history": null`` must not be used)."""
        result = cls(**d)
        shapes = {"config": dict, "history": list, "status": str, "epochs_trained": int, "decay_epochs": list,
                  "extra": dict}
        for name, kind in shapes.items():
            value = getattr(result, name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise TypeError(f"run result field {name!r} is {type(value).__name__}, not {kind.__name__}")
        if not all(isinstance(rec, dict) for rec in result.history):
            raise TypeError("run result field 'history' must hold one dict per epoch")
        if result.status not in STOP_REASONS:
            raise ValueError(f"run result status {result.status!r} is not one of {sorted(STOP_REASONS)}")
        return result

    def series(self, key: str) -> list[float]:
        return [rec[key] for rec in self.history]

    def curve(self, key: str, first: int = 1, last: int | None = None) -> list[float]:
        """``key`` over epochs ``first..last`` (1-based, inclusive; ``last`` None = the run's end).

        A run that diverged before reaching those epochs has no such values: that is an outcome
        to analyse, so it raises :class:`RunDiverged` saying so, not an empty list."""
        if isinstance(first, bool) or not isinstance(first, int) or first < 1:   # 0 or -1 would slice from the end
            raise ValueError(f"first={first!r} must be an epoch number >= 1")
        end = self.epochs_trained if last is None else last
        values = self.series(key)[first - 1:end]
        if not values or end > len(self.history):
            if self.stop_reason == "diverged":
                raise RunDiverged(self, key, first, end)
            raise ValueError(f"run {RunConfig.from_dict(self.config).key()} has {len(self.history)} epochs; "
                             f"epochs {first}..{end} of {key!r} were asked for")
        return values

    def best(self, key: str, first: int = 1, last: int | None = None) -> float:
        """The highest ``key`` over epochs ``first..last`` (see :meth:`curve`)."""
        return max(self.curve(key, first, last))


def decays_in_effect(schedule, epochs_trained: int) -> list[int]:
    """The schedule's decays that took effect: a decay recorded as d lowers the rate from epoch index d on, so
    a run that ended first (at its budget, stopped, diverged) never trained at it (a plateau decided after the
    last epoch, a step milestone past a divergence)."""
    return [d for d in schedule.decay_epochs if d < epochs_trained]


class Trainer:
    def __init__(self, config: RunConfig, data: ArrayData, device: torch.device | None = None,
                 step_graph: bool | None = None):
        """``step_graph``: train each SGD step as one captured CUDA graph (lrsci.graphed); None = on CUDA
        when LRSCI_CUDA_GRAPHS=1. On a CPU it runs the same static-buffer step eagerly (for tests)."""
        self.config = config
        self.device = device or resolve_device(config.device)
        self.data = data if data.x_train.device == self.device else data.to(self.device)
        torch.manual_seed(config.seed)  # the init: same seed, same weights
        self.model = build_model(config.model, data.input_shape, data.num_classes).to(self.device)
        check_measures_fit(config.measures, self.model)   # now, not after the first epoch has trained
        self.channels_last = self.device.type == "cuda" and self.data.x_train.dim() == 4
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        o = config.optim
        # On CUDA the fused kernel: one launch for the whole update instead of a few per tensor group
        # (issue #13); on the CPU the default path, so CPU numbers stay what they were.
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=o.lr, momentum=o.momentum,
                                         nesterov=o.nesterov, weight_decay=o.weight_decay,
                                         fused=True if self.device.type == "cuda" else None)
        self.schedule = build_schedule(config.schedule, o.lr, config.epochs)
        self.graphed = self._wants_graph(step_graph)
        self._lr = torch.tensor(o.lr, device=self.device) if self.graphed else None  # the captured step reads it
        self._step_graph = None
        self.epoch = 0        # epochs completed
        self.step = 0         # optimizer steps taken
        self.history: list[dict] = []
        self.status = "running"
        self.diverged_at_step: int | None = None
        self.train_seconds = 0.0
        self.images = 0

    def _wants_graph(self, step_graph: bool | None) -> bool:
        wanted = step_graph if step_graph is not None else (
            self.device.type == "cuda" and switch_from_env("LRSCI_CUDA_GRAPHS"))
        why_not = graph_unsupported(self.config)
        if step_graph and why_not:
            raise ValueError(f"step_graph=True is not possible for this run: {why_not}")
        return bool(wanted) and why_not is None

    # --- one epoch -----------------------------------------------------------------
    def _autocast(self, cache: bool = True):
        if self.config.precision == "bf16" and self.device.type == "cuda":
            # cache_enabled=False under capture: autocast's cast-weight cache must not outlive one step
            return torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=cache)
        return nullcontext()

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def _order(self, epoch: int) -> torch.Tensor:
        # Data order depends only on (seed, epoch): forks and resumes see the same batches.
        g = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
        return torch.randperm(self.data.x_train.shape[0], generator=g).to(self.device)

    def _train_inputs(self, epoch: int) -> torch.Tensor:
        # A dataset that re-draws its inputs every epoch (Li et al.'s patch, lrsci.data.patch) offers
        # epoch_inputs(run seed, epoch); every other dataset trains on x_train exactly as before.
        draw = getattr(self.data, "epoch_inputs", None)
        return self.data.x_train if draw is None else draw(self.config.seed, epoch)

    def _diverged(self, loss: torch.Tensor) -> bool:
        value = float(loss.detach())
        return not math.isfinite(value) or value > self.config.diverge_loss

    def _eager_step(self, x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """One ordinary SGD step on the rows ``idx`` of ``x``; its mean batch loss."""
        with self._autocast():
            loss = F.cross_entropy(self.model(self._inputs(x[idx])), self.data.y_train[idx])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        return loss

    def _sgd_epoch(self, epoch: int) -> float | None:
        if self.graphed:
            return self._graphed_sgd_epoch(epoch)
        x, bs = self._train_inputs(epoch), self.config.optim.batch_size
        order = self._order(epoch)
        total, count, worst = torch.zeros((), device=self.device), 0, self._no_loss_yet()
        for start in range(0, order.numel(), bs):
            idx = order[start:start + bs]
            loss = self._eager_step(x, idx)
            total += loss.detach() * idx.numel()
            count += idx.numel()
            torch.maximum(worst, loss.detach(), out=worst)
            # Every batch's loss is seen (worst: the largest so far, NaN once one was NaN), but read on the host
            # only every CHECK_EVERY steps and at the epoch's end: a read syncs the GPU.
            if (self.step % CHECK_EVERY == 0 or start + bs >= order.numel()) and self._diverged(worst):
                return None
        return float(total) / count

    def _no_loss_yet(self) -> torch.Tensor:
        return torch.full((), -math.inf, device=self.device)

    def _graph_state(self, x: torch.Tensor) -> dict:
        """The captured step's static tensors and its StepGraph, made at the first graphed epoch."""
        bs = self.config.optim.batch_size
        st = {"x": x if getattr(self.data, "epoch_inputs", None) is None else x.clone(),
              "idx": torch.zeros(bs, dtype=torch.long, device=self.device),
              "total": torch.zeros((), device=self.device), "worst": self._no_loss_yet()}
        model, opt, y = self.model, self.optimizer, self.data.y_train

        def step(eager: bool) -> torch.Tensor:
            if eager:
                opt.zero_grad(set_to_none=True)
            with self._autocast(cache=False):
                loss = F.cross_entropy(model(self._inputs(st["x"][st["idx"]])), y[st["idx"]])
            loss.backward()
            opt.step()
            st["total"].add_(loss.detach() * bs)
            torch.maximum(st["worst"], loss.detach(), out=st["worst"])
            return loss
        st["graph"] = StepGraph(step, lambda: opt.zero_grad(set_to_none=True), self.device)
        return st

    def _graphed_sgd_epoch(self, epoch: int) -> float | None:
        """_sgd_epoch through one static step (lrsci.graphed); the same batches, the same arithmetic."""
        x, bs = self._train_inputs(epoch), self.config.optim.batch_size
        st = self._step_graph = self._step_graph or self._graph_state(x)
        if st["x"] is not x:
            st["x"].copy_(x)   # a dataset that redraws its inputs each epoch: into the static tensor
        order, total, worst = self._order(epoch), st["total"], st["worst"]
        total.zero_(), worst.fill_(-math.inf)
        n, full = order.numel(), order.numel() // bs * bs
        for start in range(0, full, bs):
            st["idx"].copy_(order[start:start + bs])
            st["graph"].run()
            self.step += 1
            if (self.step % CHECK_EVERY == 0 or start + bs >= n) and self._diverged(worst):
                return None
        if full < n:  # the last, smaller batch has another shape: the ordinary eager step
            idx = order[full:]
            loss = self._eager_step(st["x"], idx)
            total.add_(loss.detach() * idx.numel())
            torch.maximum(worst, loss.detach(), out=worst)
            if self._diverged(worst):
                return None
        return float(total) / n

    def _gd_epoch(self) -> float | None:
        x, y, chunk = self._train_inputs(self.epoch), self.data.y_train, self.config.optim.gd_chunk
        n = x.shape[0]
        self.optimizer.zero_grad(set_to_none=True)
        total = torch.zeros((), device=self.device)
        for start in range(0, n, chunk):
            with self._autocast():
                out = self.model(self._inputs(x[start:start + chunk]))
                loss = F.cross_entropy(out, y[start:start + chunk], reduction="sum") / n
            loss.backward()
            total += loss.detach()
        if self._diverged(total):
            return None
        self.optimizer.step()
        self.step += 1
        return float(total)

    def train_epoch(self) -> dict:
        """Train one epoch, evaluate, append and return its record."""
        e, cfg = self.epoch, self.config
        lr = self.schedule.lr_at(e)
        if self._lr is not None:
            self._lr.fill_(lr)   # the captured step reads the rate from this tensor
        for group in self.optimizer.param_groups:
            group["lr"] = lr if self._lr is None else self._lr
        set_activation_noise(self.model, cfg.model.act_noise_std * noise_scale_at(cfg.schedule, e))
        self.model.train()
        t0 = time.perf_counter()
        train_loss = self._gd_epoch() if cfg.optim.full_batch else self._sgd_epoch(e)
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        self.train_seconds += time.perf_counter() - t0
        self.images += self.data.x_train.shape[0]
        record = None if train_loss is None else {"epoch": e + 1, "lr": lr, "train_loss": train_loss, **self.evaluate()}
        if record is None or not finite_eval(record):
            self.status, self.diverged_at_step = "diverged", self.step
            return {}
        if cfg.measures:  # isolated: the run trains the same numbers with or without them
            record.update(take_measurements(self.model, self.data, cfg.measures, cfg.seed, e + 1))
        self.history.append(record)
        self.epoch += 1
        if self.schedule.observe(e, train_loss):
            self.status = "stopped"
        elif self.epoch >= cfg.epochs:
            self.status = "finished"
        return record

    # --- evaluation ----------------------------------------------------------------
    def _predict(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-example loss and correctness, in eval mode."""
        self.model.eval()

        def forward(xb):
            with self._autocast():
                return self.model(self._inputs(xb))
        return per_example(forward, x, y, EVAL_BATCH.get(self.device.type, 2048))

    def evaluate(self) -> dict:
        out = {}
        for split, x, y, subsets, whole in eval_splits(self.data, self.config.eval_train):
            out.update(split_metrics(split, *self._predict(x, y), subsets, whole))
        return out

    # --- whole run -----------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.status != "running"

    def run(self, until_epoch: int | None = None, on_epoch=None) -> None:
        """Train until the run ends or ``until_epoch`` epochs are complete."""
        stop = self.config.epochs if until_epoch is None else min(until_epoch, self.config.epochs)
        while not self.done and self.epoch < stop:
            record = self.train_epoch()
            if on_epoch is not None:
                on_epoch(self, record)

    def result(self) -> RunResult:
        return RunResult(config=self.config.to_dict(), history=list(self.history), status=self.status,
                         epochs_trained=self.epoch, decay_epochs=decays_in_effect(self.schedule, self.epoch),
                         diverged_at_step=self.diverged_at_step, device=str(self.device),
                         stop_reason=STOP_REASONS.get(self.status),
                         train_seconds=self.train_seconds, images=self.images,
                         extra={"step": self.step_kind} if self.graphed else {})

    @property
    def step_kind(self) -> str:
        """How the SGD steps ran: "eager", or through the static step ("cuda graph" once captured)."""
        return step_kind(self.graphed, self._step_graph)

    # --- checkpoints -----------------------------------------------------------------
    def state_dict(self) -> dict:
        rng = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {"config": self.config.to_dict(), "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict(),
                "epoch": self.epoch, "step": self.step, "history": list(self.history),
                "status": self.status, "diverged_at_step": self.diverged_at_step,
                "train_seconds": self.train_seconds, "images": self.images, "rng": rng}

    def load_state_dict(self, state: dict, *, schedule: bool = True) -> None:
        """Restore a checkpoint; ``schedule=False`` keeps this run's own schedule (a fork)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        # load_state_dict takes every group key from the saved state, `fused` and `foreach` too: a CPU or
        # batched checkpoint would switch a CUDA run off the fused kernel (other rounding, and its foreach
        # path reads a tensor rate on the host, which a capture forbids). This run's own choice stands.
        for group in self.optimizer.param_groups:
            group.update({k: self.optimizer.defaults[k] for k in ("fused", "foreach")})
        self._step_graph = None   # new momentum buffers: a captured step would update the old ones
        if schedule:
            self.schedule.load_state_dict(state["schedule"])
        for key in ("epoch", "step", "status", "diverged_at_step", "train_seconds", "images"):
            setattr(self, key, state[key])
        self.history = list(state["history"])
        # map_location may have moved the RNG states onto the GPU; they must be CPU byte tensors.
        torch.set_rng_state(state["rng"]["cpu"].cpu())
        if "cuda" in state["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng"]["cuda"].cpu(), self.device)

"""Several runs of one architecture trained at once, as one batched model (#13, first part).

At batch 128 a WideResNet-16-4 leaves most of a modern GPU idle: the step is bound by kernel
launches and Python, not arithmetic. :class:`BatchedTrainer` trains K runs that share a model
architecture, dataset, batch size and precision as ONE computation: their parameters and
BatchNorm buffers are stacked (``torch.func.stack_module_state``) and every layer runs once for all
K runs (``torch.func.vmap`` over ``functional_call``), so each kernel launch does K runs' work.

Each run keeps what makes it a run of its own:

* its init — each model is built under ``torch.manual_seed(seed)`` exactly as :class:`~lrsci.train.Trainer`
  builds it, then stacked;
* its data order — the Trainer's permutation for (seed, epoch), and its own per-epoch inputs for
  datasets that re-draw them (Li et al.'s patch);
* its LR schedule (any lrsci schedule, AutoDecay included: a run its rule stops is frozen);
* its BatchNorm statistics (per run, over its own batch) and its momentum buffers;
* its divergence: a run whose loss is non-finite or above ``diverge_loss`` is frozen at that step
  (learning rate 0; nothing of it reaches the other runs — their gradients do not depend on it)
  and ends "diverged", as the Trainer's would.

The maths per run is the Trainer's (plain SGD with momentum, Nesterov and weight decay as
``torch.optim.SGD`` computes them), but batched kernels round differently from unbatched ones: a
run trained here starts within float rounding of the same run trained alone (6e-8 in its weights
after one step) and, like any rounding difference, that gap grows with training. At a small rate
it stays small for epochs (tests/test_batched.py states the tolerance); at a large one training is
chaotic and it grows exponentially — sgd-post-decay-boost's fast profile (lr 0.3, momentum 0.9):
1e-6 after 5 steps, 2.5e-5 after 20, 0.36 after one epoch of 78 — as it does between two CPUs with
different vector units. There a batched run is a statistically equivalent run, not the same
trajectory; its store folders are kept apart for that reason. Not yet supported, with a clear error: full-batch
GD, activation noise and dropout (their random draws under vmap), per-epoch measurements. A batch can start from
its runs' parents' snapshots (forks at one epoch) and leaves Trainer-format snapshots of its own
(:meth:`BatchedTrainer.run_state`). The run store takes batched runs through ``--executor batched``
(lrsci.executors: own store folders, a checkpoint per batch); the committed reports come
from the Trainer, and switching a claim changes its numbers within that tolerance.

On CUDA the whole batched step can be captured as one CUDA graph and replayed (``step_graph=True`` or
``LRSCI_BATCHED_CUDA_GRAPHS=1``; lrsci.graphed): the batch index, per-run inputs and per-run learning
rates live in static tensors, so a replay does K runs' step with one launch. On a CPU the same static
step runs eagerly and gives the eager batch's numbers exactly (tests/test_batched.py).
"""
from __future__ import annotations

import copy
import math
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from .config import RunConfig
from .data.base import ArrayData
from .graphed import StepGraph, graph_unsupported, step_kind
from .models import build_model
from .schedules import build_schedule
from .switches import switch_from_env
from .train import (CHECK_EVERY, EVAL_BATCH, STOP_REASONS, RunResult, decays_in_effect, eval_splits, finite_eval,
                    resolve_device, split_metrics)

# Fields every run of one batch must share (they fix the computation's shape and kind).
SHARED = ("model", "data", "precision", "eval_train", "diverge_loss", "device")
SHARED_OPTIM = ("batch_size", "momentum", "nesterov", "weight_decay")


def check_batchable(configs: list[RunConfig]) -> None:
    """Raise ValueError naming the first field that keeps these runs from training as one batch."""
    if not configs:
        raise ValueError("BatchedTrainer needs at least one run config")
    first = configs[0]
    for i, c in enumerate(configs[1:], 1):
        for f in SHARED:
            if getattr(c, f) != getattr(first, f):
                raise ValueError(f"run {i} differs from run 0 in {f!r}: runs trained as one batch must share "
                                 f"{', '.join(SHARED)} and optim.{', optim.'.join(SHARED_OPTIM)}")
        for f in SHARED_OPTIM:
            if getattr(c.optim, f) != getattr(first.optim, f):
                raise ValueError(f"run {i} differs from run 0 in 'optim.{f}': runs trained as one batch must "
                                 f"share optim.{', optim.'.join(SHARED_OPTIM)}")
    for c in configs:
        if c.optim.full_batch:
            raise ValueError("BatchedTrainer trains mini-batch SGD only (optim.batch_size=None is full-batch GD)")
        if c.model.act_noise_std:
            raise ValueError("BatchedTrainer does not train activation noise yet (model.act_noise_std > 0)")
        if c.measures:
            raise ValueError("BatchedTrainer does not take per-epoch measurements yet (config.measures)")
        if c.model.dropout:   # vmap would refuse its random draws deep inside the first step
            raise ValueError("BatchedTrainer does not train dropout yet (model.dropout > 0)")


def _float_input(module, args):
    x = args[0]
    return (x.float(), *args[1:]) if x.is_floating_point() and x.dtype != torch.float32 else None


def batchnorm_in_float32(model: torch.nn.Module) -> None:
    """Give every BatchNorm layer of ``model`` its input in float32 (a forward pre-hook).

    Under CUDA bf16 autocast a BatchNorm's input is bf16 while its running statistics are float32;
    eager cuDNN accepts the mix, but vmap's batch rule for batch norm does not (its backward fails:
    "Expected running_mean to have type BFloat16 but got Float", seen on an H200). Upcasting bf16 is
    exact and the next convolution rounds to bf16 again, so the values are those of the run alone up to
    the order of the normalisation's own float32 arithmetic."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.register_forward_pre_hook(_float_input)


class BatchedTrainer:
    """Train K runs at once; :meth:`results` gives one :class:`~lrsci.train.RunResult` per run."""

    def __init__(self, configs: list[RunConfig], data: ArrayData, device: torch.device | None = None,
                 starts: list[dict] | None = None, step_graph: bool | None = None):
        """``starts``: per run, a Trainer state (a parent's snapshot) to continue from — a batch of forks.
        Every start must be at the same epoch; each run keeps its own schedule (as a Trainer fork does).
        ``step_graph``: train each batched step as one captured CUDA graph (lrsci.graphed); None = on CUDA
        when LRSCI_BATCHED_CUDA_GRAPHS=1. On a CPU it runs the same static-buffer step eagerly (for tests)."""
        check_batchable(configs)
        self.configs, self.k = list(configs), len(configs)
        first = self.configs[0]
        self.device = device or resolve_device(first.device)
        self.data = data if data.x_train.device == self.device else data.to(self.device)
        models = []
        for c in self.configs:
            torch.manual_seed(c.seed)  # each run's init, exactly as the Trainer draws it
            models.append(build_model(c.model, data.input_shape, data.num_classes).to(self.device))
        if starts is not None:
            for m, st in zip(models, starts):
                m.load_state_dict(st["model"])
        # No channels_last here (the Trainer uses it on CUDA): its layout under vmap is untested; a
        # measured speed-up on a GPU should decide it.
        self.params, self.buffers = stack_module_state(models)
        self.base = copy.deepcopy(models[0]).to("meta")  # the architecture; its tensors are never used
        batchnorm_in_float32(self.base)
        self.momentum_buffers: dict[str, torch.Tensor] = {}
        self.schedules = [build_schedule(c.schedule, c.optim.lr, c.epochs) for c in self.configs]
        self.epoch, self.step = 0, 0
        self.status = ["running"] * self.k
        self.diverged_at_step: list[int | None] = [None] * self.k
        self.histories: list[list[dict]] = [[] for _ in range(self.k)]
        self.train_seconds, self.images = 0.0, [0] * self.k   # the batch's training seconds, all runs together
        self.run_seconds = [0.0] * self.k      # each run's share: the batch's seconds while it was running
        self.seconds_before = [0.0] * self.k   # a fork's parent's training time (the Trainer counts it)
        if starts is not None:
            self._start_from(starts, [name for name, _ in models[0].named_parameters()])
        self._frozen: dict[int, dict[str, torch.Tensor]] = {}   # ended runs' state (see _freeze)
        self._rows = torch.arange(self.k, device=self.device)[:, None]   # run i's row in [K, ...] gathers
        self.graphed = self._wants_graph(step_graph)
        self._graph: dict | None = None   # the captured step's static tensors, made at the first graphed epoch

    def _wants_graph(self, step_graph: bool | None) -> bool:
        wanted = step_graph if step_graph is not None else (
            self.device.type == "cuda" and switch_from_env("LRSCI_BATCHED_CUDA_GRAPHS"))
        why_not = graph_unsupported(self.configs[0])   # check_batchable already refuses what it would name
        if step_graph and why_not:
            raise ValueError(f"step_graph=True is not possible for these runs: {why_not}")
        return bool(wanted) and why_not is None

    def _start_from(self, starts: list[dict], names: list[str]) -> None:
        epochs = {st["epoch"] for st in starts}
        if len(epochs) != 1 or len({st["step"] for st in starts}) != 1:
            raise ValueError(f"a batch of forks must start at one epoch and step, got epochs {sorted(epochs)}")
        self.epoch, self.step = starts[0]["epoch"], starts[0]["step"]
        self.histories = [list(st["history"]) for st in starts]
        self.images = [st["images"] for st in starts]
        self.seconds_before = [st["train_seconds"] for st in starts]
        states = [st["optimizer"]["state"] for st in starts]
        if all(states):  # momentum buffers, by parameter index as torch.optim.SGD keeps them
            self.momentum_buffers = {name: torch.stack([s[j]["momentum_buffer"].to(self.device) for s in states])
                                     for j, name in enumerate(names)}
    # --- the batched model ---------------------------------------------------------------
    def _autocast(self, cache: bool = True):
        enabled = self.configs[0].precision == "bf16" and self.device.type == "cuda"
        # cache_enabled=False under capture: autocast's cast-weight cache must not outlive one step
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=enabled, cache_enabled=cache)

    def forward(self, x: torch.Tensor, per_run_inputs: bool) -> torch.Tensor:
        """Logits [K, B, classes]; ``x`` is [K, B, ...] (each run its own batch) or [B, ...] (shared)."""
        def one(params, buffers, xb):
            return functional_call(self.base, (params, buffers), (xb,))
        return vmap(one, in_dims=(0, 0, 0 if per_run_inputs else None))(self.params, self.buffers, x)

    # --- one epoch -------------------------------------------------------------------------
    def _step_lrs(self, epoch: int) -> torch.Tensor:
        """Each run's learning rate this epoch, 0 for a run that is not running (frozen). Built on the host
        and moved once, at the epoch's start and when a run diverges — never once per step."""
        return torch.tensor([s.lr_at(epoch) if st == "running" else 0.0 for s, st in zip(self.schedules, self.status)],
                            device=self.device)

    def _orders(self, epoch: int) -> torch.Tensor:
        n = self.data.x_train.shape[0]
        return torch.stack([torch.randperm(n, generator=torch.Generator().manual_seed(c.seed * 1_000_003 + epoch))
                            for c in self.configs]).to(self.device)   # the Trainer's order for (seed, epoch)

    def _train_inputs(self, epoch: int) -> torch.Tensor | None:
        draw = getattr(self.data, "epoch_inputs", None)   # per-run, per-epoch inputs (the patch data)
        return None if draw is None else torch.stack([draw(c.seed, epoch) for c in self.configs])

    @torch.no_grad()
    def _sgd_update(self, lr: torch.Tensor) -> None:
        """torch.optim.SGD's update (dampening 0) for every run at once, each at its own learning rate."""
        o = self.configs[0].optim
        for name, p in self.params.items():
            g = p.grad
            if o.weight_decay:
                g = g.add(p, alpha=o.weight_decay)
            if o.momentum:
                buf = self.momentum_buffers.get(name)
                if buf is None:
                    buf = self.momentum_buffers[name] = g.clone()
                else:
                    buf.mul_(o.momentum).add_(g)
                g = g.add(buf, alpha=o.momentum) if o.nesterov else buf
            p.sub_(lr.view(-1, *[1] * (p.dim() - 1)).to(p.dtype) * g)
            p.grad = None

    def _check_divergence(self, losses: torch.Tensor) -> bool:
        """Freeze every running run whose loss diverged; True if one did."""
        limit, changed = self.configs[0].diverge_loss, False
        for i, v in enumerate(losses.tolist()):
            if self.status[i] == "running" and (not math.isfinite(v) or v > limit):
                self.status[i], self.diverged_at_step[i], changed = "diverged", self.step, True
                self._freeze(i)
        return changed

    # A run that has ended (diverged, stopped by its rule, or at its budget) still goes through the batch's
    # forward and update with learning rate 0: its weights stay, but its BatchNorm running statistics and
    # momentum would drift on. Its state at its end is kept and put back after every epoch, so what it
    # leaves (evaluation, snapshots, checkpoints) is what the same run alone leaves when it stops.
    def _state_tensors(self) -> dict[str, torch.Tensor]:
        return {**{f"param {n}": t for n, t in self.params.items()}, **{f"buffer {n}": t for n, t in self.buffers.items()},
                **{f"momentum {n}": t for n, t in self.momentum_buffers.items()}}

    @torch.no_grad()
    def _freeze(self, i: int) -> None:
        self._frozen[i] = {name: t[i].clone() for name, t in self._state_tensors().items()}

    @torch.no_grad()
    def _restore_frozen(self) -> None:
        tensors = self._state_tensors()
        for i, saved in self._frozen.items():
            for name, t in saved.items():
                tensors[name][i].copy_(t)

    def _batch_step(self, x_runs: torch.Tensor | None, idx: torch.Tensor, lrs: torch.Tensor,
                    cache: bool = True) -> torch.Tensor:
        """One SGD step of every run on its rows ``idx`` [K, b] (of x_train, or of its own ``x_runs``); each
        run's mean batch loss [K]."""
        y, rows = self.data.y_train, self._rows
        xb = self.data.x_train[idx] if x_runs is None else x_runs[rows, idx]   # [K, b, ...]
        with self._autocast(cache):
            logits = self.forward(xb, per_run_inputs=True)
        losses = F.cross_entropy(logits.float().flatten(0, 1), y[idx].flatten(), reduction="none")
        losses = losses.view(self.k, -1).mean(1)                            # each run's mean batch loss
        losses.sum().backward()       # run k's gradient is that of its own loss alone
        self._sgd_update(lrs)
        return losses

    def _after_step(self, worst: torch.Tensor, last: bool, lrs: torch.Tensor, epoch: int) -> None:
        """Count the step; every CHECK_EVERY steps and at the epoch's end, freeze the runs whose largest batch
        loss so far (``worst``, kept on the device) diverged: a read on the host syncs the GPU, as the Trainer's."""
        self.step += 1
        if (self.step % CHECK_EVERY == 0 or last) and self._check_divergence(worst):
            lrs.copy_(self._step_lrs(epoch))   # in place: a captured step reads this tensor

    def _no_loss_yet(self) -> torch.Tensor:
        return torch.full((self.k,), -math.inf, device=self.device)

    def _train_epoch(self, epoch: int) -> torch.Tensor:
        if self.graphed:
            return self._graphed_train_epoch(epoch)
        x_runs, orders = self._train_inputs(epoch), self._orders(epoch)
        bs, n = self.configs[0].optim.batch_size, self.data.y_train.shape[0]
        lrs = self._step_lrs(epoch)
        total, worst = torch.zeros(self.k, device=self.device), self._no_loss_yet()
        for start in range(0, n, bs):
            idx = orders[:, start:start + bs]
            losses = self._batch_step(x_runs, idx, lrs)
            total += losses.detach() * idx.shape[1]
            torch.maximum(worst, losses.detach(), out=worst)
            self._after_step(worst, start + bs >= n, lrs, epoch)
        return total / n

    def _graph_state(self, x_runs: torch.Tensor | None) -> dict:
        """The captured step's static tensors (batch index, per-run inputs, learning rates, loss sums)."""
        bs = self.configs[0].optim.batch_size
        st = {"idx": torch.zeros(self.k, bs, dtype=torch.long, device=self.device),
              "x_runs": None if x_runs is None else x_runs.clone(),
              "lrs": torch.zeros(self.k, device=self.device), "total": torch.zeros(self.k, device=self.device),
              "worst": self._no_loss_yet()}

        def step(eager: bool) -> torch.Tensor:   # the gradients are None here: _sgd_update clears them
            losses = self._batch_step(st["x_runs"], st["idx"], st["lrs"], cache=False)
            st["total"].add_(losses.detach() * bs)
            torch.maximum(st["worst"], losses.detach(), out=st["worst"])
            return losses

        def clear() -> None:
            for p in self.params.values():
                p.grad = None
        st["graph"] = StepGraph(step, clear, self.device)
        return st

    def _graphed_train_epoch(self, epoch: int) -> torch.Tensor:
        """_train_epoch through one static step (lrsci.graphed): the same batches, the same arithmetic."""
        x_runs, bs, n = self._train_inputs(epoch), self.configs[0].optim.batch_size, self.data.y_train.shape[0]
        st = self._graph = self._graph or self._graph_state(x_runs)
        if x_runs is not None:
            st["x_runs"].copy_(x_runs)   # this epoch's per-run inputs, into the static tensor
        orders, total, lrs, worst = self._orders(epoch), st["total"], st["lrs"], st["worst"]
        total.zero_(), worst.fill_(-math.inf)
        lrs.copy_(self._step_lrs(epoch))
        full = n // bs * bs
        for start in range(0, full, bs):
            st["idx"].copy_(orders[:, start:start + bs])
            st["graph"].run()
            self._after_step(worst, start + bs >= n, lrs, epoch)
        if full < n:  # the last, smaller batch has another shape: the ordinary eager step
            losses = self._batch_step(st["x_runs"], orders[:, full:], lrs)
            total.add_(losses.detach() * (n - full))
            torch.maximum(worst, losses.detach(), out=worst)
            self._after_step(worst, True, lrs, epoch)
        return total / n

    def train_epoch(self) -> list[dict | None]:
        """One epoch of every running run; per run its new record (None where it is not running)."""
        e, running = self.epoch, [s == "running" for s in self.status]
        t0 = time.perf_counter()
        train_loss = self._train_epoch(e)
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        self.train_seconds += seconds
        self.run_seconds = [t + seconds if r else t for t, r in zip(self.run_seconds, running)]   # an ended run's stop
        self._restore_frozen()
        evals = self.evaluate()
        for i, ev in enumerate(evals):   # a run blown up by the epoch's last update diverged there, as alone
            if self.status[i] == "running" and not finite_eval(ev):
                self.status[i], self.diverged_at_step[i] = "diverged", self.step
                self._freeze(i)
        records: list[dict | None] = []
        for i, c in enumerate(self.configs):
            if running[i]:   # as Trainer, the epoch a run diverged in counts: its images went through the step
                self.images[i] += self.data.x_train.shape[0]
            if not running[i] or self.status[i] != "running":   # not training, or diverged this epoch
                records.append(None)
                continue
            record = {"epoch": e + 1, "lr": self.schedules[i].lr_at(e), "train_loss": float(train_loss[i]), **evals[i]}
            self.histories[i].append(record)
            records.append(record)
            if self.schedules[i].observe(e, record["train_loss"]):
                self.status[i] = "stopped"
            elif e + 1 >= c.epochs:
                self.status[i] = "finished"
            if self.status[i] != "running":
                self._freeze(i)
        self.epoch += 1
        return records

    # --- evaluation --------------------------------------------------------------------------
    @torch.no_grad()
    def _predict(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per run, per-example loss and correctness [K, N], in eval mode."""
        self.base.eval()
        # The K runs' activations are held at once: the evaluation budget is images × runs (K = 15 WideResNets
        # on 8192 images each would need tens of GB), so each chunk is a K-th of one run's.
        bs = max(1, EVAL_BATCH.get(self.device.type, 2048) // self.k)
        losses, correct = [], []
        for start in range(0, x.shape[0], bs):
            with self._autocast():
                out = self.forward(x[start:start + bs], per_run_inputs=False).float()
            yy = y[start:start + bs].expand(self.k, -1)
            losses.append(F.cross_entropy(out.flatten(0, 1), yy.flatten(), reduction="none").view(self.k, -1))
            correct.append(out.argmax(2) == yy)
        self.base.train()
        return torch.cat(losses, 1), torch.cat(correct, 1)

    def evaluate(self) -> list[dict]:
        out = [{} for _ in range(self.k)]
        for split, x, y, subsets, whole in eval_splits(self.data, self.configs[0].eval_train):
            loss, correct = self._predict(x, y)
            for i in range(self.k):
                out[i].update(split_metrics(split, loss[i], correct[i], subsets, whole))
        return out

    # --- whole runs ----------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return all(s != "running" for s in self.status)

    def run(self) -> None:
        while not self.done:
            self.train_epoch()

    # --- checkpoints: the whole batch, so an interrupted batch resumes where it stopped ---------------
    _STATE = ("epoch", "step", "status", "diverged_at_step", "histories", "train_seconds", "run_seconds", "images",
              "seconds_before")

    def state_dict(self) -> dict:
        """Everything training reads from here on (no RNG: data orders are seeded, nothing random draws)."""
        return {"keys": [c.key() for c in self.configs],
                "params": {n: t.detach().clone() for n, t in self.params.items()},
                "buffers": {n: t.clone() for n, t in self.buffers.items()},
                "momentum": {n: t.clone() for n, t in self.momentum_buffers.items()},
                "schedules": [s.state_dict() for s in self.schedules],
                **{k: copy.deepcopy(getattr(self, k)) for k in self._STATE}}

    def load_state_dict(self, state: dict) -> None:
        if state["keys"] != [c.key() for c in self.configs]:
            raise ValueError("this checkpoint belongs to another batch of runs")
        with torch.no_grad():
            for name, t in self.params.items():
                t.copy_(state["params"][name])
            for name, t in self.buffers.items():
                t.copy_(state["buffers"][name])
        self.momentum_buffers = {n: t.to(self.device) for n, t in state["momentum"].items()}
        self._graph = None   # a captured step holds the old momentum buffers' addresses: capture anew
        for s, st in zip(self.schedules, state["schedules"]):
            s.load_state_dict(st)
        # a checkpoint from before run_seconds was kept: every run had the batch's seconds then
        state = {"run_seconds": [state["train_seconds"]] * self.k, **state}
        for k in self._STATE:
            setattr(self, k, copy.deepcopy(state[k]))
        self._frozen = {}
        for i, status in enumerate(self.status):   # a checkpoint holds each ended run as it ended (see _freeze)
            if status != "running":
                self._freeze(i)

    def run_state(self, i: int) -> dict:
        """Run i as a Trainer checkpoint (what a Trainer's state_dict holds), so a Trainer or a batch can fork from it."""
        c = self.configs[i]
        model = build_model(c.model, self.data.input_shape, self.data.num_classes).to(self.device)
        model.load_state_dict(self.model_state(i))
        o = c.optim
        opt = torch.optim.SGD(model.parameters(), lr=self.schedules[i].lr_at(max(self.epoch - 1, 0)),
                              momentum=o.momentum, nesterov=o.nesterov, weight_decay=o.weight_decay)
        for name, p in model.named_parameters():
            if name in self.momentum_buffers:
                opt.state[p]["momentum_buffer"] = self.momentum_buffers[name][i].detach().clone()
        return {"config": c.to_dict(), "model": model.state_dict(), "optimizer": opt.state_dict(),
                "schedule": self.schedules[i].state_dict(), "epoch": self.epoch, "step": self.step,
                "history": list(self.histories[i]), "status": self.status[i],
                "diverged_at_step": self.diverged_at_step[i], "train_seconds": self.seconds_before[i] + self.run_seconds[i],
                "images": self.images[i], "rng": {"cpu": torch.get_rng_state()}}

    def model_state(self, i: int) -> dict:
        """Run i's model state dict, as the Trainer's model would have it."""
        return {name: t[i].detach().clone() for name, t in {**self.params, **self.buffers}.items()}

    def results(self) -> list[RunResult]:
        return [RunResult(config=c.to_dict(), history=list(self.histories[i]), status=self.status[i],
                          epochs_trained=len(self.histories[i]),
                          decay_epochs=decays_in_effect(self.schedules[i], len(self.histories[i])),
                          diverged_at_step=self.diverged_at_step[i], device=str(self.device),
                          stop_reason=STOP_REASONS.get(self.status[i]),
                          train_seconds=self.seconds_before[i] + self.run_seconds[i], images=self.images[i],
                          extra={"trained_in_batch_of": self.k, **({"step": self.step_kind} if self.graphed else {})})
                for i, c in enumerate(self.configs)]

    @property
    def step_kind(self) -> str:
        """How the batched steps ran: "eager", "static step, eager" (a CPU) or "cuda graph"."""
        return step_kind(self.graphed, self._graph)

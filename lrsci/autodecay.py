"""AutoDecay: decay the learning rate when the smoothed training loss plateaus.

You, Long, Wang, Jordan (2019), Appendix A.1 and Fig. 12. Two layers:

* :class:`AutoDecayRule` — the decision procedure alone (no torch). Feed it one
  observed loss ℓ̂(t) per call (per epoch, or every k steps); it answers
  ``"continue"``, ``"decay"`` or ``"stop"``.
* :class:`AutoDecay` — a drop-in PyTorch scheduler, used like
  ``torch.optim.lr_scheduler.ReduceLROnPlateau``: ``scheduler.step(loss)``.

The procedure (one *stage* = the run of observations between two decays):

1. ĝ(t) is the bias-corrected EDMA (:class:`lrsci.edma.EDMA`) of the losses observed
   in the current stage; t counts observations in the stage and restarts at a decay.
2. G = the last W values of ĝ *of the current stage*. The loss is **stable** when
   the stage holds at least W values and ``(max G − min G) / (min G + ε) < tolerance``.
   So a decision (decay or stop on a plateau) can never come before the W-th
   observation of a stage.
3. When stable and ``(ĝ(t) + ε) / (ĝ(0) + ε) ≤ ζ`` (a **significant drop**): *decay* —
   the LR scale is multiplied by ``factor``, the stage counter and the EDMA restart.
   When stable and there is no significant drop: *stop*.
4. After the ``max_steps``-th observation: *stop* (the budget is spent; this takes
   precedence over a decay due on that same observation).

Definition of ĝ(0) (the paper leaves it implicit): the value a stage started from.

* First stage: ĝ(0) = ℓ̂(1), the first observed loss (which is also ĝ(1)).
* Later stages: ĝ(0) = the EDMA value ĝ at the end of the previous stage, i.e. the
  plateau value that triggered the decay that opened this stage.

So "significant drop" measures what the current stage achieved from where it started.
A consequence to know: the smoothed value that ends a stage still lags above the loss then
(with β = 0.9 the EDMA trails a falling loss), and the next stage's EDMA restarts without
that lag, so a stage whose loss barely moves can still read as a significant drop against
it. On autodecay-matches-stepdecay's fast runs this decided the third decay on 4 of 5 seeds:
with ĝ(0) = the last loss before the decay (a lag-free reading) those seeds would have
stopped at that point instead. The paper's text does not settle which it meant.

Other conventions: a non-finite loss (NaN, ±inf) answers ``"stop"`` and ends the run
(the EDMA is not updated). A negative loss raises ``ValueError`` (both criteria are
relative and assume losses ≥ 0, as for cross-entropy and squared error); the state is
not changed. Once stopped, every further ``observe`` answers ``"stop"`` and changes
nothing. Observations are numbered 1, 2, … (the paper's t ∈ {1, 2, 3, …}) over the
whole run; ``decay_steps`` holds the numbers of the observations that triggered decays.
"""
from __future__ import annotations

import math
from collections import deque
from numbers import Integral, Real
from typing import Any

from lrsci.edma import EDMA

__all__ = ["AutoDecayRule", "AutoDecay", "CONTINUE", "DECAY", "STOP"]

CONTINUE = "continue"
DECAY = "decay"
STOP = "stop"

STOP_NON_FINITE = "non-finite loss"
STOP_NO_DROP = "stable without significant drop"
STOP_BUDGET = "max_steps reached"

_STATE_VERSION = 1


def _is_real(x: Any) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(float(x))


def _is_int(x: Any) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool)   # numpy integers too


def _validate(beta: Any, window: Any, tolerance: Any, zeta: Any, factor: Any, eps: Any,
              max_steps: Any, max_steps_name: str = "max_steps") -> dict[str, Any]:
    """Check every hyperparameter; return them normalised. One ValueError per bad value."""
    if not (_is_real(beta) and 0.0 < float(beta) < 1.0):
        raise ValueError(f"beta={beta!r} is not allowed: the EDMA decay factor must be in (0, 1)")
    if not (_is_int(window) and window >= 2):
        raise ValueError(f"window={window!r} is not allowed: the stability window W must be an "
                         f"integer >= 2")
    if not (_is_real(tolerance) and float(tolerance) > 0.0):
        raise ValueError(f"tolerance={tolerance!r} is not allowed: the stability tolerance must "
                         f"be a finite number > 0")
    if not (_is_real(zeta) and 0.0 < float(zeta) < 1.0):
        raise ValueError(f"zeta={zeta!r} is not allowed: the significant-drop ratio must be in "
                         f"(0, 1)")
    if not (_is_real(factor) and 0.0 < float(factor) < 1.0):
        raise ValueError(f"factor={factor!r} is not allowed: the LR decay factor must be in "
                         f"(0, 1)")
    if not (_is_real(eps) and float(eps) >= 0.0):
        raise ValueError(f"eps={eps!r} is not allowed: eps must be a finite number >= 0")
    if max_steps is not None and not (_is_int(max_steps) and max_steps >= 1):
        raise ValueError(f"{max_steps_name}={max_steps!r} is not allowed: it must be None "
                         f"(no budget) or an integer >= 1")
    return {
        "beta": float(beta), "window": int(window), "tolerance": float(tolerance),
        "zeta": float(zeta), "factor": float(factor), "eps": float(eps),
        "max_steps": None if max_steps is None else int(max_steps),
    }


class AutoDecayRule:
    """The AutoDecay decision procedure (Fig. 12), free of any optimizer.

    Parameters (defaults in brackets):

    * ``beta`` [0.9] — EDMA decay factor β ∈ (0, 1).
    * ``window`` [5] — W, number of ĝ values (of the current stage) the stability test
      looks at; integer ≥ 2.
    * ``tolerance`` [0.05] — η, stable when (max G − min G)/(min G + ε) < η; > 0.
    * ``zeta`` [0.9] — ζ ∈ (0, 1), significant drop when (ĝ(t)+ε)/(ĝ(0)+ε) ≤ ζ.
    * ``factor`` [0.1] — LR multiplier per decay, in (0, 1).
    * ``eps`` [1e-8] — ε ≥ 0 guarding the divisions.
    * ``max_steps`` [None] — total observation budget (≥ 1); None for no budget.

    ``observe(loss)`` returns ``"continue"``, ``"decay"`` or ``"stop"``. ĝ(0) is defined in
    the module docstring: the first loss for the first stage, the plateau EDMA value that
    triggered the decay for a later stage. State is O(W) (plus one index per decay).
    """

    def __init__(self, beta: float = 0.9, window: int = 5, tolerance: float = 0.05,
                 zeta: float = 0.9, factor: float = 0.1, eps: float = 1e-8,
                 max_steps: int | None = None):
        self._set_hparams(_validate(beta, window, tolerance, zeta, factor, eps, max_steps))
        self._edma = EDMA(self.beta)
        self._g_window: deque[float] = deque(maxlen=self.window)
        self._g0: float | None = None
        self._num_observations = 0
        self._decay_steps: list[int] = []
        self._stopped = False
        self._stop_reason: str | None = None
        self._last_action: str | None = None

    def _set_hparams(self, hp: dict[str, Any]) -> None:
        self.beta = hp["beta"]
        self.window = hp["window"]
        self.tolerance = hp["tolerance"]
        self.zeta = hp["zeta"]
        self.factor = hp["factor"]
        self.eps = hp["eps"]
        self.max_steps = hp["max_steps"]

    # ------------------------------------------------------------------ read-only state
    @property
    def lr_scale(self) -> float:
        """factor ** (number of decays so far): what the initial LR has been multiplied by."""
        return self.factor ** len(self._decay_steps)

    @property
    def num_decays(self) -> int:
        return len(self._decay_steps)

    @property
    def decay_steps(self) -> list[int]:
        """Observation numbers (1-based, over the whole run) at which a decay was answered."""
        return list(self._decay_steps)

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def stop_reason(self) -> str | None:
        """None while running; else "non-finite loss", "stable without significant drop"
        or "max_steps reached"."""
        return self._stop_reason

    @property
    def num_observations(self) -> int:
        """Losses accepted so far (observations after a stop are not counted)."""
        return self._num_observations

    @property
    def stage_steps(self) -> int:
        """t of the current stage: observations since the last decay (or the start)."""
        return self._edma.t

    @property
    def stage_start(self) -> float | None:
        """ĝ(0) of the current stage (None before the first observation)."""
        return self._g0

    @property
    def smoothed(self) -> float | None:
        """ĝ(t) of the current stage (None at t = 0)."""
        return self._edma.value

    @property
    def last_action(self) -> str | None:
        return self._last_action

    # ------------------------------------------------------------------ criteria
    def _is_stable(self) -> bool:
        if len(self._g_window) < self.window:
            return False
        lo, hi = min(self._g_window), max(self._g_window)
        spread, denom = hi - lo, lo + self.eps
        if denom <= 0.0:          # only reachable with eps = 0 and a zero loss
            return spread == 0.0
        return spread / denom < self.tolerance

    def _dropped_significantly(self, g: float) -> bool:
        assert self._g0 is not None
        num, denom = g + self.eps, self._g0 + self.eps
        if denom <= 0.0:          # started from zero loss (eps = 0): nothing left to drop
            return False
        return num / denom <= self.zeta

    # ------------------------------------------------------------------ the procedure
    def observe(self, loss: float) -> str:
        """Take the next observed loss ℓ̂; return "continue", "decay" or "stop"."""
        if self._stopped:
            return STOP
        x = float(loss)
        if math.isfinite(x) and x < 0.0:
            raise ValueError(f"loss={x!r} is not allowed: AutoDecay's relative criteria "
                             f"need losses >= 0")
        self._num_observations += 1
        if not math.isfinite(x):
            return self._stop(STOP_NON_FINITE)
        g = self._edma.update(x)
        if self._g0 is None:      # very first observation of the run: ĝ(0) = ℓ̂(1)
            self._g0 = x
        self._g_window.append(g)
        if self.max_steps is not None and self._num_observations >= self.max_steps:
            return self._stop(STOP_BUDGET)
        if not self._is_stable():
            self._last_action = CONTINUE
            return CONTINUE
        if not self._dropped_significantly(g):
            return self._stop(STOP_NO_DROP)
        # decay: the next stage starts from this plateau value
        self._decay_steps.append(self._num_observations)
        self._g0 = g
        self._edma.reset()
        self._g_window.clear()
        self._last_action = DECAY
        return DECAY

    def _stop(self, reason: str) -> str:
        self._stopped = True
        self._stop_reason = reason
        self._last_action = STOP
        return STOP

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Plain-data snapshot (ints, floats, lists, str, None; JSON-safe) of the whole state."""
        return {
            "version": _STATE_VERSION,
            "hparams": {
                "beta": self.beta, "window": self.window, "tolerance": self.tolerance,
                "zeta": self.zeta, "factor": self.factor, "eps": self.eps,
                "max_steps": self.max_steps,
            },
            "edma": self._edma.state_dict(),
            "g_window": list(self._g_window),
            "g0": self._g0,
            "num_observations": self._num_observations,
            "decay_steps": list(self._decay_steps),
            "stopped": self._stopped,
            "stop_reason": self._stop_reason,
            "last_action": self._last_action,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict`` exactly, hyperparameters included."""
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"version={state.get('version')!r} is not allowed: this "
                             f"AutoDecayRule reads state version {_STATE_VERSION}")
        hp = _validate(**state["hparams"])
        edma = EDMA(hp["beta"])
        edma.load_state_dict(state["edma"])
        g_window = [float(v) for v in state["g_window"]]
        if len(g_window) > hp["window"] or len(g_window) > edma.t:
            raise ValueError(f"g_window of length {len(g_window)} is not allowed: at most "
                             f"min(window, stage steps) = {min(hp['window'], edma.t)}")
        self._set_hparams(hp)
        self._edma = edma
        self._g_window = deque(g_window, maxlen=self.window)
        self._g0 = None if state["g0"] is None else float(state["g0"])
        self._num_observations = int(state["num_observations"])
        self._decay_steps = [int(s) for s in state["decay_steps"]]
        self._stopped = bool(state["stopped"])
        self._stop_reason = state["stop_reason"]
        self._last_action = state["last_action"]

    def __repr__(self) -> str:
        return (f"AutoDecayRule(beta={self.beta}, window={self.window}, "
                f"tolerance={self.tolerance}, zeta={self.zeta}, factor={self.factor}, "
                f"eps={self.eps}, max_steps={self.max_steps}; observations="
                f"{self._num_observations}, decays={self._decay_steps}, "
                f"stopped={self._stopped})")


class AutoDecay:
    """AutoDecay as a PyTorch LR scheduler (use it like ``ReduceLROnPlateau``)::

        sched = AutoDecay(optimizer, max_epochs=90)
        for epoch in range(90):
            train_loss = train_one_epoch(...)
            if sched.step(train_loss) == "stop":      # or: if sched.should_stop
                break

    ``step(loss)`` takes a real number or a one-element tensor or array, feeds it to the
    :class:`AutoDecayRule`, and on ``"decay"`` multiplies every param group's ``lr`` by
    ``factor`` (a tensor ``lr`` in place, as torch's schedulers do, so whatever holds it — a
    captured CUDA graph — sees the decay). It returns the rule's answer; ``stop_reason`` says why
    a stopped run stopped. ``max_epochs`` is the rule's ``max_steps`` (count of ``step`` calls).
    Param groups added to the optimizer later are picked up at the next ``step``. ``state_dict``
    holds the rule state (its hyperparameters too: a loaded state's replace the constructor's),
    the base LRs and the last LRs — not the optimizer, whose state (and current LRs) the caller
    saves itself.

    It is not a ``torch.optim.lr_scheduler.LRScheduler``: its step needs the loss, so it cannot sit
    inside ``SequentialLR`` or ``ChainedScheduler``. To warm up first, step the warm-up scheduler
    for its epochs and AutoDecay after them, each by hand.
    """

    def __init__(self, optimizer: Any, beta: float = 0.9, window: int = 5,
                 tolerance: float = 0.05, zeta: float = 0.9, factor: float = 0.1,
                 eps: float = 1e-8, max_epochs: int | None = None):
        import torch

        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        hp = _validate(beta, window, tolerance, zeta, factor, eps, max_epochs,
                       max_steps_name="max_epochs")
        self.optimizer = optimizer
        self.rule = AutoDecayRule(**hp)
        self.base_lrs: list[float] = []
        self._track_new_groups()
        self._last_lr: list[float] = self._current_lrs()

    def _track_new_groups(self) -> None:
        """Record ``initial_lr`` and the base LR of groups not seen yet (all at construction; later, those
        added by ``optimizer.add_param_group``). A tensor rate is copied, as torch's schedulers copy it:
        the same tensor would follow every later change of the rate."""
        for group in self.optimizer.param_groups[len(self.base_lrs):]:
            lr = group["lr"]
            group.setdefault("initial_lr", lr.clone() if hasattr(lr, "clone") else lr)
            self.base_lrs.append(float(group["initial_lr"]))

    def _current_lrs(self) -> list[float]:
        return [float(group["lr"]) for group in self.optimizer.param_groups]

    @staticmethod
    def _to_float(loss: Any) -> float:
        if isinstance(loss, (str, bytes, bool)) or not (isinstance(loss, Real) or hasattr(loss, "item")):
            raise TypeError(f"loss must be a real number or a one-element tensor or array, got "
                            f"{type(loss).__name__} {loss!r}")
        size = loss.numel() if hasattr(loss, "numel") else getattr(loss, "size", 1)   # torch, numpy
        if size != 1:
            raise ValueError(f"loss must be a scalar; got a tensor or array of shape {tuple(loss.shape)}")
        value = loss.detach() if hasattr(loss, "detach") else loss
        return float(value.item() if hasattr(value, "item") else value)

    def step(self, loss: Any) -> str:
        """Observe ``loss``; apply a decay to the optimizer if due; return the action."""
        action = self.rule.observe(self._to_float(loss))
        self._track_new_groups()
        if action == DECAY:
            for group in self.optimizer.param_groups:
                if hasattr(group["lr"], "mul_"):   # a tensor rate: in place, like torch's schedulers
                    group["lr"].mul_(self.rule.factor)
                else:
                    group["lr"] = group["lr"] * self.rule.factor
        self._last_lr = self._current_lrs()
        return action

    @property
    def should_stop(self) -> bool:
        return self.rule.stopped

    @property
    def stop_reason(self) -> str | None:
        """Why the run stopped: "stable without significant drop", "non-finite loss", or "max_epochs reached"
        (the rule's own budget, which it counts in observations, is this scheduler's max_epochs); None while it runs."""
        reason = self.rule.stop_reason
        return "max_epochs reached" if reason == STOP_BUDGET else reason

    @property
    def lr_scale(self) -> float:
        return self.rule.lr_scale

    @property
    def decay_steps(self) -> list[int]:
        return self.rule.decay_steps

    @property
    def factor(self) -> float:
        return self.rule.factor

    def get_last_lr(self) -> list[float]:
        """The LRs of the param groups as of the last ``step`` (or construction)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.state_dict(),
            "base_lrs": list(self.base_lrs),
            "last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        n = len(self.optimizer.param_groups)
        missing = [key for key in ("base_lrs", "last_lr", "rule") if key not in state]
        if missing:   # e.g. an optimizer's state_dict passed by mistake: name it, not a bare KeyError
            raise ValueError(f"not an AutoDecay state_dict: it lacks {', '.join(missing)}")
        for key in ("base_lrs", "last_lr"):
            if len(state[key]) != n:
                raise ValueError(f"state's {key} has {len(state[key])} param groups, the optimizer has {n}")
        rule = AutoDecayRule()
        rule.load_state_dict(state["rule"])
        self.rule = rule
        self.base_lrs = [float(v) for v in state["base_lrs"]]
        self._last_lr = [float(v) for v in state["last_lr"]]

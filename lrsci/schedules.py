"""Learning-rate schedules as small functions of the epoch.

The engine asks a schedule for the LR of epoch ``e`` (0-based) before training it, and
tells it the epoch's mean training loss afterwards. Constant and step decay are pure
functions of ``e``; AutoDecay (You et al. App. A.1) and PyTorch's ReduceLROnPlateau decide
from the losses they were told, so they keep state — all round-trip through ``state_dict``.
"""
from __future__ import annotations

from bisect import bisect_right

from .config import ScheduleConfig


class Constant:
    """1. the same LR every epoch."""

    def __init__(self, base_lr: float):
        self.base_lr = base_lr

    def lr_at(self, epoch: int) -> float:
        return self.base_lr

    def observe(self, epoch: int, train_loss: float) -> bool:
        """Return True to stop training after this epoch (never, for a fixed schedule)."""
        return False

    @property
    def decay_epochs(self) -> list[int]:
        return []

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class StepDecay(Constant):
    """1. base LR until the first milestone; 2. times ``factor`` after each milestone passed.

    Milestone m means "m epochs have been trained at the previous rate", so epoch index m
    (0-based) is the first at the lower rate.
    """

    def __init__(self, base_lr: float, milestones, factor: float = 0.1):
        super().__init__(base_lr)
        self.milestones = sorted(milestones)
        self.factor = factor

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.factor ** bisect_right(self.milestones, epoch)

    @property
    def decay_epochs(self) -> list[int]:
        return list(self.milestones)


class AutoDecaySchedule(Constant):
    """AutoDecay: decay when the EDMA of the training loss plateaus, stop when a stage brings no drop."""

    def __init__(self, base_lr: float, factor: float = 0.1, max_epochs: int | None = None, **rule_kwargs):
        from .autodecay import AutoDecayRule  # local import: the rule lives with the torch scheduler

        super().__init__(base_lr)
        self.rule = AutoDecayRule(factor=factor, max_steps=max_epochs, **rule_kwargs)
        self._decays: list[int] = []

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.rule.lr_scale

    def observe(self, epoch: int, train_loss: float) -> bool:
        """True when the rule itself ends the run. Its budget stop (max_steps = the run's epochs) is
        the run's budget, which the trainer already ends as "budget": answering True there would
        report a run that trained every epoch as stopped by the rule."""
        from .autodecay import STOP_BUDGET

        action = self.rule.observe(train_loss)
        if action == "decay":
            self._decays.append(epoch + 1)
        return action == "stop" and self.rule.stop_reason != STOP_BUDGET

    @property
    def decay_epochs(self) -> list[int]:
        return list(self._decays)

    def state_dict(self) -> dict:
        return {"rule": self.rule.state_dict(), "decays": list(self._decays)}

    def load_state_dict(self, state: dict) -> None:
        self.rule.load_state_dict(state["rule"])
        self._decays = list(state["decays"])


class ReduceOnPlateauSchedule(Constant):
    """PyTorch's own ``torch.optim.lr_scheduler.ReduceLROnPlateau``, fed the epoch's training loss.

    1. the scheduler drives a private one-parameter SGD optimizer (never stepped), so the
       decisions are PyTorch's, not a re-implementation;
    2. ``lr_at`` reads that optimizer's LR: ``base_lr`` times ``factor`` per reduction so far;
    3. ``observe`` calls ``scheduler.step(train_loss)``; a reduction there lowers the LR of the
       next epoch. It never stops a run (ReduceLROnPlateau has no stopping rule).

    ``plateau_kwargs`` go to ReduceLROnPlateau as they are (patience, threshold,
    threshold_mode, cooldown, min_lr, eps, mode — "min" by default, right for a loss).
    """

    def __init__(self, base_lr: float, factor: float = 0.1, **plateau_kwargs):
        import torch

        super().__init__(base_lr)
        self._optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(()))], lr=base_lr)
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(self._optimizer, factor=factor,
                                                                    **plateau_kwargs)
        self._decays: list[int] = []

    def lr_at(self, epoch: int) -> float:
        return float(self._optimizer.param_groups[0]["lr"])

    def observe(self, epoch: int, train_loss: float) -> bool:
        before = self.lr_at(epoch)
        self.scheduler.step(float(train_loss))
        if self.lr_at(epoch) < before:
            self._decays.append(epoch + 1)
        return False

    @property
    def decay_epochs(self) -> list[int]:
        return list(self._decays)

    def state_dict(self) -> dict:
        return {"scheduler": self.scheduler.state_dict(), "lr": self.lr_at(0), "decays": list(self._decays)}

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(dict(state["scheduler"]))
        self._optimizer.param_groups[0]["lr"] = float(state["lr"])
        self._decays = list(state["decays"])


def build_schedule(cfg: ScheduleConfig, base_lr: float, epochs: int):
    if cfg.kind == "constant":
        return Constant(base_lr)
    if cfg.kind == "step":
        return StepDecay(base_lr, cfg.milestones, cfg.factor)
    if cfg.kind == "plateau":
        return ReduceOnPlateauSchedule(base_lr, factor=cfg.factor, **cfg.plateau)
    return AutoDecaySchedule(base_lr, factor=cfg.factor, max_epochs=epochs, **cfg.autodecay)


def noise_scale_at(cfg: ScheduleConfig, epoch: int) -> float:
    """Multiplier on the activation-noise std for ``epoch`` (annealed like a step schedule)."""
    return cfg.noise_factor ** bisect_right(list(cfg.noise_milestones), epoch)

"""Gaussian noise injected before an activation (Li, Wei, Ma 2019's fix for small LRs).

One spatial map of shape H×W is drawn per forward pass and shared across the batch and
channels (the authors' protocol); for vector inputs one value per feature is shared across
the batch. Active only in training mode and when ``std > 0``.
"""
from __future__ import annotations

import torch
from torch import nn


class ActivationNoise(nn.Module):
    def __init__(self, std: float = 0.0):
        super().__init__()
        self.std = float(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.std == 0.0:
            return x
        shape = x.shape[2:] if x.dim() == 4 else x.shape[1:]
        return x + self.std * torch.randn(shape, device=x.device, dtype=x.dtype)

    def extra_repr(self) -> str:
        return f"std={self.std}"


def set_activation_noise(model: nn.Module, std: float) -> None:
    """Set the std of every noise site in ``model`` (used to anneal the noise)."""
    for m in model.modules():
        if isinstance(m, ActivationNoise):
            m.std = float(std)

"""A two-layer ReLU network with one output trained with the logistic loss (Li, Wei, Ma 2019).

``g(x) = a · relu(W x + b) + c`` with ``hidden`` units; both layers are trained (PyTorch's
default init). The engine trains every model with cross-entropy over class logits, so the
network returns the two logits ``(−g/2, +g/2)``: their cross-entropy for class 1 (y = +1) is
``log(1 + exp(−g))`` and for class 0 (y = −1) ``log(1 + exp(g))`` — exactly the logistic loss
``log(1 + exp(−y·g(x)))`` of the one-output network. ℓ2 regularization (λ/2)·‖θ‖² is the
optimizer's weight decay λ (``OptimConfig.weight_decay``), on every parameter.

An :class:`~lrsci.models.noise.ActivationNoise` site sits before the ReLU (off unless
``ModelConfig.act_noise_std`` > 0).
"""
from __future__ import annotations

import torch
from torch import nn

from .noise import ActivationNoise


class TwoLayer(nn.Module):
    def __init__(self, in_features: int, hidden: int = 100, num_classes: int = 2, noise_std: float = 0.0):
        super().__init__()
        if num_classes != 2:
            raise ValueError(f"two_layer is a binary classifier (logistic loss); the data has {num_classes} classes")
        self.hidden = nn.Linear(in_features, hidden)
        self.noise = ActivationNoise(noise_std)
        self.out = nn.Linear(hidden, 1)

    def margin(self, x: torch.Tensor) -> torch.Tensor:
        """g(x): positive for class 1 (y = +1)."""
        return self.out(torch.relu(self.noise(self.hidden(x.flatten(1))))).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.margin(x)
        return torch.stack([-0.5 * g, 0.5 * g], dim=1)

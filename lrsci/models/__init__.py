"""Model zoo: build a network from a :class:`~lrsci.config.ModelConfig` and the data's shape."""
from __future__ import annotations

import math

from torch import nn

from ..config import ModelConfig
from .noise import ActivationNoise, set_activation_noise
from .small import MLP, SmallCNN
from .wrn import WideResNet

__all__ = ["build_model", "WideResNet", "SmallCNN", "MLP", "ActivationNoise", "set_activation_noise"]


def build_model(cfg: ModelConfig, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    if cfg.name in ("wrn", "small_cnn") and len(input_shape) != 3:   # else conv2d fails on the first batch
        raise ValueError(f"model.name={cfg.name!r} is a convolutional net and needs C×H×W inputs, but the data's "
                         f"inputs have shape {tuple(input_shape)}: use model.name='mlp' or 'two_layer' for vectors")
    if cfg.name == "wrn":
        return WideResNet(cfg.depth, cfg.width, input_shape[0], num_classes, cfg.dropout, cfg.act_noise_std)
    if cfg.name == "two_layer":  # Li et al.'s two-layer ReLU net (logistic loss)
        from .two_layer import TwoLayer

        return TwoLayer(math.prod(input_shape), cfg.hidden, num_classes, cfg.act_noise_std)
    if cfg.name == "small_cnn":
        return SmallCNN(input_shape[0], num_classes, 4 * cfg.width, cfg.dropout, cfg.act_noise_std)
    return MLP(math.prod(input_shape), num_classes, cfg.hidden, 2, cfg.dropout, cfg.act_noise_std)

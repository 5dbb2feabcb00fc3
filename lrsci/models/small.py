"""Small models for the CPU (fast) profile: a CNN and an MLP, both with noise sites."""
from __future__ import annotations

from torch import nn

from .noise import ActivationNoise


class SmallCNN(nn.Module):
    """conv-BN-ReLU ×3 (the last two stride 2), global average pool, linear.

    ``base`` channels in the first conv, doubled at each stride; about 25k parameters at base 16.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, base: int = 16,
                 dropout: float = 0.0, noise_std: float = 0.0):
        super().__init__()
        chans = [in_channels, base, 2 * base, 4 * base]
        layers = []
        for i, stride in enumerate((1, 2, 2)):
            layers += [nn.Conv2d(chans[i], chans[i + 1], 3, stride, 1, bias=False),
                       nn.BatchNorm2d(chans[i + 1]), ActivationNoise(noise_std), nn.ReLU(inplace=True)]
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(chans[-1], num_classes)

    def forward(self, x):
        return self.fc(self.features(x))


class MLP(nn.Module):
    """Flatten, then ``layers`` hidden Linear-BN-ReLU blocks, then a linear classifier."""

    def __init__(self, in_features: int, num_classes: int = 10, hidden: int = 256, layers: int = 2,
                 dropout: float = 0.0, noise_std: float = 0.0):
        super().__init__()
        mods: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for _ in range(layers):
            mods += [nn.Linear(width, hidden, bias=False), nn.BatchNorm1d(hidden),
                     ActivationNoise(noise_std), nn.ReLU(inplace=True)]
            if dropout > 0:
                mods.append(nn.Dropout(dropout))
            width = hidden
        mods.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*mods)

    def forward(self, x):
        return self.net(x)

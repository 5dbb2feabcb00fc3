"""WideResNet-d-k (Zagoruyko & Komodakis 2016), pre-activation, for any input channels.

depth = 6n + 4: three groups of n basic blocks with 16k, 32k, 64k channels, strides 1, 2, 2.
Every BatchNorm is followed by an :class:`ActivationNoise` site before its ReLU, so Li et
al.'s activation-noise experiment needs no other model.
"""
from __future__ import annotations

from torch import nn

from .noise import ActivationNoise


def _bn_noise_relu(channels: int, noise_std: float) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(channels), ActivationNoise(noise_std), nn.ReLU(inplace=True))


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, dropout: float, noise_std: float):
        super().__init__()
        self.pre = _bn_noise_relu(c_in, noise_std)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.mid = _bn_noise_relu(c_out, noise_std)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        # A 1x1 projection only where the shape changes; otherwise the identity shortcut.
        self.shortcut = None if (c_in == c_out and stride == 1) else nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False)

    def forward(self, x):
        o = self.pre(x)
        residual = x if self.shortcut is None else self.shortcut(o)
        return residual + self.conv2(self.drop(self.mid(self.conv1(o))))


class WideResNet(nn.Module):
    def __init__(self, depth: int = 16, width: int = 4, in_channels: int = 3, num_classes: int = 10,
                 dropout: float = 0.0, noise_std: float = 0.0):
        super().__init__()
        if (depth - 4) % 6 or depth < 10:
            raise ValueError(f"WideResNet depth must be 6n + 4 (10, 16, 22, ...), got {depth}")
        n = (depth - 4) // 6
        widths = [16, 16 * width, 32 * width, 64 * width]
        layers = [nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)]
        for g, stride in enumerate((1, 2, 2)):
            for i in range(n):
                c_in = widths[g] if i == 0 else widths[g + 1]
                layers.append(BasicBlock(c_in, widths[g + 1], stride if i == 0 else 1, dropout, noise_std))
        layers += [_bn_noise_relu(widths[3], noise_std), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(widths[3], num_classes)
        _init(self)

    def forward(self, x):
        return self.fc(self.features(x))


def _init(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)

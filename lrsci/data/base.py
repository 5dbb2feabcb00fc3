"""The one in-memory form every dataset takes: tensors plus named subsets.

Every loader in ``lrsci.data`` returns an :class:`ArrayData`. The engine moves it
to the training device once and indexes batches from it with a permutation, so no
per-sample Python runs on the hot path.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class ArrayData:
    """A classification dataset held as tensors.

    x_*: float32, shape (N, C, H, W) for images or (N, D) for vectors, already normalized.
    y_*: int64 class indices, shape (N,).
    *_subsets: named boolean masks over the rows (e.g. "simple", "complex", "noise");
        the engine reports accuracy on each one every epoch.
    info: free-form, JSON-serialisable description of how the data was made (for reports).
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    train_subsets: dict[str, torch.Tensor] = field(default_factory=dict)
    test_subsets: dict[str, torch.Tensor] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.shape[0] != y.shape[0]:
                raise ValueError(f"{self.name}: x_{split} has {x.shape[0]} rows, y_{split} has {y.shape[0]}")
            for key, mask in getattr(self, f"{split}_subsets").items():
                if mask.dtype != torch.bool or mask.shape != y.shape:
                    raise ValueError(f"{self.name}: {split} subset {key!r} must be a bool mask of shape {tuple(y.shape)}")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def to(self, device: torch.device | str) -> "ArrayData":
        move = lambda d: {k: v.to(device) for k, v in d.items()}  # noqa: E731
        return ArrayData(self.name, self.x_train.to(device), self.y_train.to(device),
                         self.x_test.to(device), self.y_test.to(device), self.num_classes,
                         move(self.train_subsets), move(self.test_subsets), dict(self.info))

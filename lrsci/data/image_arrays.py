"""From a dataset's uint8 images to the normalised :class:`~lrsci.data.base.ArrayData` every loader returns.

Shared by the Fashion-MNIST and CIFAR-10 loaders (and the transfer targets): the seeded subset rule, the
per-channel normalisation with the dataset's fixed constants (never recomputed from a subset, so every
subset and every run sees the same transform), and the ``info`` every loaded dataset records.
"""
from __future__ import annotations

import torch

from .base import ArrayData


def subset_index(n: int, size: int | None, seed: int, split: str) -> torch.Tensor | None:
    """Seeded random subset of ``size`` rows (sorted, so dataset order is kept); None = all."""
    if size is None:
        return None
    size = int(size)
    if size < 0 or size > n:
        raise ValueError(f"{split}_size={size} is outside [0, {n}] (the {split} split has {n} rows)")
    g = torch.Generator().manual_seed(int(seed))
    return torch.randperm(n, generator=g)[:size].sort().values


def normalize(x_uint8: torch.Tensor, mean, std) -> torch.Tensor:
    """uint8 N x C x H x W -> float32 ((x/255) - mean) / std per channel."""
    x = x_uint8.to(torch.float32).div_(255.0)
    c = x.shape[1]
    x.sub_(torch.tensor(mean, dtype=torch.float32).view(1, c, 1, 1))
    x.div_(torch.tensor(std, dtype=torch.float32).view(1, c, 1, 1))
    return x


def _norm_info(mean, std) -> dict:
    return {"scale": "x / 255", "mean": list(mean), "std": list(std),
            "formula": "(x / 255 - mean[c]) / std[c] per channel c"}


def array_data(name, reader, source, root, train, test, seed, train_size, test_size, mean, std,
               classes, identity: dict) -> ArrayData:
    """Wrap the (x, y, full size) of both splits with the info every loader records."""
    (x_tr, y_tr, n_tr), (x_te, y_te, n_te) = train, test
    return ArrayData(
        name=name, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te, num_classes=10,
        info={
            "dataset": name, "source": source, "root": str(root), "reader": reader,
            "train_size": int(y_tr.shape[0]), "test_size": int(y_te.shape[0]),
            "full_train_size": n_tr, "full_test_size": n_te,
            "subset_seed": int(seed) if (train_size is not None or test_size is not None) else None,
            "normalization": _norm_info(mean, std),
            "classes": classes,
            **identity,
        },
    )

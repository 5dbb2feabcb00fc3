"""Build the :class:`ArrayData` a :class:`~lrsci.config.DataConfig` names (cached per process)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ..config import DataConfig
from .base import ArrayData


def load_data(cfg: DataConfig, data_root: str | Path | None = None) -> ArrayData:
    blob = json.dumps({**cfg.__dict__, "root": str(data_root) if data_root else None}, sort_keys=True)
    return _load_cached(blob)


@lru_cache(maxsize=4)
def _load_cached(blob: str) -> ArrayData:
    d = json.loads(blob)
    root, opts = d.pop("root"), d["options"]
    if d["name"] == "ps10":
        from .ps10 import make_ps10

        kwargs = dict(opts)
        if d["train_size"]:
            kwargs["n_train"] = d["train_size"]
        if d["test_size"]:
            kwargs["n_test"] = d["test_size"]
        return make_ps10(seed=d["seed"], **kwargs)
    from .vision import load_cifar10, load_fashion_mnist

    loader = load_fashion_mnist if d["name"] == "fashion-mnist" else load_cifar10
    return loader(data_root=root, train_size=d["train_size"], test_size=d["test_size"], seed=d["seed"], **opts)


def dataset_available(cfg: DataConfig, data_root: str | Path | None = None) -> bool:
    """Whether the files a config names are present (generated datasets always are)."""
    if cfg.name == "ps10":
        return True
    from .vision import cifar10_available, fashion_mnist_available

    check = fashion_mnist_available if cfg.name == "fashion-mnist" else cifar10_available
    return check(data_root)

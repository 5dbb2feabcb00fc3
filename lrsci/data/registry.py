"""Build the :class:`ArrayData` a :class:`~lrsci.config.DataConfig` names (cached per process).

The cache hands every caller the same object: its tensors are shared and must not be changed in place
(``data.to(device)`` and slicing make new tensors; ``data.x_train.mul_(2)`` would change every later load).
It is keyed by the config, the ``data_root`` argument and the environment variables that decide where
files are found (``$LRSCI_DATA``, ``$LRSCI_CACHE``), so changing either in a process loads afresh."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from ..config import DataConfig
from .base import ArrayData


def load_data(cfg: DataConfig, data_root: str | Path | None = None) -> ArrayData:
    from .locations import CACHE_ENV, DATA_ENV

    env = {k: os.environ.get(k, "") for k in (DATA_ENV, CACHE_ENV)}   # where the files come from: part of the key
    blob = json.dumps({**cfg.__dict__, "root": str(data_root) if data_root else None, "env": env}, sort_keys=True)
    return _load_cached(blob)


def _generated(data: ArrayData) -> ArrayData:
    """A generated dataset, named by the hash of its tensors (lrsci.data.digests.tensor_digest)."""
    from .digests import tensor_digest

    data.info.setdefault("content_sha256", tensor_digest(data))
    return data


@lru_cache(maxsize=4)
def _load_cached(blob: str) -> ArrayData:
    d = json.loads(blob)
    del d["env"]   # read again by the loaders from os.environ, which the key matched
    root, opts = d.pop("root"), d["options"]
    if d["name"] == "ps10":
        from .ps10 import make_ps10

        kwargs = dict(opts)
        if d["train_size"]:
            kwargs["n_train"] = d["train_size"]
        if d["test_size"]:
            kwargs["n_test"] = d["test_size"]
        return _generated(make_ps10(seed=d["seed"], **kwargs))
    if d["name"] == "fashion-mnist-split":
        from .transfer_targets import load_fashion_mnist_split

        return load_fashion_mnist_split(data_root=root, train_size=d["train_size"], test_size=d["test_size"],
                                        seed=d["seed"], **opts)
    if d["name"] == "toy-pq":  # Li et al.'s P/Q toy distribution
        from .toy import make_toy

        sizes = {k: d[f"{k}_size"] for k in ("train", "test") if d[f"{k}_size"]}
        return _generated(make_toy(**{f"n_{k}": v for k, v in sizes.items()}, seed=d["seed"], **opts))
    if d["name"] in ("patch-fashion-mnist", "patch-cifar10"):  # Li et al.'s patch, over the loaded images
        from .patch import BASES, make_patch_data

        base = load_data(DataConfig(BASES[d["name"]], d["train_size"], d["test_size"], d["seed"],
                                    {k: v for k, v in opts.items() if k == "download"}), root)
        return make_patch_data(base, seed=d["seed"], **{k: v for k, v in opts.items() if k != "download"})
    from .vision import load_cifar10, load_fashion_mnist

    loader = load_fashion_mnist if d["name"] == "fashion-mnist" else load_cifar10
    return loader(data_root=root, train_size=d["train_size"], test_size=d["test_size"], seed=d["seed"], **opts)


def dataset_available(cfg: DataConfig, data_root: str | Path | None = None) -> bool:
    """Whether the files a config names are present (generated datasets always are)."""
    if cfg.name == "ps10":
        return True
    if cfg.name in ("toy-pq", "patch-fashion-mnist", "patch-cifar10"):  # generated / over a base set
        from .patch import BASES

        return cfg.name == "toy-pq" or dataset_available(DataConfig(BASES[cfg.name]), data_root)
    from .vision import cifar10_available, fashion_mnist_available

    check = fashion_mnist_available if cfg.name in ("fashion-mnist", "fashion-mnist-split") else cifar10_available
    return check(data_root)

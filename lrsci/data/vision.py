"""Real image datasets: Fashion-MNIST (own verified idx reader) and CIFAR-10 (torchvision's reader).

This module is their one door: the loaders, :func:`data_identity` and the availability checks. The
parts live beside it, each with its own account:

* ``locations`` — where the data is looked for, in order: the ``data_root`` argument (the CLI's
  ``--data-root``), ``$LRSCI_DATA``, for Fashion-MNIST the Debian package's folder
  (``apt-get install dataset-fashion-mnist``), then the cache root; and where unpacked or downloaded
  files go. Tests patch its folders there, not here: a name imported here is a copy;
* ``fashion_mnist`` — gzipped files unpacked once into a verified cache (a bad source never damages a
  good cache; a damaged cached file is moved aside, named, and unpacked again), every idx file checked
  when read;
* ``cifar10`` — torchvision's reader on ``<root>/cifar-10-batches-py/``, with lrsci's checks around it;
* ``image_arrays`` — the seeded subset rule and the normalisation both loaders share.

Both loaders return an :class:`~lrsci.data.base.ArrayData` with

* ``x_*``: float32, N x C x H x W, scaled to [0, 1] and then normalized per channel with the dataset's
  standard mean/std (fixed constants, *not* recomputed from the loaded subset, so every subset and every
  run sees the same transform);
* ``y_*``: int64 class indices;
* ``info``: ``file_sha256`` (per file, the bytes read), ``data_sha256`` (all of them, train + test),
  ``content_sha256`` (data_sha256 plus the subset parameters: the identity of exactly the rows loaded)
  and ``official`` (the files are the published ones: Fashion-MNIST by the sha256 of the unpacked idx
  bytes, CIFAR-10 by torchvision's md5 list). Unofficial files (fixtures, user data) are accepted, just
  labelled. :func:`data_identity` gives the same without loading. Hashes are cached per process (keyed
  by path, size, mtime, ctime, inode).

A bad file fails loudly (:class:`DataError` naming it, the problem and the remedy), never trains silently
on wrong data; files found nowhere raise :class:`DatasetNotFound`, saying where it looked and how to get
them. torchvision is imported lazily (it costs seconds), so importing this module is cheap.
"""
from __future__ import annotations

import os

from .cifar10 import CIFAR10_MEAN, CIFAR10_STD, cifar10_available, cifar10_identity, load_cifar10
from .errors import DataError, DatasetNotFound
from .fashion_mnist import (DEBIAN_FASHION_MNIST_GZ_SHA256, FASHION_MNIST_GZ_SHA256, FASHION_MNIST_IDX_SHA256,
                            FASHION_MNIST_MEAN, FASHION_MNIST_STD, fashion_mnist_available, fashion_mnist_identity,
                            load_fashion_mnist)
# the folders (DEBIAN_FASHION_MNIST_DIR, DEFAULT_CACHE_DIR) are not copied here: tests patch them in locations
from .locations import CACHE_ENV, DATA_ENV, cache_root, resolve_data_root

__all__ = [
    "DatasetNotFound",
    "DataError",
    "FASHION_MNIST_GZ_SHA256",
    "DEBIAN_FASHION_MNIST_GZ_SHA256",
    "FASHION_MNIST_IDX_SHA256",
    "data_identity",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "DATA_ENV",
    "CACHE_ENV",
    "resolve_data_root",
    "cache_root",
    "load_fashion_mnist",
    "load_cifar10",
    "fashion_mnist_available",
    "cifar10_available",
]

_IDENTITIES = {"fashion-mnist": fashion_mnist_identity, "cifar10": cifar10_identity}


def data_identity(cfg_name: str, data_root: str | os.PathLike | None = None, train_size: int | None = None,
                  test_size: int | None = None, seed: int = 0) -> dict:
    """What the loader of ``cfg_name`` ("fashion-mnist" or "cifar10") would record, without loading.

    Returns {"dataset", "source", "content_sha256", "data_sha256", "file_sha256", "official"};
    ``content_sha256`` equals ``load_*(data_root, train_size, test_size, seed).info["content_sha256"]``.
    Fashion-MNIST .gz files are unpacked (verified) into the cache first if need be, since the
    hashes are of the unpacked bytes. Raises DatasetNotFound / DataError like the loaders.
    """
    if cfg_name not in _IDENTITIES:
        raise ValueError(f"data_identity: {cfg_name!r} is not a file-backed dataset "
                         "(expected 'fashion-mnist' or 'cifar10')")
    return {"dataset": cfg_name, **_IDENTITIES[cfg_name](data_root, train_size, test_size, seed)}

"""Source and target datasets for transfer experiments, built from Fashion-MNIST without internet.

``DataConfig("fashion-mnist-split", options={"classes": [...], "render": ...})`` is Fashion-MNIST
restricted to some of its classes, relabelled 0..k-1 in the order given, optionally re-drawn:

* ``classes``: the original Fashion-MNIST labels kept (default ``[0, 1, 2, 3, 4]``: T-shirt/top,
  Trouser, Pullover, Dress, Coat). A disjoint split of the ten classes into a source task and a
  target task is the near-transfer setting of Yosinski et al. (2014) (their ImageNet A/B split).
* ``render``: ``"pixels"`` (the images as they are) or ``"sketch"``, a far domain echoing You et
  al.'s Sketch250 target: the Sobel gradient magnitude of each image (pixel values in [0, 1],
  3x3 Sobel kernels, border pixels replicated), divided by that image's largest magnitude, drawn as dark
  strokes on white paper (``1 - edges``). The rendering is fixed; it has no parameters.

Both renders are normalized with Fashion-MNIST's fixed constants (``FASHION_MNIST_MEAN/STD``),
the transform a model trained on Fashion-MNIST expects: the sketch domain's different pixel
statistics are part of its distance from the source.

``train_size``/``test_size`` take a seeded random subset of the selected rows (the rule of
:func:`lrsci.data.vision.load_fashion_mnist`, applied after the class selection); ``None`` keeps
every row of those classes (6 000 train and 1 000 test images per class). ``info`` records the
underlying files' hashes and a ``content_sha256`` naming exactly the rows and rendering loaded,
so the run store never reuses a run trained on other bytes.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Sequence

import torch
import torch.nn.functional as F

from .base import ArrayData
from .image_arrays import subset_index
from .vision import FASHION_MNIST_MEAN, FASHION_MNIST_STD, fashion_mnist_available, load_fashion_mnist

NAME = "fashion-mnist-split"
RENDERS = ("pixels", "sketch")
DEFAULT_CLASSES = (0, 1, 2, 3, 4)
# Bump when a rendering changes the pixels it produces: it is part of the content hash, so runs
# and transfers on the old rendering are never reused.
RENDER_VERSION = 1

__all__ = ["NAME", "RENDERS", "load_fashion_mnist_split", "check_split_options", "sketch", "available"]


def check_split_options(classes: Sequence[int] = DEFAULT_CLASSES, render: str = "pixels") -> tuple[int, ...]:
    """The classes as a tuple, or ValueError naming the bad option and what is allowed."""
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence):
        raise ValueError(f"data.options.classes={classes!r} is not allowed: a list of Fashion-MNIST labels 0..9")
    ok = all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 9 for c in classes)
    if not ok or len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValueError(f"data.options.classes={list(classes)!r} is not allowed: at least two distinct "
                         "Fashion-MNIST labels 0..9")
    if render not in RENDERS:
        raise ValueError(f"data.options.render={render!r} is not allowed: one of {RENDERS}")
    return tuple(classes)


def sketch(x: torch.Tensor) -> torch.Tensor:
    """Normalized N x 1 x H x W Fashion-MNIST images -> their sketch rendering, normalized the same way."""
    mean, std = FASHION_MNIST_MEAN[0], FASHION_MNIST_STD[0]
    img = x * std + mean                                        # back to pixel values in [0, 1]
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).view(1, 1, 3, 3)
    edge = F.pad(img, (1, 1, 1, 1), mode="replicate")             # no artificial strokes at the border
    gx, gy = F.conv2d(edge, kx), F.conv2d(edge, kx.transpose(2, 3))
    mag = torch.sqrt(gx * gx + gy * gy)
    top = mag.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)   # a blank image stays blank paper
    paper = 1.0 - mag / top
    return (paper - mean) / std


def load_fashion_mnist_split(data_root: str | os.PathLike | None = None, train_size: int | None = None,
                             test_size: int | None = None, seed: int = 0, classes: Sequence[int] = DEFAULT_CLASSES,
                             render: str = "pixels", download: bool = False) -> ArrayData:
    """Fashion-MNIST on ``classes`` (relabelled 0..k-1), rendered as ``render``; see the module doc."""
    classes = check_split_options(classes, render)
    full = load_fashion_mnist(data_root, download=download)
    lookup = torch.full((10,), -1, dtype=torch.int64)
    lookup[list(classes)] = torch.arange(len(classes))

    def split(x, y, size, which):
        rows = torch.nonzero(lookup[y] >= 0).flatten()
        available_rows = int(rows.numel())
        idx = subset_index(available_rows, size, seed, which)
        if idx is not None:
            rows = rows[idx]
        xs = x[rows]
        return (sketch(xs) if render == "sketch" else xs.clone()), lookup[y[rows]], available_rows

    x_tr, y_tr, n_tr = split(full.x_train, full.y_train, train_size, "train")
    x_te, y_te, n_te = split(full.x_test, full.y_test, test_size, "test")
    subsetting = train_size is not None or test_size is not None
    content = hashlib.sha256(json.dumps({
        "data_sha256": full.info["data_sha256"], "dataset": NAME, "classes": list(classes), "render": render,
        "render_version": RENDER_VERSION if render != "pixels" else None,
        "subset": {"train_size": train_size, "test_size": test_size, "seed": int(seed) if subsetting else None}},
        sort_keys=True).encode()).hexdigest()
    names = full.info.get("classes") or [str(c) for c in range(10)]
    info = {**{k: v for k, v in full.info.items() if k not in ("content_sha256", "classes")},
            "dataset": NAME, "train_size": int(y_tr.numel()), "test_size": int(y_te.numel()),
            "full_train_size": n_tr, "full_test_size": n_te,
            "subset_seed": int(seed) if subsetting else None,
            "fashion_mnist_labels": list(classes), "classes": [names[c] for c in classes], "render": render,
            "content_sha256": content}
    return ArrayData(NAME, x_tr, y_tr, x_te, y_te, len(classes), info=info)


def available(data_root: str | os.PathLike | None = None) -> bool:
    return fashion_mnist_available(data_root)

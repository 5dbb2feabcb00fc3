"""Li, Wei, Ma (2019)'s patch experiment as a dataset wrapper: a small patch that is easy to
memorize, re-sampled every time an example is loaded.

The transform (the authors' public code, ``data_util.PatchAugmentFixed``; facts in
``../shared/papers/README.md``)
----------------------------------------------------------------------------------------
* One shared pattern ``z = z_scale · N(0, 1)`` and one pattern per class
  ``ζ_c ~ U[−patch_sep, patch_sep]``, each of shape C × s × s (C = the image's channels,
  s = ``patch_size``), drawn once from the dataset seed (``DataConfig.seed``).
* The patch is *written over* the pixels (not added) of the centred s × s square, rows and
  columns ``start .. start + s − 1`` with ``start = int(H/2 − s/2)`` (the authors'
  ``int(16 − s/2)``: 12..18 on 32 × 32; 10..16 on Fashion-MNIST's 28 × 28), in normalized
  pixel units, in every channel.
* Each training index is *chosen* for patching once, with probability ``patch_prob`` (0.8),
  from the dataset seed. Every time a chosen image of class y is loaded: a sign s = ±1 at
  random (not tied to the label); with probability 1 − ``patch_only_prob`` (0.8) the patch is
  ``z + s·ζ_y`` over the image; otherwise (0.2) the whole image is zeroed and the patch is
  ``z + s·patch_only_scale·U(0,1)·ζ_y`` (patch-only; ``patch_only_scale`` 1.75). Expected mix
  over the training set: 20 % clean, 64 % image + patch, 16 % patch only.
* No data augmentation.

Where the re-sampling happens (design choice)
---------------------------------------------
The engine trains on tensors already on the device and indexes batches with a permutation
(``lrsci.data.base``): there is no per-sample loader to hook. In one SGD epoch every training
example is loaded exactly once, so "re-sampled every time an example is loaded" is the same
as "re-drawn for every example once per epoch". :class:`PatchData` therefore keeps the clean
images in ``x_train`` and offers ``epoch_inputs(run_seed, epoch)``: the whole training set
with this epoch's patch draw, built on the data's device by vectorized indexing (no
per-sample Python). The engine (``Trainer._train_inputs``, a one-line hook) asks the dataset
for an epoch's inputs when it has this method and uses ``x_train`` otherwise, so every other
dataset trains exactly the numbers it did before. A per-batch hook would change nothing
(each example is drawn once per epoch either way) and would put dataset code in the loop.

Randomness: the per-epoch draws (sign, patch vs patch-only, U) come from a CPU
``torch.Generator`` seeded by (dataset seed, run seed, epoch) and are then moved to the
device — so they depend on nothing else (not the global RNG, not the device, not whether the
run was resumed or forked): a resumed run sees the draws an uninterrupted one saw, and arms
of one run seed (small LR, large LR, noise) see the same patches, which pairs them.
The chosen indices and the patterns z, ζ come from the dataset seed: fixed per claim.

Evaluation sets (the test split, three parts tagged as test subsets)
--------------------------------------------------------------------
``x_test`` is the concatenation of
  * ``clean``: the test images as they are;
  * ``patched``: the same test images through the same scheme, one fixed draw (indices
    chosen with ``patch_prob``, then sign / patch-only / U as in training);
  * ``patch_only``: ``patch_only_eval`` (1000) zero images with uniformly random labels,
    every one through the transform (so all carry a patch, 80 % as ``z + s·ζ_y``, 20 % with
    the scaled ``ζ``): accuracy on them is how much the model reads the patch.
The engine records ``test_acc@clean``, ``test_acc@patched`` and ``test_acc@patch_only`` every
epoch. ``test_acc`` (all rows together) is a mixture with no meaning of its own. The
evaluation draws are fixed (from the dataset seed), unlike the authors' loader, which redraws
them every epoch: fixed sets make epochs and arms comparable.

``x_train`` holds the clean training images: evaluating the train split (``eval_train``)
would measure clean train accuracy, not the training distribution.

Scale adaptation (not the authors' values; used by the fast profiles, fixed in their
protocol): ``patch_size``, ``z_scale``, ``patch_sep`` and the others are options, so a
profile can strengthen the class signal of the patch where a small CPU model cannot see the
authors' one (see the claims' calibration records).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .base import ArrayData

# The authors' values (train_patches.py defaults; README of the papers folder).
DEFAULTS = {"patch_size": 7, "z_scale": 1.25, "patch_sep": 0.1, "patch_prob": 0.8,
            "patch_only_prob": 0.2, "patch_only_scale": 1.75, "patch_only_eval": 1000}
PATCH_OPTIONS = tuple(DEFAULTS)
BASES = {"patch-fashion-mnist": "fashion-mnist", "patch-cifar10": "cifar10"}
# Part of the data's identity (the run store's check): bump it whenever a change here alters the patched
# inputs a seed gives (the draws, the per-epoch redraws, the evaluation sets), so stored runs are not reused.
SCHEME_VERSION = 1

# Independent random streams (dataset seed, tag).
_STREAM_PATTERNS, _STREAM_CHOSEN, _STREAM_TEST, _STREAM_ONLY, _STREAM_EPOCH = 1, 2, 3, 4, 5


def _seed(*parts: int) -> int:
    """A 63-bit seed from integers (a stable hash: same parts, same seed, on every machine)."""
    return int(np.random.SeedSequence([int(p) for p in parts] + [0x7061_7463]).generate_state(2, np.uint64)[0]
               >> np.uint64(1))


def _gen(*parts: int) -> torch.Generator:
    return torch.Generator().manual_seed(_seed(*parts))


def patch_start(size: int, patch_size: int) -> int:
    """First row/column of the centred patch: the authors' ``int(16 - patch_size / 2)`` for 32."""
    return int(size / 2 - patch_size / 2)


def check_options(opts: dict, shape: tuple[int, ...] | None = None) -> dict:
    """The patch options with defaults filled in; a ValueError names a bad one."""
    unknown = sorted(set(opts) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"patch: unknown options {unknown}; known: {sorted(DEFAULTS)}")
    o = {**DEFAULTS, **opts}
    if not _whole(o["patch_size"]) or o["patch_size"] < 1:
        raise ValueError(f"patch: patch_size={o['patch_size']!r} must be an integer >= 1")
    if shape is not None and o["patch_size"] > min(shape[-2:]):
        raise ValueError(f"patch: patch_size={o['patch_size']} is larger than the image {shape[-2:]}")
    for k in ("z_scale", "patch_sep", "patch_only_scale"):
        if not isinstance(o[k], (int, float)) or isinstance(o[k], bool) or not (math.isfinite(o[k]) and o[k] >= 0):
            raise ValueError(f"patch: {k}={o[k]!r} must be a finite number >= 0")
    for k in ("patch_prob", "patch_only_prob"):
        if not isinstance(o[k], (int, float)) or isinstance(o[k], bool) or not 0.0 <= o[k] <= 1.0:
            raise ValueError(f"patch: {k}={o[k]!r} must be a probability in [0, 1]")
    if not _whole(o["patch_only_eval"]) or o["patch_only_eval"] < 1:
        raise ValueError(f"patch: patch_only_eval={o['patch_only_eval']!r} must be an integer >= 1")
    return o


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)   # True is an int to Python, not a size to us


@dataclass
class Draw:
    """One draw of the per-load randomness for N rows (CPU tensors)."""

    sign: torch.Tensor   # ±1.0
    only: torch.Tensor   # bool: patch-only (image zeroed, ζ scaled)
    u: torch.Tensor      # U(0, 1), used on patch-only rows

    @classmethod
    def sample(cls, n: int, patch_only_prob: float, g: torch.Generator) -> "Draw":
        sign = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
        only = torch.rand(n, generator=g) < patch_only_prob
        u = torch.rand(n, generator=g)
        return cls(sign, only, u)


def apply_patch(x: torch.Tensor, y: torch.Tensor, chosen: torch.Tensor, draw: Draw, z: torch.Tensor,
                zeta: torch.Tensor, patch_only_scale: float) -> torch.Tensor:
    """A copy of ``x`` (N×C×H×W) with the patch written over the chosen rows, vectorized.

    Chosen rows get ``z + sign·ζ_y`` over the centred square; chosen rows with ``only`` set are
    zeroed first and get ``z + sign·patch_only_scale·u·ζ_y``. Unchosen rows are unchanged.
    """
    out = x.clone()
    dev = x.device
    chosen = chosen.to(dev)
    only = draw.only.to(dev) & chosen
    coef = draw.sign.to(dev, x.dtype) * torch.where(only, patch_only_scale * draw.u.to(dev, x.dtype),
                                                    torch.ones((), device=dev, dtype=x.dtype))
    s = z.shape[-1]
    r0, c0 = patch_start(x.shape[-2], s), patch_start(x.shape[-1], s)
    rows = chosen.nonzero().squeeze(1)
    out[only] = 0.0
    out[rows, :, r0:r0 + s, c0:c0 + s] = z.to(dev, x.dtype) + coef[rows].view(-1, 1, 1, 1) * zeta.to(dev, x.dtype)[y[rows]]
    return out


@dataclass
class PatchData(ArrayData):
    """An :class:`ArrayData` whose training inputs are re-patched every epoch (``epoch_inputs``)."""

    z: torch.Tensor = None              # C×s×s shared pattern
    zeta: torch.Tensor = None           # K×C×s×s class patterns
    chosen: torch.Tensor = None         # bool, N_train: indices chosen for a patch (fixed)
    options: dict = field(default_factory=dict)
    seed: int = 0

    def epoch_inputs(self, run_seed: int, epoch: int) -> torch.Tensor:
        """The training inputs of epoch ``epoch`` (0-based) of the run seeded ``run_seed``:
        every chosen example with a fresh patch draw, on the data's device."""
        g = _gen(self.seed, _STREAM_EPOCH, run_seed, epoch)
        draw = Draw.sample(self.y_train.shape[0], self.options["patch_only_prob"], g)
        return apply_patch(self.x_train, self.y_train, self.chosen, draw, self.z, self.zeta,
                           self.options["patch_only_scale"])

    def mix(self, run_seed: int, epoch: int) -> dict:
        """Fractions of clean, image+patch and patch-only rows in one epoch's draw (for tests)."""
        g = _gen(self.seed, _STREAM_EPOCH, run_seed, epoch)
        draw = Draw.sample(self.y_train.shape[0], self.options["patch_only_prob"], g)
        chosen, only = self.chosen.cpu(), draw.only
        n = float(chosen.numel())
        return {"clean": float((~chosen).sum()) / n, "image+patch": float((chosen & ~only).sum()) / n,
                "patch-only": float((chosen & only).sum()) / n}

    def to(self, device) -> "PatchData":
        base = ArrayData.to(self, device)
        return PatchData(**{**base.__dict__, "z": self.z.to(device), "zeta": self.zeta.to(device),
                            "chosen": self.chosen.to(device), "options": dict(self.options), "seed": self.seed})


def make_patch_data(base: ArrayData, seed: int = 0, **options) -> PatchData:
    """Wrap a loaded image dataset (N×C×H×W, normalized) with the patch scheme (module docstring)."""
    o = check_options(options, tuple(base.x_train.shape))
    c, k, s = base.x_train.shape[1], base.num_classes, o["patch_size"]
    g = _gen(seed, _STREAM_PATTERNS)
    z = o["z_scale"] * torch.randn(c, s, s, generator=g)
    zeta = (torch.rand(k, c, s, s, generator=g) * 2.0 - 1.0) * o["patch_sep"]
    chosen = torch.rand(base.y_train.shape[0], generator=_gen(seed, _STREAM_CHOSEN)) < o["patch_prob"]

    # evaluation: clean test, the same test images through the scheme (one fixed draw), patch-only
    g_test = _gen(seed, _STREAM_TEST)
    n_test = base.y_test.shape[0]
    test_chosen = torch.rand(n_test, generator=g_test) < o["patch_prob"]
    x_patched = apply_patch(base.x_test, base.y_test, test_chosen, Draw.sample(n_test, o["patch_only_prob"], g_test),
                            z, zeta, o["patch_only_scale"])
    g_only = _gen(seed, _STREAM_ONLY)
    m = o["patch_only_eval"]
    y_only = torch.randint(0, k, (m,), generator=g_only)
    x_only = apply_patch(torch.zeros(m, *base.x_test.shape[1:]), y_only, torch.ones(m, dtype=torch.bool),
                         Draw.sample(m, o["patch_only_prob"], g_only), z, zeta, o["patch_only_scale"])
    part = torch.cat([torch.zeros(n_test), torch.ones(n_test), torch.full((m,), 2.0)])
    test_subsets = {"clean": part == 0, "patched": part == 1, "patch_only": part == 2}

    ident = {key: base.info[key] for key in ("content_sha256", "data_sha256", "official") if key in base.info}
    if "content_sha256" in ident:  # the rows loaded plus the patch scheme made from them
        ident["content_sha256"] = hashlib.sha256(json.dumps(
            {"base": base.info["content_sha256"], "patch": o, "seed": int(seed), "scheme": SCHEME_VERSION},
            sort_keys=True).encode()).hexdigest()
    r0 = patch_start(base.x_train.shape[-2], s)
    info = {
        **{k_: v for k_, v in base.info.items() if k_ not in ident},
        **ident,
        "dataset": f"patch-{base.name} (Li, Wei, Ma 2019, patch experiment)",
        "base": base.name,
        "patch": {**o, "seed": int(seed), "rows_cols": [r0, r0 + s - 1], "channels": int(c),
                  "chosen_fraction": float(chosen.float().mean()),
                  "z_norm": float(z.norm()), "zeta_norm_mean": float(zeta.flatten(1).norm(dim=1).mean()),
                  "scheme": "chosen once w.p. patch_prob; per load: sign ±1; w.p. 1-patch_only_prob "
                            "patch = z + s*zeta_y written over the centred square, else image zeroed and "
                            "patch = z + s*patch_only_scale*U(0,1)*zeta_y; re-drawn every epoch "
                            "(seed: dataset seed, run seed, epoch)"},
        "test_parts": {"clean": n_test, "patched": n_test, "patch_only": m},
    }
    return PatchData(name=f"patch-{base.name}", x_train=base.x_train, y_train=base.y_train,
                     x_test=torch.cat([base.x_test, x_patched, x_only]),
                     y_test=torch.cat([base.y_test, base.y_test, y_only]),
                     num_classes=k, train_subsets={}, test_subsets=test_subsets, info=info,
                     z=z, zeta=zeta, chosen=chosen, options=o, seed=int(seed))

"""PS10: the "Pattern Separation 10" dataset of You et al. (2019), §5.1.

What the paper fixes (and this module guarantees)
--------------------------------------------------
* 10 classes.
* A *simple* sub-dataset with 10 pattern points per class (100 points) and a
  *complex* sub-dataset with 100 pattern points per class (1000 points); every
  pattern point lies in R^3.
* Complexity = expected class-conditional entropy of which pattern an example
  carries, E_y H(P(pattern | y)) in bits: exactly log2 10 for the simple part and
  log2 100 for the complex part.  Every pattern has the same number of examples
  (pattern ids are dealt round-robin, then shuffled), and every class owns the
  same number of patterns, so the entropies are exact, not just expected.
* Images have 6 channels and are constant over the spatial grid
  (``image_size`` x ``image_size``).  Channels 0-2 carry the simple pattern,
  channels 3-5 the complex one; the absent part is exactly zero.
* Half of the clean examples carry only a simple pattern, half only a complex one.
  The label is recoverable from either (a pattern point determines its class).
* Noisy variant: ``noise_fraction`` (paper: 0.1) of *additional* training rows
  whose fit can only be memorization.  The test set never contains noise.

What the paper leaves open, and what is chosen here (fixed)
-----------------------------------------------------------
Region.  All pattern points and all noise points live in the cube [-1, 1]^3.

Pattern points (label regions).  The centres of a part come in *clusters* of
``cluster_size`` same-class centres (simple: 1, complex: 4 by default).  Cluster
anchors are dart-thrown (random sequential addition): uniform candidates in the
cube, kept only if at least ``min_sep_fraction * s`` (0.6 s) away from every
anchor already kept, where ``s = (8 / n_clusters) ** (1/3)`` is the typical anchor
spacing.  Each cluster's members are dart-thrown in a ball of radius
``cluster_radius_fraction * s`` (0.2 s) around its anchor, pairwise at least half
that radius apart (so distinct clusters stay >= 0.2 s apart).  Classes are
interleaved at random in space: cluster labels are a balanced round-robin (every
class owns the same number of clusters, hence of centres) randomly permuted.
Default numbers:

    simple : 100 centres = 100 clusters of 1, s = 0.431, min anchor sep 0.259,
             median nearest-neighbour (NN) distance between centres ~0.32
    complex: 1000 centres = 250 clusters of 4, s = 0.318, min anchor sep 0.190,
             cluster radius 0.064, median NN distance between centres ~0.05

So the label is a random 10-colouring of 100 cells of R^3 for the simple part and
of 250 finer, closer cells for the complex part (plus 4 distinct pattern points
inside each complex cell).  Why clusters rather than 1000 independent cells:
calibration with small fast-profile networks (MLP 96-256-256-10 with BatchNorm,
n_train 10k, 45 epochs) showed 1000 (or 500) independently labelled cells are
not learnable at that scale (complex test accuracy 0.25-0.45 under lrDecay, every
arm stuck), whereas 200-250 cells give the paper's dynamics (simple learned
first, decay lifts complex).  ``complex_cluster_size=1`` restores fully
independent interleaving (e.g. for a large GPU model).  The complexity
E_y H(pattern | y) is log2 100 either way: it counts pattern points, not cells.

The two claims on PS10 do not use the same construction (the paper's Fig. 9 and Fig. 10
share one): large-lr-suppresses-noise keeps these defaults (250 complex cells), while
ps10-decay-learns-complex sets ``complex_cluster_size=2`` (500 cells; calibrated in its
own module, with the MLP at 30 epochs). Unifying them is a protocol change for one of the two.

Jitter.  Every example is its pattern's centre plus isotropic Gaussian jitter with
std ``jitter_fraction`` (0.1) times the median NN distance among that part's
centres (~0.032 simple, ~0.005 complex): far below half the smallest distance to
a centre of another class, so the nearest noiseless centre recovers the label of
essentially every example (100 % on 2000 test rows in calibration).

Noise rows.  ``n_noise = round(noise_fraction * n_train)`` *extra* training rows
(tagged "noise"), with class labels dealt round-robin over the 10 classes and
shuffled (uniform; exactly balanced when n_noise is a multiple of 10), so a label
carries no information about its input: fitting these rows is memorization, and
a model that ignores them scores chance (~10 %) on them.  The input depends on
``noise_kind``:

* ``"point"`` (default): a fresh point uniform in the same cube, constant over
  space, placed in the simple channels (0-2) or the complex channels (3-5), half
  each (assignment shuffled).  Noise thus lives exactly where the patterns live
  and fitting it competes with them.  (Calibration: the small fast-profile MLP
  does not memorize these at all in 45 epochs - noise accuracy stays at chance
  in every arm.)
* ``"point6"``: a fresh point uniform in [-1, 1]^6, constant over space, in all 6
  channels (both groups active - an input no clean row has).  Memorizable by
  small networks in a few dozen epochs.
* ``"image"``: i.i.d. N(0, 1) pixels (not constant over space), i.e. unit RMS
  like the clean channels.  Memorized by every arm (100 %).

Noise rows are *added*: the centres, the clean training rows and the whole test
set are identical with or without noise for the same seed.

Normalization.  Inputs are multiplied by a fixed, analytic per-channel factor
``1 / sqrt(0.5 * (1/3 + sigma_part^2))`` - the inverse RMS of a channel over the
whole (clean) data: a coordinate of a uniform point in [-1, 1] has variance 1/3,
the jitter adds sigma^2, and the channel is zero in the other half of the rows.
The mean is ~0 by symmetry, so no shift is applied.  Each channel thus has
roughly unit RMS (about 1.0 +- 0.05).  The factor is the same for train and test
and does not depend on the drawn data.

Sizes.  Balance is exact only when every pattern gets the same number of rows:
``n_train`` and ``n_test`` must both be positive multiples of
``2 * lcm(10 * simple_patterns_per_class, 10 * complex_patterns_per_class)``
(= 2000 by default; e.g. 2_000, 10_000, 50_000), otherwise a ValueError is raised.
(Each half then gives every simple pattern n/200 rows and every complex pattern
n/2000 rows.)

Calibration (scratch runs, seeds 0-2, not part of the suite).  MLP on the
flattened 6x4x4 input, 96-256-256-10 with BatchNorm+ReLU, n_train 10_000,
image_size 4, SGD momentum 0.9, wd 5e-4, batch 128, 15 epochs per stage (45 in
all); final test simple/complex accuracy:
lrDecay 0.1/0.01/0.001: 1.00/1.00 (complex 0.77-0.79 at the end of stage 1, simple
already 0.97-0.99; first decay adds +0.20 to +0.22 complex, <= +0.03 simple);
constant 0.1: complex 0.91-0.92; constant 0.01: 0.94-0.97; constant 0.001:
0.71-0.81 (still rising - optimisation-limited at this budget).
With 10 % "point" noise: complex lrDecay 0.99-1.00 > constant 0.01 0.92-0.94 >
constant 0.001 0.74-0.77, noise-row accuracy ~chance (0.10-0.14) in every arm.
With "point6" noise the noise IS memorized, but more by lrDecay (0.58-0.62) than
by constant 0.01 (0.52-0.55) or 0.001 (0.32-0.37).

Randomness.  Everything comes from ``numpy.random.Generator`` objects seeded
explicitly from ``seed`` (independent streams for centres, train rows, test rows,
noise rows and the final train shuffle); the global RNGs are never touched.
"""
from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass

import numpy as np
import torch

from .base import ArrayData

NUM_CLASSES = 10
CHANNELS = 6
SIMPLE_CHANNELS = slice(0, 3)
COMPLEX_CHANNELS = slice(3, 6)
_BOX = 1.0  # points live in [-_BOX, _BOX]^3
NOISE_KINDS = ("point", "point6", "image")
_VOLUME = (2 * _BOX) ** 3

# Independent RNG stream tags (seed, tag) -> numpy Generator.
_STREAM_CENTRES_SIMPLE, _STREAM_CENTRES_COMPLEX = 1, 2
_STREAM_TRAIN, _STREAM_TEST, _STREAM_NOISE, _STREAM_SHUFFLE = 3, 4, 5, 6


def _rng(seed: int, tag: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), 0x5053_3130, tag]))


def class_conditional_entropy(pattern_ids, labels) -> float:
    """E_y H(P(pattern | y)) in bits, computed from the data.

    ``pattern_ids`` and ``labels`` are 1-D arrays/tensors of equal length; P(y) and
    P(pattern | y) are the empirical frequencies.
    """
    p = np.asarray(pattern_ids.cpu() if isinstance(pattern_ids, torch.Tensor) else pattern_ids).reshape(-1)
    y = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels).reshape(-1)
    if p.shape != y.shape:
        raise ValueError(f"pattern_ids has {p.size} entries, labels has {y.size}")
    if p.size == 0:
        raise ValueError("class_conditional_entropy of an empty set")
    total = 0.0
    for c in np.unique(y):
        _, counts = np.unique(p[y == c], return_counts=True)
        q = counts / counts.sum()
        total += (counts.sum() / y.size) * float(-(q * np.log2(q)).sum())
    return float(total)


def _dart_throw(rng: np.random.Generator, n: int, min_sep: float, box: float = _BOX, ball: bool = False,
                max_tries: int = 200_000) -> np.ndarray:
    """n points uniform in [-box, box]^3 (or the ball of radius box) with pairwise distance >= min_sep
    (random sequential addition)."""
    pts = np.empty((n, 3))
    k = tries = 0
    while k < n:
        cand = rng.uniform(-box, box, size=(256, 3))
        if ball:
            cand = cand[np.sum(cand**2, axis=1) <= box**2]
        for c in cand:
            tries += 1
            if k == 0 or np.min(np.sum((pts[:k] - c) ** 2, axis=1)) >= min_sep**2:
                pts[k] = c
                k += 1
                if k == n:
                    break
        if tries > max_tries:
            raise RuntimeError(f"could not place {n} centres with min separation {min_sep:.4f}")
    return pts


def _nn_distances(pts: np.ndarray) -> np.ndarray:
    d2 = np.sum((pts[:, None, :] - pts[None, :, :]) ** 2, axis=-1)
    np.fill_diagonal(d2, np.inf)
    return np.sqrt(d2.min(axis=1))


@dataclass
class _Part:
    name: str
    patterns_per_class: int
    cluster_size: int
    centres: np.ndarray  # (K, 3), raw coordinates in [-1, 1]^3
    centre_labels: np.ndarray  # (K,) int
    spacing: float  # typical spacing of the label regions (clusters)
    min_sep: float  # min distance between cluster anchors
    cluster_radius: float
    jitter_std: float
    scale: float  # input = raw * scale

    @property
    def n_centres(self) -> int:
        return self.centres.shape[0]


def _make_part(name, seed, tag, patterns_per_class, cluster_size, min_sep_fraction,
               cluster_radius_fraction, jitter_fraction) -> _Part:
    rng = _rng(seed, tag)
    k = NUM_CLASSES * patterns_per_class
    n_clusters = k // cluster_size
    spacing = (_VOLUME / n_clusters) ** (1.0 / 3.0)
    radius = cluster_radius_fraction * spacing if cluster_size > 1 else 0.0
    min_sep = min_sep_fraction * spacing
    anchors = _dart_throw(rng, n_clusters, min_sep, box=_BOX - radius)
    if cluster_size > 1:
        # members: dart-thrown in the ball of the given radius around the anchor
        offsets = np.stack([_dart_throw(rng, cluster_size, 0.5 * radius, box=radius, ball=True)
                            for _ in range(n_clusters)])
        centres = (anchors[:, None, :] + offsets).reshape(k, 3)
    else:
        centres = anchors
    cluster_labels = rng.permutation(np.arange(n_clusters) % NUM_CLASSES)
    labels = np.repeat(cluster_labels, cluster_size)
    jitter = jitter_fraction * float(np.median(_nn_distances(centres)))
    scale = 1.0 / math.sqrt(0.5 * (_BOX**2 / 3.0 + jitter**2))
    return _Part(name, patterns_per_class, cluster_size, centres, labels, spacing, min_sep, radius,
                 jitter, scale)


def _sample_part(part: _Part, n: int, rng: np.random.Generator):
    """n examples of one part: balanced pattern ids, shuffled; returns (raw points, pattern ids, labels)."""
    pids = rng.permutation(np.arange(n) % part.n_centres)
    pts = part.centres[pids] + rng.normal(0.0, part.jitter_std, size=(n, 3))
    return pts, pids, part.centre_labels[pids]


@dataclass
class PS10:
    """Everything :func:`build_ps10` makes; ``data`` is what :func:`make_ps10` returns.

    pattern ids index the part's centres (0..99 simple, 0..999 complex), -1 on noise rows.
    ``*_centres`` are in input units (already scaled like the channels they feed).
    """

    data: ArrayData
    pattern_ids_train: torch.Tensor
    pattern_ids_test: torch.Tensor
    simple_centres: torch.Tensor  # (10 * simple_patterns_per_class, 3)
    simple_centre_labels: torch.Tensor
    complex_centres: torch.Tensor  # (10 * complex_patterns_per_class, 3)
    complex_centre_labels: torch.Tensor


def _check_size(name: str, n: int, multiple: int) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0 or n % multiple:
        raise ValueError(
            f"PS10: {name}={n!r} must be a positive multiple of {multiple} (= 2 halves x lcm of the "
            f"simple and complex pattern counts), so that every pattern gets exactly the same number of "
            f"examples and the class-conditional entropies are exact; e.g. {multiple * 5}")


def check_ps10(**args) -> None:
    """ValueError naming the first argument :func:`build_ps10` would refuse (run configs check theirs with it
    when they are made, so a bad one never reaches a worker); arguments not given take build_ps10's defaults."""
    a = {**_build_defaults(), **args}
    for name in ("simple_patterns_per_class", "complex_patterns_per_class", "simple_cluster_size",
                 "complex_cluster_size"):
        v = a[name]
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"PS10: {name}={v!r} must be a positive int")
    for name in ("noise_fraction", "min_sep_fraction", "cluster_radius_fraction", "jitter_fraction"):
        v = a[name]
        if not isinstance(v, (int, float, np.floating)) or isinstance(v, bool) or not math.isfinite(v):
            raise ValueError(f"PS10: {name}={v!r} must be a finite number")
    multiple = 2 * math.lcm(NUM_CLASSES * a["simple_patterns_per_class"], NUM_CLASSES * a["complex_patterns_per_class"])
    _check_size("n_train", a["n_train"], multiple)
    _check_size("n_test", a["n_test"], multiple)
    if not isinstance(a["image_size"], (int, np.integer)) or isinstance(a["image_size"], bool) or a["image_size"] <= 0:
        raise ValueError(f"PS10: image_size={a['image_size']!r} must be a positive int")
    if not (0.0 <= float(a["noise_fraction"]) <= 1.0):
        raise ValueError(f"PS10: noise_fraction={a['noise_fraction']!r} must lie in [0, 1]")
    for part in ("simple", "complex"):
        ppc, g = a[f"{part}_patterns_per_class"], a[f"{part}_cluster_size"]
        if ppc % g:
            raise ValueError(f"PS10: {part}_cluster_size={g} must be a positive divisor of "
                             f"{part}_patterns_per_class={ppc} (so every class owns whole clusters)")
    if a["noise_kind"] not in NOISE_KINDS:
        raise ValueError(f"PS10: noise_kind={a['noise_kind']!r} must be one of {NOISE_KINDS}")
    if not (0.0 <= a["jitter_fraction"] < 0.5):
        raise ValueError("PS10: need 0 <= jitter_fraction < 0.5")
    if not (0.0 < a["cluster_radius_fraction"] and 2 * a["cluster_radius_fraction"] < a["min_sep_fraction"] <= 0.8):
        raise ValueError("PS10: need 0 < 2 * cluster_radius_fraction < min_sep_fraction <= 0.8 "
                         "(clusters must not overlap; larger separations cannot be packed)")


@functools.cache
def _build_defaults() -> dict:
    return {k: p.default for k, p in inspect.signature(build_ps10).parameters.items() if k != "seed"}


def _clean_split(simple: _Part, complex_: _Part, n: int, rng: np.random.Generator):
    """``n`` clean rows, the first half simple-only, the second complex-only: pattern vectors (n, 6), pattern
    ids, labels and part codes (0 simple, 1 complex)."""
    half = n // 2
    ps, pid_s, y_s = _sample_part(simple, half, rng)
    pc, pid_c, y_c = _sample_part(complex_, half, rng)
    v = np.zeros((n, CHANNELS))
    v[:half, SIMPLE_CHANNELS] = ps
    v[half:, COMPLEX_CHANNELS] = pc
    part = np.r_[np.zeros(half, dtype=np.int8), np.ones(half, dtype=np.int8)]
    return v, np.r_[pid_s, pid_c], np.r_[y_s, y_c], part


def _noise_rows(n_noise: int, seed: int, image_size: int, noise_kind: str):
    """The noise rows' pattern vectors (n_noise, 6), labels, and for ``noise_kind="image"`` their images (else
    None). The 3-d points, halves and labels are drawn first whatever the kind; "point6" and "image" draw after
    them, replacing or adding to them. Every stored dataset was drawn in this order: changing it changes data."""
    rng = _rng(seed, _STREAM_NOISE)
    pts = rng.uniform(-_BOX, _BOX, size=(n_noise, 3))
    in_complex = rng.permutation(np.arange(n_noise) % 2).astype(bool)
    y_n = rng.permutation(np.arange(n_noise) % NUM_CLASSES)
    v_n = np.zeros((n_noise, CHANNELS))
    v_n[~in_complex, SIMPLE_CHANNELS] = pts[~in_complex]
    v_n[in_complex, COMPLEX_CHANNELS] = pts[in_complex]
    img_n = None
    if noise_kind == "point6":
        v_n = rng.uniform(-_BOX, _BOX, size=(n_noise, CHANNELS))
    elif noise_kind == "image":
        img_n = rng.normal(size=(n_noise, CHANNELS, image_size, image_size)).astype(np.float32)
    return v_n, y_n, img_n


def _describe_part(p: _Part, parts: np.ndarray, pids: np.ndarray, ys: np.ndarray, code: int) -> dict:
    """One part's construction and measured geometry, for the dataset's ``info``."""
    nn = _nn_distances(p.centres)
    return {
        "channels": [0, 1, 2] if p.name == "simple" else [3, 4, 5],
        "patterns_per_class": p.patterns_per_class,
        "n_centres": p.n_centres,
        "cluster_size": p.cluster_size,
        "n_label_regions": p.n_centres // p.cluster_size,
        "centre_distribution": (
            f"cluster anchors dart-thrown uniformly in [-{_BOX}, {_BOX}]^3 (pairwise distance >= "
            f"anchor_min_separation), classes balanced round-robin over anchors, randomly permuted; "
            f"each anchor carries cluster_size same-class centres dart-thrown in a ball of radius "
            f"cluster_radius around it (pairwise >= cluster_radius / 2)"),
        "anchor_spacing": p.spacing,
        "anchor_min_separation": p.min_sep,
        "cluster_radius": p.cluster_radius,
        "nn_distance_min": float(nn.min()),
        "nn_distance_median": float(np.median(nn)),
        "jitter_std": p.jitter_std,
        "input_scale": p.scale,
        "complexity_bits": class_conditional_entropy(pids[parts == code], ys[parts == code]),
        "complexity_bits_nominal": math.log2(p.patterns_per_class),
    }


_NOISE_ROWS = {
    "point": "uniform point in [-1,1]^3, constant over space, in simple or complex channels (half each, shuffled)",
    "point6": "uniform point in [-1,1]^6, constant over space, in all 6 channels",
    "image": "i.i.d. N(0,1) pixels in all 6 channels (not constant over space)",
}


def _info(params: dict, simple: _Part, complex_: _Part, train: tuple, n_noise: int) -> dict:
    """The dataset's ``info``: its parameters, both parts described on the training rows ``train`` = (part
    codes, pattern ids, labels), and the noise rows."""
    return {
        "dataset": "PS10 (You et al. 2019, §5.1)",
        "params": params,
        "num_classes": NUM_CLASSES,
        "layout": "6 channels constant over HxW; 0-2 simple pattern, 3-5 complex pattern, absent part = 0",
        "simple": _describe_part(simple, *train, 0),
        "complex": _describe_part(complex_, *train, 1),
        "noise": {
            "n_noise": n_noise,
            "kind": params["noise_kind"],
            "rows": _NOISE_ROWS[params["noise_kind"]] + "; additional training rows only (no test noise); labels "
                                                        "balanced round-robin then shuffled, independent of the "
                                                        "input; chance accuracy 10%",
        },
        "normalization": "x = raw * 1/sqrt(0.5*(1/3 + jitter_std^2)) per channel group (analytic unit RMS)",
        "n_rows": {"train": int(train[0].shape[0]), "test": params["n_test"]},
    }


def _subsets(part: torch.Tensor, with_noise: bool) -> dict:
    subsets = {"simple": part == 0, "complex": part == 1}
    if with_noise:
        subsets["noise"] = part == 2
    return subsets


def build_ps10(
    n_train: int = 50_000,
    n_test: int = 10_000,
    image_size: int = 32,
    noise_fraction: float = 0.0,
    seed: int = 0,
    *,
    simple_patterns_per_class: int = 10,
    complex_patterns_per_class: int = 100,
    simple_cluster_size: int = 1,
    complex_cluster_size: int = 4,
    min_sep_fraction: float = 0.6,
    cluster_radius_fraction: float = 0.2,
    jitter_fraction: float = 0.1,
    noise_kind: str = "point",
) -> PS10:
    """Build PS10 and keep the pattern ids and centres alongside the :class:`ArrayData`."""
    check_ps10(**{k: v for k, v in locals().items() if k != "seed"})   # locals(): just the arguments here
    params = {
        "n_train": n_train, "n_test": n_test, "image_size": image_size,
        "noise_fraction": float(noise_fraction), "seed": seed,
        "simple_patterns_per_class": simple_patterns_per_class,
        "complex_patterns_per_class": complex_patterns_per_class,
        "simple_cluster_size": simple_cluster_size, "complex_cluster_size": complex_cluster_size,
        "min_sep_fraction": min_sep_fraction, "cluster_radius_fraction": cluster_radius_fraction,
        "jitter_fraction": jitter_fraction, "noise_kind": noise_kind,
    }
    simple = _make_part("simple", seed, _STREAM_CENTRES_SIMPLE, simple_patterns_per_class,
                        simple_cluster_size, min_sep_fraction, cluster_radius_fraction, jitter_fraction)
    complex_ = _make_part("complex", seed, _STREAM_CENTRES_COMPLEX, complex_patterns_per_class,
                          complex_cluster_size, min_sep_fraction, cluster_radius_fraction, jitter_fraction)
    scale = np.array([simple.scale] * 3 + [complex_.scale] * 3)

    v_tr, pid_tr, y_tr, part_tr = _clean_split(simple, complex_, n_train, _rng(seed, _STREAM_TRAIN))
    v_te, pid_te, y_te, part_te = _clean_split(simple, complex_, n_test, _rng(seed, _STREAM_TEST))

    n_noise = int(round(float(noise_fraction) * n_train))
    img_n = None
    if n_noise:
        v_n, y_n, img_n = _noise_rows(n_noise, seed, image_size, noise_kind)
        v_tr = np.concatenate([v_tr, v_n])
        pid_tr = np.r_[pid_tr, -np.ones(n_noise, dtype=pid_tr.dtype)]
        y_tr = np.r_[y_tr, y_n]
        part_tr = np.r_[part_tr, np.full(n_noise, 2, dtype=np.int8)]  # 2 noise

    # Shuffle the training rows (simple / complex / noise interleaved); test rows too.
    order_tr = _rng(seed, _STREAM_SHUFFLE).permutation(v_tr.shape[0])
    v_tr, pid_tr, y_tr, part_tr = v_tr[order_tr], pid_tr[order_tr], y_tr[order_tr], part_tr[order_tr]
    order = _rng(seed, _STREAM_SHUFFLE + 100).permutation(n_test)
    v_te, pid_te, y_te, part_te = v_te[order], pid_te[order], y_te[order], part_te[order]

    def to_images(v: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy((v * scale).astype(np.float32))
        return t[:, :, None, None].expand(-1, -1, image_size, image_size).contiguous()

    x_train, x_test = to_images(v_tr), to_images(v_te)
    if img_n is not None:   # image noise: its rows carry their own pixels, not a constant pattern vector
        pos = np.nonzero(order_tr >= n_train)[0]
        x_train[torch.from_numpy(pos)] = torch.from_numpy(img_n[order_tr[pos] - n_train])
    data = ArrayData(
        name="ps10" if not n_noise else f"ps10-noise{float(noise_fraction):g}",
        x_train=x_train, y_train=torch.from_numpy(y_tr.astype(np.int64)),
        x_test=x_test, y_test=torch.from_numpy(y_te.astype(np.int64)), num_classes=NUM_CLASSES,
        train_subsets=_subsets(torch.from_numpy(part_tr), bool(n_noise)),
        test_subsets=_subsets(torch.from_numpy(part_te), False),
        info=_info(params, simple, complex_, (part_tr, pid_tr, y_tr), n_noise),
    )
    f32 = lambda a: torch.from_numpy(a.astype(np.float32))  # noqa: E731
    i64 = lambda a: torch.from_numpy(np.asarray(a).astype(np.int64))  # noqa: E731
    return PS10(
        data=data, pattern_ids_train=i64(pid_tr), pattern_ids_test=i64(pid_te),
        simple_centres=f32(simple.centres * simple.scale), simple_centre_labels=i64(simple.centre_labels),
        complex_centres=f32(complex_.centres * complex_.scale), complex_centre_labels=i64(complex_.centre_labels),
    )


def make_ps10(
    n_train: int = 50_000,
    n_test: int = 10_000,
    image_size: int = 32,
    noise_fraction: float = 0.0,
    seed: int = 0,
    **construction,
) -> ArrayData:
    """PS10 as an :class:`ArrayData` (see the module docstring for every choice).

    construction: ``simple_patterns_per_class`` (10), ``complex_patterns_per_class`` (100),
    ``simple_cluster_size`` (1), ``complex_cluster_size`` (4), ``min_sep_fraction`` (0.6),
    ``cluster_radius_fraction`` (0.2), ``jitter_fraction`` (0.1), ``noise_kind`` ("point").
    """
    return build_ps10(n_train, n_test, image_size, noise_fraction, seed, **construction).data


def nearest_centre_accuracy(points: torch.Tensor, labels: torch.Tensor, centres: torch.Tensor,
                            centre_labels: torch.Tensor) -> float:
    """Accuracy of labelling each point (N, 3) with the class of its nearest noiseless centre."""
    nearest = torch.cdist(points.double(), centres.double()).argmin(dim=1)
    return float((centre_labels[nearest] == labels).double().mean())

"""PS10 (You et al. 2019 §5.1): the properties the paper fixes, plus determinism and input checks."""
import json
import math

import numpy as np
import pytest
import torch

from lrsci.data.base import ArrayData
from lrsci.data.ps10 import (build_ps10, class_conditional_entropy, make_ps10,
                             nearest_centre_accuracy)

N_TRAIN, N_TEST, IMG = 4000, 2000, 4


def _clean_rows(p):
    d = p.data
    keep = ~d.train_subsets.get("noise", torch.zeros_like(d.y_train, dtype=torch.bool))
    rows = torch.cat([d.x_train[keep][:, :, 0, 0], d.y_train[keep].unsqueeze(1).float()], 1)
    return sorted(map(tuple, rows.tolist()))


@pytest.fixture(scope="module")
def clean():
    return build_ps10(N_TRAIN, N_TEST, IMG, 0.0, seed=11)


@pytest.fixture(scope="module")
def noisy():
    return build_ps10(N_TRAIN, N_TEST, IMG, 0.1, seed=11)


def test_shapes_and_types(clean):
    d = clean.data
    assert isinstance(d, ArrayData) and d.num_classes == 10
    assert d.x_train.shape == (N_TRAIN, 6, IMG, IMG) and d.x_test.shape == (N_TEST, 6, IMG, IMG)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert d.x_train.is_contiguous()
    assert set(d.y_train.unique().tolist()) == set(range(10))
    json.dumps(d.info)  # JSON-serialisable


def test_spatially_constant(clean, noisy):
    for x in (clean.data.x_train, clean.data.x_test, noisy.data.x_train):
        assert torch.equal(x, x[:, :, :1, :1].expand_as(x))


def test_channel_layout(clean):
    d = clean.data
    for split in ("train", "test"):
        x = getattr(d, f"x_{split}")[:, :, 0, 0]
        sub = getattr(d, f"{split}_subsets")
        s, c = sub["simple"], sub["complex"]
        assert torch.all(x[s][:, 3:] == 0) and torch.all(x[s][:, :3].abs().sum(1) > 0)
        assert torch.all(x[c][:, :3] == 0) and torch.all(x[c][:, 3:].abs().sum(1) > 0)


def test_unit_scale_per_channel(clean):
    rms = clean.data.x_train[:, :, 0, 0].pow(2).mean(0).sqrt()
    assert torch.all((rms > 0.8) & (rms < 1.2)), rms
    assert clean.data.x_train[:, :, 0, 0].mean(0).abs().max() < 0.2


def test_exact_complexities(clean):
    d = clean.data
    for split, pid in (("train", clean.pattern_ids_train), ("test", clean.pattern_ids_test)):
        sub, y = getattr(d, f"{split}_subsets"), getattr(d, f"y_{split}")
        assert abs(class_conditional_entropy(pid[sub["simple"]], y[sub["simple"]]) - math.log2(10)) < 1e-9
        assert abs(class_conditional_entropy(pid[sub["complex"]], y[sub["complex"]]) - math.log2(100)) < 1e-9
    assert abs(d.info["simple"]["complexity_bits"] - math.log2(10)) < 1e-9
    assert abs(d.info["complex"]["complexity_bits"] - math.log2(100)) < 1e-9
    # every pattern equally frequent; 10 resp. 100 patterns per class
    s, c = d.train_subsets["simple"], d.train_subsets["complex"]
    assert torch.bincount(clean.pattern_ids_train[s], minlength=100).unique().tolist() == [N_TRAIN // 200]
    assert torch.bincount(clean.pattern_ids_train[c], minlength=1000).unique().tolist() == [N_TRAIN // 2000]
    assert torch.bincount(clean.simple_centre_labels).tolist() == [10] * 10
    assert torch.bincount(clean.complex_centre_labels).tolist() == [100] * 10
    assert clean.simple_centres.shape == (100, 3) and clean.complex_centres.shape == (1000, 3)


def test_class_conditional_entropy_function():
    assert class_conditional_entropy([0, 1, 2, 3], [0, 0, 1, 1]) == pytest.approx(1.0)
    assert class_conditional_entropy(np.array([5, 5, 7]), np.array([1, 1, 2])) == pytest.approx(0.0)
    assert class_conditional_entropy([0, 1, 2, 2], [0, 0, 0, 0]) == pytest.approx(1.5)
    with pytest.raises(ValueError):
        class_conditional_entropy([0, 1], [0])


def test_halves_balanced(clean):
    d = clean.data
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        sub, y = getattr(d, f"{split}_subsets"), getattr(d, f"y_{split}")
        assert int(sub["simple"].sum()) == int(sub["complex"].sum()) == n // 2
        for k in ("simple", "complex"):
            assert torch.bincount(y[sub[k]], minlength=10).tolist() == [n // 20] * 10


def test_subsets_disjoint_and_covering(clean, noisy):
    assert set(clean.data.train_subsets) == {"simple", "complex"}
    assert set(noisy.data.train_subsets) == {"simple", "complex", "noise"}
    for d in (clean.data, noisy.data):
        assert set(d.test_subsets) == {"simple", "complex"}
        for subsets, n in ((d.train_subsets, len(d.y_train)), (d.test_subsets, len(d.y_test))):
            count = sum(m.long() for m in subsets.values())
            assert torch.all(count == 1) and count.numel() == n


def test_noise_rows(clean, noisy):
    d = noisy.data
    noise = d.train_subsets["noise"]
    n_noise = int(noise.sum())
    assert n_noise == round(0.1 * N_TRAIN) and len(d.y_train) == N_TRAIN + n_noise
    assert d.info["noise"]["n_noise"] == n_noise and "noise" not in d.test_subsets
    assert torch.bincount(d.y_train[noise], minlength=10).tolist() == [n_noise // 10] * 10
    assert torch.all(noisy.pattern_ids_train[noise] == -1)
    xn = d.x_train[noise][:, :, 0, 0]
    in_simple = xn[:, :3].abs().sum(1) > 0
    in_complex = xn[:, 3:].abs().sum(1) > 0
    assert torch.all(in_simple ^ in_complex) and int(in_simple.sum()) == n_noise // 2
    # noise points are not pattern points: far from the nearest centre compared with the jitter
    dist = torch.cdist(xn[in_complex][:, 3:].double(), noisy.complex_centres.double()).min(1).values
    assert torch.median(dist) > 5 * d.info["complex"]["jitter_std"] * d.info["complex"]["input_scale"]
    # clean rows, centres and the test set do not depend on the noise
    assert torch.equal(d.x_test, clean.data.x_test) and torch.equal(d.y_test, clean.data.y_test)
    assert torch.equal(noisy.complex_centres, clean.complex_centres)
    assert _clean_rows(noisy) == _clean_rows(clean)


@pytest.mark.parametrize("kind", ["point6", "image"])
def test_other_noise_kinds(kind):
    p = build_ps10(2000, 2000, IMG, 0.1, seed=3, noise_kind=kind)
    d = p.data
    noise = d.train_subsets["noise"]
    assert int(noise.sum()) == 200 and d.info["noise"]["kind"] == kind
    xn = d.x_train[noise]
    assert torch.all(xn[:, :3].flatten(1).abs().sum(1) > 0) and torch.all(xn[:, 3:].flatten(1).abs().sum(1) > 0)
    clean = d.x_train[~noise]
    assert torch.equal(clean, clean[:, :, :1, :1].expand_as(clean))
    if kind == "image":
        assert not torch.equal(xn, xn[:, :, :1, :1].expand_as(xn))


def test_label_recoverable_from_nearest_centre(clean):
    d = clean.data
    for split in ("train", "test"):
        x, y = getattr(d, f"x_{split}")[:, :, 0, 0], getattr(d, f"y_{split}")
        sub = getattr(d, f"{split}_subsets")
        s, c = sub["simple"], sub["complex"]
        assert nearest_centre_accuracy(x[s][:, :3], y[s], clean.simple_centres, clean.simple_centre_labels) > 0.995
        assert nearest_centre_accuracy(x[c][:, 3:], y[c], clean.complex_centres, clean.complex_centre_labels) > 0.995
    # and the pattern id's centre carries the row's label
    s = d.train_subsets["simple"]
    assert torch.equal(clean.simple_centre_labels[clean.pattern_ids_train[s]], d.y_train[s])


def test_complex_finer_than_simple(clean):
    i = clean.data.info
    assert i["complex"]["n_label_regions"] > i["simple"]["n_label_regions"]
    assert i["complex"]["anchor_spacing"] < i["simple"]["anchor_spacing"]
    assert i["complex"]["nn_distance_median"] < i["simple"]["nn_distance_median"]


def test_deterministic():
    a = make_ps10(2000, 2000, 2, 0.1, seed=5)
    b = make_ps10(2000, 2000, 2, 0.1, seed=5)
    c = make_ps10(2000, 2000, 2, 0.1, seed=6)
    for k in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(a, k), getattr(b, k))
    assert all(torch.equal(a.train_subsets[k], b.train_subsets[k]) for k in a.train_subsets)
    assert a.info == b.info
    assert not torch.equal(a.x_train, c.x_train) and not torch.equal(a.x_test, c.x_test)


def test_global_rng_untouched():
    torch.manual_seed(123)
    np.random.seed(123)
    t0, n0 = torch.rand(3), np.random.rand(3)
    torch.manual_seed(123)
    np.random.seed(123)
    make_ps10(2000, 2000, 2, 0.1, seed=1)
    assert torch.equal(torch.rand(3), t0) and np.array_equal(np.random.rand(3), n0)


@pytest.mark.parametrize("kwargs", [
    dict(n_train=3000), dict(n_train=1000), dict(n_train=0), dict(n_test=500), dict(n_test=2500),
    dict(n_train=2000.0), dict(image_size=0), dict(image_size=True), dict(noise_fraction=-0.1), dict(noise_fraction=1.5),
    dict(complex_cluster_size=3), dict(noise_kind="gauss"), dict(cluster_radius_fraction=0.4),
])
def test_bad_arguments_raise(kwargs):
    args = dict(n_train=2000, n_test=2000, image_size=2)
    args.update(kwargs)
    with pytest.raises(ValueError):
        make_ps10(**args)


def test_size_error_message_is_clear():
    with pytest.raises(ValueError, match="multiple of 2000"):
        make_ps10(n_train=5000, n_test=2000, image_size=2)


def test_test_rows_are_not_training_rows(clean):
    """The test set is drawn from its own stream: no test input repeats a training input."""
    train = {tuple(r) for r in clean.data.x_train[:, :, 0, 0].tolist()}
    assert not any(tuple(r) in train for r in clean.data.x_test[:, :, 0, 0].tolist())


def test_jitter_is_a_tenth_of_the_median_centre_spacing(clean):
    """Every clean row is its pattern's centre plus Gaussian jitter of std 0.1 x the median NN distance."""
    d = clean.data
    for part, ch, centres in (("simple", slice(0, 3), clean.simple_centres),
                              ("complex", slice(3, 6), clean.complex_centres)):
        info = d.info[part]
        assert info["jitter_std"] == pytest.approx(0.1 * info["nn_distance_median"])
        rows = d.train_subsets[part]
        offsets = d.x_train[rows][:, ch, 0, 0] - centres[clean.pattern_ids_train[rows]]
        std = offsets.double().std().item() / info["input_scale"]
        assert std == pytest.approx(info["jitter_std"], rel=0.1)


def test_default_geometry_is_the_documented_one(clean):
    """100 simple regions with spacing 0.431 and 250 complex clusters of 4 with spacing 0.318, radius 0.064."""
    s, c = clean.data.info["simple"], clean.data.info["complex"]
    assert (s["n_label_regions"], s["cluster_size"], c["n_label_regions"], c["cluster_size"]) == (100, 1, 250, 4)
    assert s["anchor_spacing"] == pytest.approx(0.431, abs=1e-3) and s["anchor_min_separation"] == pytest.approx(0.259, abs=1e-3)
    assert c["anchor_spacing"] == pytest.approx(0.318, abs=1e-3) and c["anchor_min_separation"] == pytest.approx(0.190, abs=1e-3)
    assert c["cluster_radius"] == pytest.approx(0.064, abs=1e-3) and s["cluster_radius"] == 0.0
    assert s["nn_distance_min"] >= s["anchor_min_separation"]  # simple centres are the dart-thrown anchors


def test_complex_clusters_share_their_class(clean):
    """A complex centre's nearest other centre lies in its own cluster, so it carries the same label."""
    d = torch.cdist(clean.complex_centres.double(), clean.complex_centres.double())
    d.fill_diagonal_(float("inf"))
    nearest = d.argmin(1)
    assert torch.equal(clean.complex_centre_labels[nearest], clean.complex_centre_labels)


def test_the_seed_draws_the_centres():
    a, b = build_ps10(2000, 2000, 1, 0.0, seed=5), build_ps10(2000, 2000, 1, 0.0, seed=6)
    assert not torch.equal(a.simple_centres, b.simple_centres)
    assert not torch.equal(a.complex_centres, b.complex_centres)


def test_training_rows_are_shuffled(clean):
    """Simple and complex rows are interleaved, so any prefix of the training set holds both parts."""
    simple = clean.data.train_subsets["simple"][: N_TRAIN // 2].float().mean().item()
    assert 0.4 < simple < 0.6


def test_class_conditional_entropy_weights_classes_by_frequency():
    # class 0 (2 of 5 rows): two patterns, 1 bit; class 1 (3 of 5 rows): one pattern, 0 bits
    assert class_conditional_entropy([0, 1, 2, 2, 2], [0, 0, 1, 1, 1]) == pytest.approx(0.4)

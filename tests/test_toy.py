"""Li et al.'s P/Q toy distribution (lrsci.data.toy) and the two-layer logistic network."""
import hashlib
import math

import pytest
import torch
import torch.nn.functional as F

from lrsci.config import ConfigError, DataConfig, ModelConfig
from lrsci.data.registry import load_data
from lrsci.data.toy import DEFAULTS, _directions, make_toy
from lrsci.models import build_model
from lrsci.models.two_layer import TwoLayer

DP, DQ = DEFAULTS["dim_p"], DEFAULTS["dim_q"]


@pytest.fixture(scope="module")
def toy():
    return make_toy(n_train=2000, n_test=4000, seed=1)


def test_shapes_kinds_and_balance(toy):
    assert toy.x_train.shape == (2000, DP + DQ) and toy.num_classes == 2
    counts = {k: int(v.sum()) for k, v in toy.train_subsets.items()}
    assert counts == {"p_only": 100, "q_only": 1100, "both": 800}
    for split in ("train", "test"):
        y, subsets = getattr(toy, f"y_{split}"), getattr(toy, f"{split}_subsets")
        for mask in subsets.values():
            assert abs(float(y[mask].float().mean()) - 0.5) <= 0.01  # balanced within each kind


def test_absent_parts_are_exactly_zero(toy):
    x, s = toy.x_train, toy.train_subsets
    assert bool((x[s["p_only"], DP:] == 0).all()) and bool((x[s["q_only"], :DP] == 0).all())
    assert bool((x[s["both"], :DP] != 0).any(1).all()) and bool((x[s["both"], DP:] != 0).any(1).all())


def test_p_is_linear_with_noise_and_q_needs_a_nonlinearity(toy):
    o = DEFAULTS
    w, z, zeta = (torch.from_numpy(v).float() for v in _directions(o, seed=1))
    x, y, s = toy.x_test, toy.y_test, toy.test_subsets
    ys = 2 * y - 1
    # P: the Bayes rule sign(<x_P, w>) scores about Φ(gamma / sigma) on P-only rows
    p_rows = s["p_only"] | s["both"]
    acc_p = float(((x[p_rows, :DP] @ w).sign() == ys[p_rows]).float().mean())
    assert abs(acc_p - 0.5 * (1 + math.erf(o["gamma"] / o["sigma"] / math.sqrt(2)))) < 0.02
    # Q: noise free; class -1 is α z, class +1 is α (z ± ζ): |<x_Q, ζ>| > 0 decides, a linear rule cannot
    q = x[s["q_only"], DP:]
    yq = y[s["q_only"]]
    assert bool((((q @ zeta).abs() > 1e-4).long() == yq).all())
    assert float((q @ zeta)[yq == 0].abs().max()) < 1e-4
    mean0, mean1 = q[yq == 0].mean(0), q[yq == 1].mean(0)
    assert float((mean1 - mean0).norm()) < 0.1 * float(z.norm())  # the class means coincide along z


def test_determinism_and_registry(toy):
    again = make_toy(n_train=2000, n_test=4000, seed=1)
    assert torch.equal(again.x_train, toy.x_train) and torch.equal(again.y_test, toy.y_test)
    assert not torch.equal(make_toy(n_train=2000, n_test=4000, seed=2).x_train, toy.x_train)
    via = load_data(DataConfig("toy-pq", train_size=2000, test_size=4000, seed=1))
    assert torch.equal(via.x_train, toy.x_train)


def test_bad_options_are_refused():
    with pytest.raises(ConfigError, match="data.options"):
        DataConfig("toy-pq", options={"frac_p_only": 0.7, "frac_q_only": 0.6})
    with pytest.raises(ConfigError, match="data.options"):
        DataConfig("toy-pq", options={"sigma": -1.0})
    with pytest.raises(ConfigError, match="data.options"):
        DataConfig("toy-pq", options={"dim_r": 3})


def test_two_layer_cross_entropy_is_the_logistic_loss():
    torch.manual_seed(0)
    net = build_model(ModelConfig("two_layer", hidden=8), (5,), 2)
    assert isinstance(net, TwoLayer)
    x, y = torch.randn(32, 5), torch.randint(0, 2, (32,))
    g = net.margin(x)
    logistic = F.softplus(-(2 * y - 1).float() * g).mean()  # log(1 + exp(-y g))
    assert torch.allclose(F.cross_entropy(net(x), y), logistic, atol=1e-6)
    with pytest.raises(ValueError, match="binary"):
        TwoLayer(5, 8, num_classes=10)


def test_odd_sizes_whose_fractions_round_past_n_still_build():
    from lrsci.data.toy import make_toy

    d = make_toy(7, 9, frac_p_only=0.5, frac_q_only=0.5)   # 3.5 + 3.5 rounded to 4 + 4 > 7 once
    assert d.x_train.shape[0] == 7 and d.x_test.shape[0] == 9


def test_test_rows_are_drawn_apart_from_the_training_rows():
    """Train and test come from independent streams: no test row repeats a training row."""
    d = make_toy(n_train=200, n_test=200, seed=1, dim_p=8)
    train = {tuple(r) for r in d.x_train.tolist()}
    assert not any(tuple(r) in train for r in d.x_test.tolist())


def test_q_rows_scale_along_z_by_a_uniform_alpha(toy):
    """x_Q = α·(z ± ζ) with α ~ U(0, 1): the coordinate along z is α, spread over (0, 1)."""
    _, z, _ = (torch.from_numpy(v).float() for v in _directions(DEFAULTS, seed=1))
    alpha = toy.x_train[toy.train_subsets["q_only"], DP:] @ z / z.dot(z)
    assert float(alpha.min()) >= 0 and float(alpha.max()) <= 1 + 1e-5
    assert float(alpha.mean()) == pytest.approx(0.5, abs=0.05) and float(alpha.std()) > 0.2


def test_rows_of_the_three_kinds_are_interleaved(toy):
    first = toy.train_subsets["p_only"][:100]  # 100 P-only rows in all: unshuffled they would come first
    assert int(first.sum()) < 20


@pytest.mark.parametrize("sizes, options, sha256", [
    ((200, 100, 0), {}, "7eafd13595ab7853797fd121f652c3c673498b251cc3df540f00323ebbf95736"),
    ((50, 40, 3), {"dim_p": 1600, "dim_q": 20, "gamma": 0.1, "sigma": 0.05, "z_norm": 5.0, "zeta_norm": 1.0,
                   "frac_p_only": 0.05, "frac_q_only": 0.55},   # the two-layer claim's options
     "855bb844d2c92dbd9669446bed42b4cb7a4b96420594248509da47881df6304d"),
])
def test_the_bytes_drawn_for_a_seed_never_change(sizes, options, sha256):
    """Stored runs are checked against the bytes of their data: a rewrite of the sampler (e.g. for speed) must
    draw the same bits, or every stored toy run is refused as trained on other data."""
    d = make_toy(*sizes, **options)
    got = hashlib.sha256(b"".join(t.numpy().tobytes() for t in (d.x_train, d.y_train, d.x_test, d.y_test)))
    assert got.hexdigest() == sha256

"""Li et al.'s patch transform (lrsci.data.patch): the mix, the pattern written, determinism,
the evaluation sets, and the engine drawing it anew every epoch."""
import math

import pytest
import torch

from lrsci.config import ConfigError, DataConfig, ModelConfig, OptimConfig, RunConfig
from lrsci.data.base import ArrayData
from lrsci.data.patch import DEFAULTS, PatchData, make_patch_data, patch_start
from lrsci.train import Trainer

N, K = 20_000, 10


def fake_base(n: int = N, channels: int = 1, size: int = 28, n_test: int = 500, seed: int = 0) -> ArrayData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n + n_test, channels, size, size, generator=g) + 3.0  # never exactly zero
    y = torch.randint(0, K, (n + n_test,), generator=g)
    return ArrayData("fake", x[:n], y[:n], x[n:], y[n:], K, info={"content_sha256": "abc"})


@pytest.fixture(scope="module")
def data() -> PatchData:
    return make_patch_data(fake_base(), seed=3)


def region(x, s=7):
    r0, c0 = patch_start(x.shape[-2], s), patch_start(x.shape[-1], s)
    return x[..., r0:r0 + s, c0:c0 + s]


def outside(x, s=7):
    mask = torch.ones(x.shape[-2:], dtype=torch.bool)
    r0 = patch_start(x.shape[-2], s)
    mask[r0:r0 + s, r0:r0 + s] = False
    return x[..., mask]


def kinds(d: PatchData, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Classify each training row of one epoch's inputs by what was done to it."""
    base = d.x_train
    same_outside = (outside(x) == outside(base)).flatten(1).all(1)
    zero_outside = (outside(x) == 0).flatten(1).all(1)
    same_region = (region(x) == region(base)).flatten(1).all(1)
    return {"clean": same_outside & same_region, "image+patch": same_outside & ~same_region,
            "patch-only": zero_outside}


def test_patch_location_is_the_authors():
    assert patch_start(32, 7) == 12  # rows/cols 12..18 of CIFAR-10
    assert patch_start(28, 7) == 10


def test_mix_is_20_64_16_per_epoch_and_over_epochs(data):
    totals = {"clean": 0, "image+patch": 0, "patch-only": 0}
    for epoch in range(3):
        k = kinds(data, data.epoch_inputs(run_seed=0, epoch=epoch))
        assert int(sum(v.sum() for v in k.values())) == N  # every row is exactly one kind
        counts = {name: int(v.sum()) for name, v in k.items()}
        assert counts == {name: round(f * N) for name, f in data.mix(0, epoch).items()}
        for name in totals:
            totals[name] += counts[name]
    expected = {"clean": 0.2, "image+patch": 0.64, "patch-only": 0.16}
    for name, p in expected.items():
        sd = math.sqrt(p * (1 - p) / (3 * N))
        assert abs(totals[name] / (3 * N) - p) < 5 * sd + 0.005, (name, totals[name] / (3 * N))


def test_chosen_rows_are_fixed_and_the_rest_never_patched(data):
    for epoch in range(3):
        k = kinds(data, data.epoch_inputs(0, epoch))
        assert torch.equal(k["clean"], ~data.chosen)
    assert abs(float(data.chosen.float().mean()) - DEFAULTS["patch_prob"]) < 0.02


def test_pattern_written_is_z_plus_or_minus_zeta_of_the_class(data):
    x = data.epoch_inputs(0, 0)
    k = kinds(data, x)
    off = region(x) - data.z  # what is left after the shared pattern
    zeta = data.zeta[data.y_train]
    full = k["image+patch"]
    plus = torch.isclose(off[full], zeta[full], atol=1e-6).flatten(1).all(1)
    minus = torch.isclose(off[full], -zeta[full], atol=1e-6).flatten(1).all(1)
    assert bool((plus | minus).all())
    assert 0.45 < float(plus.float().mean()) < 0.55  # sign at random, not tied to the label
    only = k["patch-only"]
    coef = (off[only] * zeta[only]).flatten(1).sum(1) / (zeta[only] ** 2).flatten(1).sum(1)
    assert torch.allclose(off[only], coef.view(-1, 1, 1, 1) * zeta[only], atol=1e-5)  # along ±ζ_y
    assert float(coef.abs().max()) <= DEFAULTS["patch_only_scale"] + 1e-5  # s·1.75·U(0,1)
    assert float((coef > 0).float().mean()) == pytest.approx(0.5, abs=0.05)


def test_patterns_have_the_stated_scales(data):
    assert data.z.shape == (1, 7, 7) and data.zeta.shape == (K, 1, 7, 7)
    assert float(data.zeta.abs().max()) <= DEFAULTS["patch_sep"]
    assert 0.8 < float(data.z.std()) / DEFAULTS["z_scale"] < 1.2


def test_redrawn_every_epoch_deterministic_and_independent_of_global_rng(data):
    torch.manual_seed(123)
    a = data.epoch_inputs(7, 2)
    torch.manual_seed(456)
    torch.rand(1000)
    b = data.epoch_inputs(7, 2)
    assert torch.equal(a, b)  # same (run seed, epoch), same inputs
    assert not torch.equal(a, data.epoch_inputs(7, 3))  # another epoch: another draw
    assert not torch.equal(a, data.epoch_inputs(8, 2))  # another run seed: another draw
    again = make_patch_data(fake_base(), seed=3)  # rebuilt from the same seed: the same everything
    for name in ("z", "zeta", "chosen", "x_test", "y_test"):
        assert torch.equal(getattr(again, name), getattr(data, name))
    assert torch.equal(again.epoch_inputs(7, 2), a)
    other = make_patch_data(fake_base(), seed=4)
    assert not torch.equal(other.z, data.z)


def test_base_images_are_never_modified(data):
    before = data.x_train.clone()
    data.epoch_inputs(0, 5)
    assert torch.equal(data.x_train, before)


def test_evaluation_sets(data):
    n_test, m = 500, DEFAULTS["patch_only_eval"]
    subsets = data.test_subsets
    assert {k: int(v.sum()) for k, v in subsets.items()} == {"clean": n_test, "patched": n_test, "patch_only": m}
    clean, patched, only = (data.x_test[subsets[k]] for k in ("clean", "patched", "patch_only"))
    assert torch.equal(data.y_test[subsets["clean"]], data.y_test[subsets["patched"]])
    changed = ~(patched == clean).flatten(1).all(1)
    assert 0.7 < float(changed.float().mean()) < 0.9  # the same scheme: ~80 % of the test images patched
    assert bool((outside(only) == 0).all()) and not bool((region(only) == 0).all())  # zero image + patch
    y_only = data.y_test[subsets["patch_only"]]
    assert set(y_only.tolist()) == set(range(K))


def test_three_channel_images():
    d = make_patch_data(fake_base(n=200, channels=3, size=32, n_test=20), seed=0)
    assert d.z.shape == (3, 7, 7)
    x = d.epoch_inputs(0, 0)
    assert x.shape == (200, 3, 32, 32)


def test_bad_options_are_refused_when_configured():
    with pytest.raises(ConfigError, match="data.options"):
        DataConfig("patch-fashion-mnist", options={"patch_sep": -1.0})
    with pytest.raises(ConfigError, match="data.options"):
        DataConfig("patch-fashion-mnist", options={"patch_prob": 1.5})
    with pytest.raises(ConfigError, match="data.options"):
        DataConfig("patch-cifar10", options={"patch_width": 3})
    DataConfig("patch-fashion-mnist", options={"patch_sep": 0.5, "patch_size": 9})


def test_engine_trains_on_a_new_draw_every_epoch_and_resumes_identically():
    d = make_patch_data(fake_base(n=256, n_test=64), seed=0)
    cfg = RunConfig(data=DataConfig("patch-fashion-mnist"), model=ModelConfig("mlp", hidden=16),
                    optim=OptimConfig(lr=0.05, batch_size=64), epochs=3, seed=5, device="cpu", eval_train=False)
    seen = []
    original = PatchData.epoch_inputs

    def spy(self, run_seed, epoch):
        seen.append((run_seed, epoch))
        return original(self, run_seed, epoch)

    PatchData.epoch_inputs = spy
    try:
        whole = Trainer(cfg, d)
        whole.run()
        part = Trainer(cfg, d)
        part.run(until_epoch=1)
        state = part.state_dict()
        resumed = Trainer(cfg, d)
        resumed.load_state_dict(state)
        resumed.run()
    finally:
        PatchData.epoch_inputs = original
    assert seen[:3] == [(5, 0), (5, 1), (5, 2)]
    assert resumed.history == whole.history
    assert {"test_acc@clean", "test_acc@patched", "test_acc@patch_only"} <= set(whole.history[-1])


def test_both_patch_claims_train_the_same_large_and_small_runs():
    """activation-noise-fixes-small-lr adds its noise arm to patch-memorized-by-small-lr's two arms: the
    run store shares them only while every profile of both claims declares the same runs and seeds."""
    from pathlib import Path

    from lrsci.arms import large_annealed_and_small
    from lrsci.catalog import load_claims

    claims = load_claims(Path(__file__).resolve().parents[1])
    patch, noise = claims["patch-memorized-by-small-lr"][0], claims["activation-noise-fixes-small-lr"][0]
    assert [p.name for p in patch.profiles] == [p.name for p in noise.profiles]
    for a in patch.profiles:
        b = noise.profile(a.name)
        assert (a.seeds, a.first_seed) == (b.seeds, b.first_seed)
        assert large_annealed_and_small(a, 0) == large_annealed_and_small(b, 0)


def test_patch_only_rows_scale_zeta_by_a_uniform_factor(data):
    """Patch-only rows carry z + s·1.75·U(0,1)·ζ_y: |coefficient| spread uniformly over (0, 1.75)."""
    x = data.epoch_inputs(0, 0)
    only = kinds(data, x)["patch-only"]
    off, zeta = (region(x) - data.z)[only], data.zeta[data.y_train][only]
    coef = (off * zeta).flatten(1).sum(1) / (zeta ** 2).flatten(1).sum(1)
    assert float(coef.abs().mean()) == pytest.approx(DEFAULTS["patch_only_scale"] / 2, rel=0.1)
    assert float(coef.abs().min()) < 0.1 * DEFAULTS["patch_only_scale"]


def test_class_patterns_are_centred_uniform(data):
    """ζ_c ~ U[-patch_sep, patch_sep]: both signs, mean about zero."""
    sep = DEFAULTS["patch_sep"]
    assert float(data.zeta.min()) < -0.9 * sep and float(data.zeta.max()) > 0.9 * sep
    assert abs(float(data.zeta.mean())) < 0.1 * sep


def test_the_dataset_seed_chooses_the_patched_rows():
    base = fake_base(n=200, n_test=5)
    assert not torch.equal(make_patch_data(base, seed=3).chosen, make_patch_data(base, seed=4).chosen)


def test_clean_test_part_is_the_base_test_set_and_every_patch_only_row_carries_a_patch(data):
    base = fake_base()
    subsets = data.test_subsets
    assert torch.equal(data.x_test[subsets["clean"]], base.x_test)
    assert not torch.equal(data.x_test[subsets["patched"]], base.x_test)
    only = data.x_test[subsets["patch_only"]]
    assert bool((region(only) != 0).flatten(1).any(1).all())


def test_content_hash_names_the_patch_options_and_seed():
    ident = lambda seed, **o: make_patch_data(fake_base(n=50, n_test=5), seed=seed, **o).info["content_sha256"]  # noqa: E731
    assert ident(3) == ident(3)
    assert ident(4) != ident(3)  # another dataset seed
    assert ident(3, patch_sep=0.5) != ident(3)  # another option


def test_moved_data_draws_the_same_epochs(data):
    """.to(device) keeps the dataset seed, so the per-epoch draws do not change with the move."""
    assert data.seed == 3
    moved = data.to("cpu")
    assert moved.seed == data.seed and torch.equal(moved.epoch_inputs(7, 1), data.epoch_inputs(7, 1))


def test_patch_larger_than_the_image_is_refused():
    with pytest.raises(ValueError, match="larger than the image"):
        make_patch_data(fake_base(n=20, size=6, n_test=4), seed=0)


@pytest.mark.parametrize("bad", [{"z_scale": float("inf")}, {"patch_sep": float("nan")}, {"patch_size": True},
                                 {"patch_only_eval": True}])
def test_a_patch_option_that_is_not_a_finite_number_or_a_whole_size_is_refused_and_named(bad):
    from lrsci.data.patch import check_options

    with pytest.raises(ValueError, match=f"patch: {next(iter(bad))}="):
        check_options(bad)

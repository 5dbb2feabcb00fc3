"""lrsci.transfer and lrsci.data.transfer_targets: transferability, fix/finetune transfer, the cache.

The check of the formula is You et al.'s own Table 2 (App. A.3): its accuracies, fed through
``transferability``, give its bold values to two decimals.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from lrsci import runs as runs_mod
from lrsci import transfer as tr
from lrsci.catalog import load_claims
from lrsci.config import ConfigError, DataConfig, ScheduleConfig
from lrsci.data import transfer_targets as tt
from lrsci.data.vision import FASHION_MNIST_MEAN, FASHION_MNIST_STD
from lrsci.models import build_model
from lrsci.runs import RunStore
from lrsci.train import RunResult
from lrsci.transfer import TransferError, TransferSpec, transfer_accuracy, transfer_snapshots, transferability
from lrsci.state_files import read_state
from tests.helpers import blobs, tiny_config
from tests.test_vision import make_fmnist_arrays, write_fmnist

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT.parent / "shared" / "papers" / "you2019-how-does-lr-decay-help.txt"

# You et al. (2019), Table 2: ImageNet accuracy of the stage 1/2/3 snapshots, and per target dataset
# (finetune stage 1, stage 2, T2, stage 3, T3, fix stage 1, stage 2, T2, stage 3, T3); T in bold there.
IMAGENET = [54.01, 69.33, 75.91]
TABLE2 = {
    "ImageNet":   (54.01, 69.33, 1.00, 75.91, 1.00, 54.01, 69.33, 1.00, 75.91, 1.00),
    "Caltect256": (77.87, 82.73, 0.32, 84.20, 0.22, 74.10, 79.79, 0.37, 81.95, 0.33),
    "CUB_200":    (75.89, 79.74, 0.25, 81.34, 0.24, 58.11, 63.95, 0.38, 66.09, 0.33),
    "MITIndoors": (72.91, 77.09, 0.27, 78.73, 0.25, 61.34, 67.54, 0.40, 69.78, 0.34),
    "Sketch250":  (77.80, 79.92, 0.14, 80.64, 0.11, 64.34, 64.58, 0.02, 64.18, -0.06),
}


@pytest.mark.parametrize("dataset", list(TABLE2))
@pytest.mark.parametrize("mode, first", [("finetune", 0), ("fix", 5)])
def test_table2_accuracies_give_table2_transferabilities(dataset, mode, first):
    a1, a2, t2, a3, t3 = TABLE2[dataset][first:first + 5]
    got = transferability(IMAGENET, [a1, a2, a3])
    assert [round(v, 2) for v in got] == [t2, t3], (dataset, mode, got)


def test_table2_here_is_the_papers_table2():
    if not PAPER.exists():
        pytest.skip(f"the paper text is not at {PAPER}")
    lines = PAPER.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("A.3 Accuracies"))
    table = {}
    for line in lines[start:start + 12]:
        parts = line.split()
        if parts and parts[0] in TABLE2 and len(parts) == 11:
            table[parts[0]] = tuple(float(v) for v in parts[1:])
    assert table == TABLE2


def test_the_papers_headline_values():
    assert round(transferability(IMAGENET, [77.87, 82.73, 84.20])[0], 2) == 0.32   # Caltech256 finetune stage 2
    assert round(transferability(IMAGENET, [77.87, 82.73, 84.20])[1], 2) == 0.22   # ... stage 3
    assert round(transferability(IMAGENET, [64.34, 64.58, 64.18])[1], 2) == -0.06  # Sketch250 fix stage 3
    assert transferability(IMAGENET, IMAGENET) == [1.0, 1.0]  # source to source is 1 by definition


@pytest.mark.parametrize("source, target, match", [
    ([1.0, 2.0, 3.0], [1.0, 2.0], "3 source accuracies but 2 target"),
    ([1.0], [1.0], "at least two stages"),
    ([1.0, 2.0, 2.0], [1.0, 2.0, 3.0], "stage 3 is undefined.*did not change.*zero"),
    ([1.0, float("nan")], [1.0, 2.0], "source accuracy of stage 2 is nan"),
    ([1.0, 2.0], [1.0, "3"], "target accuracy of stage 2"),
])
def test_transferability_refuses_what_it_cannot_define(source, target, match):
    with pytest.raises(TransferError, match=match):
        transferability(source, target)


def test_a_negative_stage_gain_is_a_value_not_an_error():
    assert transferability([2.0, 1.0], [5.0, 4.0]) == [1.0]


@pytest.mark.parametrize("kwargs, match", [({"mode": "probe"}, "mode 'probe'"), ({"lr": 0.0}, "lr=0.0"),
                                           ({"epochs": 0}, "epochs=0"), ({"momentum": 1.0}, "momentum")])
def test_transfer_spec_is_validated(kwargs, match):
    with pytest.raises(TransferError, match=match):
        TransferSpec(**{"mode": "fix", "lr": 0.1, "epochs": 2, **kwargs})


# ------------------------------------------------------------------------------ transfer itself
def _net(seed=0, classes=2):
    torch.manual_seed(seed)
    return build_model(tiny_config().model, (1, 1, 8), classes)


@pytest.mark.parametrize("mode", ["fix", "finetune"])
def test_transfer_is_deterministic_by_seed_and_leaves_the_snapshot_alone(mode):
    model, target = _net(), blobs(seed=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    spec = TransferSpec(mode, lr=0.05, epochs=3, batch_size=32)
    a = transfer_accuracy(model, target, spec, seed=7)
    b = transfer_accuracy(model, target, spec, seed=7)
    assert a == b and 50.0 < a <= 100.0  # blobs are separable: transfer learns them
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)  # the caller's RNG stream is untouched


def test_fix_trains_only_a_linear_classifier_on_frozen_features(monkeypatch):
    seen = []
    real = tr._sgd_train

    def spy(params, forward, x, y, spec, seed):
        params = list(params)
        seen.append((sum(p.numel() for p in params), tuple(x.shape)))
        return real(params, forward, x, y, spec, seed)

    monkeypatch.setattr(tr, "_sgd_train", spy)
    model, target = _net(), blobs()
    transfer_accuracy(model, target, TransferSpec("fix", lr=0.1, epochs=1), seed=0)
    hidden = tiny_config().model.hidden
    assert seen == [(hidden * 2 + 2, (target.x_train.shape[0], hidden))]  # a Linear(hidden, 2) on features
    seen.clear()
    transfer_accuracy(model, target, TransferSpec("finetune", lr=0.1, epochs=1), seed=0)
    assert seen[0][0] == sum(p.numel() for p in _net().parameters())  # finetune: every parameter


def test_a_target_with_more_classes_gets_its_own_head():
    model, target = _net(classes=2), blobs()
    target.num_classes = 3  # labels 0..1 still valid under a 3-way head
    for mode in ("fix", "finetune"):
        assert 0.0 <= transfer_accuracy(model, target, TransferSpec(mode, lr=0.05, epochs=1), seed=0) <= 100.0


# ------------------------------------------------------------------------------ snapshots, cached
@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(runs_mod, "load_data", lambda cfg, root=None: blobs())
    monkeypatch.setattr(tr, "load_data", lambda cfg, root=None: blobs(seed=5))  # the target (and source shape)
    return RunStore(tmp_path / "runs")


def _source(store, ends=(2, 4, 6)):
    cfg = tiny_config(epochs=6, schedule=ScheduleConfig("step", milestones=(2, 4)))
    store.run(cfg, snapshots=ends)
    return cfg


def test_transfer_snapshots_caches_beside_the_source_run(store, monkeypatch):
    cfg, target = _source(store), DataConfig("ps10")
    spec = TransferSpec("finetune", lr=0.05, epochs=2, batch_size=32)
    first = transfer_snapshots(store, cfg, [2, 4, 6], target, spec, seed=3)
    assert len(first["tacc"]) == 3 and all(0 <= a <= 100 for a in first["tacc"])
    cached = list(store.dir(cfg).glob("transfer-*.json"))
    assert len(cached) == 1 and json.loads(cached[0].read_text())["tacc"] == first["tacc"]

    monkeypatch.setattr(tr, "transfer_accuracy", lambda *a, **k: pytest.fail("a cached transfer was trained again"))
    assert transfer_snapshots(store, cfg, [2, 4, 6], target, spec, seed=3)["tacc"] == first["tacc"]
    # a cached result is read without the device it was computed on (a gpu report re-analysed on a CPU)
    if not torch.cuda.is_available():
        assert transfer_snapshots(store, cfg, [2, 4, 6], target, spec, seed=3, device="cuda")["tacc"] == first["tacc"]
    # another seed or another spec is another transfer
    with pytest.raises(pytest.fail.Exception):
        transfer_snapshots(store, cfg, [2, 4, 6], target, spec, seed=4)


def test_transfer_snapshots_equal_direct_transfer(store):
    cfg, target = _source(store), DataConfig("ps10")
    spec = TransferSpec("fix", lr=0.1, epochs=3, batch_size=32)
    got = transfer_snapshots(store, cfg, [2, 6], target, spec, seed=0)["tacc"]
    direct = []
    for e in (2, 6):
        model = build_model(cfg.model, (1, 1, 8), 2)
        model.load_state_dict(read_state(store.dir(cfg) / f"snap-{e}.pt")["model"])
        direct.append(transfer_accuracy(model, blobs(seed=5), spec, seed=0))
    assert got == direct


def test_an_unreadable_cached_transfer_is_set_aside_and_recomputed(store):
    cfg, target = _source(store), DataConfig("ps10")
    spec = TransferSpec("fix", lr=0.1, epochs=2)
    first = transfer_snapshots(store, cfg, [2, 4, 6], target, spec, seed=0)
    path = next(store.dir(cfg).glob("transfer-*.json"))
    path.write_text('{"key": ')
    with pytest.warns(UserWarning, match=r"transfer-.*\.json: unreadable transfer result.*moved it aside"):
        again = transfer_snapshots(store, cfg, [2, 4, 6], target, spec, seed=0)
    assert again["tacc"] == first["tacc"]
    assert list(store.dir(cfg).glob("transfer-*.json.corrupt-*"))


def test_a_missing_snapshot_is_named(store):
    cfg = _source(store, ends=(2, 4))
    with pytest.raises(TransferError, match=r"snap-6\.pt is missing.*snapshots="):
        transfer_snapshots(store, cfg, [2, 4, 6], DataConfig("ps10"), TransferSpec("fix", lr=0.1, epochs=1), seed=0)


# ------------------------------------------------------------------------------ target datasets
@pytest.fixture
def fmnist_root(tmp_path):
    arr = make_fmnist_arrays(n_train=60, n_test=30)
    write_fmnist(tmp_path / "data" / "FashionMNIST" / "raw", arr, gz=False)
    return tmp_path / "data", arr


def test_split_keeps_only_its_classes_relabelled_in_order(fmnist_root):
    root, arr = fmnist_root
    d = tt.load_fashion_mnist_split(root, classes=[7, 2, 9])
    keep = [i for i, y in enumerate(arr["train_y"]) if y in (7, 2, 9)]
    assert d.num_classes == 3 and d.y_train.tolist() == [[7, 2, 9].index(arr["train_y"][i]) for i in keep]
    raw = torch.tensor(arr["train_x"][keep], dtype=torch.float32).div(255).unsqueeze(1)
    torch.testing.assert_close(d.x_train, (raw - FASHION_MNIST_MEAN[0]) / FASHION_MNIST_STD[0])
    assert d.info["classes"] == ["Sneaker", "Pullover", "Ankle boot"] and d.info["full_train_size"] == len(keep)


def test_split_subsets_are_seeded_and_hashes_name_the_rows(fmnist_root):
    root, _ = fmnist_root
    a = tt.load_fashion_mnist_split(root, train_size=5, test_size=4, seed=1, classes=[0, 1, 2, 3, 4])
    b = tt.load_fashion_mnist_split(root, train_size=5, test_size=4, seed=1, classes=[0, 1, 2, 3, 4])
    c = tt.load_fashion_mnist_split(root, train_size=5, test_size=4, seed=2, classes=[0, 1, 2, 3, 4])
    s = tt.load_fashion_mnist_split(root, train_size=5, test_size=4, seed=1, classes=[0, 1, 2, 3, 4], render="sketch")
    assert torch.equal(a.x_train, b.x_train) and a.info["content_sha256"] == b.info["content_sha256"]
    assert len({a.info["content_sha256"], c.info["content_sha256"], s.info["content_sha256"]}) == 3
    assert a.x_train.shape == (5, 1, 28, 28) and a.x_test.shape == (4, 1, 28, 28)


def test_sketch_is_dark_strokes_on_white_paper():
    norm = lambda v: (v - FASHION_MNIST_MEAN[0]) / FASHION_MNIST_STD[0]  # noqa: E731
    img = torch.zeros(2, 1, 28, 28)
    img[0, 0, :, 14:] = 1.0                     # a vertical edge in image 0; image 1 is blank
    out = tt.sketch(norm(img)) * FASHION_MNIST_STD[0] + FASHION_MNIST_MEAN[0]
    assert torch.allclose(out[1], torch.ones(1, 28, 28))           # blank stays white paper
    assert out[0, 0, 14, 13] < 0.01 and out[0, 0, 14, 14] < 0.01    # the edge is a dark stroke
    assert torch.allclose(out[0, 0, 10:18, :12], torch.ones(8, 12))  # away from it: paper
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0 + 1e-6



def test_sketch_finds_edges_in_every_direction_at_every_contrast():
    """Sobel magnitude from both gradients, each image divided by its own largest magnitude."""
    norm = lambda v: (v - FASHION_MNIST_MEAN[0]) / FASHION_MNIST_STD[0]  # noqa: E731
    img = torch.zeros(2, 1, 28, 28)
    img[0, 0, 14:, :] = 1.0    # a horizontal edge at full contrast
    img[1, 0, :, 14:] = 0.2    # a faint vertical edge
    out = tt.sketch(norm(img)) * FASHION_MNIST_STD[0] + FASHION_MNIST_MEAN[0]
    assert out[0, 0, 13, 14] < 0.01 and out[0, 0, 14, 14] < 0.01   # the horizontal edge is a dark stroke
    assert out[1, 0, 14, 13] < 0.01 and out[1, 0, 14, 14] < 0.01   # the faint edge is as dark as a strong one


def test_split_rows_follow_the_seed_and_the_hash_names_classes_and_bytes(fmnist_root, tmp_path):
    root, arr = fmnist_root
    load = lambda r=root, **k: tt.load_fashion_mnist_split(r, train_size=5, test_size=4, **{"seed": 1, **k})  # noqa: E731
    a = load()
    assert not torch.equal(a.x_train, load(seed=2).x_train)                     # other seed, other rows
    assert load(classes=[5, 6, 7, 8, 9]).info["content_sha256"] != a.info["content_sha256"]
    other = {k: v.copy() for k, v in arr.items()}
    other["test_x"][0, 0, 0] ^= 1                                               # one bit of the files
    write_fmnist(tmp_path / "other" / "FashionMNIST" / "raw", other, gz=False)
    assert load(tmp_path / "other").info["content_sha256"] != a.info["content_sha256"]


@pytest.mark.parametrize("options, match", [({"classes": [3, 3]}, "two distinct"), ({"classes": [1, 10]}, "0..9"),
                                            ({"render": "edges"}, "render"), ({"colour": 1}, "keys among")])
def test_split_options_are_checked_when_the_config_is_built(options, match):
    with pytest.raises(ConfigError, match=match):
        DataConfig("fashion-mnist-split", options=options)


def test_the_split_dataset_goes_through_the_registry(fmnist_root):
    from lrsci.data.registry import dataset_available, load_data

    root, _ = fmnist_root
    cfg = DataConfig("fashion-mnist-split", options={"classes": [5, 6, 7, 8, 9], "render": "sketch"})
    d = load_data(cfg, root)
    assert d.name == "fashion-mnist-split" and d.info["render"] == "sketch" and dataset_available(cfg, root)


# ------------------------------------------------------------------------------ the claim's analysis
def _fake_run(accs, ends=(4, 8, 12)):
    history = [{"epoch": e, "test_acc": 0.0} for e in range(1, ends[-1] + 1)]
    for e, a in zip(ends, accs):
        history[e - 1]["test_acc"] = a
    return RunResult(config={}, history=history, status="finished", epochs_trained=ends[-1], decay_epochs=[4, 8])


def test_claim_analysis_undefined_transferability_fails_its_row_instead_of_raising():
    claim = load_claims(ROOT)["stage3-less-transferable"][0]
    p = claim.profile("fast")
    ends = tuple(p.run.schedule.milestones) + (p.run.epochs,)
    runs = {}
    for s in range(3):
        acc = [80.0 + s, 85.0 + s, 86.0 + s if s else 85.0]  # seed 0: stage 3 adds nothing -> T3 undefined
        tacc = [70.0, 72.0 + s, 72.5 + s]
        runs[s] = {"source": _fake_run(acc, ends), "tacc": {(t, m): tacc for t in p["targets"] for m in ("fix", "finetune")}}
    out = claim.analyse(runs, p)
    rows = {r["criterion"]: r for r in out["tests"] if not r["reported_only"]}
    assert not rows["(1) near/fix: T3 < T2"]["passed"] and "undefined" in rows["(1) near/fix: T3 < T2"]["threshold"]
    assert "(0) stage 3 adds source accuracy: acc3 > acc2" in rows and "near/fix T3" not in out["per_seed"]
    assert math.isclose(out["per_seed"]["acc2"][1], 86.0)
    claim.figure(runs, p)  # draws with the undefined seed left out


def test_a_feature_dead_on_the_targets_train_set_does_not_blow_up_on_its_test_set():
    """"fix" standardises the frozen features; one that is 0 on every train row (a dead ReLU) but not on some
    test rows was divided by 1e-6 there, and its never-trained head weight then decided those rows."""
    from lrsci.data.base import ArrayData

    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 4, generator=g)
    y = (x[:, 0] > 0).long()
    x_test = x[200:].clone()
    x_test[:40, 3] = 0.05                   # feature 3: 0 on every train row, 0.05 on 40 test rows
    x_train = x[:200].clone()
    x_train[:, 3] = 0.0
    data = ArrayData("dead", x_train, y[:200], x_test, y[200:], 2)

    class Features(torch.nn.Module):        # identity features, so feature 3 reaches the probe as it is
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 2)

        def forward(self, v):
            return self.fc(v)

    spec = TransferSpec("fix", lr=0.1, epochs=20, batch_size=32)
    clean = data.x_test.clone()
    clean[:, 3] = 0.0
    acc = transfer_accuracy(Features(), data, spec, seed=0)
    same = transfer_accuracy(Features(), ArrayData("clean", x_train, y[:200], clean, y[200:], 2), spec, seed=0)
    # at scale 1 the dead feature's 0.05 moves a row or two; divided by 1e-6 it decided its 40 rows (~ -10 pp)
    assert abs(acc - same) <= 3.0


def test_finetune_skips_a_last_batch_of_one_example():
    model, target = _net(), blobs(n_train=33)   # 33 = 32 + 1: BatchNorm cannot train on the last one
    assert 0.0 <= transfer_accuracy(model, target, TransferSpec("finetune", lr=0.05, epochs=1, batch_size=32),
                                    seed=0) <= 100.0

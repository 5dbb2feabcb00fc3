"""lrsci.data.registry builds the dataset a DataConfig names, from its sizes, seed and data root;
lrsci.data.base.ArrayData refuses inconsistent tensors and keeps its subsets when moved."""
from __future__ import annotations

import pytest
import torch

from lrsci.config import DataConfig
from lrsci.data.base import ArrayData
from lrsci.data.ps10 import make_ps10
from lrsci.data.registry import load_data
from tests.test_vision import make_fmnist_arrays, write_fmnist

pytestmark = pytest.mark.usefixtures("isolated")   # no user env, Debian folder or ~/.cache (tests/conftest.py)


def test_ps10_takes_its_sizes_and_seed_from_the_config():
    d = load_data(DataConfig("ps10", train_size=4000, test_size=2000, seed=3, options={"image_size": 1}))
    assert (d.x_train.shape[0], d.x_test.shape[0]) == (4000, 2000)
    assert torch.equal(d.x_train, make_ps10(4000, 2000, 1, seed=3).x_train)


def test_file_datasets_are_read_from_the_data_root_given(tmp_path):
    for name, seed in (("a", 1), ("b", 2)):
        write_fmnist(tmp_path / name / "FashionMNIST" / "raw", make_fmnist_arrays(seed=seed), gz=False)
    a = load_data(DataConfig("fashion-mnist"), tmp_path / "a")
    b = load_data(DataConfig("fashion-mnist"), tmp_path / "b")
    assert a.info["root"] == str(tmp_path / "a") and b.info["root"] == str(tmp_path / "b")
    assert not torch.equal(a.x_train, b.x_train)


def test_changing_lrsci_data_in_a_process_loads_from_the_new_root(tmp_path, monkeypatch):
    for name, seed in (("a", 1), ("b", 2)):
        write_fmnist(tmp_path / name / "FashionMNIST" / "raw", make_fmnist_arrays(seed=seed), gz=False)
    monkeypatch.setenv("LRSCI_DATA", str(tmp_path / "a"))
    a = load_data(DataConfig("fashion-mnist"))
    monkeypatch.setenv("LRSCI_DATA", str(tmp_path / "b"))
    b = load_data(DataConfig("fashion-mnist"))   # once the cache answered with a's images here
    assert a.info["root"] == str(tmp_path / "a") and b.info["root"] == str(tmp_path / "b")
    assert not torch.equal(a.x_train, b.x_train)
    monkeypatch.setenv("LRSCI_DATA", str(tmp_path / "a"))
    assert load_data(DataConfig("fashion-mnist")) is a   # the same key: the cached object


def test_patch_data_follows_the_config_seed_over_the_seeded_base_subset(tmp_path):
    root = tmp_path / "d"
    write_fmnist(root / "FashionMNIST" / "raw", make_fmnist_arrays(n_train=30, n_test=12), gz=False)
    patched = {s: load_data(DataConfig("patch-fashion-mnist", 10, 4, s, {"patch_only_eval": 5}), root) for s in (1, 2)}
    assert patched[1].seed == 1 and patched[2].seed == 2
    assert not torch.equal(patched[1].z, patched[2].z)
    base = load_data(DataConfig("fashion-mnist", 10, 4, 2), root)
    assert torch.equal(patched[2].x_train, base.x_train)  # the base rows the seed draws


def _arrays(n_train=4, n_test=3):
    return torch.zeros(n_train, 2), torch.zeros(n_train, dtype=torch.long), torch.zeros(n_test, 2), torch.zeros(n_test, dtype=torch.long)


def test_array_data_refuses_mismatched_rows_and_bad_masks():
    x, y, xt, yt = _arrays()
    with pytest.raises(ValueError, match="rows"):
        ArrayData("d", x, y[:3], xt, yt, 2)
    with pytest.raises(ValueError, match="bool mask"):
        ArrayData("d", x, y, xt, yt, 2, train_subsets={"a": torch.ones(4, dtype=torch.long)})
    with pytest.raises(ValueError, match="bool mask"):
        ArrayData("d", x, y, xt, yt, 2, test_subsets={"a": torch.ones(4, dtype=torch.bool)})


def test_moved_data_keeps_its_train_and_test_subsets():
    x, y, xt, yt = _arrays()
    d = ArrayData("d", x, y, xt, yt, 2, train_subsets={"a": torch.tensor([True, False, True, False])},
                  test_subsets={"b": torch.tensor([False, True, True])}, info={"k": 1})
    moved = d.to("cpu")
    assert set(moved.train_subsets) == {"a"} and set(moved.test_subsets) == {"b"}
    assert torch.equal(moved.train_subsets["a"], d.train_subsets["a"]) and torch.equal(moved.test_subsets["b"], d.test_subsets["b"])
    assert moved.info == d.info and torch.equal(moved.y_test, d.y_test)

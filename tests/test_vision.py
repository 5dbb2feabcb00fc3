"""Tests for lrsci.data.vision: Fashion-MNIST and CIFAR-10 through torchvision's readers.

Fixtures are written at test time into tmp_path, in the real on-disk formats:
  * idx files (magic 2051 images / 2049 labels, big-endian int32 dims, uint8 payload),
    gzipped flat (the Debian package's layout) or unpacked under FashionMNIST/raw/;
  * CIFAR-10 "python version" pickles (protocol 2, Python-2 str keys so that loading with
    encoding="bytes" gives b'data' / b'labels' / b'label_names', as the real files do).
"""
from __future__ import annotations

import gzip
import multiprocessing as mp
import os
import io
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from lrsci.data import cifar10, fashion_mnist, locations, vision
from lrsci.data.base import ArrayData

REAL_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
CIFAR_LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
                     "dog", "frog", "horse", "ship", "truck"]


# =============================================================================== fixture writers
def idx_images_bytes(images: np.ndarray) -> bytes:
    n, h, w = images.shape
    return struct.pack(">IIII", 2051, n, h, w) + images.astype(np.uint8).tobytes()


def idx_labels_bytes(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


def make_fmnist_arrays(n_train: int = 20, n_test: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    return {
        "train_x": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train_y": (np.arange(n_train) * 3 + seed) % 10,
        "test_x": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "test_y": (np.arange(n_test) * 7 + seed) % 10,
    }


def write_fmnist(directory: Path, arrays: dict, gz: bool) -> Path:
    """Write the four idx files into ``directory`` (gzipped with a .gz suffix if ``gz``)."""
    directory.mkdir(parents=True, exist_ok=True)
    payloads = {
        "train-images-idx3-ubyte": idx_images_bytes(arrays["train_x"]),
        "train-labels-idx1-ubyte": idx_labels_bytes(arrays["train_y"]),
        "t10k-images-idx3-ubyte": idx_images_bytes(arrays["test_x"]),
        "t10k-labels-idx1-ubyte": idx_labels_bytes(arrays["test_y"]),
    }
    for name, data in payloads.items():
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return directory


class Py2Str(str):
    """A str pickled as a Python-2 byte string (SHORT_BINSTRING), like the real CIFAR pickles."""


class _Py2Pickler(pickle._Pickler):
    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2str(self, obj):
        b = obj.encode("latin1")
        if len(b) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(b)]) + b)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(b)) + b)
        self.memoize(obj)

    dispatch[Py2Str] = save_py2str


def py2_pickle(obj) -> bytes:
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def make_cifar_arrays(per_batch: int = 4, n_test: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    return {
        "batches": [rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8) for _ in range(5)],
        "batch_labels": [[int(v) for v in rng.integers(0, 10, size=per_batch)] for _ in range(5)],
        "test": rng.integers(0, 256, size=(n_test, 3072), dtype=np.uint8),
        "test_labels": [int(v) for v in rng.integers(0, 10, size=n_test)],
    }


def write_cifar(root: Path, arrays: dict) -> Path:
    """Write torchvision's ``<root>/cifar-10-batches-py/`` with the 7 pickles."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)

    def batch(name, data, labels):
        return {Py2Str("batch_label"): Py2Str(name), Py2Str("labels"): list(labels),
                Py2Str("data"): data,
                Py2Str("filenames"): [Py2Str(f"img_{i}.png") for i in range(len(labels))]}

    for i, (data, labels) in enumerate(zip(arrays["batches"], arrays["batch_labels"]), start=1):
        (folder / f"data_batch_{i}").write_bytes(py2_pickle(batch(f"training batch {i} of 5", data, labels)))
    (folder / "test_batch").write_bytes(py2_pickle(batch("testing batch 1 of 1", arrays["test"], arrays["test_labels"])))
    meta = {Py2Str("num_cases_per_batch"): len(arrays["batch_labels"][0]),
            Py2Str("label_names"): [Py2Str(n) for n in CIFAR_LABEL_NAMES],
            Py2Str("num_vis"): 3072}
    (folder / "batches.meta").write_bytes(py2_pickle(meta))
    return root


def expected_fmnist(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return (x - 0.2860) / 0.3530


def expected_cifar(flat: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(flat.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
    mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
    std = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
    return (x - mean) / std


# No test here sees the user's env, the real Debian folder or ~/.cache (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("isolated")


# =============================================================================== Fashion-MNIST
def test_fashion_mnist_unpacked_layout(tmp_path):
    arr = make_fmnist_arrays()
    root = tmp_path / "data"
    write_fmnist(root / "FashionMNIST" / "raw", arr, gz=False)

    d = vision.load_fashion_mnist(root)
    assert isinstance(d, ArrayData) and d.name == "fashion-mnist" and d.num_classes == 10
    assert d.x_train.shape == (20, 1, 28, 28) and d.x_test.shape == (8, 1, 28, 28)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert d.x_train.is_contiguous()
    torch.testing.assert_close(d.x_train, expected_fmnist(arr["train_x"]))
    torch.testing.assert_close(d.x_test, expected_fmnist(arr["test_x"]))
    assert d.y_train.tolist() == arr["train_y"].tolist()
    assert d.y_test.tolist() == arr["test_y"].tolist()
    assert vision.FASHION_MNIST_MEAN == (0.2860,) and vision.FASHION_MNIST_STD == (0.3530,)
    info = d.info
    assert info["root"] == str(root) and info["source"] == str(root / "FashionMNIST" / "raw")
    assert info["train_size"] == 20 and info["test_size"] == 8
    assert info["normalization"]["mean"] == [0.2860] and info["normalization"]["std"] == [0.3530]
    assert len(info["classes"]) == 10
    assert not (tmp_path / "home-cache").exists()  # nothing unpacked, nothing cached


def test_debian_layout_is_unpacked_once_into_cache(tmp_path, monkeypatch):
    arr = make_fmnist_arrays()
    debian = write_fmnist(tmp_path / "debian" / "fashion-mnist", arr, gz=True)
    monkeypatch.setattr(locations, "DEBIAN_FASHION_MNIST_DIR", debian)
    cache = tmp_path / "home-cache"
    before = sorted(p.name for p in debian.iterdir())

    d = vision.load_fashion_mnist()
    raw = cache / "FashionMNIST" / "raw"
    assert d.info["source"] == str(debian) and d.info["root"] == str(cache)
    assert all((raw / n).is_file() for n in IDX_NAMES)
    assert sorted(p.name for p in debian.iterdir()) == before  # package folder untouched
    torch.testing.assert_close(d.x_train, expected_fmnist(arr["train_x"]))
    assert d.y_test.tolist() == arr["test_y"].tolist()

    # second load: no unpacking (gzip must not be touched)
    def boom(*a, **k):
        raise AssertionError("unpacked again")
    with monkeypatch.context() as m:
        m.setattr(fashion_mnist.gzip, "open", boom)
        d2 = vision.load_fashion_mnist()
    assert torch.equal(d2.x_train, d.x_train)

    # a changed source is unpacked again (the cache records path/size/mtime)
    arr2 = make_fmnist_arrays(n_train=12, n_test=5, seed=3)
    write_fmnist(debian, arr2, gz=True)
    d3 = vision.load_fashion_mnist()
    assert d3.x_train.shape[0] == 12 and d3.y_test.tolist() == arr2["test_y"].tolist()


def test_gz_under_raw_unpacks_in_place_when_root_writable(tmp_path):
    arr = make_fmnist_arrays()
    root = tmp_path / "data"
    write_fmnist(root / "FashionMNIST" / "raw", arr, gz=True)
    d = vision.load_fashion_mnist(root)
    assert d.info["root"] == str(root)
    assert all((root / "FashionMNIST" / "raw" / n).is_file() for n in IDX_NAMES)
    assert not (tmp_path / "home-cache").exists()
    assert d.y_train.tolist() == arr["train_y"].tolist()


def test_flat_gz_in_data_root_goes_to_lrsci_cache(tmp_path, monkeypatch):
    arr = make_fmnist_arrays()
    root = write_fmnist(tmp_path / "flat", arr, gz=True)
    monkeypatch.setenv("LRSCI_CACHE", str(tmp_path / "envcache"))
    d = vision.load_fashion_mnist(root)
    assert d.info["root"] == str(tmp_path / "envcache")
    assert (tmp_path / "envcache" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    assert not (root / "FashionMNIST").exists()
    torch.testing.assert_close(d.x_test, expected_fmnist(arr["test_x"]))


def test_an_intact_cache_serves_without_taking_its_lock(tmp_path, monkeypatch):
    """A cache on a read-only mount (no lock file can be made there) still serves what it holds intact."""
    root = write_fmnist(tmp_path / "flat", make_fmnist_arrays(), gz=True)
    monkeypatch.setenv("LRSCI_CACHE", str(tmp_path / "envcache"))
    first = vision.load_fashion_mnist(root)

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")
    monkeypatch.setattr(fashion_mnist, "FileLock", read_only)
    again = vision.load_fashion_mnist(root)
    assert torch.equal(first.x_train, again.x_train) and again.info["root"] == str(tmp_path / "envcache")


def test_subsets_are_seeded_and_are_real_rows(tmp_path):
    arr = make_fmnist_arrays(n_train=30, n_test=12)
    root = tmp_path / "data"
    write_fmnist(root / "FashionMNIST" / "raw", arr, gz=False)
    full = vision.load_fashion_mnist(root)
    a = vision.load_fashion_mnist(root, train_size=7, test_size=3, seed=1)
    b = vision.load_fashion_mnist(root, train_size=7, test_size=3, seed=1)
    c = vision.load_fashion_mnist(root, train_size=7, test_size=3, seed=2)
    assert a.x_train.shape == (7, 1, 28, 28) and a.x_test.shape == (3, 1, 28, 28)
    assert a.y_train.shape == (7,) and a.y_test.shape == (3,)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, c.x_train)
    assert a.info["train_size"] == 7 and a.info["full_train_size"] == 30 and a.info["subset_seed"] == 1
    # each subset row is a row of the full set, with its own label, rows distinct
    flat_full = full.x_train.flatten(1)
    rows = [int((flat_full == r).all(1).nonzero()[0]) for r in a.x_train.flatten(1)]
    assert len(set(rows)) == 7
    assert a.y_train.tolist() == [full.y_train[i].item() for i in rows]
    # only one split subsetted
    e = vision.load_fashion_mnist(root, train_size=5)
    assert e.x_train.shape[0] == 5 and e.x_test.shape[0] == 12
    with pytest.raises(ValueError):
        vision.load_fashion_mnist(root, train_size=31)


def test_lrsci_data_env_resolution(tmp_path, monkeypatch):
    arr = make_fmnist_arrays()
    env_root = tmp_path / "envdata"
    write_fmnist(env_root / "FashionMNIST" / "raw", arr, gz=False)
    write_cifar(env_root, make_cifar_arrays())
    assert vision.resolve_data_root() is None
    assert vision.resolve_data_root(tmp_path / "x") == tmp_path / "x"
    monkeypatch.setenv("LRSCI_DATA", str(env_root))
    assert vision.resolve_data_root() == env_root
    assert vision.resolve_data_root(str(tmp_path / "x")) == tmp_path / "x"  # argument wins
    assert vision.fashion_mnist_available() and vision.cifar10_available()
    assert vision.load_fashion_mnist().info["root"] == str(env_root)
    assert vision.load_cifar10().info["root"] == str(env_root)


def test_fashion_mnist_not_found_message(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not vision.fashion_mnist_available(empty)
    with pytest.raises(vision.DatasetNotFound) as ei:
        vision.load_fashion_mnist(empty)
    assert isinstance(ei.value, FileNotFoundError)
    msg = str(ei.value)
    for needle in (str(empty), str(tmp_path / "no-debian"), "$LRSCI_DATA: not set",
                   "apt-get install dataset-fashion-mnist", "--data-root", "LRSCI_DATA",
                   "FashionMNIST/raw", "download"):
        assert needle in msg, (needle, msg)
    # half a dataset is still "not found"
    write_fmnist(empty, make_fmnist_arrays(), gz=True)
    (empty / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(vision.DatasetNotFound):
        vision.load_fashion_mnist(empty)


def test_fashion_mnist_available_does_not_unpack(tmp_path, monkeypatch):
    debian = write_fmnist(tmp_path / "deb", make_fmnist_arrays(), gz=True)
    assert not vision.fashion_mnist_available()
    monkeypatch.setattr(locations, "DEBIAN_FASHION_MNIST_DIR", debian)
    assert vision.fashion_mnist_available()
    assert not (tmp_path / "home-cache").exists()


def test_download_passes_through_to_torchvision(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    arr = make_fmnist_arrays()
    calls = []

    def fake_fmnist_download(self):  # stands in for the network
        calls.append(self.root)
        if not self._check_exists():
            write_fmnist(Path(self.raw_folder), arr, gz=False)

    monkeypatch.setattr(tvd.FashionMNIST, "download", fake_fmnist_download)
    target = tmp_path / "dl"
    d = vision.load_fashion_mnist(target, download=True)
    assert calls and Path(calls[0]) == target
    assert d.y_train.tolist() == arr["train_y"].tolist()
    assert d.info["source"].startswith("download")

    carr = make_cifar_arrays()

    def fake_cifar_download(self):
        if not self._check_integrity():
            write_cifar(Path(self.root), carr)

    monkeypatch.setattr(tvd.CIFAR10, "download", fake_cifar_download)
    c = vision.load_cifar10(tmp_path / "dl2", download=True)
    assert c.x_train.shape == (20, 3, 32, 32)

    def failing_download(self):
        raise RuntimeError("Error downloading: no network")

    monkeypatch.setattr(tvd.CIFAR10, "download", failing_download)
    with pytest.raises(vision.DatasetNotFound, match="no network"):
        vision.load_cifar10(tmp_path / "dl3", download=True)


# =============================================================================== CIFAR-10
def test_cifar_fixture_is_in_the_real_pickle_format(tmp_path):
    write_cifar(tmp_path, make_cifar_arrays())
    folder = tmp_path / "cifar-10-batches-py"
    with open(folder / "data_batch_1", "rb") as f:
        entry = pickle.load(f, encoding="bytes")
    assert entry[b"data"].dtype == np.uint8 and entry[b"data"].shape == (4, 3072)
    assert isinstance(entry[b"labels"], list)
    with open(folder / "batches.meta", "rb") as f:
        assert pickle.load(f, encoding="bytes")[b"label_names"][0] == b"airplane"
    # torchvision's stock reader refuses it (md5 sums) -- the reason for the subclass
    import torchvision.datasets as tvd
    with pytest.raises(RuntimeError):
        tvd.CIFAR10(str(tmp_path), train=True)


def test_cifar10_load(tmp_path):
    arr = make_cifar_arrays()
    root = write_cifar(tmp_path / "data", arr)
    d = vision.load_cifar10(root)
    assert d.name == "cifar10" and d.num_classes == 10
    assert d.x_train.shape == (20, 3, 32, 32) and d.x_test.shape == (6, 3, 32, 32)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert d.x_train.is_contiguous()
    torch.testing.assert_close(d.x_train, expected_cifar(np.vstack(arr["batches"])))
    torch.testing.assert_close(d.x_test, expected_cifar(arr["test"]))
    assert d.y_train.tolist() == sum(arr["batch_labels"], [])
    assert d.y_test.tolist() == arr["test_labels"]
    assert d.info["classes"] == CIFAR_LABEL_NAMES
    assert d.info["normalization"]["mean"] == [0.4914, 0.4822, 0.4465]
    assert d.info["normalization"]["std"] == [0.2470, 0.2435, 0.2616]
    assert d.info["source"] == str(root / "cifar-10-batches-py")
    # per-channel constants really are per channel: channel means of a constant image differ
    const = torch.full((1, 3, 1, 1), 128 / 255)
    expect = (const - torch.tensor(vision.CIFAR10_MEAN).view(1, 3, 1, 1)) / torch.tensor(vision.CIFAR10_STD).view(1, 3, 1, 1)
    assert len(set(expect.flatten().tolist())) == 3

    # the folder itself is accepted as data root
    assert vision.load_cifar10(root / "cifar-10-batches-py").info["root"] == str(root)


def test_cifar10_subsets(tmp_path):
    root = write_cifar(tmp_path / "data", make_cifar_arrays())
    full = vision.load_cifar10(root)
    a = vision.load_cifar10(root, train_size=9, test_size=2, seed=5)
    b = vision.load_cifar10(root, train_size=9, test_size=2, seed=5)
    assert a.x_train.shape == (9, 3, 32, 32) and a.x_test.shape == (2, 3, 32, 32)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train)
    flat_full = full.x_train.flatten(1)
    rows = [int((flat_full == r).all(1).nonzero()[0]) for r in a.x_train.flatten(1)]
    assert a.y_train.tolist() == [full.y_train[i].item() for i in rows]


def test_cifar10_not_found_and_available(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not vision.cifar10_available(empty)
    with pytest.raises(vision.DatasetNotFound) as ei:
        vision.load_cifar10(empty)
    assert isinstance(ei.value, FileNotFoundError)
    msg = str(ei.value)
    for needle in (str(empty), "cifar-10-batches-py", "torchvision.datasets.CIFAR10(root, download=True)",
                   "--data-root", "LRSCI_DATA"):
        assert needle in msg, (needle, msg)
    assert "http" not in msg

    write_cifar(empty, make_cifar_arrays())
    (empty / "cifar-10-batches-py" / "test_batch").unlink()
    assert not vision.cifar10_available(empty)
    with pytest.raises(vision.DatasetNotFound, match="test_batch"):
        vision.load_cifar10(empty)
    write_cifar(empty, make_cifar_arrays())
    assert vision.cifar10_available(empty)
    assert vision.cifar10_available(empty / "cifar-10-batches-py")


def test_data_root_argument_wins_over_lrsci_data(tmp_path, monkeypatch):
    arg, env = make_fmnist_arrays(seed=1), make_fmnist_arrays(seed=2)
    write_fmnist(tmp_path / "arg" / "FashionMNIST" / "raw", arg, gz=False)
    write_fmnist(tmp_path / "env" / "FashionMNIST" / "raw", env, gz=False)
    monkeypatch.setenv("LRSCI_DATA", str(tmp_path / "env"))
    d = vision.load_fashion_mnist(tmp_path / "arg")
    assert d.info["root"] == str(tmp_path / "arg")
    torch.testing.assert_close(d.x_train, expected_fmnist(arg["train_x"]))


def test_subset_rows_keep_the_dataset_order_and_all_ten_classes(tmp_path):
    arr = make_fmnist_arrays(n_train=30, n_test=12)
    root = tmp_path / "data"
    write_fmnist(root / "FashionMNIST" / "raw", arr, gz=False)
    full = vision.load_fashion_mnist(root).x_train.flatten(1)
    a = vision.load_fashion_mnist(root, train_size=7, test_size=2, seed=1)
    rows = [int((full == r).all(1).nonzero()[0]) for r in a.x_train.flatten(1)]
    assert rows == sorted(rows)
    arr["train_y"], arr["test_y"] = arr["train_y"] % 3, arr["test_y"] % 3
    write_fmnist(tmp_path / "few" / "FashionMNIST" / "raw", arr, gz=False)
    few = vision.load_fashion_mnist(tmp_path / "few", train_size=7, seed=1)
    assert few.num_classes == 10  # the dataset's ten classes, not the labels the rows happen to hold


def test_cifar10_changed_while_read_is_refused(tmp_path, monkeypatch):
    root = write_cifar(tmp_path / "data", make_cifar_arrays())
    ticks = iter(range(10**6))
    monkeypatch.setattr(cifar10, "_stat_key", lambda p: (str(p), next(ticks)))  # every look sees a new version
    with pytest.raises(vision.DataError, match="changed while being read"):
        vision.load_cifar10(root)


# =============================================================================== real data
@pytest.mark.skipif(not REAL_DEBIAN_DIR.is_dir(),
                    reason=f"{REAL_DEBIAN_DIR} absent (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist_from_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(locations, "DEBIAN_FASHION_MNIST_DIR", REAL_DEBIAN_DIR)
    monkeypatch.setenv("LRSCI_CACHE", str(tmp_path / "cache"))
    d = vision.load_fashion_mnist()
    assert d.info["source"] == str(REAL_DEBIAN_DIR)
    assert d.x_train.shape == (60000, 1, 28, 28) and d.x_test.shape == (10000, 1, 28, 28)
    assert d.input_shape == (1, 28, 28)
    assert d.y_train.unique().tolist() == list(range(10)) and d.y_test.unique().tolist() == list(range(10))
    assert torch.bincount(d.y_train).tolist() == [6000] * 10
    # the documented constants are the training set's statistics
    assert abs(d.x_train.mean().item()) < 1e-3 and abs(d.x_train.std().item() - 1) < 1e-3


def test_the_debian_folder_is_never_a_cache_even_when_passed_as_the_data_root(monkeypatch):
    monkeypatch.delenv(vision.CACHE_ENV, raising=False)
    monkeypatch.setattr(locations.os, "access", lambda p, mode: True)   # as root: every folder is writable
    monkeypatch.setattr(locations.Path, "is_dir", lambda self: True)
    assert vision.cache_root(locations.DEBIAN_FASHION_MNIST_DIR) == Path(locations.DEFAULT_CACHE_DIR).expanduser()


def test_cifar10_is_official_only_when_every_pickle_has_torchvisions_md5(tmp_path, monkeypatch):
    """The real archive is not here, so the reference list is pointed at the fixture's own md5 sums:
    then (and only then, every file matching) the files count as official."""
    import hashlib
    import torchvision.datasets as tvd

    folder = write_cifar(tmp_path / "data", make_cifar_arrays()) / "cifar-10-batches-py"
    assert vision.load_cifar10(folder.parent).info["official"] is False   # a fixture, not the download
    md5 = {n: hashlib.md5((folder / n).read_bytes()).hexdigest() for n in cifar10.CIFAR10_FILES}
    monkeypatch.setattr(tvd.CIFAR10, "train_list", [[n, md5[n]] for n in md5 if n.startswith("data_batch")])
    monkeypatch.setattr(tvd.CIFAR10, "test_list", [["test_batch", md5["test_batch"]]])
    monkeypatch.setattr(tvd.CIFAR10, "meta", {**tvd.CIFAR10.meta, "md5": md5["batches.meta"]})
    assert vision.load_cifar10(folder.parent).info["official"] is True
    monkeypatch.setattr(tvd.CIFAR10, "test_list", [["test_batch", "0" * 32]])   # one file differs
    assert vision.load_cifar10(folder.parent).info["official"] is False


def _load_after(barrier, cache: str, root: str, out) -> None:
    os.environ["LRSCI_CACHE"] = cache
    barrier.wait()
    try:
        d = vision.load_fashion_mnist(root)
        out.put(("ok", int(d.x_train.shape[0])))
    except Exception as exc:   # reported to the parent, which names it
        out.put((type(exc).__name__, str(exc)[:200]))


def test_worker_processes_of_a_first_run_unpack_one_cache_without_breaking_each_other(tmp_path):
    # Every worker of a fresh run finds no cache at once; one unpacks and the others wait for its marker.
    # Large enough files (~8 MB) that an unlocked unpack replaces them while another process reads.
    arr = make_fmnist_arrays(n_train=10_000, n_test=100, seed=1)
    root = write_fmnist(tmp_path / "flat", arr, gz=True)
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_load_after, args=(barrier, str(tmp_path / "cache"), str(root), out))
             for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == [("ok", 10_000)] * 4


@pytest.mark.parametrize("loader", ["load_fashion_mnist", "load_cifar10"])
def test_a_data_root_that_does_not_exist_is_named_not_searched_past(tmp_path, monkeypatch, loader):
    debian = write_fmnist(tmp_path / "debian" / "fashion-mnist", make_fmnist_arrays(), gz=True)
    monkeypatch.setattr(locations, "DEBIAN_FASHION_MNIST_DIR", debian)   # data elsewhere that would be found
    with pytest.raises(vision.DatasetNotFound, match=r"data root .*typo does not exist"):
        getattr(vision, loader)(tmp_path / "typo")


@pytest.mark.parametrize("damage, problem", [
    ("truncate", r"data_batch_2: is not a readable CIFAR-10 batch"),
    ("narrow rows", r"data_batch_2: holds data of shape \(4, 1000\)"),
    ("label 12", r"data_batch_2: holds labels from \d+ to 12, outside 0\.\.9"),
    ("float pixels", r"data_batch_2: holds float32 pixels; CIFAR-10 pixels are uint8"),
    ("wide pixels", r"data_batch_2: holds int64 pixels"),
    ("a label short", r"data_batch_2: holds data of shape \(4, 3072\) and labels of shape \(3,\)"),
    ("string labels", r"data_batch_2: holds labels of dtype <U"),
])
def test_a_bad_cifar_batch_is_named_with_what_is_wrong(tmp_path, damage, problem):
    arr = make_cifar_arrays()
    if damage == "narrow rows":
        arr["batches"][1] = arr["batches"][1][:, :1000]
    if damage == "label 12":
        arr["batch_labels"][1] = [12] + list(arr["batch_labels"][1][1:])
    if damage == "float pixels":   # would load as wrong data: normalised as if they were bytes
        arr["batches"][1] = arr["batches"][1].astype("float32") / 255
    if damage == "wide pixels":
        arr["batches"][1] = arr["batches"][1].astype("int64") * 3
    if damage == "a label short":
        arr["batch_labels"][1] = list(arr["batch_labels"][1][:-1])
    if damage == "string labels":
        arr["batch_labels"][1] = ["cat"] + [str(v) for v in arr["batch_labels"][1][1:]]
    root = write_cifar(tmp_path / "c", arr)
    if damage == "truncate":
        f = root / "cifar-10-batches-py" / "data_batch_2"
        f.write_bytes(f.read_bytes()[:200])
    with pytest.raises(vision.DataError, match=problem):
        vision.load_cifar10(root)

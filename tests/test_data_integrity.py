"""Fault injection for lrsci.data.vision: bad files fail loudly and never damage a good cache.

Every fixture is a tiny file in the real idx / gzip / CIFAR pickle format, written into tmp_path
with the writers of tests/test_vision.py; each test injects one fault and checks the loader
names the bad file, keeps the previous good cache byte for byte, and records data identity.
"""
from __future__ import annotations

import gzip
import json
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from lrsci.data import cifar10, fashion_mnist, locations, vision
from tests.test_vision import (
    IDX_NAMES, REAL_DEBIAN_DIR, expected_fmnist, idx_images_bytes, idx_labels_bytes,
    make_cifar_arrays, make_fmnist_arrays, write_cifar, write_fmnist,
)

pytestmark = pytest.mark.usefixtures("isolated")   # no user env, Debian folder or ~/.cache (tests/conftest.py)


# =============================================================================== helpers
def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included) -> its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def good_cache(tmp_path, monkeypatch):
    """A Debian-style .gz folder A, loaded once so the shared cache holds A. Returns (arrays, cache raw)."""
    arr = make_fmnist_arrays()
    monkeypatch.setattr(locations, "DEBIAN_FASHION_MNIST_DIR", write_fmnist(tmp_path / "debA", arr, gz=True))
    monkeypatch.setenv("LRSCI_CACHE", str(tmp_path / "cache"))
    vision.load_fashion_mnist()
    return arr, tmp_path / "cache" / "FashionMNIST" / "raw"


def assert_still_a(arr, raw, before):
    """The cache is byte-identical to before, nothing half-made is left, and A still loads."""
    assert snapshot(raw) == before
    assert not list(raw.parent.glob(".raw.unpack-*"))
    d = vision.load_fashion_mnist()
    torch.testing.assert_close(d.x_train, expected_fmnist(arr["train_x"]))
    assert d.y_test.tolist() == arr["test_y"].tolist()


def gz(data: bytes) -> bytes:
    return gzip.compress(data)


def _truncated_gz(a):
    return "train-images-idx3-ubyte.gz", gz(idx_images_bytes(a["train_x"]))[:300], r"truncated or corrupt"


def _not_gzip(a):
    return "t10k-images-idx3-ubyte.gz", b"this is not gzip at all" * 10, r"truncated or corrupt"


def _bad_crc(a):
    blob = bytearray(gz(idx_labels_bytes(a["train_y"])))
    blob[-6] ^= 0xFF  # CRC32 trailer
    return "train-labels-idx1-ubyte.gz", bytes(blob), r"truncated or corrupt"


def _bad_magic(a):
    data = bytearray(idx_images_bytes(a["train_x"]))
    data[3] = 0x01  # 2049 (a label file's magic) where 2051 belongs
    return "train-images-idx3-ubyte.gz", gz(bytes(data)), r"magic number 2049, expected 2051"


def _wrong_shape(a):
    x = np.zeros((20, 32, 32), np.uint8)
    return "train-images-idx3-ubyte.gz", gz(idx_images_bytes(x)), r"shape 32x32, expected 28x28"


def _short_payload(a):
    # a valid gzip of a truncated idx file: the gzip check passes, the idx check must not
    return "t10k-images-idx3-ubyte.gz", gz(idx_images_bytes(a["test_x"])[:-100]), r"header announces 8 items"


def _count_mismatch(a):
    return "t10k-labels-idx1-ubyte.gz", gz(idx_labels_bytes(a["test_y"][:5])), r"5 labels but .* 8 images"


def _label_out_of_range(a):
    y = a["train_y"].copy()
    y[3] = 12
    return "train-labels-idx1-ubyte.gz", gz(idx_labels_bytes(y)), r"label 12, outside the classes 0..9"


def _padded_payload(a):
    return "t10k-images-idx3-ubyte.gz", gz(idx_images_bytes(a["test_x"]) + b"\0" * 100), r"header announces 8 items"


def _empty(a):
    return "train-images-idx3-ubyte.gz", gz(idx_images_bytes(np.zeros((0, 28, 28), np.uint8))), r"announces 0 items"


FAULTS = [_truncated_gz, _not_gzip, _bad_crc, _bad_magic, _wrong_shape, _short_payload,
          _count_mismatch, _label_out_of_range, _padded_payload, _empty]


# =============================================================================== bad sources
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.__name__.strip("_"))
def test_bad_source_is_named_and_leaves_good_cache_intact(tmp_path, monkeypatch, fault):
    """The issue's data loss: a bad .gz elsewhere used to overwrite the shared cache file by file."""
    arr, raw = good_cache(tmp_path, monkeypatch)
    before = snapshot(raw)
    bad_root = write_fmnist(tmp_path / "userdata", make_fmnist_arrays(seed=5), gz=True)
    name, blob, problem = fault(make_fmnist_arrays(seed=5))
    (bad_root / name).write_bytes(blob)

    with pytest.raises(vision.DataError, match=problem) as ei:
        vision.load_fashion_mnist(bad_root)
    err = ei.value
    assert isinstance(err, ValueError) and not isinstance(err, (EOFError, AssertionError, IndexError))
    assert err.path == bad_root / name and str(bad_root / name) in str(err)
    assert "Replace it with a good copy" in str(err)  # says what to do
    assert_still_a(arr, raw, before)


@pytest.mark.parametrize("fault", [_bad_magic, _wrong_shape, _short_payload, _count_mismatch, _label_out_of_range,
                                   _padded_payload, _empty],
                         ids=lambda f: f.__name__.strip("_"))
def test_bad_unpacked_file_in_place_is_verified_at_load(tmp_path, fault):
    """Unpacked user files are read in place: the load-time check must catch the same faults."""
    raw = write_fmnist(tmp_path / "data" / "FashionMNIST" / "raw", make_fmnist_arrays(), gz=False)
    name, blob, problem = fault(make_fmnist_arrays())
    (raw / name[:-3]).write_bytes(gzip.decompress(blob))
    with pytest.raises(vision.DataError, match=problem) as ei:
        vision.load_fashion_mnist(tmp_path / "data")
    assert ei.value.path == raw / name[:-3]
    assert (raw / name[:-3]).is_file()  # the user's own file is reported, never moved or deleted


def test_bad_debian_file_says_reinstall(tmp_path, monkeypatch):
    debian = write_fmnist(tmp_path / "usr-share" / "fashion-mnist", make_fmnist_arrays(), gz=True)
    (debian / "t10k-labels-idx1-ubyte.gz").write_bytes(gz(idx_labels_bytes(np.arange(8)))[:20])
    monkeypatch.setattr(locations, "DEBIAN_FASHION_MNIST_DIR", debian)
    with pytest.raises(vision.DataError, match="apt-get install --reinstall dataset-fashion-mnist"):
        vision.load_fashion_mnist()
    assert not (tmp_path / "home-cache" / "FashionMNIST" / "raw" / ".lrsci-source.json").exists()


# =============================================================================== interrupted unpack
@pytest.mark.parametrize("crash_at", [0, 2, 3])
def test_interrupted_unpack_keeps_old_cache(tmp_path, monkeypatch, crash_at):
    """A crash while writing file ``crash_at`` (half its bytes on disk) must not touch the old cache."""
    arr, raw = good_cache(tmp_path, monkeypatch)
    before = snapshot(raw)
    arr2 = make_fmnist_arrays(n_train=12, n_test=5, seed=9)
    write_fmnist(locations.DEBIAN_FASHION_MNIST_DIR, arr2, gz=True)  # source changed: re-unpack due
    calls, real_write = [], fashion_mnist._write_file

    def crashing_write(dest, data):
        calls.append(dest)
        if len(calls) - 1 == crash_at:
            Path(dest).write_bytes(data[: len(data) // 2])
            raise RuntimeError("simulated crash mid-write")
        real_write(dest, data)

    with monkeypatch.context() as m:
        m.setattr(fashion_mnist, "_write_file", crashing_write)
        with pytest.raises(RuntimeError, match="simulated crash"):
            vision.load_fashion_mnist()
    assert snapshot(raw) == before
    assert not list(raw.parent.glob(".raw.unpack-*"))
    d = vision.load_fashion_mnist()  # the next, uninterrupted run unpacks the new source
    assert d.y_test.tolist() == arr2["test_y"].tolist()
    torch.testing.assert_close(d.x_train, expected_fmnist(arr2["train_x"]))


# =============================================================================== stale / corrupt cache
@pytest.mark.parametrize("damage", ["flip_byte", "truncate"])
def test_corrupt_cache_file_is_moved_aside_and_unpacked_again(tmp_path, monkeypatch, damage):
    arr, raw = good_cache(tmp_path, monkeypatch)
    target = raw / "train-images-idx3-ubyte"
    data = bytearray(target.read_bytes())
    if damage == "flip_byte":
        data[500] ^= 0xFF
    else:
        del data[-784:]
    target.write_bytes(bytes(data))  # same process: the stat-keyed hash cache must not hide it

    with pytest.warns(RuntimeWarning, match=f"{target}.*moved it aside"):
        d = vision.load_fashion_mnist()
    torch.testing.assert_close(d.x_train, expected_fmnist(arr["train_x"]))
    aside = list(raw.glob("train-images-idx3-ubyte.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == bytes(data)  # kept, not deleted
    assert target.read_bytes() == idx_images_bytes(arr["train_x"])


def test_stale_marker_or_missing_file_is_unpacked_again_quietly(tmp_path, monkeypatch, recwarn):
    arr, raw = good_cache(tmp_path, monkeypatch)
    (raw / ".lrsci-source.json").write_text('{"train-images-idx3-ubyte": ["old", 1, 2]}')  # old format
    (raw / "t10k-labels-idx1-ubyte").write_bytes(idx_labels_bytes(np.zeros(8)))  # stale content
    assert vision.load_fashion_mnist().y_test.tolist() == arr["test_y"].tolist()
    (raw / "t10k-images-idx3-ubyte").unlink()
    torch.testing.assert_close(vision.load_fashion_mnist().x_test, expected_fmnist(arr["test_x"]))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("content", [b'{"sources": {"train-ima', b"\xff\xfe not text", b"[1, 2]"])
def test_an_unreadable_cache_marker_is_moved_aside_and_named_then_the_cache_unpacked_again(tmp_path, monkeypatch,
                                                                                           content):
    arr, raw = good_cache(tmp_path, monkeypatch)
    marker = raw / ".lrsci-source.json"
    marker.write_bytes(content)
    with pytest.warns(RuntimeWarning, match=f"cache marker {marker}.*moved it aside"):
        d = vision.load_fashion_mnist()
    assert d.y_test.tolist() == arr["test_y"].tolist()
    aside = list(raw.glob(".lrsci-source.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content   # kept for inspection, not written over
    assert isinstance(json.loads(marker.read_text()), dict)       # a fresh marker vouches for the new unpack


def test_source_replaced_with_same_size_and_mtime_is_noticed(tmp_path, monkeypatch):
    arr, raw = good_cache(tmp_path, monkeypatch)
    src = locations.DEBIAN_FASHION_MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
    stored = lambda y: gzip.compress(idx_labels_bytes(y), compresslevel=0, mtime=0)  # noqa: E731  size fixed by length
    src.write_bytes(stored(arr["test_y"]))
    vision.load_fashion_mnist()
    st = src.stat()
    y2 = (arr["test_y"] + 1) % 10
    src.write_bytes(stored(y2))
    assert src.stat().st_size == st.st_size
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))  # like cp -p / rsync -t
    assert vision.load_fashion_mnist().y_test.tolist() == y2.tolist()


@pytest.mark.parametrize("where", ["FashionMNIST/raw", "."])
def test_changed_gz_wins_over_its_old_unpacked_copy(tmp_path, where):
    """.gz in a writable data root are unpacked into <root>/FashionMNIST/raw, which later loads
    find first: that folder is a cache of the .gz, so a replaced .gz must be unpacked again."""
    src = write_fmnist(tmp_path / "data" / where, make_fmnist_arrays(), gz=True)
    vision.load_fashion_mnist(tmp_path / "data")
    assert (tmp_path / "data" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    arr2 = make_fmnist_arrays(n_train=11, seed=4)
    write_fmnist(src, arr2, gz=True)
    d = vision.load_fashion_mnist(tmp_path / "data")
    assert d.x_train.shape[0] == 11 and d.y_train.tolist() == arr2["train_y"].tolist()
    assert d.info["source"] == str(src.resolve())


# =============================================================================== identity
def test_identity_hash_follows_the_bytes(tmp_path):
    arr = make_fmnist_arrays()
    a = vision.load_fashion_mnist(write_fmnist(tmp_path / "a" / "FashionMNIST" / "raw", arr, gz=False).parent.parent)
    b = vision.load_fashion_mnist(write_fmnist(tmp_path / "b", arr, gz=True))  # same bytes, other place/form
    assert a.info["content_sha256"] == b.info["content_sha256"] and a.info["data_sha256"] == b.info["data_sha256"]
    assert a.info["official"] is False  # fixtures are accepted, just labelled
    assert a.info["file_sha256"]["t10k-images-idx3-ubyte"] == hashlib.sha256(idx_images_bytes(arr["test_x"])).hexdigest()

    arr_c = {k: v.copy() for k, v in arr.items()}
    arr_c["train_x"][7, 3, 4] ^= 1  # one bit of one image
    c = vision.load_fashion_mnist(write_fmnist(tmp_path / "c", arr_c, gz=True))
    assert c.info["content_sha256"] != a.info["content_sha256"] and c.info["data_sha256"] != a.info["data_sha256"]

    s = vision.load_fashion_mnist(tmp_path / "b", train_size=5, seed=1)
    assert s.info["data_sha256"] == a.info["data_sha256"] and s.info["content_sha256"] != a.info["content_sha256"]
    ident = vision.data_identity("fashion-mnist", tmp_path / "b", train_size=5, seed=1)
    assert ident["content_sha256"] == s.info["content_sha256"] and ident["official"] is False
    assert ident["source"] == str(tmp_path / "b")


def test_identity_is_hashed_once_per_process(tmp_path, monkeypatch):
    root = write_fmnist(tmp_path / "d", make_fmnist_arrays(), gz=True)
    first = vision.load_fashion_mnist(root).info["content_sha256"]
    real, big = hashlib.sha256, []

    def counting(data=b"", *a, **k):
        if len(data) > 1000:
            big.append(len(data))
        return real(data, *a, **k)

    monkeypatch.setattr(fashion_mnist.hashlib, "sha256", counting)
    assert vision.load_fashion_mnist(root).info["content_sha256"] == first
    assert big == []  # nothing re-hashed


def test_cifar10_identity(tmp_path):
    arr = make_cifar_arrays()
    a = vision.load_cifar10(write_cifar(tmp_path / "a", arr))
    b = vision.load_cifar10(write_cifar(tmp_path / "b", arr))
    assert a.info["content_sha256"] == b.info["content_sha256"] and a.info["official"] is False
    assert set(a.info["file_sha256"]) == set(cifar10.CIFAR10_FILES)
    arr["test"][0, 0] ^= 1
    c = vision.load_cifar10(write_cifar(tmp_path / "c", arr))
    assert c.info["content_sha256"] != a.info["content_sha256"]
    assert vision.data_identity("cifar10", tmp_path / "c")["content_sha256"] == c.info["content_sha256"]
    with pytest.raises(ValueError, match="not a file-backed dataset"):
        vision.data_identity("ps10")


# =============================================================================== real files
@pytest.mark.skipif(not REAL_DEBIAN_DIR.is_dir(), reason=f"{REAL_DEBIAN_DIR} absent")
def test_known_checksums_of_the_real_files(tmp_path, monkeypatch):
    """Debian's .gz = the official .gz with a rewritten 10-byte gzip header: rebuilding that
    header gives files whose md5 are torchvision's and whose sha256 are the recorded ones."""
    from torchvision.datasets import FashionMNIST

    torchvision_md5 = dict(FashionMNIST.resources)
    for name in IDX_NAMES:
        deb = (REAL_DEBIAN_DIR / f"{name}.gz").read_bytes()
        assert hashlib.sha256(deb).hexdigest() == vision.DEBIAN_FASHION_MNIST_GZ_SHA256[f"{name}.gz"]
        mtime = 1504176606 if name.startswith("train") else 1504176627
        official = (b"\x1f\x8b\x08\x08" + struct.pack("<I", mtime) + deb[8:10] + name.encode() + b"\0" + deb[10:])
        assert hashlib.md5(official).hexdigest() == torchvision_md5[f"{name}.gz"]
        assert hashlib.sha256(official).hexdigest() == vision.FASHION_MNIST_GZ_SHA256[f"{name}.gz"]
    monkeypatch.setattr(locations, "DEBIAN_FASHION_MNIST_DIR", REAL_DEBIAN_DIR)
    monkeypatch.setenv("LRSCI_CACHE", str(tmp_path / "cache"))
    ident = vision.data_identity("fashion-mnist")
    assert ident["official"] is True and ident["file_sha256"] == vision.FASHION_MNIST_IDX_SHA256


def test_generated_data_is_named_by_its_tensors():
    """PS10 and the toy set have no files: their identity for the run store is the hash of what the generator
    made, so a change in a generator's code is a change of data (stored runs are not reused)."""
    from lrsci.config import DataConfig
    from lrsci.data.digests import tensor_digest
    from lrsci.data.ps10 import make_ps10
    from lrsci.data.registry import load_data

    cfg = DataConfig("ps10", train_size=2000, test_size=2000, seed=0, options={"image_size": 4})
    data = load_data(cfg)
    same = make_ps10(seed=0, n_train=2000, n_test=2000, image_size=4)
    assert data.info["content_sha256"] == tensor_digest(same)
    other = make_ps10(seed=1, n_train=2000, n_test=2000, image_size=4)
    assert tensor_digest(other) != data.info["content_sha256"]
    same.train_subsets["noise"] = ~same.train_subsets.get("noise", torch.zeros(2000, dtype=torch.bool))
    assert tensor_digest(same) != data.info["content_sha256"]   # the subset masks are part of it
    toy = load_data(DataConfig("toy-pq", train_size=100, test_size=100, seed=0))
    assert len(toy.info["content_sha256"]) == 64


def test_identity_names_the_subset_seed_only_when_subsetting(tmp_path):
    """Two subsets drawn with other seeds are other rows, so other data to the run store; the full
    set is the same data whatever the seed."""
    root = write_fmnist(tmp_path / "d", make_fmnist_arrays(), gz=True)
    one, two = (vision.data_identity("fashion-mnist", root, train_size=5, seed=s)["content_sha256"] for s in (1, 2))
    assert one != two
    full = {vision.data_identity("fashion-mnist", root, seed=s)["content_sha256"] for s in (0, 3)}
    assert len(full) == 1


def test_a_file_that_changes_while_read_is_refused(tmp_path, monkeypatch):
    from lrsci.data import digests

    p = tmp_path / "f"
    p.write_bytes(b"x" * 64)
    real, calls = digests.stat_key, []

    def moving(path, algo="sha256"):  # a writer touches the file between the two looks
        calls.append(path)
        key = real(path, algo)
        return key[:3] + (key[3] + len(calls),) + key[4:]

    monkeypatch.setattr(digests, "stat_key", moving)
    with pytest.raises(vision.DataError, match="changed while being read"):
        digests.read_stable(p)

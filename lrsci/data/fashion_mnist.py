"""Fashion-MNIST: found, unpacked once into a verified cache, read by lrsci's own idx reader.

Fashion-MNIST is read from *unpacked* idx files under ``<root>/FashionMNIST/raw/`` (torchvision's
layout, so ``download=True`` can use torchvision's downloader). Gzipped files (flat, as Debian ships
them, or under ``FashionMNIST/raw/``) are unpacked once into ``<cache root>/FashionMNIST/raw/``
(lrsci.data.locations says where that is). A small ``.lrsci-source.json`` there records which files
were unpacked (path, size, mtime) and the sha256 of each unpacked file, so the unpacking is redone only
when the source changes or a cached file is damaged; while the recorded sources exist, that folder is
treated as their cache, never as a source of its own.

Integrity (a bad file must fail loudly, never train silently on wrong data):

* every idx file is checked when read (magic number, dims, 28 x 28 images, byte count, labels 0..9, as
  many labels as images); a failure raises :class:`DataError` naming the file, the problem and the
  remedy. torchvision's own idx reader is not used for reading: it asserts (bare AssertionError) and
  accepts truncated label files;
* unpacking goes into a temporary folder next to the cache and is moved into place only when all four
  files decompressed and verified, so a bad source never damages a good cache; the marker records the
  sha256 of each unpacked file, and cached files that no longer match it are moved aside
  (``<name>.corrupt-<timestamp>``, with a warning) and unpacked again;
* "official" is decided by the sha256 of the unpacked idx bytes (gzip headers vary between
  repackagings, the data bytes do not).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tempfile
import warnings
import zlib
from pathlib import Path

import torch
from filelock import FileLock

from ..files import quarantine, write_json
from . import locations
from .base import ArrayData
from .digests import DIGESTS as _DIGESTS, file_digest as _file_digest, identity as _identity
from .digests import read_stable as _read_stable, stat_key as _stat_key
from .errors import DataError, DatasetNotFound
from .idx import IDX_FORMAT as _IDX_FORMAT, check_counts, check_idx
from .image_arrays import array_data, normalize, subset_index

# Mean and std of all pixels of the 60 000 training images (applied to pixel/255), the values
# commonly used for this dataset.
FASHION_MNIST_MEAN: tuple[float, ...] = (0.2860,)
FASHION_MNIST_STD: tuple[float, ...] = (0.3530,)

FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_SOURCE_MARKER = ".lrsci-source.json"

FASHION_MNIST_HOWTO = (
    "To get Fashion-MNIST: `apt-get install dataset-fashion-mnist` (Debian/Ubuntu; it installs "
    f"the gzipped idx files into {locations.DEBIAN_FASHION_MNIST_DIR}), or pass --data-root / set "
    f"{locations.DATA_ENV} to a folder containing FashionMNIST/raw/ with the four idx files "
    f"({', '.join(FASHION_MNIST_FILES)}; unpacked or .gz), or, on a machine with internet, load it once in "
    "Python with download allowed (lrsci.data.registry.load_data(DataConfig(\"fashion-mnist\", options={\"download\": True})); the "
    "claims themselves never download)."
)


# --- Known checksums of the published Fashion-MNIST files --------------------------------
# sha256 of the official .gz downloads (Zalando's S3 / GitHub data/fashion). Their md5 sums are
# the ones torchvision lists in FashionMNIST.resources (8d4fb7e6..., 25c81989..., bef4ecab...,
# bb300cfd...). Computed from the Debian files below after restoring the gzip header that
# Debian's strip-nondeterminism rewrote (flag FNAME + name, mtime 1504176606 for train-*,
# 1504176627 for t10k-*): the rebuilt files' md5 equal torchvision's, byte for byte.
FASHION_MNIST_GZ_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
# sha256 of dataset-fashion-mnist 0.0~git20200523.55506a9-1's .gz files: the same deflate
# streams as the official ones under a different 10-byte gzip header (no file name, mtime
# 2020-06-05), so their md5 differ from torchvision's although the data is identical.
DEBIAN_FASHION_MNIST_GZ_SHA256 = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
# sha256 of the unpacked idx files (the same for both .gz variants above). "official" is
# decided on these: gzip headers vary between repackagings, the data bytes do not.
FASHION_MNIST_IDX_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def _check_idx(data, name: str, path: Path) -> tuple[int, int]:
    return check_idx(data, name, path, _remedy(path))


def _check_counts(counts: dict[str, int], paths: dict[str, Path]) -> None:
    check_counts(counts, paths, _remedy)


def _remedy(path: Path) -> str:
    """What the user should do about a bad file, depending on where it lives."""
    if Path(locations.DEBIAN_FASHION_MNIST_DIR) in Path(path).parents:
        return ("The Debian package's copy is damaged: reinstall it with "
                "`apt-get install --reinstall dataset-fashion-mnist`.")
    return ("Replace it with a good copy (re-download or re-copy it), or delete it so the next "
            "location is used (e.g. the Debian package dataset-fashion-mnist).")


# --------------------------------------------------------------------------- Fashion-MNIST files
def _find_idx_files(directory: Path) -> dict[str, Path] | None:
    """Map each idx name to an existing file in ``directory`` (unpacked preferred, else .gz).

    A folder we unpacked into is a cache, not a source: while the files its marker names
    still exist, those are returned, so a changed source is noticed and unpacked again
    instead of its stale copies being read.
    """
    recorded = _marker_sources(directory)
    if recorded is not None:
        return recorded
    found: dict[str, Path] = {}
    for name in FASHION_MNIST_FILES:
        for cand in (directory / name, directory / f"{name}.gz"):
            if cand.is_file():
                found[name] = cand
                break
        else:
            return None
    return found


def _marker_sources(directory: Path) -> dict[str, Path] | None:
    """The source files our marker in ``directory`` records, if all four still exist."""
    sources = _read_marker(directory).get("sources")
    if not isinstance(sources, dict) or set(sources) != set(FASHION_MNIST_FILES):
        return None
    try:
        paths = {name: Path(sources[name][0]) for name in FASHION_MNIST_FILES}
    except (TypeError, IndexError, KeyError):
        return None
    return paths if all(p.is_file() for p in paths.values()) else None


def _locate_fashion_mnist(data_root):
    """Find the first location holding all four idx files.

    Returns (directory where found or None, {name: file} or None, the data root it was
    found under if the user gave it (argument or $LRSCI_DATA) else None, looked-at lines).
    """
    looked: list[str] = []
    for base, label in locations.candidates(data_root, include_debian=True):
        if base is None:
            looked.append(f"{label}: not set")
            continue
        subdirs = [base / "FashionMNIST" / "raw", base, base / "fashion-mnist"]
        for d in subdirs:
            files = _find_idx_files(d)
            if files is not None:
                user_root = base if label in locations.USER_ROOT_LABELS else None
                parents = {p.parent for p in files.values()}  # != {d} when d is our cache
                return (parents.pop() if len(parents) == 1 else d), files, user_root, looked
        if not base.exists():
            looked.append(f"{base} ({label}): does not exist")
        else:
            looked.append(f"{base} ({label}): none of " + ", ".join(f"{d}/" for d in subdirs)
                          + " holds all of " + ", ".join(FASHION_MNIST_FILES) + " (unpacked or .gz)")
    return None, None, None, looked


def _file_stamp(p: Path) -> list:
    st = p.stat()
    return [str(p.resolve()), st.st_size, st.st_mtime_ns]


def _read_fashion_mnist(raw: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read and verify the four unpacked idx files: ({name: uint8 tensor}, {name: sha256})."""
    arrays, digests, counts, paths = {}, {}, {}, {}
    for name in FASHION_MNIST_FILES:
        paths[name] = raw / name
        data, digests[name] = _read_stable(paths[name])
        counts[name], head = _check_idx(data, name, paths[name])
        item_shape = _IDX_FORMAT["images" if "images" in name else "labels"][1]
        # frombuffer shares the bytearray: no copy of the 47 MB training images
        arrays[name] = torch.frombuffer(data, dtype=torch.uint8, offset=head).view(counts[name], *item_shape)
    _check_counts(counts, paths)
    return arrays, digests


# --------------------------------------------------------------------------- unpacking into the cache
def _materialize_fashion_mnist(found_dir: Path, files: dict[str, Path], user_root: Path | None) -> Path:
    """Return a torchvision root whose FashionMNIST/raw/ holds the four unpacked files.

    If they are already unpacked in ``<root>/FashionMNIST/raw/`` that root is used as is;
    otherwise the files are unpacked (or copied) once into ``<cache root>/FashionMNIST/raw/``,
    the cache root being ``$LRSCI_CACHE``, else the user's data root if writable, else
    ``~/.cache/lrsci/data`` (never the Debian package's folder, even when run as root).
    """
    if (found_dir.name == "raw" and found_dir.parent.name == "FashionMNIST"
            and all(p.suffix != ".gz" for p in files.values())):
        return found_dir.parent.parent

    roots = [locations.cache_root(user_root)]
    if roots[0] != locations.fallback_cache():
        roots.append(locations.fallback_cache())
    last_err: OSError | None = None
    for root in roots:
        try:
            _unpack_into(root / "FashionMNIST" / "raw", files)
            return root
        except OSError as e:  # read-only file system despite os.access, full disk, ...
            last_err = e      # (a bad source raises DataError, which is not retried elsewhere)
    raise DatasetNotFound(
        f"Fashion-MNIST found in {found_dir} but could not be unpacked into "
        f"{' or '.join(str(r / 'FashionMNIST' / 'raw') for r in roots)}: {last_err}. "
        f"Set {locations.CACHE_ENV} to a writable folder."
    )


def _read_marker(raw: Path, set_aside: bool = False) -> dict:
    """Our marker in ``raw``, or {} when there is none or it is unreadable. ``set_aside`` (the unpacking
    process, holding the lock): an unreadable marker is moved aside and named before the cache is unpacked
    again, not silently written over."""
    path = raw / _SOURCE_MARKER
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(marker, dict):
            return marker
        problem = f"holds {type(marker).__name__}, not a record"
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:   # UnicodeDecodeError is a ValueError
        problem = f"is unreadable ({exc})"
    if set_aside and path.exists():
        warnings.warn(f"Fashion-MNIST cache marker {path} {problem}; moved it aside to {quarantine(path)} and "
                      "unpacking again.", RuntimeWarning, stacklevel=4)
    return {}


def _unpack_into(raw: Path, files: dict[str, Path]) -> None:
    """Make ``raw`` hold verified unpacked copies of ``files``.

    Redone when the sources' path/size/mtime/sha256 differ from the marker's record (stale cache) or
    when a cached file no longer has the sha256 recorded at unpacking (corrupt cache: it is
    moved aside, not deleted).
    """
    # path, size, mtime and content hash: a source replaced by a same-size file with a kept
    # mtime (cp -p, rsync -t) is still noticed; hashing the .gz is cached per process
    stamp = {name: _file_stamp(src) + [_file_digest(src)] for name, src in files.items()}
    marker = _read_marker(raw)
    if marker.get("sources") == stamp and not _cache_problems(raw, marker.get("files") or {}):
        return   # intact and current: read without the lock, so a cache on a read-only mount still serves
    raw.parent.mkdir(parents=True, exist_ok=True)
    # Worker processes of a first run all find no cache: one unpacks, the others wait and then find its
    # marker. Unlocked, each replaced the files the first was already reading ("changed while being read").
    with FileLock(str(raw.parent / f".{raw.name}.unpack.lock")):
        marker = _read_marker(raw, set_aside=True)
        if marker.get("sources") == stamp:
            bad = _cache_problems(raw, marker.get("files") or {})
            if not bad:
                return  # unpacked before from these very files, and still intact
            _set_aside(raw, bad, files)
        _unpack_atomically(raw, files, stamp)


def _cache_problems(raw: Path, recorded: dict) -> dict[str, str]:
    """{name: what is wrong} for each cached file missing or unlike what was unpacked."""
    bad = {}
    for name in FASHION_MNIST_FILES:
        p, want = raw / name, recorded.get(name) or {}
        if not p.is_file():
            bad[name] = "missing"
        elif p.stat().st_size != want.get("size"):
            bad[name] = f"is {p.stat().st_size} bytes, {want.get('size')} were unpacked"
        elif _file_digest(p) != want.get("sha256"):
            bad[name] = "differs from what was unpacked (sha256 mismatch)"
    return bad


def _set_aside(raw: Path, bad: dict[str, str], files: dict[str, Path]) -> None:
    """Move corrupt cached files to ``<name>.corrupt-<timestamp>`` (kept for inspection) and warn."""
    for name, problem in bad.items():
        p = raw / name
        if not p.is_file() or p.resolve() == files[name].resolve():
            continue  # nothing there, or it is the source itself: re-unpacking will judge it
        dest = quarantine(p)
        warnings.warn(f"Fashion-MNIST cache file {p} {problem}; moved it aside to {dest} and "
                      f"unpacking again from {files[name]}.", RuntimeWarning, stacklevel=4)


def _unpack_atomically(raw: Path, files: dict[str, Path], stamp: dict) -> None:
    """Unpack all files into a temporary folder next to ``raw``, verify them, then move them in.

    Any failure (bad source, full disk, interruption) happens before ``raw`` is touched, so a
    previous good cache and its marker stay as they were.
    """
    raw.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=raw.parent, prefix=f".{raw.name}.unpack-"))
    try:
        records = {name: _unpack_one(src, name, tmp, raw) for name, src in files.items()}
        _check_counts({n: r["items"] for n, r in records.items()}, files)
        _commit(tmp, raw, records, stamp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _decompress(src: Path) -> bytes:
    """The idx bytes of ``src`` (gunzipped if .gz); DataError naming it if it cannot be."""
    if src.suffix != ".gz":
        return src.read_bytes()
    try:
        with gzip.open(src, "rb") as f:
            return f.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:  # truncated, garbled, not gzip
        raise DataError(src, f"cannot be decompressed, the .gz file is truncated or corrupt "
                        f"({type(e).__name__}: {e})", _remedy(src)) from e


def _unpack_one(src: Path, name: str, tmp: Path, raw: Path) -> dict:
    """Decompress and verify one source into ``tmp``; return what the marker records."""
    data = _decompress(src)
    items, _ = _check_idx(data, name, src)
    if src.resolve() != (raw / name).resolve():  # an unpacked source already in place stays
        _write_file(tmp / name, data)
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "items": items}


def _write_file(dest: Path, data: bytes) -> None:
    with open(dest, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())  # durable before the rename publishes it
    os.chmod(dest, 0o644)  # the cache may be shared


def _commit(tmp: Path, raw: Path, records: dict[str, dict], stamp: dict) -> None:
    """Move the verified files from ``tmp`` into ``raw``; write the marker last."""
    # Drop the old marker first: if we die between the renames no marker vouches for a mix.
    (raw / _SOURCE_MARKER).unlink(missing_ok=True)
    for name, rec in records.items():
        if (tmp / name).exists():
            os.replace(tmp / name, raw / name)
        _DIGESTS[_stat_key(raw / name)] = rec["sha256"]  # hashed already: spare the reader
    body = {"sources": stamp,
            "files": {n: {"size": r["size"], "sha256": r["sha256"]} for n, r in records.items()}}
    write_json(raw / _SOURCE_MARKER, body)   # a temporary name, synced, then renamed into place


def _fashion_mnist_raw(data_root, download: bool) -> tuple[Path, Path, str]:
    """(folder holding the four verified unpacked idx files, torchvision root, source label)."""
    locations.given_root_exists(data_root, download, "Fashion-MNIST")
    found_dir, files, user_root, looked = _locate_fashion_mnist(data_root)
    if found_dir is not None:
        root = _materialize_fashion_mnist(found_dir, files, user_root)
        return root / "FashionMNIST" / "raw", root, str(found_dir)
    if not download:
        raise DatasetNotFound("Fashion-MNIST not found. Looked in:\n" + locations.looked_report(looked)
                              + "\n" + FASHION_MNIST_HOWTO)
    from torchvision.datasets import FashionMNIST

    root = locations.resolve_data_root(data_root) or locations.fallback_cache()
    try:
        FashionMNIST(str(root), train=True, download=True)  # fetches and unpacks all four files
    except AssertionError:
        pass  # torchvision's reader choked on a file: our reader below says which and why
    except (RuntimeError, OSError) as e:  # torchvision: "Dataset not found", download errors
        raise DatasetNotFound(f"Fashion-MNIST could not be read from {root}: {e}\n"
                              "Looked in:\n" + locations.looked_report(looked) + "\n" + FASHION_MNIST_HOWTO) from e
    return root / "FashionMNIST" / "raw", root, f"download into {root / 'FashionMNIST' / 'raw'}"


def _fashion_mnist_official(file_sha: dict[str, str]) -> bool:
    return file_sha == FASHION_MNIST_IDX_SHA256


def load_fashion_mnist(data_root: str | os.PathLike | None = None, train_size: int | None = None,
                       test_size: int | None = None, seed: int = 0, download: bool = False) -> ArrayData:
    """Fashion-MNIST as float32 N x 1 x 28 x 28, normalized with FASHION_MNIST_MEAN/STD.

    ``train_size``/``test_size`` take a random subset seeded by ``seed`` (one
    ``torch.Generator().manual_seed(seed)`` per split; rows kept in dataset order); None = all.
    ``download=True`` lets torchvision download into the data root (or cache root) when the
    files are found nowhere. Raises :class:`DatasetNotFound` when they are not there and
    :class:`DataError` when a file is there but bad (the message names it).
    """
    from torchvision.datasets import FashionMNIST

    raw, root, source = _fashion_mnist_raw(data_root, download)
    arrays, file_sha = _read_fashion_mnist(raw)
    identity = {**_identity("fashion-mnist", file_sha, train_size, test_size, seed),
                "official": _fashion_mnist_official(file_sha)}

    def split(prefix, size, which):
        data, targets = arrays[f"{prefix}-images-idx3-ubyte"], arrays[f"{prefix}-labels-idx1-ubyte"]
        full = int(data.shape[0])
        idx = subset_index(full, size, seed, which)
        if idx is not None:
            data, targets = data[idx], targets[idx]
        return normalize(data.unsqueeze(1), FASHION_MNIST_MEAN, FASHION_MNIST_STD), \
            targets.to(torch.int64), full

    return array_data("fashion-mnist", "lrsci verified idx reader (torchvision only downloads)", source,
                       root, split("train", train_size, "train"), split("t10k", test_size, "test"), seed,
                       train_size, test_size, FASHION_MNIST_MEAN, FASHION_MNIST_STD,
                       list(FashionMNIST.classes), identity)


def fashion_mnist_identity(data_root=None, train_size=None, test_size=None, seed: int = 0) -> dict:
    """What :func:`load_fashion_mnist` would record of its source and bytes, without loading (.gz files are
    unpacked, verified, into the cache first if need be: the hashes are of the unpacked bytes)."""
    raw, _, source = _fashion_mnist_raw(data_root, download=False)
    file_sha = {n: _file_digest(raw / n) for n in FASHION_MNIST_FILES}
    return {"source": source, **_identity("fashion-mnist", file_sha, train_size, test_size, seed),
            "official": _fashion_mnist_official(file_sha)}


def fashion_mnist_available(data_root: str | os.PathLike | None = None) -> bool:
    """True when the four Fashion-MNIST idx files are found (nothing is unpacked or read)."""
    return _locate_fashion_mnist(data_root)[0] is not None

"""Real image datasets (Fashion-MNIST, CIFAR-10) read with torchvision's own readers.

Both loaders return an :class:`~lrsci.data.base.ArrayData` with

* ``x_*``: float32, N x C x H x W, scaled to [0, 1] and then normalized per channel
  with the dataset's standard mean/std (the fixed constants below, *not* recomputed
  from the loaded subset, so every subset and every run sees the same transform);
* ``y_*``: int64 class indices.

Where the data is looked for, in order:

1. the ``data_root`` argument (the CLI's ``--data-root``);
2. the environment variable ``LRSCI_DATA``;
3. Fashion-MNIST only: ``/usr/share/datasets/fashion-mnist``, where the Debian package
   ``dataset-fashion-mnist`` puts the gzipped idx files;
4. the cache root (see below), where earlier unpacking or ``download=True`` put them.

torchvision's ``FashionMNIST`` reads *unpacked* idx files under ``<root>/FashionMNIST/raw/``.
Gzipped files (flat, as Debian ships them, or under ``FashionMNIST/raw/``) are unpacked
once into ``<cache root>/FashionMNIST/raw/``; the cache root is ``$LRSCI_CACHE`` if set,
else the user's data root (argument or ``$LRSCI_DATA``) where the files were found, if it is
writable, else ``~/.cache/lrsci/data`` (the Debian package's folder is never written to).
A small ``.lrsci-source.json`` there records which files were unpacked (path, size,
mtime), so the unpacking is redone only when the source changes.

CIFAR-10 uses torchvision's layout ``<root>/cifar-10-batches-py/`` (``data_batch_1`` ..
``data_batch_5``, ``test_batch``, ``batches.meta``).

torchvision is imported lazily (it costs seconds), so importing this module is cheap.
"""
from __future__ import annotations

import functools
import gzip
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from .base import ArrayData

__all__ = [
    "DatasetNotFound",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "DEBIAN_FASHION_MNIST_DIR",
    "DEFAULT_CACHE_DIR",
    "resolve_data_root",
    "cache_root",
    "load_fashion_mnist",
    "load_cifar10",
    "fashion_mnist_available",
    "cifar10_available",
]

# --- Normalization constants (per channel, applied to pixel/255) -------------------------
# Fashion-MNIST: mean and std of all pixels of the 60 000 training images
# (0.2860, 0.3530), the values commonly used for this dataset.
FASHION_MNIST_MEAN: tuple[float, ...] = (0.2860,)
FASHION_MNIST_STD: tuple[float, ...] = (0.3530,)
# CIFAR-10: per-channel (R, G, B) mean and std over the 50 000 training images.
# Note: the std (0.2470, 0.2435, 0.2616) is the true per-pixel std; the widely copied
# (0.2023, 0.1994, 0.2010) is a std of per-image means and is not used here.
CIFAR10_MEAN: tuple[float, ...] = (0.4914, 0.4822, 0.4465)
CIFAR10_STD: tuple[float, ...] = (0.2470, 0.2435, 0.2616)

# --- Locations (module constants so tests can monkeypatch them) --------------------------
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
DEFAULT_CACHE_DIR = Path("~/.cache/lrsci/data").expanduser()
DATA_ENV = "LRSCI_DATA"
CACHE_ENV = "LRSCI_CACHE"

FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta")
_SOURCE_MARKER = ".lrsci-source.json"

FASHION_MNIST_HOWTO = (
    "To get Fashion-MNIST: `apt-get install dataset-fashion-mnist` (Debian/Ubuntu; it installs "
    f"the gzipped idx files into {DEBIAN_FASHION_MNIST_DIR}), or pass --data-root / set "
    f"{DATA_ENV} to a folder containing FashionMNIST/raw/ with the four idx files "
    f"({', '.join(FASHION_MNIST_FILES)}; unpacked or .gz), or run once with download allowed "
    "(download=True; needs internet)."
)
CIFAR10_HOWTO = (
    f"To get CIFAR-10: place torchvision's `{CIFAR10_FOLDER}` folder (with {', '.join(CIFAR10_FILES)}) "
    f"under the data root (pass --data-root or set {DATA_ENV}), e.g. made by running "
    f"`torchvision.datasets.CIFAR10(root, download=True)` once on a machine with internet and "
    f"copying `root/{CIFAR10_FOLDER}` over; or run once with download allowed (download=True)."
)


class DatasetNotFound(FileNotFoundError):
    """The dataset's files are in none of the places looked at; the message says where and how to get it."""


# --------------------------------------------------------------------------- locations
def resolve_data_root(data_root: str | os.PathLike | None = None) -> Path | None:
    """The data root the user asked for: the argument, else ``$LRSCI_DATA``, else None."""
    if data_root is not None and str(data_root) != "":
        return Path(data_root).expanduser()
    env = os.environ.get(DATA_ENV, "")
    return Path(env).expanduser() if env else None


def cache_root(preferred: str | os.PathLike | None = None) -> Path:
    """Where unpacked/downloaded files go: ``$LRSCI_CACHE``, else ``preferred`` if it is a
    writable directory, else :data:`DEFAULT_CACHE_DIR` (``~/.cache/lrsci/data``)."""
    env = os.environ.get(CACHE_ENV, "")
    if env:
        return Path(env).expanduser()
    if preferred is not None:
        p = Path(preferred).expanduser()
        if p.is_dir() and os.access(p, os.W_OK | os.X_OK):
            return p
    return Path(DEFAULT_CACHE_DIR).expanduser()


def _fallback_cache() -> Path:
    env = os.environ.get(CACHE_ENV, "")
    return Path(env).expanduser() if env else Path(DEFAULT_CACHE_DIR).expanduser()


def _candidates(data_root, include_debian: bool) -> list[tuple[Path | None, str]]:
    """(directory or None, label) in search order; None = not given/not set."""
    out: list[tuple[Path | None, str]] = []
    if data_root is not None and str(data_root) != "":
        out.append((Path(data_root).expanduser(), "data_root argument"))
    env = os.environ.get(DATA_ENV, "")
    out.append((Path(env).expanduser() if env else None, f"${DATA_ENV}"))
    if include_debian:
        out.append((Path(DEBIAN_FASHION_MNIST_DIR), "Debian package dataset-fashion-mnist"))
    out.append((_fallback_cache(), "cache"))
    return out


def _looked_report(looked: list[str]) -> str:
    return "\n".join(f"  - {line}" for line in looked)


# --------------------------------------------------------------------------- Fashion-MNIST files
def _find_idx_files(directory: Path) -> dict[str, Path] | None:
    """Map each idx name to an existing file in ``directory`` (unpacked preferred, else .gz)."""
    found: dict[str, Path] = {}
    for name in FASHION_MNIST_FILES:
        for cand in (directory / name, directory / f"{name}.gz"):
            if cand.is_file():
                found[name] = cand
                break
        else:
            return None
    return found


def _locate_fashion_mnist(data_root):
    """Find the first location holding all four idx files.

    Returns (directory where found or None, {name: file} or None, the data root it was
    found under if the user gave it (argument or $LRSCI_DATA) else None, looked-at lines).
    """
    looked: list[str] = []
    for base, label in _candidates(data_root, include_debian=True):
        if base is None:
            looked.append(f"{label}: not set")
            continue
        subdirs = [base / "FashionMNIST" / "raw", base, base / "fashion-mnist"]
        for d in subdirs:
            files = _find_idx_files(d)
            if files is not None:
                user_root = base if label in ("data_root argument", f"${DATA_ENV}") else None
                return d, files, user_root, looked
        if not base.exists():
            looked.append(f"{base} ({label}): does not exist")
        else:
            looked.append(f"{base} ({label}): none of " + ", ".join(f"{d}/" for d in subdirs)
                          + " holds all of " + ", ".join(FASHION_MNIST_FILES) + " (unpacked or .gz)")
    return None, None, None, looked


def _file_stamp(p: Path) -> list:
    st = p.stat()
    return [str(p.resolve()), st.st_size, st.st_mtime_ns]


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

    roots = [cache_root(user_root)]
    if roots[0] != _fallback_cache():
        roots.append(_fallback_cache())
    last_err: OSError | None = None
    for root in roots:
        try:
            _unpack_into(root / "FashionMNIST" / "raw", files)
            return root
        except OSError as e:  # read-only file system despite os.access, full disk, ...
            last_err = e
    raise DatasetNotFound(
        f"Fashion-MNIST found in {found_dir} but could not be unpacked into "
        f"{' or '.join(str(r / 'FashionMNIST' / 'raw') for r in roots)}: {last_err}. "
        f"Set {CACHE_ENV} to a writable folder."
    )


def _unpack_into(raw: Path, files: dict[str, Path]) -> None:
    marker = raw / _SOURCE_MARKER
    stamp = {name: _file_stamp(src) for name, src in files.items()}
    if marker.is_file() and all((raw / n).is_file() for n in FASHION_MNIST_FILES):
        try:
            if json.loads(marker.read_text()) == stamp:
                return  # unpacked before from these very files
        except (OSError, ValueError):
            pass
    raw.mkdir(parents=True, exist_ok=True)
    for name, src in files.items():
        dest = raw / name
        if src.resolve() == dest.resolve():
            continue
        # Write to a temp file and rename: a concurrent reader never sees a half-written file.
        fd, tmp = tempfile.mkstemp(dir=raw, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                opener = gzip.open if src.suffix == ".gz" else open
                with opener(src, "rb") as inp:
                    shutil.copyfileobj(inp, out, length=1 << 20)
            os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the cache may be shared
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    tmp_marker = raw / f"{_SOURCE_MARKER}.{os.getpid()}"
    tmp_marker.write_text(json.dumps(stamp))
    os.replace(tmp_marker, marker)


# --------------------------------------------------------------------------- CIFAR-10 files
def _cifar_root_of(base: Path) -> Path | None:
    """torchvision root under which ``cifar-10-batches-py`` is complete, if any.

    Accepts the data root itself or the ``cifar-10-batches-py`` folder.
    """
    for root in (base, base.parent) if base.name == CIFAR10_FOLDER else (base,):
        if all((root / CIFAR10_FOLDER / f).is_file() for f in CIFAR10_FILES):
            return root
    return None


def _locate_cifar10(data_root) -> tuple[Path | None, list[str]]:
    looked: list[str] = []
    for base, label in _candidates(data_root, include_debian=False):
        if base is None:
            looked.append(f"{label}: not set")
            continue
        root = _cifar_root_of(base)
        if root is not None:
            return root, looked
        folder = base / CIFAR10_FOLDER
        if not base.exists():
            why = "does not exist"
        elif not folder.is_dir():
            why = f"no {folder}/"
        else:
            missing = [f for f in CIFAR10_FILES if not (folder / f).is_file()]
            why = f"{folder}/ lacks {', '.join(missing)}"
        looked.append(f"{base} ({label}): {why}")
    return None, looked


@functools.cache
def _cifar10_class():
    from torchvision.datasets import CIFAR10

    class _CIFAR10(CIFAR10):
        """torchvision's CIFAR10 with an existence-only integrity check.

        torchvision compares md5 sums of every batch file (and of batches.meta) with the
        official archive's. Tiny test fixtures written in the real pickle format cannot match
        those sums, so the check here only requires the files to exist; torchvision's own
        reading code (pickle loading, reshaping to N x 32 x 32 x 3, meta/class names) is kept
        unchanged and still fails loudly on malformed files.
        """

        # _load_meta calls check_integrity(path, meta["md5"]); md5=None means "file exists".
        meta = {**CIFAR10.meta, "md5": None}

        def _check_integrity(self) -> bool:
            return all(os.path.isfile(os.path.join(self.root, self.base_folder, name))
                       for name, _ in self.train_list + self.test_list)

    return _CIFAR10


# --------------------------------------------------------------------------- conversion helpers
def _subset_index(n: int, size: int | None, seed: int, split: str) -> torch.Tensor | None:
    """Seeded random subset of ``size`` rows (sorted, so dataset order is kept); None = all."""
    if size is None:
        return None
    size = int(size)
    if size < 0 or size > n:
        raise ValueError(f"{split}_size={size} is outside [0, {n}] (the {split} split has {n} rows)")
    g = torch.Generator().manual_seed(int(seed))
    return torch.randperm(n, generator=g)[:size].sort().values


def _normalize(x_uint8: torch.Tensor, mean, std) -> torch.Tensor:
    """uint8 N x C x H x W -> float32 ((x/255) - mean) / std per channel."""
    x = x_uint8.to(torch.float32).div_(255.0)
    c = x.shape[1]
    x.sub_(torch.tensor(mean, dtype=torch.float32).view(1, c, 1, 1))
    x.div_(torch.tensor(std, dtype=torch.float32).view(1, c, 1, 1))
    return x


def _norm_info(mean, std) -> dict:
    return {"scale": "x / 255", "mean": list(mean), "std": list(std),
            "formula": "(x / 255 - mean[c]) / std[c] per channel c"}


# --------------------------------------------------------------------------- loaders
def _array_data(name, reader, source, root, train, test, seed, train_size, test_size, mean, std,
                classes) -> ArrayData:
    """Wrap the (x, y, full size) of both splits with the info every loader records."""
    (x_tr, y_tr, n_tr), (x_te, y_te, n_te) = train, test
    return ArrayData(
        name=name, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te, num_classes=10,
        info={
            "dataset": name, "source": source, "root": str(root), "reader": reader,
            "train_size": int(y_tr.shape[0]), "test_size": int(y_te.shape[0]),
            "full_train_size": n_tr, "full_test_size": n_te,
            "subset_seed": int(seed) if (train_size is not None or test_size is not None) else None,
            "normalization": _norm_info(mean, std),
            "classes": classes,
        },
    )


def load_fashion_mnist(data_root: str | os.PathLike | None = None, train_size: int | None = None,
                       test_size: int | None = None, seed: int = 0, download: bool = False) -> ArrayData:
    """Fashion-MNIST as float32 N x 1 x 28 x 28, normalized with FASHION_MNIST_MEAN/STD.

    ``train_size``/``test_size`` take a random subset seeded by ``seed`` (one
    ``torch.Generator().manual_seed(seed)`` per split; rows kept in dataset order); None = all.
    ``download=True`` lets torchvision download into the data root (or cache root) when the
    files are found nowhere. Raises :class:`DatasetNotFound` when they are not there.
    """
    from torchvision.datasets import FashionMNIST

    found_dir, files, user_root, looked = _locate_fashion_mnist(data_root)
    if found_dir is not None:
        root = _materialize_fashion_mnist(found_dir, files, user_root)
        source = str(found_dir)
    elif download:
        root = resolve_data_root(data_root) or _fallback_cache()
        source = f"download into {root / 'FashionMNIST' / 'raw'}"
    else:
        raise DatasetNotFound("Fashion-MNIST not found. Looked in:\n" + _looked_report(looked)
                              + "\n" + FASHION_MNIST_HOWTO)
    try:
        train = FashionMNIST(str(root), train=True, download=download)
        test = FashionMNIST(str(root), train=False, download=download)
    except (RuntimeError, OSError) as e:  # torchvision: "Dataset not found", download errors
        raise DatasetNotFound(f"Fashion-MNIST could not be read from {root}: {e}\n"
                              "Looked in:\n" + _looked_report(looked) + "\n" + FASHION_MNIST_HOWTO) from e

    def split(ds, size):
        data, targets = ds.data, ds.targets  # uint8 N x 28 x 28, int64 N: no per-sample Python
        full = int(data.shape[0])
        idx = _subset_index(full, size, seed, "train" if ds.train else "test")
        if idx is not None:
            data, targets = data[idx], targets[idx]
        return _normalize(data.unsqueeze(1), FASHION_MNIST_MEAN, FASHION_MNIST_STD), \
            targets.to(torch.int64).clone(), full

    return _array_data("fashion-mnist", "torchvision.datasets.FashionMNIST", source, root,
                       split(train, train_size), split(test, test_size), seed, train_size, test_size,
                       FASHION_MNIST_MEAN, FASHION_MNIST_STD, list(FashionMNIST.classes))


def load_cifar10(data_root: str | os.PathLike | None = None, train_size: int | None = None,
                 test_size: int | None = None, seed: int = 0, download: bool = False) -> ArrayData:
    """CIFAR-10 as float32 N x 3 x 32 x 32, normalized with CIFAR10_MEAN/STD.

    Same arguments and subset rule as :func:`load_fashion_mnist`. Reads
    ``<root>/cifar-10-batches-py/`` with torchvision's CIFAR10 reader (md5 check replaced by
    an existence check). Raises :class:`DatasetNotFound` when the files are not there.
    """
    root, looked = _locate_cifar10(data_root)
    if root is not None:
        source = str(root / CIFAR10_FOLDER)
    elif download:
        root = resolve_data_root(data_root) or _fallback_cache()
        source = f"download into {root / CIFAR10_FOLDER}"
    else:
        raise DatasetNotFound("CIFAR-10 not found. Looked for "
                              f"{CIFAR10_FOLDER}/ ({', '.join(CIFAR10_FILES)}) in:\n"
                              + _looked_report(looked) + "\n" + CIFAR10_HOWTO)
    cls = _cifar10_class()
    try:
        if download:
            Path(root).mkdir(parents=True, exist_ok=True)
        train = cls(str(root), train=True, download=download)
        test = cls(str(root), train=False, download=download)
    except (RuntimeError, OSError) as e:
        raise DatasetNotFound(f"CIFAR-10 could not be read from {root}: {e}\n"
                              "Looked in:\n" + _looked_report(looked) + "\n" + CIFAR10_HOWTO) from e

    def split(ds, size):
        data = torch.from_numpy(ds.data)  # uint8 N x 32 x 32 x 3 (HWC), no per-sample Python
        targets = torch.as_tensor(ds.targets, dtype=torch.int64)
        full = int(data.shape[0])
        idx = _subset_index(full, size, seed, "train" if ds.train else "test")
        if idx is not None:
            data, targets = data[idx], targets[idx]
        x = _normalize(data.permute(0, 3, 1, 2).contiguous(), CIFAR10_MEAN, CIFAR10_STD)
        return x, targets, full

    return _array_data("cifar10", "torchvision.datasets.CIFAR10 (existence-only integrity check)", source, root,
                       split(train, train_size), split(test, test_size), seed, train_size, test_size,
                       CIFAR10_MEAN, CIFAR10_STD, [str(c) for c in train.classes])


def fashion_mnist_available(data_root: str | os.PathLike | None = None) -> bool:
    """True when the four Fashion-MNIST idx files are found (nothing is unpacked or read)."""
    return _locate_fashion_mnist(data_root)[0] is not None


def cifar10_available(data_root: str | os.PathLike | None = None) -> bool:
    """True when a complete ``cifar-10-batches-py`` folder is found (nothing is read)."""
    return _locate_cifar10(data_root)[0] is not None

"""CIFAR-10: found under torchvision's layout and read by torchvision's reader, with lrsci's checks around it.

The folder is ``<root>/cifar-10-batches-py/`` (``data_batch_1`` .. ``data_batch_5``, ``test_batch``,
``batches.meta``), looked for where lrsci.data.locations says. torchvision's reader checks only that
the files exist here (its md5 check would refuse the tests' tiny fixtures in the real format); lrsci
then checks what it read (uint8 pixels, one label 0..9 per image), names the first bad file when
something is wrong, and refuses a folder that changed while being read. The md5 of each file against
torchvision's list decides only ``info["official"]``.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import torch

from . import locations
from .base import ArrayData
from .digests import file_digest as _file_digest, identity as _identity, stat_key as _stat_key
from .errors import DataError, DatasetNotFound
from .image_arrays import array_data, normalize, subset_index

# Per-channel (R, G, B) mean and std over the 50 000 training images (applied to pixel/255).
# The std (0.2470, 0.2435, 0.2616) is the true per-pixel std; the widely copied
# (0.2023, 0.1994, 0.2010) is a std of per-image means and is not used here.
CIFAR10_MEAN: tuple[float, ...] = (0.4914, 0.4822, 0.4465)
CIFAR10_STD: tuple[float, ...] = (0.2470, 0.2435, 0.2616)

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta")
CIFAR10_REMEDY = "Replace the folder with a fresh copy of CIFAR-10 (python version) and load again."
CIFAR10_HOWTO = (
    f"To get CIFAR-10: place torchvision's `{CIFAR10_FOLDER}` folder (with {', '.join(CIFAR10_FILES)}) "
    f"under the data root (pass --data-root or set {locations.DATA_ENV}), e.g. made by running "
    f"`torchvision.datasets.CIFAR10(root, download=True)` once on a machine with internet and "
    f"copying `root/{CIFAR10_FOLDER}` over; or, on a machine with internet, load it once in Python with download "
    "allowed (lrsci.data.registry.load_data(DataConfig(\"cifar10\", options={\"download\": True})); the claims themselves never "
    "download)."
)


def _not_found(looked: list[str]) -> DatasetNotFound:
    return DatasetNotFound(f"CIFAR-10 not found. Looked for {CIFAR10_FOLDER}/ ({', '.join(CIFAR10_FILES)}) in:\n"
                           + locations.looked_report(looked) + "\n" + CIFAR10_HOWTO)


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
    for base, label in locations.candidates(data_root, include_debian=False):
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


def _cifar_identity(root: Path, train_size=None, test_size=None, seed=0) -> dict:
    """Hashes of the raw CIFAR-10 pickles; official = md5 equal to torchvision's list."""
    from torchvision.datasets import CIFAR10

    folder = root / CIFAR10_FOLDER
    known_md5 = dict(CIFAR10.train_list + CIFAR10.test_list)
    known_md5[CIFAR10.meta["filename"]] = CIFAR10.meta["md5"]
    file_sha = {n: _file_digest(folder / n) for n in CIFAR10_FILES}
    official = all(_file_digest(folder / n, "md5") == known_md5.get(n) for n in CIFAR10_FILES)
    return {**_identity("cifar10", file_sha, train_size, test_size, seed), "official": official}


def _read_cifar10(root: Path, download: bool, looked, train_size, test_size, seed: int):
    """Both splits read by torchvision's reader and checked here (it checks only that the files exist), and
    the identity of the bytes they came from: a folder that changed while being read is refused."""
    cls, folder = _cifar10_class(), root / CIFAR10_FOLDER
    stamps = None if download else [_stat_key(folder / n) for n in CIFAR10_FILES]
    try:
        if download:
            root.mkdir(parents=True, exist_ok=True)
        train = cls(str(root), train=True, download=download)
        stamps = stamps or [_stat_key(folder / n) for n in CIFAR10_FILES]   # taken before reading, when there
        test = cls(str(root), train=False, download=download)
    except (RuntimeError, OSError) as e:
        raise DatasetNotFound(f"CIFAR-10 could not be read from {root}: {e}\n"
                              "Looked in:\n" + locations.looked_report(looked) + "\n" + CIFAR10_HOWTO) from e
    except Exception as e:   # a truncated pickle, rows of the wrong width, ...: name the file
        name, problem = _bad_cifar_file(folder) or ("", f"cannot be read ({type(e).__name__}: {e})")
        raise DataError(folder / name, problem, CIFAR10_REMEDY) from e
    for ds in (train, test):
        problem = _cifar_split_problem(ds)
        if problem:
            name, problem = _bad_cifar_file(folder) or ("", problem)
            raise DataError(folder / name, problem, CIFAR10_REMEDY)
    identity = _cifar_identity(root, train_size, test_size, seed)
    if stamps != [_stat_key(folder / n) for n in CIFAR10_FILES]:
        # the hashes must name the bytes the arrays came from
        raise DataError(folder, "changed while being read", "Load again once whatever writes it has finished.")
    return train, test, identity


def load_cifar10(data_root: str | os.PathLike | None = None, train_size: int | None = None,
                 test_size: int | None = None, seed: int = 0, download: bool = False) -> ArrayData:
    """CIFAR-10 as float32 N x 3 x 32 x 32, normalized with CIFAR10_MEAN/STD.

    Same arguments and subset rule as :func:`load_fashion_mnist`. Reads
    ``<root>/cifar-10-batches-py/`` with torchvision's CIFAR10 reader (md5 check replaced by
    an existence check; the md5 only decides ``info["official"]``). Raises
    :class:`DatasetNotFound` when the files are not there.
    """
    locations.given_root_exists(data_root, download, "CIFAR-10")
    root, looked = _locate_cifar10(data_root)
    if root is not None:
        source = str(root / CIFAR10_FOLDER)
    elif download:
        root = locations.resolve_data_root(data_root) or locations.fallback_cache()
        source = f"download into {root / CIFAR10_FOLDER}"
    else:
        raise _not_found(looked)
    train, test, identity = _read_cifar10(Path(root), download, looked, train_size, test_size, seed)

    def split(ds, size):
        data = torch.from_numpy(ds.data)  # uint8 N x 32 x 32 x 3 (HWC), no per-sample Python
        targets = torch.as_tensor(ds.targets, dtype=torch.int64)
        full = int(data.shape[0])
        idx = subset_index(full, size, seed, "train" if ds.train else "test")
        if idx is not None:
            data, targets = data[idx], targets[idx]
        x = normalize(data.permute(0, 3, 1, 2).contiguous(), CIFAR10_MEAN, CIFAR10_STD)
        return x, targets, full

    return array_data("cifar10", "torchvision.datasets.CIFAR10 (existence-only integrity check)", source, root,
                       split(train, train_size), split(test, test_size), seed, train_size, test_size,
                       CIFAR10_MEAN, CIFAR10_STD, [str(c) for c in train.classes], identity)


def _cifar_split_problem(ds) -> str | None:
    """What is wrong with a loaded CIFAR-10 split, None if nothing: uint8 pixels (other values would be
    normalised as if they were bytes: wrong data, silently), one integer label 0..9 per image (labels outside
    would fail inside cross_entropy, a device assert on CUDA)."""
    import numpy as np

    if ds.data.dtype != np.uint8:
        return f"holds {ds.data.dtype} pixels; CIFAR-10 pixels are uint8 bytes 0..255"
    labels = np.asarray(ds.targets)
    if labels.shape != (len(ds.data),) or (labels.size and labels.dtype.kind not in "iu"):
        return f"holds {len(ds.data)} images and labels of shape {labels.shape}, dtype {labels.dtype}; " \
               "a batch holds one integer label per image"
    if labels.size and not 0 <= labels.min() <= labels.max() <= 9:
        return f"holds labels from {labels.min()} to {labels.max()}, outside 0..9"
    return None


def _bad_cifar_file(folder: Path) -> tuple[str, str] | None:
    """(file name, what is wrong) for the first CIFAR-10 file that is not what torchvision reads: a batch that is
    not a pickle of uint8 3072-byte rows with one integer label 0..9 each, or a batches.meta without
    'label_names' (one file at a time, to name it: torchvision reads all five training batches in one go)."""
    import pickle

    import numpy as np

    for name in CIFAR10_FILES:
        try:
            with open(folder / name, "rb") as f:
                batch = pickle.load(f, encoding="latin1")
            if name == "batches.meta":
                batch["label_names"]
                continue
            data, labels = np.asarray(batch["data"]), np.asarray(batch.get("labels", batch.get("fine_labels")))
        except Exception as e:
            return name, f"is not a readable CIFAR-10 {'meta file' if name == 'batches.meta' else 'batch'} " \
                         f"({type(e).__name__}: {e})"
        if data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (data.shape[0],):
            return name, (f"holds data of shape {data.shape} and labels of shape {labels.shape}; a batch holds N "
                          "rows of 3072 bytes and N labels")
        if data.dtype != np.uint8:
            return name, f"holds {data.dtype} pixels; CIFAR-10 pixels are uint8 bytes 0..255"
        if labels.size and labels.dtype.kind not in "iu":
            return name, f"holds labels of dtype {labels.dtype}; CIFAR-10 labels are integers 0..9"
        if labels.size and not 0 <= labels.min() <= labels.max() <= 9:
            return name, f"holds labels from {labels.min()} to {labels.max()}, outside 0..9"
    return None


def cifar10_identity(data_root=None, train_size=None, test_size=None, seed: int = 0) -> dict:
    """What :func:`load_cifar10` would record of its source and bytes, without loading."""
    root, looked = _locate_cifar10(data_root)
    if root is None:
        raise _not_found(looked)
    return {"source": str(root / CIFAR10_FOLDER), **_cifar_identity(root, train_size, test_size, seed)}


def cifar10_available(data_root: str | os.PathLike | None = None) -> bool:
    """True when a complete ``cifar-10-batches-py`` folder is found (nothing is read)."""
    return _locate_cifar10(data_root)[0] is not None

"""Content hashes of dataset files, computed once per process per file version.

A dataset's identity is the hash of its bytes (not its paths), so a run trained on other bytes
under the same file names is never mistaken for the same run (lrsci.runs checks it).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import DataError

# (algorithm, resolved path, size, mtime_ns, ctime_ns, inode) -> hex digest. Keyed by the
# file's stat so repeated loads in one process do not re-hash unchanged files, while a
# rewritten one is hashed again: ctime changes on every write and, unlike mtime, cannot be
# set back (cp -p, rsync -t, os.utime).
DIGESTS: dict[tuple, str] = {}


def stat_key(p: Path, algo: str = "sha256") -> tuple:
    st = p.stat()
    return (algo, str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def file_digest(p: Path, algo: str = "sha256") -> str:
    key = stat_key(p, algo)
    if key not in DIGESTS:
        with open(p, "rb") as f:
            DIGESTS[key] = hashlib.file_digest(f, algo).hexdigest()
    return DIGESTS[key]


def read_stable(p: Path) -> tuple[bytearray, str]:
    """The bytes of ``p`` and their sha256; DataError if the file changed while being read."""
    key = stat_key(p)
    data = bytearray(key[2])
    with open(p, "rb") as f:
        got = f.readinto(data)
    if got != len(data) or stat_key(p) != key:  # a writer raced us: the bytes are not one version
        raise DataError(p, "changed while being read", "Load again once whatever writes it has finished.")
    if key not in DIGESTS:
        DIGESTS[key] = hashlib.sha256(data).hexdigest()
    return data, DIGESTS[key]


def identity(dataset: str, file_sha: dict[str, str], train_size, test_size, seed) -> dict:
    """Hashes naming the data: file contents (not paths), then plus the subset taken."""
    data_sha = hashlib.sha256(json.dumps({"dataset": dataset, "files": file_sha}, sort_keys=True)
                              .encode()).hexdigest()
    subsetting = train_size is not None or test_size is not None
    subset = {"train_size": train_size, "test_size": test_size, "seed": int(seed) if subsetting else None}
    content = hashlib.sha256(json.dumps({"data_sha256": data_sha, "subset": subset}, sort_keys=True)
                             .encode()).hexdigest()
    return {"file_sha256": dict(file_sha), "data_sha256": data_sha, "content_sha256": content}


def tensor_digest(data) -> str:
    """The sha256 of a generated dataset's tensors (inputs, labels, subset masks, in a fixed order): the
    identity of data that has no files, so a change in its generator's code is a change of data to the
    run store (its runs are not reused), as a change in a file's bytes is."""
    h = hashlib.sha256()
    parts = [("x_train", data.x_train), ("y_train", data.y_train), ("x_test", data.x_test), ("y_test", data.y_test)]
    for split in ("train", "test"):
        parts += sorted((f"{split}:{k}", v) for k, v in getattr(data, f"{split}_subsets").items())
    for name, t in parts:
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()

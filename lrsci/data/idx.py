"""Fashion-MNIST's idx files, checked byte by byte before anything trains on them.

``remedy`` arguments say what the user should do about a bad file; the caller knows where the
file lives (the Debian package's copy wants a reinstall, a user's copy a replacement).
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from .errors import DataError

IDX_FORMAT = {"images": (2051, (28, 28)), "labels": (2049, ())}  # magic: uint8, 3-d / 1-d


def check_idx(data: bytes | bytearray, name: str, path: Path, remedy: str) -> tuple[int, int]:
    """Check one Fashion-MNIST idx file's bytes; return (item count, header length).

    Raises DataError naming ``path`` for a wrong magic number, image shape or byte count, or a
    label outside 0..9 -- the faults torchvision's reader reports as bare AssertionError or
    (truncated labels) does not report at all.
    """
    kind = "images" if "images" in name else "labels"
    magic, item_shape = IDX_FORMAT[kind]
    head = 8 + 4 * len(item_shape)

    def bad(problem: str) -> DataError:
        return DataError(path, f"{problem} (expected the Fashion-MNIST {kind} file {name})", remedy)

    if len(data) < head:
        raise bad(f"is {len(data)} bytes long, too short for an idx header")
    got, n = struct.unpack_from(">II", data)
    if got != magic:
        raise bad(f"has idx magic number {got}, expected {magic}: not an idx {kind} file")
    shape = struct.unpack_from(f">{len(item_shape)}I", data, 8)
    if shape != item_shape:
        raise bad(f"holds images of shape {'x'.join(map(str, shape))}, expected 28x28")
    want = head + n * int(np.prod(item_shape))
    if n == 0 or len(data) != want:
        raise bad(f"is {len(data)} bytes, but its header announces {n} items ({want} bytes): "
                  "truncated, padded or empty")
    if kind == "labels" and (top := int(np.frombuffer(data, np.uint8, offset=head).max())) > 9:
        raise bad(f"holds label {top}, outside the classes 0..9")
    return n, head


def check_counts(counts: dict[str, int], paths: dict[str, Path], remedy) -> None:
    """Each split must have exactly one label per image."""
    for prefix in ("train", "t10k"):
        img, lbl = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
        if counts[img] != counts[lbl]:
            raise DataError(paths[lbl], f"holds {counts[lbl]} labels but {paths[img]} holds "
                            f"{counts[img]} images", remedy(paths[lbl]))

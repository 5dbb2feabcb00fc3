"""Checkpoints and snapshots (``.pt``) written with a digest of their own bytes, and checked when read.

``torch.load`` notices a truncated file but not flipped bytes inside one (it does not check the zip's
CRCs): a checkpoint damaged on disk would resume a run from other weights without a word. So each state
is written as one header line, ``LRSCI-STATE1 <sha256 of the rest>``, then what ``torch.save`` writes;
reading recomputes the digest and raises :class:`StateCorrupt`, naming the file, when it differs. The
store's readers then move the file aside and go on from the last good point. A file in plain
``torch.save`` format (written before this module) is still read, unchecked.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import torch

from .files import atomic_write

MAGIC = b"LRSCI-STATE1 "


class StateCorrupt(ValueError):
    """A state file whose bytes differ from the digest written with them."""


def write_state(path: Path, state: dict, before_publish=None) -> None:
    """``state`` to ``path`` atomically, with its digest; ``before_publish()`` runs after the temporary file
    is complete and before it is renamed into place (e.g. to keep the previous checkpoint)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    payload = buf.getvalue()

    def write(tmp):
        _write_bytes(tmp, MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n", payload)
        if before_publish is not None:
            before_publish()
    atomic_write(Path(path), write)


def _write_bytes(tmp, header: bytes, payload: bytes) -> None:
    with open(tmp, "wb") as f:
        f.write(header)
        f.write(payload)


def read_state(path: Path, map_location=None) -> dict:
    """The state in ``path``, its digest checked (:class:`StateCorrupt` if it differs)."""
    data = Path(path).read_bytes()
    if data.startswith(MAGIC):
        digest, _, payload = data[len(MAGIC):].partition(b"\n")
        if hashlib.sha256(payload).hexdigest().encode() != digest:
            raise StateCorrupt(f"{path}: its bytes differ from the digest written with them (damaged on disk)")
        data = payload
    return torch.load(io.BytesIO(data), map_location=map_location, weights_only=False)

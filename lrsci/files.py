"""Writing files so that nothing is lost: temporary name, then rename into place.

An interrupted process or a full disk leaves either the old file or the new one, never
half of one; the temporary file is removed when the write fails. A file that cannot be
read back is moved aside under a name that says so (:func:`quarantine`), never deleted.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Callable


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)``, then rename the temporary file onto ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    atomic_write(path, write)


def write_json(path: Path, obj, indent: int = 1) -> None:
    write_text(path, json.dumps(obj, indent=indent, allow_nan=True) + "\n")


def quarantine(path: Path, why: str) -> Path:
    """Move an unreadable file aside as ``<name>.corrupt-<UTC time>`` and return the new path."""
    path = Path(path)
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}")
    n = 1
    while target.exists():
        target = target.with_name(f"{target.name}.{n}")
        n += 1
    os.replace(path, target)
    return target

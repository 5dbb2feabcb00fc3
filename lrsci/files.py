"""Writing files so that nothing is lost: temporary name, then rename into place.

An interrupted process or a full disk leaves either the old file or the new one, never
half of one; the temporary file is removed when the write fails. A file that cannot be
read back is moved aside under a name that says so (:func:`quarantine`), never deleted.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable


class DiskFull(OSError):
    """No room to write a file: named, with what to do; the previous file is left as it was."""


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)``, then rename the temporary file onto ``path``."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    except OSError as exc:
        raise _disk_full(path, exc) if _is_disk_full(exc, path) else exc
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        if _is_disk_full(exc, path):  # torch reports a full disk as "inline_container ... unexpected pos"
            raise _disk_full(path, exc) from exc
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _is_disk_full(exc: BaseException, path: Path) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    if "No space left" in text or "unexpected pos" in text or "file write failed" in text:
        return True
    return _free_bytes(path) < 1 << 20  # any write error with under 1 MiB free


def _free_bytes(path: Path) -> int:
    try:
        return shutil.disk_usage(path.parent).free
    except OSError:
        return 1 << 62


def _disk_full(path: Path, exc: BaseException) -> DiskFull:
    return DiskFull(errno.ENOSPC, f"No space left on device while writing {path} ({_free_bytes(path)} bytes "
                                  f"free there; the underlying error was: {exc}). The previous version of the "
                                  "file is unchanged. Free some space, or point the run store (--run-store / "
                                  "LRSCI_RUNS) or the report folder (--report-dir) at a disk with room.")


def write_text(path: Path, text: str) -> None:
    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    atomic_write(path, write)


def write_json(path: Path, obj, indent: int = 1) -> None:
    write_text(path, json.dumps(obj, indent=indent, allow_nan=True) + "\n")


def quarantine(path: Path) -> Path:
    """Move an unreadable file aside as ``<name>.corrupt-<UTC time>`` and return the new path."""
    path = Path(path)
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}")
    n = 1
    while target.exists():
        target = target.with_name(f"{target.name}.{n}")
        n += 1
    os.replace(path, target)
    return target

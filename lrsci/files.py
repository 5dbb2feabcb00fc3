"""Writing files so that nothing is lost: temporary name, fsync, then rename into place.

An interrupted process, a power loss or a full disk leaves either the old file or the new one,
never half of one; the temporary file is removed when the write fails. A file that cannot be
read back is moved aside under a name that says so (:func:`quarantine`), never deleted.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Callable


class DiskFull(OSError):
    """No room to write a file: named, with what to do; the previous file is left as it was."""


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)``, then rename the temporary file onto ``path`` (replacing any file there)."""
    _publish(Path(path), write, os.replace)


def publish_new(path: Path, write: Callable[[str], None]) -> None:
    """Like :func:`atomic_write`, for records written once: raises FileExistsError, leaving the file there
    untouched, if ``path`` exists at the moment of publishing. ``os.link`` refuses an existing name
    atomically, so there is no gap between a check and the rename for another writer to slip into.
    (Needs a filesystem with hard links.)"""
    _publish(Path(path), write, os.link)


def _publish(path: Path, write: Callable[[str], None], place: Callable[[str, Path], None]) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    except OSError as exc:
        raise _disk_full(path, exc) if _is_disk_full(exc, path) else exc
    os.close(fd)
    try:
        write(tmp)
        _fsync_file(tmp)  # writers such as torch.save never fsync: a power loss could publish an empty file
        _share_like_open(tmp)
        place(tmp, path)
    except (OSError, RuntimeError) as exc:
        if _is_disk_full(exc, path):  # torch reports a full disk as "inline_container ... unexpected pos"
            raise _disk_full(path, exc) from exc
        raise
    finally:
        if os.path.exists(tmp):  # a failed write, or publish_new's link (the data lives on under path)
            os.unlink(tmp)
    _fsync_dir(path.parent)  # the rename itself is only durable once the folder's entry is on disk


def _fsync_file(name: str) -> None:
    fd = os.open(name, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Best effort: some filesystems (and Windows) refuse to open or fsync a folder; the file is in place."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _share_like_open(tmp: str) -> None:
    """Give the file the mode ``open()`` would (0666 less the umask), not mkstemp's 0600, so a run store
    or report folder shared between users stays readable. Best effort: a filesystem without POSIX modes
    (some CIFS/FUSE mounts) refuses chmod, and the data matters more than its mode."""
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o666 & ~_umask())


@functools.cache
def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read the umask is to set it: put it back at once
    os.umask(mask)
    return mask


_FULL_DISK_TEXTS = ("No space left", "unexpected pos", "file write failed")  # the last two: torch.save


def _is_disk_full(exc: BaseException, path: Path) -> bool:
    """Whether a write error means the disk is full. The rule: the errno says so (ENOSPC, EDQUOT); or the
    message is one of the full-disk texts above; or the error is a bare OSError carrying no errno (it names
    no other cause) while under 1 MiB is free. A PermissionError, an OSError with any other errno, a
    RuntimeError with another message (a CUDA error) and any other exception never are, however full."""
    if isinstance(exc, PermissionError) or not isinstance(exc, (OSError, RuntimeError)):
        return False
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if any(text in str(exc) for text in _FULL_DISK_TEXTS):
        return True
    return isinstance(exc, OSError) and exc.errno is None and _free_bytes(path) < 1 << 20


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


def _text_writer(text: str) -> Callable[[str], None]:
    def write(tmp: str) -> None:
        # UTF-8 whatever the locale: reports say η, ≥ and ×, which an ASCII locale (LC_ALL=C without Python's
        # C-locale coercion) cannot encode, and a reader on another machine must read the same characters
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    return write


def write_text(path: Path, text: str) -> None:
    atomic_write(path, _text_writer(text))


def write_json(path: Path, obj, indent: int = 1) -> None:
    write_text(path, _json_text(obj, indent))


def write_json_new(path: Path, obj, indent: int = 1) -> None:
    """:func:`write_json` for a record written once: FileExistsError if ``path`` exists (see publish_new)."""
    publish_new(path, _text_writer(_json_text(obj, indent)))


def _json_text(obj, indent: int) -> str:
    return json.dumps(obj, indent=indent, allow_nan=True) + "\n"


def read_json_object(path: Path) -> dict | None:
    """The JSON object in ``path``; None when there is no file (or it vanished while being read: another
    process moved it aside). Anything else that is not a JSON object — bad JSON, bytes that are not text, a
    list — is a ValueError saying what is wrong (not naming the file: the caller knows what it was reading,
    and what to do about it, e.g. :func:`quarantine`)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    # json.JSONDecodeError and UnicodeDecodeError are ValueErrors; a RecursionError is a too-deep document
    except RecursionError:
        raise ValueError("nested too deeply to read") from None
    if not isinstance(record, dict):
        raise ValueError(f"a record is a JSON object, found {type(record).__name__}")
    return record


def quarantine(path: Path) -> Path:
    """Move an unreadable file or folder aside as ``<name>.corrupt-<UTC time>`` (then ``.1``, ``.2``, ...)
    and return the new path. Never replaces anything: see :func:`_move_onto_claim`.

    Raises FileNotFoundError, naming ``path``, if it is gone: another process found it bad too and
    moved it aside first.
    """
    path = Path(path)
    stem = f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"
    target, n = path.with_name(stem), 0
    while not _move_onto_claim(path, target):
        n += 1
        target = path.with_name(f"{stem}.{n}")  # .1, .2, ... after the first name, never .1.2
    return target


def _move_onto_claim(path: Path, target: Path) -> bool:
    """Claim ``target`` by creating it empty (which fails if the name is taken, atomically), then rename
    ``path`` onto it: a rename may replace an empty folder or a file, but this one only ever replaces
    our own claim, so a file another process quarantined under that name is never overwritten.
    False if the name was taken. A crash between the two steps leaves only an empty claim behind."""
    is_dir = path.is_dir()
    try:
        if is_dir:
            os.mkdir(target)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    try:
        os.replace(path, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):  # give the name back: nothing was moved
            (os.rmdir if is_dir else os.unlink)(target)
        if isinstance(exc, FileNotFoundError):
            raise FileNotFoundError(errno.ENOENT, f"cannot quarantine {path}: it is gone; another process "
                                    "most likely found it unreadable too and moved it aside first",
                                    str(path)) from None
        raise
    return True


def probe_writable(folder: Path) -> None:
    """Create and remove a temporary file in ``folder``: an OSError says it cannot be written (permissions, a
    read-only mount), which os.access cannot tell for root or on every filesystem."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".write-probe-", suffix=".tmp")
    os.close(fd)
    os.unlink(name)


def probe_creatable(folder: Path) -> None:
    """``folder`` could be made (if missing) and written, tested without leaving it behind: a run stopped before
    it writes anything leaves no empty folder. A missing folder is tested in its nearest existing ancestor, by a
    uniquely named folder made and removed there; a fixed name would race with another probe of the same
    path. An OSError (NotADirectoryError for a file on the way) says why not."""
    folder = Path(folder)
    base = folder
    while not os.path.lexists(base) and base != base.parent:   # lexists: a link to nothing is named, not passed
        base = base.parent
    if not base.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(base))
    if base == folder:
        probe_writable(folder)
    else:
        os.rmdir(tempfile.mkdtemp(dir=base, prefix=".write-probe-"))


class UnsafeArchive(ValueError):
    """A tar member that would land outside the folder it is unpacked into, or is not a plain file or folder."""


def extract_tar(archive: Path, into: Path) -> None:
    """Unpack ``archive`` into ``into``, refusing (UnsafeArchive, naming the member) anything that would land
    outside it. Python's "data" filter makes the checks where it exists (3.11.4 on); before that, the same
    refusal is made here (stricter: plain files and folders only), so every Python 3.11 unpacks safely."""
    into = Path(into)
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            try:
                tar.extractall(into, filter="data")
            except tarfile.FilterError as exc:
                raise UnsafeArchive(f"member {exc.tarinfo.name!r}: {exc}") from None
            return
        members = tar.getmembers()
        for m in members:
            inside = (into / m.name).resolve().is_relative_to(into.resolve())
            if not (m.isfile() or m.isdir()) or os.path.isabs(m.name) or not inside:
                raise UnsafeArchive(f"member {m.name!r}: not a plain file or folder inside {into}")
        tar.extractall(into, members=members)

"""Results computed from a stored run after it trained, kept beside it as JSON.

A transfer of a run's snapshots (lrsci.transfer) or a measurement on one (the Hessian of a GD run
after training) costs minutes on a GPU and is the same every time for the same inputs. So each is
written once, beside its run in the run store, as ``{"key": {...}, ...fields}``, and read back
whenever the same key is asked for: a claim analysed again, on a second device call or on a CPU
far from the weights, reads the JSON and needs neither the device nor the snapshot.

The key names everything the result depends on (the run's key, the step or snapshot epochs, the
options, the data's content hash, a version of the computing code to bump when its numbers
change). A record with another key is computed again; an unreadable one is moved aside, named in
a warning, and computed again; every write is atomic and under a lock, so two processes asking at
once compute it once.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Callable

from filelock import FileLock

from . import files


def path_for(run_dir: Path, prefix: str, key: dict) -> Path:
    """Where the result with ``key`` lives: ``<run_dir>/<prefix>-<16 hex of the key's hash>.json``."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return Path(run_dir) / f"{prefix}-{digest}.json"


def cached(path: Path, key: dict, compute: Callable[[], dict], valid: Callable[[dict], bool] = lambda r: True,
           what: str = "stored result") -> dict:
    """The record at ``path`` if it holds ``key`` (and ``valid(record)``); else ``{"key": key, **compute()}``,
    written there first. ``what`` names the record in the warning about an unreadable one."""
    record = _read(path, key, valid, what)
    if record is not None:
        return record
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        record = _read(path, key, valid, what)   # written by another process while this one waited
        if record is None:
            record = {"key": key, **compute()}
            files.write_json(path, record)
    return record


def _read(path: Path, key: dict, valid: Callable[[dict], bool], what: str) -> dict | None:
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record["key"] != json.loads(json.dumps(key)):
            return None
        if not valid(record):
            raise ValueError("its values fail the check of what it must hold")
    except FileNotFoundError:   # moved aside by another process since exists()
        return None
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        try:
            moved = files.quarantine(path)
        except FileNotFoundError:   # another process moved it aside first
            return None
        warnings.warn(f"{path}: unreadable {what} ({exc}); moved it aside to {moved.name} and "
                      "computing it again", stacklevel=3)
        return None
    return record

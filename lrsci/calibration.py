"""Calibration records: a rule applied once on development seeds, its result kept in claims/calibration/.

Shared by the GD η rule (lrsci.eta_rule) and AutoDecay's gpu constants (lrsci.autodecay_calibration).
A record is written once (atomically; never replaced by accident), read back with a check of the fields
a profile uses (an unreadable file is moved aside and named, never silently used), and a device profile
whose record is missing, or whose rule found nothing, refuses to run with the tool to run.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from . import files

CALIBRATION_DIR = Path(__file__).resolve().parents[1] / "claims" / "calibration"


class CalibrationError(RuntimeError):
    """A calibration cannot be read or used: the file is missing, unreadable, or the rule found nothing."""


def write_once(path: Path, record: dict, what: str) -> Path:
    if path.exists():
        raise CalibrationError(f"{path} exists: {what} was already calibrated. A calibration is done once, "
                               "before the final run; move the file aside to redo it on purpose")
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_json(path, record)
    return path


def read(path: Path, check: Callable[[dict], None], again: str) -> dict | None:
    """The record at ``path`` (``check`` raises on a field it cannot use), or None if there is none."""
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        check(record)
        return record
    except (ValueError, KeyError, TypeError) as exc:
        moved = files.quarantine(path)
        raise CalibrationError(f"{path} is unreadable ({exc}); moved to {moved}. Run {again} again") from exc


def require(profile, param: str, tool: str, found: Callable[[dict], bool],
            nothing_found: Callable[[dict], str]) -> None:
    """Stop a device profile whose ``param`` record is missing, or whose rule found nothing."""
    if param not in profile.params or profile.device != "cuda":
        return
    record = profile[param]
    if record is None:
        raise CalibrationError(f"profile {profile.name!r}: {param.replace('_', ' ')} is missing. Run "
                               f"`python {tool} --profile {profile.name}` on the device first")
    if not found(record):
        raise CalibrationError(f"profile {profile.name!r}: {nothing_found(record)}")

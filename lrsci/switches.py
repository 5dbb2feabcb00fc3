"""LRSCI_* variables, each kind read one way. On/off: 1/true/yes/on is on, unset or 0/false/no/off is off, and
anything else is an error that names the variable (a typo such as LRSCI_CUDA_GRAPHS=ture must not silently mean
off). Counts: a whole number in a stated range, or the default when unset or empty; anything else an error."""
from __future__ import annotations

import os

ON = ("1", "true", "yes", "on")
OFF = ("", "0", "false", "no", "off")
SWITCHES = ("LRSCI_PROGRESS", "LRSCI_CUDA_GRAPHS", "LRSCI_BATCHED_CUDA_GRAPHS")


def switch_from_env(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in OFF:
        return False
    if raw in ON:
        return True
    raise ValueError(f"{name}={raw!r}: expected 1/true/yes/on or 0/false/no/off")


def count_from_env(name: str, default: int, what: str, most: int | None = None) -> int:
    """``name`` as a whole number from 1 (to ``most``), or ``default`` when unset; ``what`` says what it counts."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= (most or int(raw)):
        top = f" and <= {most}" if most else ""
        raise ValueError(f"{name}={raw!r}: expected a whole number >= 1{top} ({what}), or leave it unset for the "
                         "default")
    return int(raw)

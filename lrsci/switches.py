"""On/off LRSCI_* variables, read one way: 1/true/yes/on is on, unset or 0/false/no/off is off, and anything
else is an error that names the variable (a typo such as LRSCI_CUDA_GRAPHS=ture must not silently mean off)."""
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

"""Where and how a result was obtained: versions, device, git commit, date."""
from __future__ import annotations

import datetime as _dt
import functools
import os
import platform
import subprocess
from pathlib import Path

import numpy
import scipy
import torch


def git_hash(cwd: str | Path | None = None) -> str:
    """The checked-out commit, with "+dirty" when the tree differs from it — a changed tracked file, or a file git
    neither tracks nor ignores (a new claim module is not in the commit) — outside reports/, which the suite
    itself rewrites while it runs (a claim finishing first would otherwise make every later one dirty)."""
    if os.environ.get("LRSCI_GIT"):  # a copy without .git (e.g. a GPU box) is told by its sender
        return os.environ["LRSCI_GIT"]
    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=cwd, capture_output=True, text=True, timeout=10)  # noqa: E731
        head = run("rev-parse", "HEAD").stdout.strip()
        dirty = run("status", "--porcelain", "--untracked-files=normal", "--", ":(top)",
                    ":(top,exclude)reports").stdout.strip()
        if len(head) != 40:
            return "unknown"
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def device_name(device: str) -> str:
    """The GPU's name for a CUDA device ("cuda": this process's current GPU, which a local worker on a machine
    with several has set to its own), else the CPU's kind and core count."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


@functools.cache   # read once a process: every stored run records it
def cpu_model() -> str:
    """The CPU's model name with its family and model numbers (Linux), else what platform says: two CPUs of
    one name and vector unit can still round differently (docs/replication.md, "another CPU")."""
    try:
        fields = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
        return f"{fields['model name']} (family {fields['cpu family']}, model {fields['model']})"
    except (OSError, KeyError):
        return platform.processor() or platform.machine()


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def provenance(device: str) -> dict:
    # Imported here, not at the top: torchvision pulls in torch._dynamo (1.5 s), which every worker process,
    # `lrsci list` and the run store would pay for a version string only a report's provenance reads.
    import torchvision

    out = {
        "device": device,
        "device_name": device_name(device),
        # CPU kernels differ by instruction set (AVX2 vs AVX512 reduce floats in other orders), so
        # the same seed gives the same numbers on one kind of CPU, not on every kind.
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_model": cpu_model(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cuda": torch.version.cuda if device.startswith("cuda") else None,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git": git_hash(),
        "date": utc_now(),
    }
    if device.startswith("cuda"):
        # float32 on CUDA is not float32 throughout: torch's default runs cuDNN convolutions in TF32 (10-bit
        # mantissa, ~1e-3 relative); a figure from an fp32 profile or the Hessian says which arithmetic it had.
        out["tf32"] = {"cudnn_conv": torch.backends.cudnn.allow_tf32, "matmul": torch.backends.cuda.matmul.allow_tf32}
    return out

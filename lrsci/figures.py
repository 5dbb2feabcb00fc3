"""Figures rendered from data stored in result.json, so reports re-render without training.

A figure spec is plain JSON::

    {"title": str, "ylabel": str, "xlabel": "epoch",
     "panels": [{"title": str, "marks": [epochs to mark], "curves": [
         {"label": str, "runs": [[y per epoch] per seed]}]}]}

Optional: spec "sharey" (default true); panel "logy", panel "ylabel".
Each curve is drawn as its seed mean (thick) over its individual seeds (thin).
"""
from __future__ import annotations

import math
import textwrap
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display anywhere lrsci runs
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402
from . import files  # noqa: E402


def _mean_curve(runs: list[list[float]]) -> np.ndarray:
    length = max(len(r) for r in runs)
    padded = np.full((len(runs), length), np.nan)
    for i, r in enumerate(runs):
        padded[i, :len(r)] = [np.nan if v is None else v for v in r]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an epoch no seed reached: NaN, not a warning
        return np.nanmean(padded, axis=0)


def arm_panel(runs: dict, arms, labels: dict, key: str, title: str, marks=()) -> dict:
    """A panel spec with one curve per arm, drawn over every seed: ``runs`` is {seed: {arm: RunResult}}."""
    return {"title": title, "marks": list(marks), "curves": [
        {"label": labels[arm], "runs": [runs[seed][arm].series(key) for seed in runs]} for arm in arms]}


def render(spec: dict, path: str | Path) -> Path:
    panels = spec["panels"]
    cols = min(len(panels), 4)
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False,
                             sharey=spec.get("sharey", True))
    for ax, panel in zip(axes.flat, panels):
        for k, curve in enumerate(panel["curves"]):
            color = f"C{k}"
            for r in curve["runs"]:
                ax.plot(range(1, len(r) + 1), r, color=color, alpha=0.25, lw=0.8)
            mean = _mean_curve(curve["runs"])
            ax.plot(range(1, len(mean) + 1), mean, color=color, lw=2, label=curve["label"])
        for m in panel.get("marks", []):
            ax.axvline(m + 0.5, color="k", ls="--", lw=1)
            ax.annotate("decay", (m + 0.5, 0.02), xycoords=("data", "axes fraction"), ha="right",
                        va="bottom", fontsize=7, rotation=90)
        if panel.get("logy"):
            ax.set_yscale("log")
        if panel.get("ylabel"):
            ax.set_ylabel(panel["ylabel"])
        ax.set_title(panel["title"], fontsize=9)
        ax.set_xlabel(spec.get("xlabel", "epoch"))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # epochs and steps: never a tick at 2.5
        ax.grid(alpha=0.3)
        if len(panel["curves"]) > 1:
            ax.legend(fontsize=7)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        if not ax.get_ylabel():
            ax.set_ylabel(spec.get("ylabel", ""))
    # a title wider than the figure (one panel is 3.6 in) is wrapped, not cropped: ~15 characters an inch at 10 pt
    fig.suptitle(textwrap.fill(spec.get("title", ""), width=int(15 * 3.6 * cols)), fontsize=10)
    fig.tight_layout()
    path = Path(path)
    try:  # temporary name, then rename: an interrupted render never leaves half a PNG
        files.atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    finally:
        plt.close(fig)
    return path

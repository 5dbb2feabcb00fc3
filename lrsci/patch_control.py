"""The patch claims without the patch, or with a blank one: controls (docs/replication.md, replications 15 and 16).

patch-memorized-by-small-lr and activation-noise-fixes-small-lr compare clean test accuracy between arms trained
on data with Li et al.'s patch. Whether a gap between them comes from the patch can only be told against the same
arms on the same data without it. This module builds that pair of experiments from the activation-noise claim's
own arms (which hold the patch claim's two) and tests, paired by seed:

* (A) D_G = G(patch) − G(control) > 0, with G = large − small: the patch widens the large LR's gap;
* (B) D_N = N(patch) − N(control) > 0, with N = noise − small: the patch widens the noise's gain.

The control data (:data:`CONTROLS`) is the profile's data with one option changed, and nothing else: the same
images, batch order, normalisation, clean test set and patch-only probe.

* "no patch": ``patch_prob`` 0, no training image is patched (replication 15);
* "blank patch": ``patch_sep`` 0, the same rows zeroed and overwritten with the shared pattern z, but with no
  class signal in it (ζ_y = 0): what the patch takes away without what it offers to memorize (replication 16).

A run's final clean accuracy is the claims' own: the median of ``test_acc@clean`` over the last W epochs.
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from .config import RunConfig
from .paired_rows import ALPHA, paired_test_row, quantity_row, share, share_lines, tables

CLAIM = "activation-noise-fixes-small-lr"   # its fast arms hold patch-memorized-by-small-lr's two
CONTROLS = {"no patch": {"patch_prob": 0.0}, "blank patch": {"patch_sep": 0.0}}
ARMS = ("large", "small", "noise")
PATCH_GAP = "the gap on the patch data"


def result_path(control: str) -> Path:
    """Where a control's result lies under a report folder: controls/no-patch.json, controls/blank-patch.json."""
    return Path("controls") / f"{control.replace(' ', '-')}.json"


def setup(project: Path, scale: dict | None = None, control: str = "no patch"):
    """(the claim's fast profile at ``scale``, seed -> {"<data>/<arm>": config}) from the claim module itself."""
    from .catalog import load_claims
    from .overrides import apply

    claim, _ = load_claims(project)[CLAIM]
    module = sys.modules[claim.train.__module__]
    profile = {p.name: p for p in claim.profiles}["fast"]
    profile = apply(profile, scale) if scale else profile
    return profile, lambda seed: control_arms(module.arm_configs(profile, seed), control)


def on_control(config: RunConfig, control: str = "no patch") -> RunConfig:
    """The same run on the control data (the evaluation sets are unchanged)."""
    if control not in CONTROLS:
        raise ValueError(f"control {control!r}: expected one of {sorted(CONTROLS)}")
    if not config.data.name.startswith("patch-"):
        raise ValueError(f"{config.data.name!r} is not patch data: there is no patch to change")
    return config.with_(**{"data.options": {**config.data.options, **CONTROLS[control]}})


def control_arms(arms: dict[str, RunConfig], control: str = "no patch") -> dict[str, RunConfig]:
    """{"<data>/<arm>": config}: each of the claim's arms on the patch data and on the control data."""
    return {**{f"patch/{a}": c for a, c in arms.items()},
            **{f"{control}/{a}": on_control(c, control) for a, c in arms.items()}}


def final(curve: list[float], window: int) -> float:
    return statistics.median(curve[-window:])


def finals(runs: dict, key: str, window: int) -> dict[str, dict[int, float]]:
    """{"<data>/<arm>": {seed: final value of ``key``}} from {seed: {"<data>/<arm>": RunResult}}."""
    first = next(iter(runs.values()))
    return {k: {s: final(runs[s][k].curve(key), window) for s in runs} for k in first}


def analyse_runs(runs: dict, window: int) -> dict:
    return analyse(finals(runs, "test_acc@clean", window), finals(runs, "test_acc@patch_only", window))


def stored_analysis(store, arms_for_seed, seeds: list[int], window: int) -> dict:
    """The analysis from runs already in ``store`` (a RunStore), training nothing: LookupError names a missing run."""
    from .runs import stored_arms

    return analyse_runs(stored_arms(store, arms_for_seed, seeds), window)


def differences(committed: dict, analysis: dict, rel: float = 0.0) -> list[str]:
    """The top-level keys where a fresh analysis differs from the committed one (JSON: seeds as strings)."""
    from .report import equal_within

    fresh = json.loads(json.dumps(analysis))
    return [k for k in sorted(set(committed) | set(fresh)) if not equal_within(committed.get(k), fresh.get(k), rel)]


def analyse(clean: dict[str, dict[int, float]], patch_only: dict[str, dict[int, float]]) -> dict:
    """``clean``/``patch_only``: {"<data>/<arm>": {seed: final accuracy}} -> the control's tests and figures."""
    seeds = sorted(clean["patch/large"])
    other = next(k.split("/")[0] for k in clean if not k.startswith("patch/"))   # the control data's name
    data = ("patch", other)
    col = lambda key: [clean[key][s] for s in seeds]  # noqa: E731
    diff = lambda a, b: [x - y for x, y in zip(a, b)]  # noqa: E731
    gap = {d: diff(col(f"{d}/large"), col(f"{d}/small")) for d in data}
    gain = {d: diff(col(f"{d}/noise"), col(f"{d}/small")) for d in data}
    behind = {d: diff(col(f"{d}/noise"), col(f"{d}/large")) for d in data}
    return {
        "seeds": seeds,
        "tests": [paired_test_row(f"(A) the patch widens the large LR's gap: G(patch) − G({other}) > 0", gap["patch"],
                        gap[other]),
                  paired_test_row(f"(B) the patch widens the noise's gain: N(patch) − N({other}) > 0", gain["patch"],
                        gain[other])],
        "quantities": [quantity_row(f"G = large − small, {d}", gap[d]) for d in data]
                      + [quantity_row(f"N = noise − small, {d}", gain[d]) for d in data]
                      + [quantity_row(f"noise − large, {d}", behind[d]) for d in data],
        "patch_share": {"of G(patch)": share(diff(gap["patch"], gap[other]), gap["patch"], PATCH_GAP),
                        "of N(patch)": share(diff(gain["patch"], gain[other]), gain["patch"], PATCH_GAP)},
        "mean_final_clean": {k: sum(col(k)) / len(seeds) for k in clean},
        "mean_final_patch_only": {k: sum(v.values()) / len(v) for k, v in patch_only.items()},
        "per_seed": {"final clean acc": clean, "final patch-only acc": patch_only},
    }


# each control's file stem (the tool's --control) -> the title of its table and its number in docs/replication.md
TITLES = {"no-patch": ("The patch claims without the patch (a control)", 15),
          "blank-patch": ("The patch claims with a blank patch: its rows, without its class signal (a control)", 16)}


def render(result: dict) -> str:
    """The control as Markdown: the tests, the quantities, the shares, the patch-only check, per-seed values."""
    a = result["analysis"]
    title, number = TITLES[result.get("control", "no-patch")]
    lines = [f"# {title}", "",
             f"docs/replication.md, replication {number}, holds the protocol (written before the run) and the reading. "
             f"Seeds {a['seeds'][0]}-{a['seeds'][-1]} (n = {len(a['seeds'])}); final clean accuracy = the median of "
             f"the last {result['final_window']} epochs; tests one-sided paired t, α = {ALPHA}."
             + (f" **At another scale** ({result['scale']}): not the registered control."
                if result.get("scale") else ""), ""]
    lines += tables(a["tests"], a["quantities"])
    lines += share_lines("Share of the patch data's gap that the patch accounts for (mean D / mean gap, paired "
                         "bootstrap):", a["patch_share"])
    lines += ["", "| run | mean final clean acc (%) | mean final patch-only acc (%) |", "|---|---|---|"]
    for key in a["mean_final_clean"]:
        lines.append(f"| {key} | {a['mean_final_clean'][key]:.2f} | {a['mean_final_patch_only'][key]:.1f} |")
    keys = list(a["per_seed"]["final clean acc"])
    lines += ["", "Per-seed final clean accuracy (%):", "", "| seed | " + " | ".join(keys) + " |",
              "|---" * (len(keys) + 1) + "|"]
    for s in a["seeds"]:
        lines.append(f"| {s} | " + " | ".join(f"{a['per_seed']['final clean acc'][k][s]:.2f}" for k in keys) + " |")
    p = result["provenance"]
    lines += ["", f"Trained at git {p.get('git')} on {p.get('device_name')} (torch {p.get('torch')}), "
                  f"{p.get('date')}; {result['runs']} runs, {result['wall_seconds']:.0f} s."]
    return "\n".join(lines) + "\n"

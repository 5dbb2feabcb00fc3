"""patch-memorized-by-small-lr's test 2 against the level just before the anneal (docs/replication.md, replication 21).

The claim's test 2 ("the large LR learns the patch only after annealing") compares the large LR's final patch-only
test accuracy with its *mean over epochs 1..m*. That mean includes the first epochs, when no arm reads the patch,
so it understates where the large LR stood at the anneal: on the report seeds it was 56-82 % at epoch 10
(docs/protocol-review.md). Here the baseline is the level just before the anneal, read as the claim reads a final
level (the median of W epochs), over epochs m − W + 1..m:

* (B2) final − pre(m) > the claim's floor (``min_post_gain_pp``, 20 pp): one-sided paired t against the floor,
  over seeds, α 0.05, Wilcoxon beside.

Reported: the claim's own stage-1 mean and its gain (the registered test 2's numbers on the same runs) and the
level at epoch m alone.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from .beside_reports import claim_fast_profile
from .paired_rows import ALPHA, paired_test_row, quantity_row, tables

CLAIM = "patch-memorized-by-small-lr"
KEY = "test_acc@patch_only"


def setup(project: Path, scale: dict):
    """(the claim's fast profile at ``scale``, its arm_configs(profile, seed))."""
    return claim_fast_profile(project, CLAIM, scale)


def per_seed_values(runs: dict, anneal_epoch: int, width: int) -> dict:
    """{quantity: {seed: value}} for the large arm, from {seed: {arm: RunResult}}."""
    if anneal_epoch < width:
        raise ValueError(f"anneal_epoch {anneal_epoch}: fewer epochs before the anneal than the window of {width}")
    out: dict[str, dict] = {"final": {}, "pre (last W before the anneal)": {}, "stage-1 mean": {}, "at epoch m": {}}
    for seed, arms in runs.items():
        curve = arms["large"].curve(KEY)
        out["final"][seed] = statistics.median(curve[-width:])
        out["pre (last W before the anneal)"][seed] = statistics.median(curve[anneal_epoch - width:anneal_epoch])
        out["stage-1 mean"][seed] = sum(curve[:anneal_epoch]) / anneal_epoch
        out["at epoch m"][seed] = curve[anneal_epoch - 1]
    return out


def analyse(values: dict, floor: float, anneal_epoch: int, width: int, alpha: float = ALPHA) -> dict:
    """``values`` as :func:`per_seed_values` gives it (seeds may be JSON strings) -> the test and what is reported."""
    seeds = sorted(values["final"])
    col = lambda key: [values[key][s] for s in seeds]  # noqa: E731
    diff = lambda a, b: [x - y for x, y in zip(a, b)]  # noqa: E731
    pre = f"epochs {anneal_epoch - width + 1}-{anneal_epoch}"
    return {"seeds": seeds, "floor": floor, "pre_window": pre,
            "tests": [paired_test_row(f"(B2) the large LR's patch-only gain across the anneal: final − median of "
                                      f"{pre} > {floor:g} pp", col("final"), col("pre (last W before the anneal)"),
                                      alpha, floor)],
            "quantities": [quantity_row(f"final − median of {pre}", diff(col("final"),
                                                                       col("pre (last W before the anneal)"))),
                           quantity_row(f"final − mean of epochs 1-{anneal_epoch} (the claim's test 2)",
                                        diff(col("final"), col("stage-1 mean"))),
                           quantity_row(f"final − epoch {anneal_epoch} alone", diff(col("final"), col("at epoch m")))],
            "mean": {key: statistics.fmean(v.values()) for key, v in values.items()},
            "per_seed": values}


def render(result: dict) -> str:
    a = result["analysis"]
    seeds = a["seeds"]
    lines = ["# patch-memorized-by-small-lr: test 2 against the level just before the anneal", "",
             f"docs/replication.md, replication 21, holds the protocol (written before the run) and the reading. The "
             f"claim's fast profile ({result['scale']}); seeds {seeds[0]}-{seeds[-1]} (n = {len(seeds)}); the large "
             f"LR's patch-only test accuracy (%), each level the median of {result['window']} epochs; one-sided paired "
             f"t against the floor, α = {ALPHA}.", ""]
    lines += tables(a["tests"], a["quantities"], quantity_header="quantity (patch-only accuracy, pp)")
    lines += ["", "| large LR, patch-only (%) | mean |", "|---|---|"] + [f"| {k} | {v:.2f} |" for k, v in a["mean"].items()]
    keys = list(a["per_seed"])
    lines += ["", "| seed | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for s in seeds:
        row = [a["per_seed"][k].get(s, a["per_seed"][k].get(str(s))) for k in keys]
        lines.append(f"| {s} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    p = result["provenance"]
    lines += ["", f"Analysed at git {p.get('git')} from the {result['runs']} stored runs of the claim's report "
                  f"beside this file (trained on {result['trained_on']})."]
    return "\n".join(lines) + "\n"

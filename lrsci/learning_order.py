"""two-layer-learning-order's learning order read off test accuracy (docs/replication.md, replication 20).

The claim reports the order in which each arm learns the two features from *training* accuracy on the P-only and
Q-only rows (e_F: the first epoch at 90 % train accuracy on them). There are about 100 P-only training rows in 1 600
dimensions, which the network can fit whatever their labels (docs/protocol-review.md), so e_P says when those rows
were fitted, not when P was learned. Test accuracy on F-only examples says when the feature generalizes:

    e_F^test = the first epoch at which F-only test accuracy is 90 % of the way from chance (50 %: two classes) to
               the arm's final level (the claim's: the mean of its last W epochs);

an arm whose final level is at or below chance never learns F, and its e_F^test is E + 1 (as the claim's e_F for a
run that never reaches its threshold). Per seed, paired over seeds, one-sided t at α 0.05:

* (O1) the large LR learns P first: e_Q^test − e_P^test > 0;
* (O2) the small LR learns Q first: e_P^test − e_Q^test > 0.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from .curves import window_mean
from .beside_reports import claim_fast_profile
from .paired_rows import ALPHA, paired_test_row, quantity_row, tables

CLAIM = "two-layer-learning-order"
KEYS = {"P": "test_acc@p_only", "Q": "test_acc@q_only"}
CHANCE, FRACTION = 50.0, 0.9


def setup(project: Path, scale: dict):
    """(the claim's fast profile at ``scale``, its arm_configs(profile, seed))."""
    return claim_fast_profile(project, CLAIM, scale)


def epoch_reached(curve: list[float], final: float, chance: float = CHANCE, fraction: float = FRACTION) -> int:
    """The first epoch (1-based) at ``fraction`` of the way from ``chance`` to ``final``; len + 1 if never, or if
    ``final`` is not above chance (nothing learned)."""
    if final <= chance:
        return len(curve) + 1
    level = chance + fraction * (final - chance)
    return next((i + 1 for i, v in enumerate(curve) if v >= level), len(curve) + 1)


def per_seed_values(runs: dict, width: int) -> dict:
    """{"<arm>: e_<F>" or "<arm>: final <F>": {seed: value}} from {seed: {arm: RunResult}}."""
    out: dict[str, dict] = {}
    for seed, arms in runs.items():
        for arm, run in arms.items():
            for feature, key in KEYS.items():
                curve = run.curve(key)
                final = window_mean(curve, run.epochs_trained, width)
                out.setdefault(f"{arm}: final {feature}-only test acc", {})[seed] = final
                out.setdefault(f"{arm}: e_{feature} (test)", {})[seed] = epoch_reached(curve, final)
    return out


def analyse(values: dict, epochs: int, alpha: float = ALPHA) -> dict:
    """``values`` as :func:`per_seed_values` gives it (seeds may be JSON strings) -> the two tests and quantities."""
    seeds = sorted(values["large: e_P (test)"])
    col = lambda key: [values[key][s] for s in seeds]  # noqa: E731
    diff = lambda a, b: [x - y for x, y in zip(a, b)]  # noqa: E731
    large_lead = diff(col("large: e_Q (test)"), col("large: e_P (test)"))
    small_lead = diff(col("small: e_P (test)"), col("small: e_Q (test)"))
    never = {key: sum(v > epochs for v in values[key].values()) for key in values if " e_" in key}
    return {"seeds": seeds, "epochs": epochs,
            "tests": [paired_test_row("(O1) the large LR learns P first: e_Q − e_P > 0 (test accuracy)",
                                      col("large: e_Q (test)"), col("large: e_P (test)"), alpha),
                      paired_test_row("(O2) the small LR learns Q first: e_P − e_Q > 0 (test accuracy)",
                                      col("small: e_P (test)"), col("small: e_Q (test)"), alpha)],
            "quantities": [quantity_row("large: e_Q − e_P (epochs)", large_lead),
                           quantity_row("small: e_P − e_Q (epochs)", small_lead)],
            "mean": {key: statistics.fmean(v.values()) for key, v in values.items()},
            "never_reached": {k: n for k, n in never.items() if n},
            "per_seed": values}


def render(result: dict) -> str:
    a = result["analysis"]
    seeds = a["seeds"]
    lines = ["# two-layer-learning-order: the learning order read off test accuracy", "",
             f"docs/replication.md, replication 20, holds the protocol (written before the run) and the reading. "
             f"The claim's fast profile ({result['scale']}); seeds {seeds[0]}-{seeds[-1]} (n = {len(seeds)}). e_F = "
             f"the first epoch at which F-only test accuracy is {FRACTION:.0%} of the way from chance ({CHANCE:g} %) "
             f"to the arm's final level (the mean of its last {result['window']} epochs); E + 1 = {a['epochs'] + 1} "
             f"if never. Tests one-sided paired t, α = {ALPHA}; the claim's own order rows (training accuracy) are "
             "in its report beside this file.", ""]
    lines += tables(a["tests"], a["quantities"], unit="epochs", quantity_header="quantity (epochs)")
    lines += ["", "Runs that never reached the level (counted as E + 1):", ""]
    lines += [f"- {k}: {n} of {len(seeds)}" for k, n in a["never_reached"].items()] or ["- none"]
    lines += ["", "| per seed | mean |", "|---|---|"] + [f"| {k} | {v:.2f} |" for k, v in a["mean"].items()]
    keys = list(a["per_seed"])
    lines += ["", "| seed | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for s in seeds:
        row = [a["per_seed"][k].get(s, a["per_seed"][k].get(str(s))) for k in keys]
        lines.append(f"| {s} | " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row) + " |")
    p = result["provenance"]
    lines += ["", f"Analysed at git {p.get('git')} from the {result['runs']} stored runs of the claim's report "
                  f"beside this file (trained on {result['trained_on']})."]
    return "\n".join(lines) + "\n"

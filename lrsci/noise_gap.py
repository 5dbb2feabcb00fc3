"""The activation-noise claim with a long stage after the anneal (docs/replication.md, replication 17).

activation-noise-fixes-small-lr's fast profile trains 20 epochs and anneals after epoch 10, so its tests read the
arms 6-10 epochs after the noise is annealed, while the noise arm is still memorizing the patch. Run at
``--set epochs=40 --set anneal_epoch=10`` (30 epochs after the anneal, the authors' length), the same runs give
their clean accuracy at two windows, each the median of W epochs as the claim reads it:

* "design end": the W epochs ending at epoch 2·m (m = ``anneal_epoch``), where the registered 20-epoch profile
  reads its final values. Nothing before epoch 2·m depends on the total budget, so these are the values the
  registered profile would read on these seeds;
* "end": the last W epochs.

With N = noise − small and G = large − small (clean accuracy, pp), per seed, it tests (one-sided paired t, α 0.05):

* (C1) N(end) > 0: the noise's gain is still there 30 epochs after the anneal (the claim's test 1 at this scale);
* (C2) N(design end) − N(end) > 0: the gain shrinks over the long stage;

and reports the share of the large LR's gap the noise closes, F = mean N / mean G, at each window with a paired
bootstrap interval (lrsci.paired_rows.share), and every arm's patch-only accuracy there.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

from .paired_rows import ALPHA, paired_test_row, quantity_row, share, tables

CLAIM = "activation-noise-fixes-small-lr"
ARMS = ("large", "small", "noise")
KEYS = {"clean": "test_acc@clean", "patch-only": "test_acc@patch_only"}


def setup(project: Path, scale: dict):
    """(the claim's fast profile at ``scale``, its arm_configs(profile, seed)) from the claim module itself."""
    from .catalog import load_claims
    from .driver import with_run_overrides

    claim, _ = load_claims(project)[CLAIM]
    module = sys.modules[claim.train.__module__]
    profile = with_run_overrides({p.name: p for p in claim.profiles}["fast"], scale)
    return profile, module.arm_configs


def windows(profile) -> dict[str, int]:
    """{window name: its last epoch}; refuses a budget with no epochs after the design's end, or a design end
    before the window's width (its window would start before epoch 1)."""
    design_end, epochs, width = 2 * profile["anneal_epoch"], profile.run.epochs, profile["final_window"]
    if design_end < width:
        raise ValueError(f"anneal_epoch {profile['anneal_epoch']}: the design's end, epoch {design_end}, comes before "
                         f"a full window of {width} epochs")
    if epochs <= design_end:
        raise ValueError(f"epochs {epochs}: a long post-anneal stage needs more than 2 × anneal_epoch = {design_end}")
    return {"design end": design_end, "end": epochs}


def window_values(runs: dict, width: int, ends: dict[str, int]) -> dict:
    """{measure: {window: {arm: {seed: median of ``width`` epochs ending there}}}} from {seed: {arm: RunResult}}."""
    return {measure: {name: {arm: {s: statistics.median(runs[s][arm].curve(key, end - width + 1, end)) for s in runs}
                             for arm in ARMS} for name, end in ends.items()}
            for measure, key in KEYS.items()}


def stored_runs(store, profile, arm_configs, seeds: list[int]) -> dict:
    """{seed: {arm: RunResult}} from runs already in ``store``, training nothing: LookupError names a missing run."""
    runs = {}
    for seed in seeds:
        runs[seed] = {}
        for arm, config in arm_configs(profile, seed).items():
            result = store.load(config)
            if result is None:
                raise LookupError(f"run {store.dir(config).name} ({arm}, seed {seed}) is not stored")
            runs[seed][arm] = result
    return runs


def analyse(values: dict, ends: dict[str, int], width: int) -> dict:
    """``values`` as :func:`window_values` gives it (seeds may be JSON strings) -> the tests, quantities, shares."""
    clean = values["clean"]
    seeds = sorted(clean["end"]["large"])
    col = lambda window, arm: [clean[window][arm][s] for s in seeds]  # noqa: E731
    diff = lambda a, b: [x - y for x, y in zip(a, b)]  # noqa: E731
    gap = {w: diff(col(w, "large"), col(w, "small")) for w in ends}
    gain = {w: diff(col(w, "noise"), col(w, "small")) for w in ends}
    behind = {w: diff(col(w, "noise"), col(w, "large")) for w in ends}
    where = {w: f"epochs {e - width + 1}-{e}" for w, e in ends.items()}
    design, end = where["design end"], where["end"]
    return {
        "seeds": seeds, "windows": where,
        "tests": [paired_test_row(f"(C1) the noise's gain remains at the end: N({end}) > 0", col("end", "noise"),
                                  col("end", "small")),
                  paired_test_row(f"(C2) the gain shrinks over the long stage: N({design}) − N({end}) > 0",
                                  gain["design end"], gain["end"])],
        "quantities": [quantity_row(f"{name}, {where[w]}", values_[w]) for w in ends
                       for name, values_ in (("G = large − small", gap), ("N = noise − small", gain),
                                             ("noise − large", behind))],
        "share_closed": {where[w]: share(gain[w], gap[w], f"G over {where[w]}") for w in ends},
        "mean": {measure: {where[w]: {arm: statistics.fmean(v[w][arm].values()) for arm in ARMS} for w in ends}
                 for measure, v in values.items()},
        "per_seed": values,
    }


def render(result: dict) -> str:
    """The result as Markdown: the tests, the quantities, the share closed, the means, the per-seed values."""
    a = result["analysis"]
    lines = ["# activation-noise-fixes-small-lr: the noise's gain over a long stage after the anneal", "",
             f"docs/replication.md, replication 17, holds the protocol (written before the run) and the reading. "
             f"The claim's fast profile at {result['scale']}; seeds {a['seeds'][0]}-{a['seeds'][-1]} (n = "
             f"{len(a['seeds'])}); each value is the median of {result['window']} epochs; tests one-sided paired t, "
             f"α = {ALPHA}. The claim's own criteria at this scale: the reports beside this file.", "",
             ]
    lines += tables(a["tests"], a["quantities"],
                    "Share of the large LR's gap the noise closes, F = mean N / mean G (paired bootstrap):",
                    a["share_closed"])
    lines += ["", "| arm | " + " | ".join(f"{m} acc (%), {w}" for m in a["mean"] for w in a["windows"].values()) + " |",
              "|---" * (1 + len(a["mean"]) * len(a["windows"])) + "|"]
    for arm in ARMS:
        lines.append(f"| {arm} | " + " | ".join(f"{a['mean'][m][w][arm]:.2f}" for m in a["mean"]
                                               for w in a["windows"].values()) + " |")
    lines += ["", "Per-seed clean accuracy (%):", "",
              "| seed | " + " | ".join(f"{arm}, {where}" for where in a["windows"].values() for arm in ARMS) + " |",
              "|---" * (1 + len(ARMS) * len(a["windows"])) + "|"]
    clean = a["per_seed"]["clean"]
    for s in a["seeds"]:
        lines.append(f"| {s} | " + " | ".join(f"{clean[w][arm][s]:.2f}" for w in a["windows"] for arm in ARMS) + " |")
    p = result["provenance"]
    lines += ["", f"Analysed at git {p.get('git')} from the {result['runs']} stored runs of the activation-noise "
                  f"report beside this file (trained on {result['trained_on']})."]
    return "\n".join(lines) + "\n"

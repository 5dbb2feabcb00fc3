"""The patch claims with a long stage after the anneal (docs/replication.md, replications 17 and 18).

activation-noise-fixes-small-lr and patch-memorized-by-small-lr train 20 epochs and anneal after epoch 10, so their
tests read the arms 6-10 epochs after the anneal. Run at ``--set epochs=E --set anneal_epoch=10`` (E > 20), the same
runs give each arm's clean accuracy at two windows, each the median of W epochs as the claims read it:

* "design end": the W epochs ending at epoch 2·m (m = ``anneal_epoch``), where the registered 20-epoch profiles
  read their final values. Nothing before epoch 2·m depends on the total budget, so these are the values the
  registered profiles would read on these seeds;
* "end": the last W epochs.

Two analyses of those windows (:data:`ANALYSES`), each a one-sided paired t over seeds at α 0.05, with
N = noise − small and G = large − small (clean accuracy, pp) per seed:

* "noise-gap" (replication 17, the noise claim's runs): (C1) N(end) > 0, the noise's gain remains; (C2)
  N(design end) − N(end) > 0, it shrinks; F = mean N / mean G, the share of the large LR's gap the noise closes;
* "lead-gap" (replication 18, the patch claim's runs): (D1) G(end) > 0, the large LR's lead remains; (D2)
  G(design end) − G(end) > 0, it shrinks; mean G(end) / mean G(design end), the share of the lead that remains.

Shares come with a paired bootstrap interval (lrsci.paired_rows.share). Every arm's patch-only accuracy at each
window is reported beside.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from .beside_reports import claim_fast_profile
from .paired_rows import ALPHA, paired_test_row, quantity_row, share, share_lines, tables

# analysis -> (the claim whose runs it reads, their arms)
ANALYSES = {"noise-gap": ("activation-noise-fixes-small-lr", ("large", "small", "noise")),
            "lead-gap": ("patch-memorized-by-small-lr", ("large", "small"))}
KEYS = {"clean": "test_acc@clean", "patch-only": "test_acc@patch_only"}
TITLES = {"noise-gap": ("activation-noise-fixes-small-lr: the noise's gain over a long stage after the anneal", 17),
          "lead-gap": ("patch-memorized-by-small-lr: the large LR's lead over a long stage after the anneal", 18)}


def setup(project: Path, analysis: str, scale: dict):
    """(the analysis' claim's fast profile at ``scale``, its arm_configs(profile, seed))."""
    return claim_fast_profile(project, ANALYSES[analysis][0], scale)


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
    arms = list(next(iter(runs.values())))
    return {measure: {name: {arm: {s: statistics.median(runs[s][arm].curve(key, end - width + 1, end)) for s in runs}
                             for arm in arms} for name, end in ends.items()}
            for measure, key in KEYS.items()}


def analyse(analysis: str, values: dict, ends: dict[str, int], width: int) -> dict:
    """``values`` as :func:`window_values` gives it (seeds may be JSON strings) -> the tests, quantities, shares."""
    clean = values["clean"]
    seeds = sorted(clean["end"]["large"])
    arms = list(clean["end"])
    col = lambda window, arm: [clean[window][arm][s] for s in seeds]  # noqa: E731
    diff = lambda a, b: [x - y for x, y in zip(a, b)]  # noqa: E731
    where = {w: f"epochs {e - width + 1}-{e}" for w, e in ends.items()}
    design, end = where["design end"], where["end"]
    gap = {w: diff(col(w, "large"), col(w, "small")) for w in ends}
    quantities = [("G = large − small", gap)]
    if analysis == "noise-gap":
        gain = {w: diff(col(w, "noise"), col(w, "small")) for w in ends}
        quantities += [("N = noise − small", gain), ("noise − large", {w: diff(col(w, "noise"), col(w, "large"))
                                                                        for w in ends})]
        tests = [paired_test_row(f"(C1) the noise's gain remains at the end: N({end}) > 0", col("end", "noise"),
                                 col("end", "small")),
                 paired_test_row(f"(C2) the gain shrinks over the long stage: N({design}) − N({end}) > 0",
                                 gain["design end"], gain["end"])]
        shares = {"share_closed": {where[w]: share(gain[w], gap[w], f"G over {where[w]}") for w in ends}}
    elif analysis == "lead-gap":
        tests = [paired_test_row(f"(D1) the large LR's lead remains at the end: G({end}) > 0", col("end", "large"),
                                 col("end", "small")),
                 paired_test_row(f"(D2) the lead shrinks over the long stage: G({design}) − G({end}) > 0",
                                 gap["design end"], gap["end"])]
        shares = {"share_remaining": {f"G({end}) / G({design})": share(gap["end"], gap["design end"],
                                                                       f"G over {design}")}}
    else:
        raise ValueError(f"analysis {analysis!r}: expected one of {sorted(ANALYSES)}")
    return {
        "seeds": seeds, "windows": where, "tests": tests,
        "quantities": [quantity_row(f"{name}, {where[w]}", values_[w]) for w in ends for name, values_ in quantities],
        **shares,
        "mean": {measure: {where[w]: {arm: statistics.fmean(v[w][arm].values()) for arm in arms} for w in ends}
                 for measure, v in values.items()},
        "per_seed": values,
    }


SHARE_TITLES = {"share_closed": "Share of the large LR's gap the noise closes, F = mean N / mean G (paired bootstrap):",
                "share_remaining": "Share of the large LR's lead that remains at the end (paired bootstrap):"}


def _at(per_seed: dict, seed):
    """A seed's value, in memory (int keys) or as read back from the JSON (string keys): either renders."""
    return per_seed[seed] if seed in per_seed else per_seed[str(seed)]


def render(result: dict) -> str:
    """The result as Markdown: the tests, the quantities, the share, the means, the per-seed values."""
    a = result["analysis"]
    name = result.get("analysis_name", "noise-gap")
    title, number = TITLES[name]
    claim = ANALYSES[name][0]
    lines = [f"# {title}", "",
             f"docs/replication.md, replication {number}, holds the protocol (written before the run) and the reading. "
             f"The claim's fast profile at {result['scale']}; seeds {a['seeds'][0]}-{a['seeds'][-1]} (n = "
             f"{len(a['seeds'])}); each value is the median of {result['window']} epochs; tests one-sided paired t, "
             f"α = {ALPHA}. The claim's own criteria at this scale: the reports beside this file.", ""]
    key = next(k for k in SHARE_TITLES if k in a)
    lines += tables(a["tests"], a["quantities"]) + share_lines(SHARE_TITLES[key], a[key])
    arms = list(a["per_seed"]["clean"]["end"])
    lines += ["", "| arm | " + " | ".join(f"{m} acc (%), {w}" for m in a["mean"] for w in a["windows"].values()) + " |",
              "|---" * (1 + len(a["mean"]) * len(a["windows"])) + "|"]
    for arm in arms:
        lines.append(f"| {arm} | " + " | ".join(f"{a['mean'][m][w][arm]:.2f}" for m in a["mean"]
                                               for w in a["windows"].values()) + " |")
    lines += ["", "Per-seed clean accuracy (%):", "",
              "| seed | " + " | ".join(f"{arm}, {where}" for where in a["windows"].values() for arm in arms) + " |",
              "|---" * (1 + len(arms) * len(a["windows"])) + "|"]
    clean = a["per_seed"]["clean"]
    for s in a["seeds"]:
        lines.append(f"| {s} | " + " | ".join(f"{_at(clean[w][arm], s):.2f}" for w in a["windows"] for arm in arms) + " |")
    p = result["provenance"]
    lines += ["", f"Analysed at git {p.get('git')} from the {result['runs']} stored runs of the {claim} report "
                  f"beside this file (trained on {result['trained_on']})."]
    return "\n".join(lines) + "\n"

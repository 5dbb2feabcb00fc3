"""gd-larger-lr-diverges with a run's outcome read from its loss, not only the engine's guard (docs/replication.md,
replication 22).

The claim counts a run at c·η as diverged only when its loss passes ``diverge_loss`` (10) or stops being finite.
docs/protocol-review.md points out the gap this leaves: at CPU scale GD at c·η mostly collapses to a constant
prediction (train loss ≈ ln 10, chance accuracy) without passing the guard, and counts as "not diverged". Here each
run is one of:

* **diverged**: the engine's outcome (the claim's own definition);
* **collapsed**: it finished, with a final train loss of at least ``COLLAPSE_FRACTION`` × ln 10, within 10 % of what
  a constant prediction scores on ten balanced classes: GD did not train;
* **trained**: otherwise.

A run that diverged or collapsed *failed to train*. The test is the claim's criterion 2 with that in place of
"diverged": at c·η at least the claim's ``min_diverged_fraction`` of the seeds fail, and an exact one-sided binomial
test of that count against the claim's ``null_p`` gives p < α. At η the number of runs that failed is reported.
Everything comes from the claim's report section (its per-seed outcome and final train loss); no run is read.
"""
from __future__ import annotations

import math

from .stats import binomial_test

CLAIM = "gd-larger-lr-diverges"
CHANCE_LOSS = math.log(10)   # cross-entropy of a constant prediction on ten balanced classes
COLLAPSE_FRACTION = 0.9


def classify(outcome: str, final_loss: float | None) -> str:
    """'diverged' (the engine's outcome), 'collapsed' (finished at ≥ 0.9 × ln 10) or 'trained'."""
    if outcome == "diverged":
        return "diverged"
    if final_loss is None:
        raise ValueError(f"a run with outcome {outcome!r} has no final train loss")
    return "collapsed" if final_loss >= COLLAPSE_FRACTION * CHANCE_LOSS else "trained"


def _arm_keys(per_seed: dict, prefix: str) -> tuple[str, str]:
    """(the outcome key, the final-loss key) of the arm whose keys start with ``prefix`` ("η=" or "c·η=")."""
    outcome = next(k for k in per_seed if k.startswith(prefix) and k.endswith(": outcome"))
    arm = outcome[: -len(": outcome")]
    loss = next(k for k in per_seed if k.startswith(f"{arm}: final train loss"))
    return outcome, loss


def outcomes(per_seed: dict, prefix: str) -> dict:
    """{seed: 'diverged' | 'collapsed' | 'trained'} for one arm of the section's per-seed values."""
    outcome, loss = _arm_keys(per_seed, prefix)
    return {s: classify(per_seed[outcome][s], per_seed[loss][s]) for s in per_seed[outcome]}


def analyse(section: dict) -> dict:
    """The test and the counts from the claim's fast section."""
    protocol, per_seed = section["protocol"], section["per_seed"]
    arms = {"η": outcomes(per_seed, "η="), "c·η": outcomes(per_seed, "c·η=")}
    counts = {arm: {kind: sum(v == kind for v in o.values()) for kind in ("trained", "collapsed", "diverged")}
              for arm, o in arms.items()}
    n = len(arms["c·η"])
    failed = counts["c·η"]["collapsed"] + counts["c·η"]["diverged"]
    share, alpha = protocol["min_diverged_fraction"], protocol["alpha"]
    test = binomial_test(failed, n, protocol["null_p"])
    return {"seeds": section["seeds"], "collapse_loss": COLLAPSE_FRACTION * CHANCE_LOSS,
            "test": {"name": f"(G1) GD at c·η fails to train (diverges or collapses) on ≥ {share:.0%} of seeds "
                             f"(binomial vs p0 = {protocol['null_p']:g})",
                     "failed": failed, "n": n, "p": test.p_value, "alpha": alpha,
                     "passed": failed >= math.ceil(share * n) and test.p_value < alpha},
            "counts": counts, "per_seed": arms}


def render(result: dict) -> str:
    a = result["analysis"]
    seeds, t = a["seeds"], a["test"]
    lines = ["# gd-larger-lr-diverges: outcomes read from the loss", "",
             f"docs/replication.md, replication 22, holds the protocol (written before the run) and the reading. From "
             f"the claim's report beside this file ({result['scale']}), seeds {seeds[0]}-{seeds[-1]} (n = {len(seeds)}). "
             f"A finished run *collapsed* if its final train loss is ≥ {a['collapse_loss']:.3f} (0.9 × ln 10: within "
             "10 % of a constant prediction's); *diverged* is the engine's outcome; the rest *trained*.", "",
             "| test | failed to train | n | exact binomial p | pass |", "|---|---|---|---|---|",
             f"| {t['name']} | {t['failed']} | {t['n']} | {t['p']:.3g} | {'yes' if t['passed'] else 'no'} |", "",
             "| arm | trained | collapsed | diverged |", "|---|---|---|---|"]
    for arm, c in a["counts"].items():
        lines.append(f"| {arm} | {c['trained']} | {c['collapsed']} | {c['diverged']} |")
    lines += ["", "| seed | " + " | ".join(a["per_seed"]) + " |", "|---" * (len(a["per_seed"]) + 1) + "|"]
    for s in seeds:
        lines.append(f"| {s} | " + " | ".join(o.get(s, o.get(str(s))) for o in a["per_seed"].values()) + " |")
    p = result["provenance"]
    lines += ["", f"Computed at git {p.get('git')} from the report's per-seed values (trained on {result['trained_on']})."]
    return "\n".join(lines) + "\n"

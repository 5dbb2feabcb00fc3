"""stage3-less-transferable's transferability as pooled ratios (docs/replication.md, replication 19).

The claim's tests compare per-seed ratios, T_i = (tacc_i − tacc_{i−1}) / (acc_i − acc_{i−1}), whose denominator,
stage i's gain in source accuracy, can be near 0 on one seed and then moves the mean (docs/protocol-review.md). A
pooled ratio sums numerator and denominator over the seeds first:

    T̄_i = Σ_s (tacc_i − tacc_{i−1}) / Σ_s (acc_i − acc_{i−1}),

so a seed weighs by the source accuracy its stage added. Per target × mode this module tests D = T̄_3 − T̄_2 < 0
with a paired percentile bootstrap over seeds (lrsci.stats.pooled_ratio_difference: 10 000 resamples, seed 0; one-
sided p = (1 + #{D* ≥ 0}) / (1 + B) < α), and reports far/fix's T̄_3 < 0 the same way.

Everything comes from the claim's own report section: its per-seed acc_i and T_i give each seed's numerator as
T_i × (acc_i − acc_{i−1}), so no run is read.
"""
from __future__ import annotations

from .stats import pooled_ratio_difference

CLAIM = "stage3-less-transferable"
ROWS = ("near/fix", "near/finetune", "far/fix", "far/finetune")
ALPHA = 0.05


def stage_terms(per_seed: dict, row: str, stage: int) -> tuple[list[float], list[float]]:
    """(numerators tacc_i − tacc_{i−1}, denominators acc_i − acc_{i−1}) per seed, in the section's seed order."""
    seeds = list(per_seed[f"acc{stage}"])
    gains = [per_seed[f"acc{stage}"][s] - per_seed[f"acc{stage - 1}"][s] for s in seeds]
    ratios = [per_seed[f"{row} T{stage}"][s] for s in seeds]
    if any(r is None for r in ratios):
        raise ValueError(f"{row} T{stage}: a seed has no ratio (a zero stage gain): its numerator cannot be recovered")
    return [r * g for r, g in zip(ratios, gains)], gains


def _row(name: str, result: dict, alpha: float) -> dict:
    p = result["p_below_0"]
    return {"row": name, **result, "passed": p is not None and p < alpha}


def analyse(section: dict, alpha: float = ALPHA) -> dict:
    """The pooled tests from the claim's fast section (its ``per_seed``: acc1..acc3 and every row's T2, T3)."""
    per_seed = section["per_seed"]
    rows = [_pooled_row(f"{row}: pooled T3 < pooled T2", lambda row=row: (*stage_terms(per_seed, row, 3),
                                                                          *stage_terms(per_seed, row, 2)), alpha)
            for row in ROWS]

    def against_zero():
        num3, gain3 = stage_terms(per_seed, "far/fix", 3)
        return num3, gain3, [0.0] * len(num3), gain3
    paper = _pooled_row("far/fix: pooled T3 < 0 (paper: Sketch250 fix −0.06; reported only)", against_zero, alpha)
    gains = {i: [per_seed[f"acc{i}"][s] - per_seed[f"acc{i - 1}"][s] for s in per_seed["acc1"]] for i in (2, 3)}
    return {"seeds": section["seeds"], "alpha": alpha, "tests": rows, "reported": [paper],
            "stage_gain_mean": {f"acc{i} − acc{i - 1}": sum(g) / len(g) for i, g in gains.items()}}


def _pooled_row(name: str, terms, alpha: float) -> dict:
    """A row from ``terms()`` = (a1, b1, a2, b2); a row whose terms cannot be had fails, saying why."""
    try:
        return _row(name, pooled_ratio_difference(*terms()), alpha)
    except ValueError as exc:
        return {"row": name, "effect": None, "ratio1": None, "ratio2": None, "ci": None, "p_below_0": None,
                "why_no_interval": str(exc), "passed": False}


def render(result: dict) -> str:
    a = result["analysis"]
    seeds = a["seeds"]
    lines = ["# stage3-less-transferable: transferability as pooled ratios", "",
             f"docs/replication.md, replication 19, holds the protocol (written before the run) and the reading. From "
             f"the claim's report beside this file ({result['scale']}), seeds {seeds[0]}-{seeds[-1]} (n = {len(seeds)}): "
             "pooled T̄_i = Σ(tacc_i − tacc_{i−1}) / Σ(acc_i − acc_{i−1}) over the seeds; D = T̄_3 − T̄_2; paired "
             f"percentile bootstrap over seeds (10 000 resamples, seed 0); pass: one-sided bootstrap p < {a['alpha']}.",
             "", "| row | pooled T2 | pooled T3 | D = T3 − T2 | 95 % CI (bootstrap) | one-sided p | pass |",
             "|---|---|---|---|---|---|---|"]
    for t in a["tests"]:
        ci = f"[{t['ci'][0]:+.3f}, {t['ci'][1]:+.3f}]" if t["ci"] else f"none: {t['why_no_interval']}"
        p = f"{t['p_below_0']:.3g}" if t["p_below_0"] is not None else "–"
        if t["effect"] is None:
            lines.append(f"| {t['row']} | – | – | – | none: {t['why_no_interval']} | – | no |")
            continue
        lines.append(f"| {t['row']} | {t['ratio2']:.3f} | {t['ratio1']:.3f} | {t['effect']:+.3f} | {ci} | {p} | "
                     f"{'yes' if t['passed'] else 'no'} |")
    for t in a["reported"]:
        ci = f"[{t['ci'][0]:+.3f}, {t['ci'][1]:+.3f}]" if t["ci"] else f"none: {t['why_no_interval']}"
        p = f"{t['p_below_0']:.3g}" if t["p_below_0"] is not None else "–"
        effect = f"{t['effect']:+.3f}" if t["effect"] is not None else "–"
        lines += ["", f"{t['row']}: pooled T3 {effect}, 95 % CI {ci}, one-sided p {p}."]
    gains = ", ".join(f"{k} {v:+.2f} pp" for k, v in a["stage_gain_mean"].items())
    p = result["provenance"]
    lines += ["", f"Mean stage gains in source accuracy (the pooled denominators / n): {gains}.", "",
              f"Computed at git {p.get('git')} from the report's per-seed values (trained on {result['trained_on']})."]
    return "\n".join(lines) + "\n"

"""Rows of a paired comparison over seeds, as the one-off experiments of docs/replication.md report them.

The controls (lrsci.patch_control) and the long post-anneal stage (lrsci.post_anneal) each compute a few per-seed
differences between arms and report them the same way: a quantity with its t-interval, a one-sided paired test
with Wilcoxon beside it, and a share of one difference in another with a paired bootstrap interval. The claims'
own criteria go through lrsci.criteria instead; these rows are plain dicts, written into a result JSON as they are.
"""
from __future__ import annotations

from .stats import mean_ci_t, paired_t, ratio_ci, wilcoxon

ALPHA = 0.05


def quantity_row(name: str, values: list[float]) -> dict:
    """A per-seed quantity: its mean, 95 % t-interval and how many seeds are above 0."""
    lo, hi = mean_ci_t(values)
    return {"quantity": name, "mean": sum(values) / len(values), "ci95": [lo, hi],
            "seeds_above_0": sum(v > 0 for v in values), "n": len(values)}


def paired_test_row(name: str, a: list[float], b: list[float], alpha: float = ALPHA, floor: float = 0.0) -> dict:
    """H1: mean(a − b) > ``floor``, one-sided paired t at ``alpha``; Wilcoxon's p (against the same floor) beside
    it. ``seeds_on_h1_side`` counts the seeds whose own difference is above the floor."""
    t, w = paired_t(a, b, floor), wilcoxon(a, b, floor)
    d = [x - y for x, y in zip(a, b)]
    lo, hi = mean_ci_t(d, resolution=t.resolution)
    return {"test": name, "effect": t.effect, "ci95": [lo, hi], "t": t.statistic, "p": t.p_value,
            "wilcoxon_p": w.p_value, "passed": t.passed(alpha), "seeds_on_h1_side": sum(v > floor for v in d),
            "n": t.n, **({"floor": floor} if floor else {})}


def share(part: list[float], whole: list[float], whole_name: str = "the whole") -> dict:
    """mean(part)/mean(whole) with a paired bootstrap interval when every seed's ``whole`` has one sign
    (otherwise a resampled denominator can reach 0: no interval, and why, naming ``whole_name``)."""
    ratio = (sum(part) / len(part)) / (sum(whole) / len(whole))
    if all(v > 0 for v in whole) or all(v < 0 for v in whole):
        _, lo, hi = ratio_ci(part, whole)
        return {"share": ratio, "ci95": [lo, hi]}
    return {"share": ratio, "ci95": None,
            "why_no_interval": f"{whole_name} changes sign across seeds: a resampled ratio is unbounded"}


def _pp(x: float) -> str:
    return f"{x:+.2f}"


def tables(tests: list[dict], quantities: list[dict], unit: str = "pp",
           quantity_header: str = "quantity (clean accuracy, pp)") -> list[str]:
    """Markdown lines: the tests' table (effects in ``unit``), a blank line, the quantities' table."""
    lines = [f"| test | effect ({unit}) | 95 % CI (t) | seeds on H1's side | t | p | Wilcoxon p | pass |",
             "|---|---|---|---|---|---|---|---|"]
    for t in tests:
        lines.append(f"| {t['test']} | {_pp(t['effect'])} | [{_pp(t['ci95'][0])}, {_pp(t['ci95'][1])}] | "
                     f"{t['seeds_on_h1_side']}/{t['n']} | {t['t']:.2f} | {t['p']:.3g} | {t['wilcoxon_p']:.3g} | "
                     f"{'yes' if t['passed'] else 'no'} |")
    lines += ["", f"| {quantity_header} | mean | 95 % CI (t) | seeds above 0 |", "|---|---|---|---|"]
    for q in quantities:
        lines.append(f"| {q['quantity']} | {_pp(q['mean'])} | [{_pp(q['ci95'][0])}, {_pp(q['ci95'][1])}] | "
                     f"{q['seeds_above_0']}/{q['n']} |")
    return lines


def share_lines(title: str, shares: dict[str, dict]) -> list[str]:
    """A blank line, ``title``, a blank line, and one line per share: its interval, or why there is none."""
    lines = ["", title, ""]
    for name, s in shares.items():
        ci = f"[{s['ci95'][0]:.2f}, {s['ci95'][1]:.2f}]" if s["ci95"] else f"no interval: {s['why_no_interval']}"
        lines.append(f"- {name}: {s['share']:.2f}, {ci}")
    return lines


def summary(tests: list[dict], unit: str = "pp") -> str:
    """One line per test, for a tool's terminal: its effect, 95 % interval and p."""
    return "\n".join(f"{t['test']}: {t['effect']:+.2f} {unit} [{t['ci95'][0]:+.2f}, {t['ci95'][1]:+.2f}], "
                     f"p = {t['p']:.3g}" for t in tests)

"""Report rows for pre-registered tests, the verdict they imply, and the check of declared failures.

A *criterion* is one row of a claim's tests table: a :class:`~lrsci.stats.StatResult`, the
threshold it was judged against, whether it passed, and a 95 % confidence interval of the
effect. Rows marked ``reported_only`` are shown but never decide the verdict.

Confidence intervals: at the 3-5 seeds a claim usually has, a percentile bootstrap CI is too
narrow (it cannot see past the few values it resamples), so the CI shown is the t-interval of
the mean (:func:`~lrsci.stats.mean_ci_t`). A bootstrap CI is added, labelled, only from
``BOOTSTRAP_MIN_N`` seeds on.
"""
from __future__ import annotations

import math
import re
from typing import Mapping, Sequence

from .stats import StatResult, bootstrap_ci, mean_ci_t, off_bound, paired_t

BOOTSTRAP_MIN_N = 10
# Accuracies are in %: the size of the measurements behind a gain in pp (the tests' ``scale``).
PERCENT = 100.0
VERDICTS = ("replicated", "not replicated")


def criterion(name: str, result: StatResult, threshold: str, values=None, alpha: float = 0.05,
              reported_only: bool = False, extra_pass: bool = True) -> dict:
    """A report row for one pre-registered test: the StatResult, its CI, threshold and pass.

    ``values`` are the per-seed quantities whose mean is the effect (e.g. paired differences);
    when given, the row carries their 95 % t-interval (and a bootstrap CI from n >= 10).
    """
    _check_threshold_says_alpha(threshold, alpha)
    row = {"criterion": name, **result.to_dict(), "threshold": threshold, "alpha": alpha,
           "passed": bool(result.passed(alpha) and extra_pass), "reported_only": reported_only}
    if values is not None:
        # the test's rounding allowance (taken from a and b), so interval and test agree on "no spread"
        resolution = result.resolution if result.test in T_TESTS else None
        row.update(effect_ci(values, point=_zero_spread(result), resolution=resolution))
        row["values"] = [float(v) for v in values]
        side = seeds_on_h1_side(result.hypothesis, row["values"], result.resolution)
        if side is not None:
            row["seeds_on_h1_side"] = side
    return row


_P_THRESHOLD = re.compile(r"\bp\s*<\s*([0-9.eE+-]+)")


def _check_threshold_says_alpha(threshold: str, alpha: float | None) -> None:
    """The row passes on ``alpha``; its threshold text is what a reader sees. A "p<0.01" shown over a row
    decided at 0.05 would misstate the test, so the two must agree."""
    m = _P_THRESHOLD.search(threshold)
    if m and alpha is not None and not math.isclose(float(m.group(1).rstrip(".")), alpha):
        raise ValueError(f"criterion threshold {threshold!r} says p < {m.group(1)}, but alpha={alpha}: "
                         f"pass alpha={m.group(1)} (the pass is decided on alpha)")


_ONE_SIDED = re.compile(r"^mean\(a - b\) ([<>]) (\S+)$")
_BETWEEN = re.compile(r"^(\S+) < mean\(a - b\) < (\S+)$")


def seeds_on_h1_side(hypothesis: str, values: Sequence[float], resolution: float = 0.0) -> int | None:
    """How many seeds' own values lie where H1 puts the mean (above a floor, below a bound, inside an
    equivalence margin): with 3-5 seeds, whether every seed made the same decision is worth saying.
    None where H1 is not about the mean of these values (counts, trends, ratios).

    A value within ``resolution`` (the test's float32 rounding allowance, StatResult.resolution) of a bound
    is on it, not past it, as the test itself judges: a gain of exactly the floor that rounding put 1e-6
    above it is no seed on H1's side."""
    def past(v: float, bound: float, sign: int) -> bool:   # sign +1: above the bound, -1: below it
        return sign * (v - bound) > off_bound(resolution, bound)
    m = _ONE_SIDED.match(hypothesis)
    if m:
        bound, sign = float(m.group(2)), (1 if m.group(1) == ">" else -1)
        return sum(past(v, bound, sign) for v in values)
    m = _BETWEEN.match(hypothesis)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        return sum(past(v, lo, 1) and past(v, hi, -1) for v in values)
    return None


T_TESTS = ("paired t (one-sided)", "non-inferiority t", "TOST")   # lrsci.stats' t family


def _zero_spread(result: StatResult) -> bool:
    """A t-test found every seed's difference the same value (lrsci.stats: t = ±inf, or t = 0 with p = 1 where
    that value is the margin). The interval must then be a point too: the differences can still differ by the
    float32 rounding of the values they were taken from, which the test saw and the differences alone do not.
    Only the t family says so this way: a Wilcoxon or binomial statistic of 0 with p = 1 is every seed on the
    wrong side, whose values still spread."""
    return result.test in T_TESTS and (
        math.isinf(result.statistic) or (result.statistic == 0.0 and result.p_value == 1.0))


def effect_ci(values: Sequence[float], point: bool = False, resolution: float | None = None) -> dict:
    """The CI fields of a row: the t-interval always (``point``: the mean, as a zero-width interval), the
    percentile bootstrap from n >= 10. Fewer than 2 values have no interval (None, None): a row that lost its
    seeds to divergence still reports, it does not crash the analysis."""
    if len(values) < 2:
        return {"ci": [None, None], "ci_method": "t"}
    mean = sum(values) / len(values)
    out = {"ci": [mean, mean] if point else list(mean_ci_t(values, resolution=resolution)), "ci_method": "t"}
    if len(values) >= BOOTSTRAP_MIN_N:
        out["ci_bootstrap"] = list(bootstrap_ci(values))
    return out


def floor_criterion(name: str, a: Sequence[float], b: Sequence[float], floor: float, alpha: float = 0.05,
                    unit: str = "", scale: float | None = None) -> dict:
    """"mean(a - b) is at least ``floor``", tested as such: one-sided paired t against the floor.

    A point estimate above the floor beside a test against 0 would pass a claim whose
    data cannot tell the effect from one below the floor; this test cannot. ``scale``: where a and b are
    themselves gains, the size of the measurements they came from (``PERCENT`` for accuracies; lrsci.stats).
    """
    result = paired_t(a, b, margin=floor, scale=scale)   # first: it names a missing value or unequal lengths
    return criterion(name, result, f"one-sided p<{alpha} against the floor {floor:g}{unit}",
                     [x - y for x, y in zip(a, b)], alpha)


def reported_t(name: str, a: Sequence[float], b: Sequence[float], alpha: float = 0.05,
               scale: float | None = None) -> dict:
    """A reported-only row (never part of the verdict): one-sided paired t of mean(a - b) > 0, with its
    per-seed differences for the t-interval. ``scale`` as in :func:`floor_criterion`."""
    return criterion(name, paired_t(a, b, scale=scale), "reported", [x - y for x, y in zip(a, b)], alpha,
                     reported_only=True)


def verdict(rows: list[dict]) -> str:
    required = [r for r in rows if not r.get("reported_only")]
    return "replicated" if required and all(r["passed"] for r in required) else "not replicated"


def required_rows(rows: list[dict]) -> dict[str, dict]:
    """Required rows by name; a name used twice among them could not be declared unambiguously."""
    out: dict[str, dict] = {}
    for r in rows:
        if r.get("reported_only"):
            continue
        if r["criterion"] in out:
            raise ValueError(f"two required criteria are both named {r['criterion']!r}: give each a distinct name")
        out[r["criterion"]] = r
    return out


def judge(rows: list[dict], expected: Mapping[str, str], headline: str | None = None,
          full_run: bool = True, other_scale: bool = False) -> tuple[str, str]:
    """Compare the failed required criteria with the declared expected failures.

    Returns (outcome, message); outcome is "replicated" (nothing failed, nothing expected),
    "as declared" (exactly the declared criteria failed) or "unexpected" (any other set:
    a different criterion failed, an expected one passed, a declared name is unknown, or a declared
    criterion is undefined this run: it failed, but not by a measured effect). Beyond that a declared
    criterion is judged by its name: how far it failed is in the message, not in the outcome.
    An "as declared" message ends with the analysis's ``headline``, the run's own summary.
    ``full_run`` False (fewer seeds than the profile declares): a plain non-replication does not suggest
    declaring it, since a finding is declared from the protocol's own run only. ``other_scale`` (a --set run):
    a declared name the run lacks is said to be the scale's doing (a criterion named by a decay step moves with
    --set epochs), not a slip in the declaration.
    """
    required = required_rows(rows)
    if not required:   # as verdict(): a claim without a required criterion replicates nothing
        return "unexpected", "the analysis produced no required criterion (every row is reported-only)"
    unknown = sorted(set(expected) - set(required))
    if unknown and other_scale:
        return "unexpected", (f"the declared expected failures name criteria this scale does not have ({unknown}; "
                              f"here the required criteria are {sorted(required)}: a criterion named by an epoch or a "
                              "step moves with --set epochs), so the declaration cannot be checked at this scale; "
                              "the verdict and every row are in the report")
    if unknown:
        return "unexpected", (f"declared expected failures {unknown} are not required criteria of this claim; "
                              f"its required criteria are {sorted(required)}")
    undefined = sorted(n for n in expected if _undefined(required[n]))
    if undefined:   # a declared failure is a measured one: no effect at all is a different failure
        return "unexpected", ("declared as expected to fail, but undefined this run (no effect could be measured): "
                              + "; ".join(row_figures(required[n]) for n in undefined))
    failed = {name for name, r in required.items() if not r["passed"]}
    if failed == set(expected):
        if not failed:
            return "replicated", "every pre-registered criterion passed"
        return "as declared", expected_failure_text(required, expected) + (f" | this run: {headline}" if headline else "")
    if not expected:   # no declaration at all: a plain non-replication, and what to do if it is the finding
        figures = "; ".join(row_figures(required[n]) for n in sorted(failed))
        if not full_run:
            return "unexpected", f"not replicated: {figures}"
        return "unexpected", ("not replicated, and the profile declares no expected failure: " + figures + ". If this "
            "is the finding at this scale (after calibrating on dev seeds, not on the report seeds), declare these "
            "criteria in the profile's expected_failures with the reason and the figures (docs/adding-a-claim.md)")
    parts = []
    if failed - set(expected):
        parts.append("failed without being declared: " + "; ".join(
            row_figures(required[n]) for n in sorted(failed - set(expected))))
    if set(expected) - failed:
        parts.append("declared as expected to fail but passed: " + "; ".join(
            row_figures(required[n]) for n in sorted(set(expected) - failed)))
    return "unexpected", "outcome differs from the declaration — " + " | ".join(parts)


def _undefined(row: dict) -> bool:
    effect = row.get("effect")
    return effect is None or (isinstance(effect, float) and math.isnan(effect))


def row_figures(row: dict) -> str:
    """One row's evidence in words, from the run's own numbers."""
    ci = row.get("ci")
    ci_text = f", 95% CI [{_num(ci[0])}, {_num(ci[1])}]" if ci and None not in ci else ""
    if ci and None not in ci and ci[0] == ci[1] and (row.get("n") or 0) >= 2:   # as the report says it
        ci_text = ", every seed the same value (no interval" + (
            "; the t-test then gives the sign test's p = 0.5^n)" if row.get("test") in T_TESTS else ")")
    p = row.get("p_value")
    p_shown = f", p = {p_text(p, row.get('alpha'))}" if p is not None else ""
    return (f"'{row['criterion']}': effect {_num(row.get('effect'))}{ci_text}{p_shown} "
            f"(threshold: {row.get('threshold', '')}; n = {row.get('n')})")


def expected_failure_text(required: dict[str, dict], expected: Mapping[str, str]) -> str:
    """The xfail reason a user sees: each declared reason beside this run's figures."""
    return "not replicated at this profile, as declared — " + " | ".join(
        f"{row_figures(required[name])}. Declared reason: {reason}" for name, reason in sorted(expected.items()))


def p_text(p, alpha: float | None = None) -> str:
    """A p-value with 3 significant digits (two decimals would print 0.0496 and 0.0504 both as 0.05), more
    where that rounding would land on the other side of ``alpha``: 0.04996 is not "0.05" beside a pass."""
    if p is None:
        return "–"
    for digits in (3, 6):
        text = f"{p:.{digits}g}"
        if alpha is None or (float(text) < alpha) == (p < alpha):
            return text
    return repr(float(p))   # the shortest text that reads back as p itself


def _num(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3g}" if v != 0 and abs(v) < 1e-2 else f"{v:.2f}"
    return str(v)

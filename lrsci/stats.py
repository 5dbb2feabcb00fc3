"""Paired statistical tests over seeds, used to decide whether a claim holds.

Every two-sample test here is *paired*: ``a[i]`` and ``b[i]`` come from the same
seed, so the tests work on the differences ``d = a - b`` (one value per seed).
That removes seed-to-seed variance shared by both arms, which is most of the
variance in training runs.

Conventions
-----------
* ``alternative="greater"`` means H1: ``mean(d) > margin``; ``"less"`` means
  H1: ``mean(d) < margin``.  Nothing here is two-sided: claims are directional.
* t-tests need ``n >= 2``.  When all differences are identical the sample
  variance is zero and the t statistic is ``+inf``/``-inf``. The t-test's own
  answer would be p = 0, certainty from as few as two seeds; we return the exact
  one-sided sign test's instead, ``p = 0.5**n`` (every one of n seeds on the H1
  side, each equally likely on either side under H0: 0.125 at 3 seeds, 0.031 at
  5), when the common value lies strictly on the H1 side of the margin, and
  ``p = 1.0`` otherwise (statistic ``0.0`` when it equals the margin).
  "Identical" and "equals" allow for rounding at float32 resolution (a few float32
  ulps of ``max|a|, max|b|``, or of ``scale`` where given): every value this suite measures comes out of float32
  arithmetic (an accuracy is a float32 mean of hits), so two seeds with the same gain
  in images at different accuracy levels differ by ~1e-6 pp of rounding, which is no
  spread; ``a = b + 0.1`` counts as zero variance too. The same rule makes an
  interval a point (:func:`mean_ci_t`). Only that degenerate case falls back:
  differences that spread by more than rounding, however little, get the t-test's
  own answer, which is then very small (``paired_t([2, 2.001], [1, 1])``: p = 1.6e-4).
  So the fallback is not monotone in the spread; it is there because the t-test
  has no answer at zero spread, not as a floor on what n seeds can show.
* ``scale``: when ``a`` and ``b`` are themselves differences of larger measurements (gains
  in pp of accuracies in %), their rounding is that of the measurements, not of their own
  small size: two gains of exactly +20 images taken at different accuracy levels differ by
  ~1e-5 pp, which 4 ulps of a 1-pp gain (5e-7) would call spread, and the t-test would run
  on rounding noise (p = 1e-22 where the sign test's 0.031 is the answer). Pass the
  measurements' magnitude (``scale=100`` for accuracies in %); the allowance is 4 float32
  ulps of ``max(scale, max|a|, max|b|)``. The result carries it as ``resolution``.
* NaN/inf inputs, unequal lengths, empty inputs and unknown ``alternative``
  values raise ``ValueError``.
* ``StatResult.to_dict`` is strict-JSON safe: non-finite floats become ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as _st

__all__ = [
    "StatResult",
    "paired_t",
    "wilcoxon",
    "tost",
    "non_inferiority",
    "bootstrap_ci",
    "mean_ci_t",
    "trend_test",
    "ratio_ci",
    "binomial_test",
]

_ALTERNATIVES = ("greater", "less")
# Bootstrap resamples are drawn in batches so memory stays bounded for large n.
_BOOT_BATCH_ELEMS = 2_000_000


@dataclass(frozen=True)
class StatResult:
    """Outcome of one hypothesis test.

    ``hypothesis`` states H1 in words; ``effect`` is the point estimate the test
    is about (mean of the paired differences, or for ``trend_test`` the mean of
    last-minus-first column).
    """

    test: str
    hypothesis: str
    statistic: float
    p_value: float
    n: int
    effect: float
    margin: float
    # The rounding allowance the test used (module docstring); not part of the report row.
    resolution: float = field(default=0.0, compare=False)

    def passed(self, alpha: float = 0.05) -> bool:
        """True when H0 is rejected at level ``alpha`` (``p_value < alpha``)."""
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
        return bool(self.p_value < alpha)

    def to_dict(self) -> dict:
        """Plain, JSON-serialisable dict; NaN and +/-inf floats become ``None``."""
        return {
            "test": self.test,
            "hypothesis": self.hypothesis,
            "statistic": _json_float(self.statistic),
            "p_value": _json_float(self.p_value),
            "n": int(self.n),
            "effect": _json_float(self.effect),
            "margin": _json_float(self.margin),
        }


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------


def _json_float(x: float) -> float | None:
    x = float(x)
    # Strict JSON has no NaN/Infinity literals.
    return x if math.isfinite(x) else None


def _as_1d(values, name: str) -> np.ndarray:
    """Finite, non-empty 1-D float array, or ValueError naming the problem."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers: {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        kind = "NaN" if np.isnan(arr[i]) else "inf"
        raise ValueError(f"{name} contains {kind} at index {i} (values must be finite)")
    return arr


def _paired_diff(a, b, scale: float | None = None) -> tuple[np.ndarray, float]:
    """(d, tol): d = a - b for paired samples (seed i of a pairs with seed i of b).

    ``tol`` bounds the rounding of values measured in float32 (see the module
    docstring), at least that of measurements of size ``scale``; differences that vary
    by less than it are treated as identical.
    """
    a = _as_1d(a, "a")
    b = _as_1d(b, "b")
    if a.shape != b.shape:
        raise ValueError(
            f"paired samples need equal lengths, got len(a)={a.size}, len(b)={b.size}"
        )
    return a - b, _resolution(np.concatenate([a, b]), scale)


def _resolution(values: np.ndarray, scale: float | None = None) -> float:
    """Spread below which values are one value: 4 float32 ulps of the largest magnitude (of the values, or
    ``scale``: the size of the measurements they were computed from)."""
    size = float(np.max(np.abs(values)))
    if scale is not None:
        scale = float(scale)
        if not (math.isfinite(scale) and scale > 0.0):
            raise ValueError(f"scale must be a finite number > 0 (the size of the measurements), got {scale!r}")
        size = max(size, scale)
    return 4.0 * float(np.finfo(np.float32).eps) * size


def off_bound(tol: float, bound: float) -> float:
    """How far a value must lie from ``bound`` to be off it: ``tol`` (the inputs' rounding, StatResult.resolution)
    plus the float64 rounding of the bound itself. One rule for the tests and for lrsci.criteria's seed counts."""
    return tol + 4.0 * float(np.finfo(float).eps) * abs(bound)


def _check_alternative(alternative: str) -> None:
    if alternative not in _ALTERNATIVES:
        raise ValueError(
            f"alternative must be 'greater' or 'less', got {alternative!r}"
        )


def _check_margin(margin: float, *, positive: bool = False) -> float:
    margin = float(margin)
    if not math.isfinite(margin):
        raise ValueError(f"margin must be finite, got {margin!r}")
    if positive and margin <= 0.0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    return margin


def _check_level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return level


def _h1(op: str, margin: float) -> str:
    return f"mean(a - b) {op} {_bound(margin)}"


def _bound(margin: float) -> str:
    """A margin in H1's text: ``:g`` unless that rounds it, since the text is parsed back
    (lrsci.criteria.seeds_on_h1_side) and a rounded margin would count seeds against another bound."""
    text = f"{margin:g}"
    return text if float(text) == margin else repr(margin)


# --------------------------------------------------------------------------
# t-based tests
# --------------------------------------------------------------------------


def _one_sided_t(d: np.ndarray, margin: float, alternative: str,
                 tol: float = 0.0) -> tuple[float, float]:
    """(t, p) of the one-sample t-test of H0: mean(d) = margin vs a one-sided H1.

    Zero-variance d (spread <= ``tol``, i.e. rounding noise) is handled
    explicitly (see module docstring): scipy returns NaN when the constant
    equals the margin and unreliable values, with a warning, for near-constant d.
    """
    if d.size < 2:
        raise ValueError(f"t-tests need n >= 2 paired values, got n={d.size}")
    if float(np.ptp(d)) <= tol:
        gap = float(np.mean(d)) - margin
        # A gap within rounding noise of the margin is no evidence either way.
        if abs(gap) <= off_bound(tol, margin):
            return 0.0, 1.0
        t = math.copysign(math.inf, gap)
        on_h1_side = gap > 0 if alternative == "greater" else gap < 0
        return t, 0.5 ** d.size if on_h1_side else 1.0   # the sign test's p: n of n seeds on H1's side
    res = _st.ttest_1samp(d - margin, 0.0, alternative=alternative)
    return float(res.statistic), float(res.pvalue)


def paired_t(a, b, margin: float = 0.0, alternative: str = "greater", scale: float | None = None) -> StatResult:
    """Paired one-sided t-test on d = a - b.

    H0: mean(d) = margin.  H1: mean(d) > margin (``"greater"``) or
    mean(d) < margin (``"less"``).  Needs n >= 2.  With margin 0 this equals
    ``scipy.stats.ttest_rel(a, b, alternative=...)``. ``scale``: see the module docstring.
    """
    _check_alternative(alternative)
    margin = _check_margin(margin)
    d, tol = _paired_diff(a, b, scale)
    t, p = _one_sided_t(d, margin, alternative, tol)
    op = ">" if alternative == "greater" else "<"
    return StatResult("paired t (one-sided)", _h1(op, margin), t, p, int(d.size),
                      float(np.mean(d)), margin, tol)


def non_inferiority(a, b, margin: float, scale: float | None = None) -> StatResult:
    """One-sided paired t non-inferiority test: a is not worse than b by more than margin.

    H0: mean(d) <= -margin.  H1: mean(d) > -margin, with d = a - b and "larger
    is better".  ``margin`` >= 0 (0 reduces to a superiority test).  Needs n >= 2.
    """
    margin = _check_margin(margin)
    if margin < 0:
        raise ValueError(f"non-inferiority margin must be >= 0, got {margin!r}")
    d, tol = _paired_diff(a, b, scale)
    t, p = _one_sided_t(d, -margin, "greater", tol)
    return StatResult("non-inferiority t", _h1(">", -margin or 0.0), t, p, int(d.size),
                      float(np.mean(d)), margin, tol)


def tost(a, b, margin: float, scale: float | None = None) -> StatResult:
    """Paired equivalence test (two one-sided t-tests, TOST).

    H0: |mean(d)| >= margin.  H1: -margin < mean(d) < margin.  The p-value is
    the larger of the two one-sided p-values (H1: mean(d) > -margin and
    H1: mean(d) < margin); the reported statistic is the t of that binding
    test.  ``margin`` must be > 0.  Needs n >= 2.
    """
    margin = _check_margin(margin, positive=True)
    d, tol = _paired_diff(a, b, scale)
    t_lo, p_lo = _one_sided_t(d, -margin, "greater", tol)
    t_hi, p_hi = _one_sided_t(d, margin, "less", tol)
    t, p = (t_lo, p_lo) if p_lo >= p_hi else (t_hi, p_hi)
    return StatResult("TOST", f"{_bound(-margin)} < mean(a - b) < {_bound(margin)}", t, p,
                      int(d.size), float(np.mean(d)), margin, tol)


# --------------------------------------------------------------------------
# rank-based tests
# --------------------------------------------------------------------------


def wilcoxon(a, b, margin: float = 0.0, alternative: str = "greater", scale: float | None = None) -> StatResult:
    """Wilcoxon signed-rank test on d - margin, d = a - b.

    H0: the distribution of d - margin is symmetric about 0.  H1: it is shifted
    above 0 (``"greater"``) or below 0 (``"less"``).  Zero differences
    (including those within float rounding noise) are dropped (scipy's
    ``zero_method="wilcox"``); if every d - margin is zero
    there is no evidence either way and p = 1.0 (statistic 0.0).  Works for
    n >= 1 (p cannot go below 0.5**n_nonzero).  ``statistic`` is scipy's
    (sum of ranks of positive differences); ``effect`` is mean(d); ``n`` is the
    number of pairs, zeros included, and the hypothesis text says how many were zero.
    "median" is shorthand: under the symmetry H0 assumes, the shift tested is that of the
    pseudo-median (the Hodges-Lehmann centre of d), which equals the median for a symmetric d.
    """
    _check_alternative(alternative)
    margin = _check_margin(margin)
    d, tol = _paired_diff(a, b, scale)
    shifted = d - margin
    # Differences within float rounding noise of the margin count as ties at 0.
    shifted[np.abs(shifted) <= off_bound(tol, margin)] = 0.0
    op = ">" if alternative == "greater" else "<"
    zeros = int(np.sum(shifted == 0.0))
    # n stays the number of pairs; the words say how many of them the test could not use.
    dropped = f"; {zeros} of {d.size} differences zero, dropped" if zeros else ""
    hyp = f"median(a - b) {op} {margin:g} (signed-rank{dropped})"
    if zeros == d.size:
        # scipy would divide by zero here (and warn); answer directly.
        stat, p = 0.0, 1.0
    else:
        res = _st.wilcoxon(shifted, alternative=alternative)
        stat, p = float(res.statistic), float(res.pvalue)
    return StatResult("Wilcoxon signed-rank (one-sided)", hyp, stat, p,
                      int(d.size), float(np.mean(d)), margin, tol)


def trend_test(matrix, alternative: str = "increasing") -> StatResult:
    """Page's L test for a monotone trend across ordered conditions.

    ``matrix`` has one row per seed (block) and one column per condition, in
    the order the trend is predicted along.  H0: within each row all column
    orderings are equally likely.  H1: values tend to increase
    (``"increasing"``) or decrease (``"decreasing"``) from first to last
    column.  Needs >= 2 rows and >= 3 columns.  ``effect`` is the mean over
    rows of (last column - first column); ``n`` is the number of rows.
    """
    if alternative not in ("increasing", "decreasing"):
        raise ValueError(
            f"alternative must be 'increasing' or 'decreasing', got {alternative!r}"
        )
    try:
        m = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"matrix must be a 2-D array of numbers: {exc}") from exc
    if m.ndim != 2:
        raise ValueError(f"matrix must be 2-D (seeds x conditions), got shape {m.shape}")
    if m.shape[0] < 2 or m.shape[1] < 3:
        raise ValueError(
            "Page's trend test needs >= 2 rows (seeds) and >= 3 columns "
            f"(conditions), got shape {m.shape}"
        )
    if not np.all(np.isfinite(m)):
        raise ValueError("matrix contains NaN or inf (values must be finite)")
    k = m.shape[1]
    # Page's test is one-sided for the predicted order; "decreasing" = reversed ranks.
    ranks = np.arange(1, k + 1) if alternative == "increasing" else np.arange(k, 0, -1)
    res = _st.page_trend_test(m, predicted_ranks=ranks)
    effect = float(np.mean(m[:, -1] - m[:, 0]))
    return StatResult("Page trend L", f"{alternative} across columns", float(res.statistic),
                      float(res.pvalue), int(m.shape[0]), effect, 0.0)


# --------------------------------------------------------------------------
# confidence intervals
# --------------------------------------------------------------------------


def mean_ci_t(values, level: float = 0.95, resolution: float | None = None) -> tuple[float, float]:
    """Two-sided t-based confidence interval of the mean (n >= 2).

    Zero-variance input (a spread within float32 rounding, as for the tests) gives the degenerate
    interval (mean, mean). ``resolution``: the spread counted as none (default: float32 rounding of the
    values themselves; a test of a - b passes its own, StatResult.resolution, taken from a and b).
    """
    level = _check_level(level)
    x = _as_1d(values, "values")
    if x.size < 2:
        raise ValueError(f"a t confidence interval needs n >= 2 values, got n={x.size}")
    mean = float(np.mean(x))
    if float(np.ptp(x)) <= (_resolution(x) if resolution is None else resolution):
        return mean, mean
    sem = float(np.std(x, ddof=1)) / math.sqrt(x.size)
    half = float(_st.t.ppf(0.5 + level / 2.0, df=x.size - 1)) * sem
    return mean - half, mean + half


def _bootstrap_stats(arrays: tuple[np.ndarray, ...], fn, n_resamples: int, seed: int) -> np.ndarray:
    """``fn`` applied to n_resamples index-resamples shared by all arrays.

    The same indices resample every array, so paired structure is kept.
    Deterministic given ``seed`` (independent of batching).
    """
    if int(n_resamples) < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples!r}")
    n_resamples = int(n_resamples)
    n = arrays[0].size
    rng = np.random.default_rng(seed)
    batch = max(1, _BOOT_BATCH_ELEMS // n)
    out = np.empty(n_resamples)
    for start in range(0, n_resamples, batch):
        stop = min(start + batch, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = fn(*(arr[idx] for arr in arrays))
    return out


def _percentile_interval(boot: np.ndarray, level: float) -> tuple[float, float]:
    alpha = 1.0 - level
    lo, hi = np.quantile(boot, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi)


def bootstrap_ci(values, level: float = 0.95, n_resamples: int = 10_000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean.

    Deterministic for a given ``seed``.  Works for n >= 1; a single value or
    identical values give the degenerate interval (v, v).
    """
    level = _check_level(level)
    x = _as_1d(values, "values")
    if float(np.ptp(x)) <= _resolution(x):
        return float(np.mean(x)), float(np.mean(x))
    boot = _bootstrap_stats((x,), lambda s: s.mean(axis=1), n_resamples, seed)
    return _percentile_interval(boot, level)


def ratio_ci(a, b, level: float = 0.95, n_resamples: int = 10_000,
             seed: int = 0) -> tuple[float, float, float]:
    """Ratio mean(a)/mean(b) and its paired percentile bootstrap CI.

    Seeds are resampled jointly (pair i stays together).  Returns
    ``(ratio, lo, hi)``.  ``b`` must be all strictly positive or all strictly
    negative, so no resample's denominator can be zero or change sign (the
    ratio would otherwise be unbounded).  Deterministic for a given ``seed``.
    """
    level = _check_level(level)
    a_arr = _as_1d(a, "a")
    b_arr = _as_1d(b, "b")
    if a_arr.shape != b_arr.shape:
        raise ValueError(
            f"paired samples need equal lengths, got len(a)={a_arr.size}, len(b)={b_arr.size}"
        )
    if not (np.all(b_arr > 0) or np.all(b_arr < 0)):
        raise ValueError("ratio_ci needs b all > 0 or all < 0 (denominator must not reach 0)")
    ratio = float(np.mean(a_arr) / np.mean(b_arr))
    boot = _bootstrap_stats((a_arr, b_arr), lambda sa, sb: sa.mean(axis=1) / sb.mean(axis=1),
                            n_resamples, seed)
    lo, hi = _percentile_interval(boot, level)
    return ratio, lo, hi


def pooled_ratio_difference(a1, b1, a2, b2, level: float = 0.95, n_resamples: int = 10_000,
                            seed: int = 0) -> dict:
    """D = Σa1/Σb1 − Σa2/Σb2 over paired seeds (two pooled ratios), with a paired percentile bootstrap.

    The four arrays are resampled with the same seed indices, so each seed's four values stay together. Returns
    ``{"effect", "ratio1", "ratio2", "ci": [lo, hi] (two-sided at ``level``), "p_below_0"}`` where ``p_below_0`` =
    (1 + #{D* >= 0}) / (1 + n_resamples), the bootstrap's one-sided p for H1: D < 0. A pooled denominator that
    reaches 0 or changes sign in a resample makes that resample's ratio unbounded: then ``ci`` and ``p_below_0``
    are None and ``why_no_interval`` says so. Deterministic for a given ``seed``.
    """
    level = _check_level(level)
    arrays = tuple(_as_1d(x, name) for x, name in ((a1, "a1"), (b1, "b1"), (a2, "a2"), (b2, "b2")))
    if len({x.size for x in arrays}) != 1:
        raise ValueError(f"paired samples need equal lengths, got {[x.size for x in arrays]}")
    if np.sum(arrays[1]) == 0 or np.sum(arrays[3]) == 0:
        raise ValueError("a pooled denominator is 0: the ratio is undefined")
    r1, r2 = float(np.sum(arrays[0]) / np.sum(arrays[1])), float(np.sum(arrays[2]) / np.sum(arrays[3]))
    out = {"effect": r1 - r2, "ratio1": r1, "ratio2": r2}
    signs = np.sign(np.sum(arrays[1])), np.sign(np.sum(arrays[3]))

    def difference(s1, t1, s2, t2):   # NaN where a resampled denominator left the observed one's sign
        den1, den2 = t1.sum(axis=1), t2.sum(axis=1)
        ok = (np.sign(den1) == signs[0]) & (np.sign(den2) == signs[1])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ok, s1.sum(axis=1) / den1 - s2.sum(axis=1) / den2, np.nan)

    d = _bootstrap_stats(arrays, difference, n_resamples, seed)
    if np.isnan(d).any():
        return {**out, "ci": None, "p_below_0": None,
                "why_no_interval": "a resampled pooled denominator reaches 0 or changes sign: the ratio is unbounded"}
    lo, hi = _percentile_interval(d, level)
    return {**out, "ci": [lo, hi], "p_below_0": float((1 + np.sum(d >= 0)) / (1 + d.size))}


# --------------------------------------------------------------------------
# counts
# --------------------------------------------------------------------------


def binomial_test(k: int, n: int, p0: float, alternative: str = "greater") -> StatResult:
    """Exact one-sided binomial test of k successes in n independent trials (one per seed).

    H0: the success probability is ``p0``.  H1: it is larger (``"greater"``) or smaller
    (``"less"``).  ``scipy.stats.binomtest`` underneath.  ``statistic`` is k; ``effect`` is
    the observed rate k / n; ``margin`` is p0.  Needs n >= 1, 0 <= k <= n, 0 < p0 < 1.
    """
    _check_alternative(alternative)
    if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
               and math.isfinite(v) for v in (k, n)) or int(k) != k or int(n) != n:
        raise ValueError(f"k and n must be whole numbers, got k={k!r}, n={n!r}")
    k, n = int(k), int(n)
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need n >= 1 and 0 <= k <= n, got k={k}, n={n}")
    p0 = float(p0)
    if not 0.0 < p0 < 1.0:
        raise ValueError(f"p0 must be in (0, 1), got {p0!r}")
    res = _st.binomtest(k, n, p0, alternative=alternative)
    op = ">" if alternative == "greater" else "<"
    return StatResult("exact binomial (one-sided)", f"P(success) {op} {p0:g}", float(k),
                      float(res.pvalue), n, k / n, p0)

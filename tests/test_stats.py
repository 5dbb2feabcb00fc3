"""Unit tests for lrsci.stats: checked against scipy directly and hand-computed cases."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from lrsci.criteria import criterion
from lrsci.stats import (
    StatResult,
    binomial_test,
    bootstrap_ci,
    mean_ci_t,
    non_inferiority,
    paired_t,
    ratio_ci,
    tost,
    trend_test,
    wilcoxon,
)

RNG = np.random.default_rng(12345)
A = RNG.normal(1.0, 1.0, size=12)
B = A - RNG.normal(0.3, 0.5, size=12)  # paired: b shares a's seed effect


# --------------------------------------------------------------------------- paired_t


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_paired_t_matches_ttest_rel_at_zero_margin(alternative):
    r = paired_t(A, B, alternative=alternative)
    ref = sps.ttest_rel(A, B, alternative=alternative)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.n == 12
    assert r.effect == pytest.approx(np.mean(A - B))
    assert r.margin == 0.0


@pytest.mark.parametrize("margin", [-0.5, 0.2, 1.0])
@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_paired_t_with_margin_matches_ttest_1samp(margin, alternative):
    r = paired_t(A, B, margin=margin, alternative=alternative)
    ref = sps.ttest_1samp(A - B - margin, 0.0, alternative=alternative)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.margin == margin
    assert str(margin) in r.hypothesis or f"{margin:g}" in r.hypothesis


def test_paired_t_hand_computed():
    # d = [1, 2, 3]: mean 2, sd 1, se 1/sqrt(3) -> t = 2*sqrt(3) = 3.4641
    r = paired_t([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert r.statistic == pytest.approx(2 * math.sqrt(3), rel=1e-12)
    assert r.statistic == pytest.approx(3.4641, abs=1e-4)
    assert r.p_value == pytest.approx(sps.t.sf(2 * math.sqrt(3), df=2), rel=1e-12)
    assert r.test == "paired t (one-sided)"
    assert r.hypothesis == "mean(a - b) > 0"
    assert r.passed(0.05)  # p ~= 0.037
    assert not r.passed(0.01)


def test_paired_t_less_is_mirror_of_greater():
    g = paired_t(A, B, alternative="greater")
    l_ = paired_t(A, B, alternative="less")
    assert g.p_value + l_.p_value == pytest.approx(1.0)


def test_paired_t_zero_variance():
    a, b = [2.0, 2.0, 2.0], [1.0, 1.0, 1.0]  # d == 1 exactly
    up = paired_t(a, b, margin=0.5)
    # t = inf, but the p-value is the sign test's: 3 of 3 seeds on H1's side, 0.5**3 (not certainty)
    assert (up.p_value, up.statistic) == (0.125, math.inf)
    assert paired_t([2.0] * 5, [1.0] * 5, margin=0.5).p_value == 0.5 ** 5
    down = paired_t(a, b, margin=1.5)
    assert (down.p_value, down.statistic) == (1.0, -math.inf)
    assert paired_t(a, b, margin=1.5, alternative="less").p_value == 0.125
    at = paired_t(a, b, margin=1.0)
    assert (at.p_value, at.statistic) == (1.0, 0.0)
    assert paired_t(a, b, margin=1.0, alternative="less").p_value == 1.0
    # identical arms: d == 0, no evidence
    assert paired_t([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]).p_value == 1.0


def test_near_constant_differences_are_rounding_noise():
    # a - b == 0.1 up to the last bit; scipy alone would warn and give garbage
    a, b = np.array([0.3, 0.7, 1.1]), np.array([0.2, 0.6, 1.0])
    assert np.ptp(a - b) > 0
    assert paired_t(a, b, margin=0.0).p_value == 0.125
    assert paired_t(a, b, margin=0.1).p_value == 1.0
    assert paired_t(a, b, margin=0.1, alternative="less").p_value == 1.0
    assert paired_t(a, b, margin=0.2, alternative="less").p_value == 0.125
    assert tost(a, b, margin=0.15).p_value == 0.125
    assert wilcoxon(a, b, margin=0.1).p_value == 1.0


def test_paired_t_needs_two_values():
    with pytest.raises(ValueError, match="n >= 2"):
        paired_t([1.0], [0.0])


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: paired_t(a, b),
        lambda a, b: wilcoxon(a, b),
        lambda a, b: tost(a, b, 1.0),
        lambda a, b: non_inferiority(a, b, 1.0),
        lambda a, b: ratio_ci(a, b),
    ],
)
def test_input_validation(fn):
    with pytest.raises(ValueError, match="equal lengths"):
        fn([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        fn([1.0, float("nan"), 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="inf"):
        fn([1.0, 2.0, 3.0], [1.0, float("inf"), 3.0])
    with pytest.raises(ValueError, match="empty"):
        fn([], [])
    with pytest.raises(ValueError, match="1-D"):
        fn([[1.0, 2.0]], [[1.0, 2.0]])


@pytest.mark.parametrize("fn", [paired_t, wilcoxon])
def test_bad_alternative(fn):
    with pytest.raises(ValueError, match="alternative"):
        fn(A, B, alternative="two-sided")


def test_bad_margin_and_level():
    with pytest.raises(ValueError, match="margin"):
        tost(A, B, 0.0)
    with pytest.raises(ValueError, match="margin"):
        tost(A, B, -1.0)
    with pytest.raises(ValueError, match="margin"):
        non_inferiority(A, B, -0.1)
    with pytest.raises(ValueError, match="margin"):
        paired_t(A, B, margin=float("nan"))
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(A, level=1.0)
    with pytest.raises(ValueError, match="level"):
        mean_ci_t(A, level=0.0)
    with pytest.raises(ValueError, match="alpha"):
        paired_t(A, B).passed(alpha=0.0)


# --------------------------------------------------------------------------- wilcoxon


@pytest.mark.parametrize("margin", [0.0, 0.25])
@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_wilcoxon_matches_scipy(margin, alternative):
    r = wilcoxon(A, B, margin=margin, alternative=alternative)
    ref = sps.wilcoxon(A - B - margin, alternative=alternative)
    assert r.statistic == pytest.approx(ref.statistic)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert r.effect == pytest.approx(np.mean(A - B))
    assert r.test == "Wilcoxon signed-rank (one-sided)"


def test_wilcoxon_hand_computed():
    # all 5 differences positive: exact one-sided p = 1 / 2**5
    r = wilcoxon([1.0, 2.0, 3.0, 4.0, 5.0], [0.0] * 5)
    assert r.statistic == 15.0
    assert r.p_value == pytest.approx(1 / 32)


def test_wilcoxon_all_zero_differences():
    r = wilcoxon([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert (r.p_value, r.statistic) == (1.0, 0.0)
    r = wilcoxon([1.5, 2.5, 3.5], [1.0, 2.0, 3.0], margin=0.5)
    assert r.p_value == 1.0


# --------------------------------------------------------------------------- TOST


def test_tost_equivalent_data_passes():
    rng = np.random.default_rng(0)
    b = rng.normal(0, 1, 20)
    a = b + rng.normal(0.0, 0.05, 20)
    r = tost(a, b, margin=0.2)
    assert r.passed(0.05)
    assert r.p_value < 1e-6
    assert r.test == "TOST"
    assert r.hypothesis == "-0.2 < mean(a - b) < 0.2"


def test_tost_shifted_data_fails():
    rng = np.random.default_rng(1)
    b = rng.normal(0, 1, 20)
    a = b + 1.0 + rng.normal(0.0, 0.05, 20)
    r = tost(a, b, margin=0.2)
    assert not r.passed(0.05)
    assert r.p_value > 0.99


def test_tost_p_is_max_of_one_sided():
    d = A - B
    m = 0.6
    p_lo = sps.ttest_1samp(d + m, 0.0, alternative="greater").pvalue
    p_hi = sps.ttest_1samp(d - m, 0.0, alternative="less").pvalue
    r = tost(A, B, margin=m)
    assert r.p_value == pytest.approx(max(p_lo, p_hi), rel=1e-10)
    t_bind = sps.ttest_1samp(d + m, 0.0).statistic if p_lo >= p_hi else sps.ttest_1samp(d - m, 0.0).statistic
    assert r.statistic == pytest.approx(t_bind, rel=1e-10)


def test_tost_zero_variance():
    assert tost([1.0, 1.0], [0.9, 0.9], margin=0.5).p_value == 0.25
    assert tost([1.0, 1.0], [0.0, 0.0], margin=0.5).p_value == 1.0
    assert tost([1.0, 1.0], [0.5, 0.5], margin=0.5).p_value == 1.0  # on the boundary


# --------------------------------------------------------------------------- non-inferiority


def test_non_inferiority_matches_shifted_t():
    m = 0.1
    r = non_inferiority(A, B, m)
    ref = sps.ttest_1samp(A - B + m, 0.0, alternative="greater")
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.test == "non-inferiority t"
    assert r.margin == m
    assert r.hypothesis == "mean(a - b) > -0.1"


def test_non_inferiority_cases():
    rng = np.random.default_rng(2)
    b = rng.normal(0.9, 0.02, 15)
    # a slightly worse (by 0.01) but well inside a 0.05 margin -> non-inferior
    ok = non_inferiority(b - 0.01 + rng.normal(0, 0.005, 15), b, 0.05)
    assert ok.passed()
    # a worse by 0.1, beyond the margin -> not shown non-inferior
    bad = non_inferiority(b - 0.1 + rng.normal(0, 0.005, 15), b, 0.05)
    assert not bad.passed()
    assert bad.p_value > 0.99


# --------------------------------------------------------------------------- CIs


def test_mean_ci_t_hand_computed():
    x = [1.0, 2.0, 3.0]  # mean 2, se 1/sqrt(3)
    lo, hi = mean_ci_t(x, 0.95)
    half = sps.t.ppf(0.975, 2) / math.sqrt(3)
    assert (lo, hi) == pytest.approx((2 - half, 2 + half))
    assert mean_ci_t([4.0, 4.0, 4.0]) == (4.0, 4.0)
    with pytest.raises(ValueError, match="n >= 2"):
        mean_ci_t([1.0])


def test_bootstrap_ci_deterministic_and_contains_mean():
    x = RNG.normal(5.0, 2.0, 30)
    ci1 = bootstrap_ci(x, seed=7)
    ci2 = bootstrap_ci(list(x), seed=7)
    assert ci1 == ci2
    assert ci1[0] < np.mean(x) < ci1[1]
    assert bootstrap_ci(x, seed=8) != ci1
    # narrower level -> narrower interval
    lo90, hi90 = bootstrap_ci(x, level=0.9, seed=7)
    assert ci1[0] <= lo90 < hi90 <= ci1[1]
    # roughly agrees with the t interval for normal data
    tlo, thi = mean_ci_t(x)
    assert ci1[0] == pytest.approx(tlo, abs=0.5) and ci1[1] == pytest.approx(thi, abs=0.5)


def test_bootstrap_ci_degenerate():
    assert bootstrap_ci([3.0]) == (3.0, 3.0)
    assert bootstrap_ci([3.0, 3.0, 3.0]) == (3.0, 3.0)
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_ci([1.0, 2.0], n_resamples=0)


def test_ratio_ci():
    rng = np.random.default_rng(3)
    b = rng.uniform(10, 12, 20)
    a = 2.0 * b * rng.uniform(0.98, 1.02, 20)
    ratio, lo, hi = ratio_ci(a, b, seed=1)
    assert ratio == pytest.approx(np.mean(a) / np.mean(b))
    assert lo < ratio < hi
    assert 1.9 < lo and hi < 2.1
    assert ratio_ci(a, b, seed=1) == (ratio, lo, hi)
    # exactly proportional pairs: every resample has the same ratio
    r, lo, hi = ratio_ci([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert r == pytest.approx(2.0) and lo == pytest.approx(2.0) and hi == pytest.approx(2.0)
    with pytest.raises(ValueError, match="b all > 0"):
        ratio_ci([1.0, 2.0], [1.0, -1.0])


# --------------------------------------------------------------------------- trend


def test_trend_test_increasing_and_decreasing():
    rng = np.random.default_rng(4)
    base = np.array([0.0, 1.0, 2.0, 3.0])
    m = base + rng.normal(0, 0.1, size=(6, 4))
    inc = trend_test(m, "increasing")
    assert inc.p_value < 1e-3
    assert inc.n == 6
    assert inc.effect == pytest.approx(np.mean(m[:, -1] - m[:, 0]))
    ref = sps.page_trend_test(m)
    assert inc.statistic == pytest.approx(ref.statistic)
    assert inc.p_value == pytest.approx(ref.pvalue)
    assert trend_test(m, "decreasing").p_value > 0.99
    assert trend_test(m[:, ::-1], "increasing").p_value > 0.99
    assert trend_test(m[:, ::-1], "decreasing").p_value < 1e-3


def test_trend_test_validation():
    with pytest.raises(ValueError, match="3 columns"):
        trend_test(np.ones((4, 2)))
    with pytest.raises(ValueError, match="2 rows"):
        trend_test(np.ones((1, 4)))
    with pytest.raises(ValueError, match="2-D"):
        trend_test(np.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        trend_test([[1.0, 2.0, float("nan")], [1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="alternative"):
        trend_test(np.ones((3, 3)), "greater")


# --------------------------------------------------------------------------- StatResult


def test_stat_result_to_dict_is_json_safe():
    r = paired_t([2.0, 2.0], [1.0, 1.0])  # statistic = inf
    d = r.to_dict()
    assert d["statistic"] is None and d["p_value"] == 0.25
    json.dumps(d, allow_nan=False)
    d2 = paired_t(A, B).to_dict()
    assert set(d2) == {"test", "hypothesis", "statistic", "p_value", "n", "effect", "margin"}
    assert all(type(d2[k]) is float for k in ("statistic", "p_value", "effect", "margin"))
    assert type(d2["n"]) is int
    nan_result = StatResult("x", "y", float("nan"), 0.5, 3, 0.0, 0.0)
    assert nan_result.to_dict()["statistic"] is None


def test_stat_result_is_frozen():
    r = paired_t(A, B)
    with pytest.raises(AttributeError):
        r.p_value = 0.0  # type: ignore[misc]


# --------------------------------------------------------------------------- properties

_vals = st.lists(
    st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False),
    min_size=3, max_size=15,
)


@settings(deadline=None, max_examples=50)
@given(_vals, st.floats(min_value=0.01, max_value=5.0), st.integers(0, 2**32 - 1))
def test_paired_t_p_monotone_in_shift(a, c, seed):
    a = np.array(a)
    b = a + np.random.default_rng(seed).normal(0, 1, a.size)
    p0 = paired_t(a, b).p_value
    p1 = paired_t(a + c, b).p_value
    assert 0.0 <= p1 <= 1.0
    assert p1 <= p0 + 1e-12


@settings(deadline=None, max_examples=50)
@given(_vals, st.floats(min_value=0.05, max_value=5.0), st.integers(0, 2**32 - 1))
def test_tost_symmetric_under_swap(a, margin, seed):
    a = np.array(a)
    b = a + np.random.default_rng(seed).normal(0, 1, a.size)
    assert tost(a, b, margin).p_value == pytest.approx(tost(b, a, margin).p_value, rel=1e-9, abs=1e-12)


@settings(deadline=None, max_examples=50)
@given(_vals, st.integers(0, 2**32 - 1))
def test_p_values_in_unit_interval_and_not_nan(a, seed):
    a = np.array(a)
    rng = np.random.default_rng(seed)
    b = a + rng.choice([0.0, 1.0]) * rng.normal(0, 1, a.size)  # sometimes identical arms
    for r in (paired_t(a, b), wilcoxon(a, b), tost(a, b, 0.5), non_inferiority(a, b, 0.5)):
        assert 0.0 <= r.p_value <= 1.0
        assert not math.isnan(r.statistic)
        assert not math.isnan(r.effect)


# ---- pinned by a mutation audit (2026-11-27): each test fails under a mutation that the tests above let through

def test_a_nan_p_value_never_passes():                               # S02
    # e.g. the TOST row of gd-decay-no-benefit when fewer than 2 seeds finished
    r = StatResult("TOST", "-1 < mean(a - b) < 1", math.nan, math.nan, 1, math.nan, 1.0)
    assert r.passed(0.05) is False
    assert criterion("x", r, "p<0.05")["passed"] is False


def test_p_equal_to_alpha_does_not_pass():                           # S01
    assert StatResult("t", "h", 1.0, 0.05, 3, 0.0, 0.0).passed(0.05) is False
    assert paired_t([2.0] * 3, [1.0] * 3).passed(0.125) is False      # p = 0.5**3 exactly


def test_all_zero_arms_take_the_zero_variance_branch():              # S06
    # both arms exactly 0 on every seed (tol = 0): must not fall through to scipy (NaN / p = 0)
    assert paired_t([0.0] * 3, [0.0] * 3).p_value == 1.0
    assert tost([0.0] * 3, [0.0] * 3, 0.5).p_value == 0.125            # not 0.0: 3 seeds are not certainty
    assert non_inferiority([0.0] * 3, [0.0] * 3, 0.5).p_value == 0.125


def test_small_real_spread_is_not_treated_as_rounding_noise():       # S04
    a, b = [1.0] * 4, [0.0, 1e-5, 2e-5, 3e-5]      # above float32 resolution (~1e-7 at 1.0)
    ref = sps.ttest_rel(a, b, alternative="greater")
    r = paired_t(a, b)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9) and r.p_value < 1e-10


def test_a_constant_difference_within_rounding_of_a_large_margin_is_no_evidence():   # S07
    margin = 2.0
    for _ in range(6):
        margin = np.nextafter(margin, 3.0)      # 6 float64 ulps above d = 2.0: within rounding of the margin
    r = paired_t([2.0] * 3, [0.0] * 3, margin=float(margin), alternative="less")
    assert (r.p_value, r.statistic) == (1.0, 0.0)


def test_non_inferiority_with_zero_margin_is_the_superiority_test():  # S15
    assert non_inferiority(A, B, 0.0).p_value == pytest.approx(paired_t(A, B).p_value, rel=1e-12)


def test_less_alternative_is_named_in_the_hypothesis():              # S50 (seeds_on_h1_side parses it)
    assert paired_t(A, B, alternative="less").hypothesis == "mean(a - b) < 0"
    assert paired_t(A, B, margin=0.5, alternative="less").hypothesis == "mean(a - b) < 0.5"


def test_tost_effect_keeps_its_sign():                               # S52
    r = tost([0.0, 0.1, 0.2], [0.1, 0.3, 0.4], margin=1.0)
    assert r.effect == pytest.approx(-0.5 / 3) and r.effect < 0


def test_wilcoxon_drops_zero_differences_and_counts_every_seed():    # S22, S23, S27
    r = wilcoxon([0.0, 0.0, 1.0, 2.0, 3.0], [0.0] * 5)
    assert r.statistic == 6.0            # ranks 1+2+3 of the three non-zero differences
    assert r.p_value == pytest.approx(1 / 8)
    assert r.n == 5                      # n is seeds, not non-zero differences
    assert "2 of 5 differences zero, dropped" in r.hypothesis   # ...and the words say how many were unusable
    assert "dropped" not in wilcoxon([1.0, 2.0], [0.0, 0.0]).hypothesis
    assert "3 of 3 differences zero" in wilcoxon([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]).hypothesis


def test_wilcoxon_large_n_with_ties_matches_scipy_default():         # S25
    d = np.round(np.random.default_rng(0).normal(0.3, 1, 60), 1)
    r = wilcoxon(d, np.zeros(60))
    ref = sps.wilcoxon(d[d != 0], alternative="greater")
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_bootstrap_ci_is_the_percentile_interval_of_full_size_resamples():   # S36, S37, S38
    # x = [0, 1]: resampled means are 0 (1/4), 0.5 (1/2), 1 (1/4)
    assert bootstrap_ci([0.0, 1.0], level=0.4, seed=0) == (0.5, 0.5)   # 30th..70th percentile
    assert bootstrap_ci([0.0, 1.0], level=0.6, seed=0) == (0.0, 1.0)   # 20th..80th percentile


def test_bootstrap_ci_width_matches_normal_theory_at_large_n():      # S36 (non white-box)
    x = np.random.default_rng(1).normal(0.0, 1.0, 400)
    lo, hi = bootstrap_ci(x, level=0.95, seed=0)
    se = np.std(x, ddof=0) / math.sqrt(x.size)
    assert (hi - lo) / (2 * 1.959964 * se) == pytest.approx(1.0, abs=0.05)


def test_ratio_ci_resamples_the_ratio_of_means_not_the_mean_of_ratios():   # S40
    # resamples of pairs (1,1),(2,8): ratio of means is 1 (1/4), 1/3 (1/2), 1/4 (1/4)
    ratio, lo, hi = ratio_ci([1.0, 2.0], [1.0, 8.0], level=0.1, seed=0)
    assert ratio == pytest.approx(3 / 9)
    assert lo == pytest.approx(1 / 3) and hi == pytest.approx(1 / 3)   # mean of ratios would give 0.625


def test_ratio_ci_denominator_sign_rules():                          # S42, S43
    assert ratio_ci([1.0, 2.0], [-1.0, -2.0])[0] == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="b all > 0"):
        ratio_ci([1.0, 2.0], [0.0, 1.0])


def test_accuracies_rounded_in_float32_with_one_gain_are_zero_variance():   # S08
    # five seeds, each +37 of 2,000 test images (1.85 pp) at different accuracy levels: the float32 means
    # differ from 1.85 by ~1e-6 pp of rounding. That is one value, so the sign test's 0.5**5, not t = 1e6.
    base = [70.0, 75.5, 80.15, 85.2, 90.05]
    a = [100.0 * float(np.float32((b / 100 * 2000 + 37) / 2000)) for b in base]
    b = [100.0 * float(np.float32(x / 100)) for x in base]
    assert np.ptp(np.subtract(a, b)) > 0                     # not bit-identical: the case float64 ulps missed
    assert paired_t(a, b).p_value == 0.5 ** 5
    assert paired_t(a, b, margin=1.8).p_value == 0.5 ** 5
    assert tost(a, b, margin=2.0).p_value == 0.5 ** 5         # 1.85 inside ±2 pp on every seed
    row = criterion("gain", paired_t(a, b), "p<0.05", np.subtract(a, b))
    assert row["ci"][0] == row["ci"][1]                      # printed as "every seed: the same value"


def _gains(images, levels, n=2000):
    """Gains in pp of float32 accuracies (in %): +``images`` of n test images at each level."""
    acc = lambda c: 100.0 * float(np.float32(c / n))  # noqa: E731
    return [acc(c + images) - acc(c) for c in levels]


def test_differences_of_gains_round_at_the_size_of_the_accuracies_given_scale():
    # complex gains +20 images, simple +10, at different levels: every seed's excess is exactly 0.5 pp up to
    # the float32 rounding of the accuracies (~1e-5 pp), which 4 ulps of a 1-pp gain would call spread.
    gc, gs = _gains(20, [1400, 1510, 1603, 1704, 1801]), _gains(10, [1333, 1444, 1555, 1666, 1777])
    assert np.ptp(np.subtract(gc, gs)) > 0
    assert paired_t(gc, gs).p_value < 1e-10                     # without scale: a t-test on rounding noise
    assert paired_t(gc, gs, scale=100.0).p_value == 0.5 ** 5    # the sign test: the same value on every seed
    assert paired_t(gc, gs, margin=0.5, scale=100.0).p_value == 1.0   # exactly at the floor: no evidence
    assert not tost(gc, gs, margin=0.5, scale=100.0).passed()          # on the margin is not inside it
    assert wilcoxon(gc, gs, margin=0.5, scale=100.0).p_value == 1.0    # every difference a tie at the margin
    assert paired_t(gc, gs, scale=100.0).resolution == pytest.approx(4 * np.finfo(np.float32).eps * 100)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1000, 1900), min_size=5, max_size=5), st.lists(st.integers(1000, 1900), min_size=5, max_size=5))
def test_an_exact_floor_of_gains_never_passes_its_floor_or_its_equivalence_margin(levels_c, levels_s):
    gc, gs = _gains(20, levels_c), _gains(10, levels_s)
    assert not paired_t(gc, gs, margin=0.5, scale=100.0).passed()
    assert not tost(gc, gs, margin=0.5, scale=100.0).passed()


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
def test_a_scale_that_is_no_size_is_refused(scale):
    with pytest.raises(ValueError, match="scale"):
        paired_t([1.0, 2.0], [0.0, 0.0], scale=scale)


def test_resolution_is_not_part_of_the_report_row():
    r = paired_t([1.0, 2.0, 3.5], [0.0, 0.5, 1.0], scale=100.0)
    assert "resolution" not in r.to_dict() and r.resolution > 0


@pytest.mark.parametrize("k, n", [(float("nan"), 5), (3, None), (3, "5"), (True, 5)])
def test_binomial_test_names_k_or_n_that_are_not_whole_numbers(k, n):
    with pytest.raises(ValueError, match="k and n must be whole numbers"):
        binomial_test(k, n, 0.5)


def test_non_inferiority_at_margin_zero_reads_as_superiority():
    assert non_inferiority([2.0, 3.0, 4.0], [1.0, 1.0, 1.0], 0.0).hypothesis == "mean(a - b) > 0"

"""Report rows: t-intervals at small n, labelled bootstrap from n >= 10, floors tested as floors."""
import pytest

from lrsci.criteria import (PERCENT, criterion, effect_ci, floor_criterion, p_text, reported_t, row_figures,
                            seeds_on_h1_side, verdict)
from lrsci.report_schema import SCHEMA, upgrade_record
from lrsci.stats import bootstrap_ci, mean_ci_t, non_inferiority, paired_t


def test_small_n_rows_show_the_t_interval_and_no_bootstrap():
    d = [1.0, 2.5, 1.7, 3.1, 2.2]
    ci = effect_ci(d)
    assert ci["ci"] == list(mean_ci_t(d)) and ci["ci_method"] == "t" and "ci_bootstrap" not in ci


def test_a_bootstrap_ci_appears_from_ten_seeds_labelled():
    d = [0.1 * i for i in range(10)]
    assert effect_ci(d)["ci_bootstrap"] == list(bootstrap_ci(d))


def test_a_floor_is_tested_against_the_floor_not_against_zero():
    before = [0.0] * 5
    # mean gain 2.2 > floor 2, but the seeds cannot tell it from a gain below 2
    noisy = [0.5, 4.0, 1.0, 3.5, 2.0]
    row = floor_criterion("gain ≥ 2 pp", noisy, before, floor=2.0)
    assert row["effect"] == pytest.approx(2.2) and not row["passed"]
    assert paired_t(noisy, before).passed()  # the old point-estimate-beside-a-test-against-0 rule would pass
    tight = [2.9, 3.1, 3.0, 3.2, 2.8]
    assert floor_criterion("gain ≥ 2 pp", tight, before, floor=2.0)["passed"]


def _schema1_row(result, values):
    row = criterion("x", result, "p<0.05")
    row["ci"] = list(bootstrap_ci(values))  # what schema 1 stored
    return row


@pytest.mark.parametrize("make", [lambda a, b: paired_t(a, b), lambda a, b: paired_t(a, b, margin=0.5),
                                  lambda a, b: non_inferiority(a, b, 1.0)])
def test_upgrading_a_schema1_row_gives_the_t_interval_a_fresh_analysis_gives(make):
    a, b = [3.0, 4.2, 2.9, 3.8, 4.4], [2.0, 2.1, 2.5, 2.2, 2.0]
    d = [x - y for x, y in zip(a, b)]
    record = {"profiles": {"fast": {"tests": [_schema1_row(make(a, b), d)]}}}
    row = upgrade_record(record)["profiles"]["fast"]["tests"][0]
    assert row["ci"] == pytest.approx(list(mean_ci_t(d)), rel=1e-12) and row["ci_method"] == "t"
    assert record["schema"] == SCHEMA


def test_upgrading_to_schema3_names_the_first_seed_of_older_sections_and_nothing_else():
    record = {"schema": 2, "profiles": {"fast": {"protocol": {"alpha": 0.05, "seeds": 5}, "tests": []},
                                       "gpu": {"protocol": {"seeds": 5, "first_seed": 3000}, "tests": []}}}
    upgraded = upgrade_record(record)
    assert upgraded["profiles"]["fast"]["protocol"] == {"alpha": 0.05, "seeds": 5, "first_seed": 0}
    assert upgraded["profiles"]["gpu"]["protocol"]["first_seed"] == 3000 and upgraded["schema"] == SCHEMA


def test_upgrading_a_zero_variance_row_gives_the_degenerate_interval():
    a, b = [3.0, 3.0, 3.0], [1.0, 1.0, 1.0]
    record = {"profiles": {"gpu": {"tests": [_schema1_row(paired_t(a, b), [2.0, 2.0, 2.0])]}}}
    assert upgrade_record(record)["profiles"]["gpu"]["tests"][0]["ci"] == [2.0, 2.0]


@pytest.mark.parametrize("hypothesis, values, k", [
    ("mean(a - b) > 2", [3.0, 2.5, 1.0], 2), ("mean(a - b) < 0", [-1.0, -2.0, 0.5], 2),
    ("mean(a - b) > -1", [0.0, -0.5, -2.0], 2), ("-0.2 < mean(a - b) < 0.2", [0.1, -0.1, 0.3], 2),
    ("P(diverge) > 0.25", [1.0, 0.0], None)])
def test_seeds_on_h1_side_counts_each_seeds_own_decision(hypothesis, values, k):
    from lrsci.criteria import seeds_on_h1_side

    assert seeds_on_h1_side(hypothesis, values) == k


def test_a_row_says_when_every_seed_made_the_same_decision():
    from lrsci.report import _side_cell

    a, b = [3.0, 4.2, 2.9, 3.8, 4.4], [2.0, 2.1, 2.5, 2.2, 2.0]
    row = criterion("x", paired_t(a, b, margin=0.5), "floor", [x - y for x, y in zip(a, b)])
    assert row["seeds_on_h1_side"] == 4 and _side_cell(row) == "4/5"
    row = criterion("x", paired_t(a, b), "p<0.05", [x - y for x, y in zip(a, b)])
    assert _side_cell(row) == "5/5 (every seed)" and _side_cell({"n": 5}) == "–"


def test_p_values_in_messages_keep_three_significant_digits():
    from lrsci.criteria import row_figures

    row = {"criterion": "c", "effect": 2.5, "ci": [2.0, 3.0], "p_value": 0.0496, "threshold": "p<0.05", "n": 5}
    assert "p = 0.0496" in row_figures(row) and "p = 0.0504" in row_figures({**row, "p_value": 0.0504})


def test_a_claim_without_a_required_criterion_is_not_replicated_by_verdict_or_judge():
    from lrsci.criteria import criterion, judge, verdict
    from lrsci.stats import paired_t

    rows = [criterion("r", paired_t([1, 2, 3], [0, 0, 1]), "reported", None, reported_only=True)]
    assert verdict(rows) == "not replicated" and judge(rows, {})[0] == "unexpected"


# ---- pinned by a mutation audit (2026-11-27): each test fails under a mutation that the tests above let through

GOOD = paired_t([1.0, 1.2, 1.3], [0.0, 0.1, 0.2])       # p ~ 0.003
BAD = paired_t([-1.0, -1.2, -0.9], [0.0, 0.1, 0.2])     # p ~ 1


def test_verdict_needs_every_required_row_to_pass():                 # C11
    rows = [criterion("a", GOOD, "p<0.05"), criterion("b", BAD, "p<0.05")]
    assert verdict(rows) == "not replicated"
    assert verdict([criterion("a", GOOD, "p<0.05"),
                    criterion("r", BAD, "reported", reported_only=True)]) == "replicated"


def test_extra_pass_false_fails_the_row():                           # C01
    assert criterion("x", GOOD, "p<0.05", extra_pass=False)["passed"] is False


def test_a_row_is_judged_at_its_own_alpha():                         # C02, C07
    r = paired_t([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])                   # p ~ 0.037
    assert criterion("x", r, "p<0.01", alpha=0.01)["passed"] is False
    assert criterion("x", r, "p<0.05", alpha=0.05)["passed"] is True
    assert floor_criterion("x", [1.0, 2.0, 3.0], [0.0] * 3, floor=0.0, alpha=0.01)["passed"] is False


def test_floor_row_values_ci_and_seed_count_are_of_a_minus_b():      # C06
    a, b = [3.0, 4.2, 2.9, 3.8, 4.4], [2.0, 2.1, 2.5, 2.2, 2.0]
    row = floor_criterion("x", a, b, floor=0.5)
    assert row["values"] == pytest.approx([x - y for x, y in zip(a, b)])
    assert row["ci"][0] < row["effect"] < row["ci"][1]
    assert row["seeds_on_h1_side"] == 4


def test_reported_t_is_reported_only_and_about_a_minus_b():          # C08, C09
    a, b = [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]
    row = reported_t("r", a, b)
    assert row["reported_only"] is True
    assert row["p_value"] == pytest.approx(paired_t(a, b).p_value) and row["effect"] == pytest.approx(2.0)
    assert verdict([criterion("req", GOOD, "p<0.05"), reported_t("r", b, a)]) == "replicated"


def test_seed_at_the_bound_is_not_on_the_h1_side():                  # C03, C04
    assert seeds_on_h1_side("mean(a - b) > 2", [2.0, 3.0]) == 1
    assert seeds_on_h1_side("mean(a - b) < 0", [0.0, -1.0]) == 1
    assert seeds_on_h1_side("-0.2 < mean(a - b) < 0.2", [0.2, -0.2, 0.0]) == 1


def test_zero_seeds_on_the_h1_side_is_recorded_not_dropped():        # C20
    row = criterion("x", BAD, "p<0.05", values=[-1.0, -1.3, -1.1])
    assert row["seeds_on_h1_side"] == 0


def test_row_values_keep_seed_order():                               # C24
    assert criterion("x", GOOD, "p<0.05", values=[1.0, 3.0, 2.0])["values"] == [1.0, 3.0, 2.0]


def test_row_figures_show_small_effects_and_ci_in_order():           # C18, C19
    row = {"criterion": "c", "effect": 0.004, "ci": [0.001, 0.007], "p_value": 0.01, "threshold": "t", "n": 5}
    text = row_figures(row)
    assert "effect 0.004" in text and "95% CI [0.001, 0.007]" in text


def test_upgrading_schema1_drops_the_finding_and_the_ratio_bootstrap_and_keeps_unrecoverable_cis_empty():
    a, b = [3.0, 4.2, 2.9, 3.8, 4.4], [2.0, 2.1, 2.5, 2.2, 2.0]
    flat = _schema1_row(paired_t(a, b), [1.0, 1.5, 2.0])
    flat["statistic"] = 0.0          # an effect on the null with spread: no se to recover
    const = _schema1_row(paired_t(a, b), [1.0, 1.5, 2.0])
    const["ci"] = [1.1, 1.1]         # a constant sample: zero spread, whatever the t statistic says
    ratio = {"test": "ratio of means (bootstrap)", "ci": [0.9, 1.1], "effect": 1.0}
    sec = {"tests": [flat, const, ratio], "finding": "old free text"}
    upgrade_record({"profiles": {"fast": sec}})
    assert flat["ci"] is None and const["ci"] == [const["effect"], const["effect"]]
    assert ratio == {"test": "ratio of means", "effect": 1.0} and "finding" not in sec


def test_a_margin_that_g_would_round_is_written_exactly_and_counted_against_itself():
    floor = 1.0000004
    row = floor_criterion("x", [1.0000002, 2.0, 3.0], [0.0, 0.0, 0.0], floor)
    assert row["hypothesis"] == f"mean(a - b) > {floor!r}" and row["seeds_on_h1_side"] == 2
    assert paired_t([1.0, 2.0], [0.0, 0.0], margin=1.0).hypothesis == "mean(a - b) > 1"   # as before


def test_a_wilcoxon_row_with_every_seed_on_the_wrong_side_keeps_its_real_interval():
    """statistic 0 and p = 1 is a degenerate t-test only: for a signed-rank test it is every seed below, spread."""
    from lrsci.stats import mean_ci_t, wilcoxon

    values = [-1.0, -2.0, -3.5]
    row = criterion("w", wilcoxon(values, [0.0, 0.0, 0.0]), "reported", values, reported_only=True)
    assert row["ci"] == pytest.approx(list(mean_ci_t(values))) and row["ci"][0] < row["ci"][1]


def test_a_p_threshold_that_disagrees_with_alpha_is_refused_by_name():
    result = paired_t([1.0, 2.0, 3.0], [0.0, 1.0, 1.0])   # p = 0.029: passes at 0.05, not at 0.01
    with pytest.raises(ValueError, match=r"'p<0.01' says p < 0.01, but alpha=0.05: pass alpha=0.01"):
        criterion("x", result, "p<0.01", values=[1.0, 1.0, 2.0])
    assert not criterion("x", result, "p<0.01", values=[1.0, 1.0, 2.0], alpha=0.01)["passed"]
    assert criterion("x", result, "p < 0.05 (margin 1 pp)")["passed"]
    assert criterion("x", result, "ratio ≤ 0.9")["threshold"] == "ratio ≤ 0.9"   # not a p threshold: not read


def test_a_seed_within_rounding_of_the_bound_is_on_it_not_past_it():
    # gains of exactly the 1-pp floor that float32 rounding put 1e-6 above or below it
    values = [1.0 + 1e-6, 1.0 - 1e-6, 1.0 + 2e-6]
    assert seeds_on_h1_side("mean(a - b) > 1", values) == 2
    assert seeds_on_h1_side("mean(a - b) > 1", values, resolution=1e-5) == 0
    assert seeds_on_h1_side("mean(a - b) < 1", values, resolution=1e-5) == 0
    assert seeds_on_h1_side("-1 < mean(a - b) < 1", values, resolution=1e-5) == 0
    assert seeds_on_h1_side("-2 < mean(a - b) < 2", values, resolution=1e-5) == 3


def test_a_floor_row_of_gains_counts_seeds_as_its_test_judges_them():
    import numpy as np
    acc = lambda c: 100.0 * float(np.float32(c / 2000))  # noqa: E731
    gc = [acc(c + 20) - acc(c) for c in (1400, 1510, 1603, 1704, 1801)]
    gs = [acc(c + 10) - acc(c) for c in (1333, 1444, 1555, 1666, 1777)]
    row = floor_criterion("excess", gc, gs, 0.5, scale=PERCENT)
    assert row["passed"] is False and row["p_value"] == 1.0 and row["seeds_on_h1_side"] == 0
    assert row["ci"][0] == row["ci"][1]


@pytest.mark.parametrize("p, alpha, text", [(0.04996, 0.05, "0.04996"), (0.0504, 0.05, "0.0504"),
                                            (0.049999999999, 0.05, "0.049999999999"), (0.012345, None, "0.0123"),
                                            (None, 0.05, "–")])
def test_a_p_value_is_never_rounded_across_alpha(p, alpha, text):
    assert p_text(p, alpha) == text
    if p is not None:
        row = criterion("x", GOOD, "p<0.05", alpha=0.05)
        row.update(p_value=p, alpha=alpha)
        assert f"p = {text}" in row_figures(row)


@pytest.mark.parametrize("values", [[], [1.5]])
def test_a_row_with_fewer_than_two_values_has_no_interval_and_does_not_crash(values):
    row = criterion("x", GOOD, "p<0.05", values=values)
    assert row["ci"] == [None, None] and "CI" not in row_figures(row)


def test_a_p_threshold_anywhere_in_the_text_must_say_alpha():
    a, b = [1.0, 2.0, 3.0], [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="says p < 0.01"):
        criterion("x", paired_t(a, b), "one-sided p<0.01 against the floor", [x - y for x, y in zip(a, b)], 0.05)
    assert criterion("x", paired_t(a, b), "one-sided p<0.05 against the floor", None, 0.05)["alpha"] == 0.05


def test_a_floor_row_with_a_missing_value_names_it():
    with pytest.raises(ValueError, match="a contains NaN at index 1"):
        floor_criterion("x", [1.0, None, 3.0], [0.0, 0.0, 0.0], 0.5)


def test_a_row_whose_test_saw_spread_has_a_real_interval_even_where_the_differences_alone_would_not():
    # |a - b| larger than |a| and |b|: the differences' own rounding allowance would swallow a spread the test saw
    a, b = [1.0, 1.0 + 6e-7, 1.0], [-1.0, -1.0, -1.0]
    row = criterion("x", paired_t(a, b), "p<0.05", [x - y for x, y in zip(a, b)], 0.05)
    assert row["p_value"] < 0.05 and row["ci"][0] < row["ci"][1]


def test_a_rows_figures_say_every_seed_gave_the_same_value_instead_of_a_point_interval():
    from lrsci.criteria import row_figures

    row = criterion("x", paired_t([2.0, 2.0], [0.25, 0.25]), "p<0.05", [1.75, 1.75], 0.05)
    text = row_figures(row)
    assert "effect 1.75, every seed the same value (no interval; the t-test then gives the sign test's p = 0.5^n), " \
           "p = 0.25" in text and "CI [" not in text

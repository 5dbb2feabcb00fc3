import pytest

from lrsci.curves import first_epoch_reaching, stage_gain, window_mean


def test_first_epoch_reaching():
    assert first_epoch_reaching([10, 50, 91, 95, 100], 0.9) == 3
    assert first_epoch_reaching([100, 10, 100], 0.9) == 1
    with pytest.raises(ValueError):
        first_epoch_reaching([], 0.9)


def test_window_mean_and_stage_gain():
    curve = [1, 2, 3, 4, 10, 11, 12]
    assert window_mean(curve, 4, 3) == pytest.approx(3.0)
    assert window_mean(curve, 2, 3) == pytest.approx(1.5)
    assert stage_gain(curve, 4, 7, 3) == pytest.approx(11.0 - 3.0)
    with pytest.raises(ValueError):
        window_mean(curve, 8)


def test_first_epoch_reaching_counts_the_epoch_at_exactly_the_target_of_the_final_value():
    assert first_epoch_reaching([50, 90, 100], 0.9) == 2          # 90 is 0.9 x 100: reached
    assert first_epoch_reaching([60, 100, 50], 0.9) == 1          # a fraction of the final value, not the best


def test_window_mean_refuses_epoch_zero_and_stage_gain_uses_its_window():
    with pytest.raises(ValueError):
        window_mean([1, 2, 3], 0)
    curve = [1, 2, 3, 4, 10, 11, 15]
    assert stage_gain(curve, 4, 7, 1) == pytest.approx(15.0 - 4.0)


def test_a_target_no_epoch_reaches_is_named_or_censored_never_a_bare_stop_iteration():
    nan = float("nan")
    with pytest.raises(ValueError, match="reaches nan"):
        first_epoch_reaching([1.0, 2.0, nan])   # a curve ending in NaN has no final value to reach
    with pytest.raises(ValueError, match="reaches 5"):
        first_epoch_reaching([1.0, 2.0], target=5)
    assert first_epoch_reaching([1.0, 2.0], target=5, default=3) == 3   # censored: the caller's lower bound
    assert first_epoch_reaching([1.0, 6.0], target=5, default=3) == 2


def test_a_window_of_no_epochs_is_refused():
    with pytest.raises(ValueError, match="k must be at least 1"):
        window_mean([1.0, 2.0], 2, k=0)

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

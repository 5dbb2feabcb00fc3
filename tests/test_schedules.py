import pytest

from lrsci.config import ScheduleConfig
from lrsci.schedules import Constant, StepDecay, build_schedule, noise_scale_at


def test_constant():
    s = Constant(0.1)
    assert [s.lr_at(e) for e in range(3)] == [0.1] * 3 and not s.observe(0, 1.0)


@pytest.mark.parametrize("milestones, expected", [
    ((2,), [1.0, 1.0, 0.1, 0.1]),
    ((1, 3), [1.0, 0.1, 0.1, 0.01]),
])
def test_step_decay_closed_form(milestones, expected):
    s = StepDecay(1.0, milestones, 0.1)
    assert [s.lr_at(e) for e in range(4)] == pytest.approx(expected)
    assert s.decay_epochs == list(milestones)


def test_state_dict_round_trip():
    s = build_schedule(ScheduleConfig("step", milestones=(2,)), 0.1, 5)
    t = build_schedule(ScheduleConfig("step", milestones=(2,)), 0.1, 5)
    t.load_state_dict(s.state_dict())
    assert [t.lr_at(e) for e in range(5)] == [s.lr_at(e) for e in range(5)]


def test_noise_scale():
    cfg = ScheduleConfig(noise_milestones=(3,), noise_factor=1e-5)
    assert [noise_scale_at(cfg, e) for e in (0, 2, 3, 9)] == pytest.approx([1, 1, 1e-5, 1e-5])

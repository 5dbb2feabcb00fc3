import pytest

from lrsci.config import ScheduleConfig
from lrsci.schedules import AutoDecaySchedule, Constant, StepDecay, build_schedule, noise_scale_at


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


# ---- pinned by a mutation audit (2026-11-27): each test fails under a mutation that the tests above let through

def _decaying_schedule(**kw):
    # losses 1.0, 0.5: g = [1.0, 0.667], stable (tolerance 10), 0.667 <= zeta 0.85 -> decay on epoch index 1
    return AutoDecaySchedule(1.0, factor=0.5, max_epochs=20, beta=0.5, window=2, tolerance=10.0, zeta=0.85, **kw)


def test_autodecay_schedule_lowers_the_lr_from_the_next_epoch_and_records_it():   # H11, H03
    s = _decaying_schedule()
    assert s.lr_at(0) == 1.0 and s.observe(0, 1.0) is False
    assert s.lr_at(1) == 1.0 and s.observe(1, 0.5) is False
    assert s.rule.num_decays == 1
    assert s.lr_at(2) == 0.5
    assert s.decay_epochs == [2]          # epoch index 2 is the first at the lower rate


def test_autodecay_schedule_state_round_trip_keeps_decays():         # H09
    s = _decaying_schedule()
    s.observe(0, 1.0)
    s.observe(1, 0.5)
    t = _decaying_schedule()
    t.load_state_dict(s.state_dict())
    assert t.decay_epochs == [2] and t.lr_at(2) == 0.5


def test_build_schedule_passes_factor_and_budget():                   # H07, H08, H12
    ad = build_schedule(ScheduleConfig("autodecay", factor=0.5), 1.0, 7)
    assert ad.rule.factor == 0.5 and ad.rule.max_steps == 7
    st = build_schedule(ScheduleConfig("step", milestones=(2,), factor=0.5), 1.0, 5)
    assert [st.lr_at(e) for e in range(4)] == [1.0, 1.0, 0.5, 0.5]

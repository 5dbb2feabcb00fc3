"""lrsci.arms: the large-annealed and small-constant arms Li, Wei, Ma (2019) compare in every experiment."""
from lrsci.arms import large_annealed_and_small
from lrsci.claim import Profile
from tests.helpers import tiny_config


def test_large_is_annealed_once_and_small_is_constant_from_the_same_seed():
    p = Profile("fast", "cpu", 2, tiny_config(epochs=6, **{"optim.lr": 0.1}),
                params={"anneal_epoch": 3, "anneal_factor": 0.2, "small_lr": 0.004})
    arms = large_annealed_and_small(p, seed=7)
    large, small = arms["large"], arms["small"]
    assert set(arms) == {"large", "small"} and large.seed == small.seed == 7
    assert (large.schedule.kind, large.schedule.milestones, large.schedule.factor) == ("step", (3,), 0.2)
    assert large.optim.lr == 0.1
    assert small.schedule == p.run.schedule and small.schedule.kind == "constant" and small.optim.lr == 0.004
    assert large.with_(schedule=small.schedule, **{"optim.lr": 0.004}) == small   # nothing else differs

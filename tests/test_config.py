import json

import pytest

from lrsci.config import ConfigError, DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig

BAD = [
    (lambda: OptimConfig(lr=-0.1), "optim.lr"),
    (lambda: OptimConfig(lr=0), "optim.lr"),
    (lambda: OptimConfig(momentum=1.0), "optim.momentum"),
    (lambda: OptimConfig(momentum=0.0, nesterov=True), "optim.nesterov"),
    (lambda: OptimConfig(weight_decay=-1), "optim.weight_decay"),
    (lambda: OptimConfig(batch_size=0), "optim.batch_size"),
    (lambda: ScheduleConfig(factor=0.0), "schedule.factor"),
    (lambda: ScheduleConfig(factor=1.5), "schedule.factor"),
    (lambda: ScheduleConfig("step", milestones=()), "schedule.milestones"),
    (lambda: ScheduleConfig("step", milestones=(5, 3)), "schedule.milestones"),
    (lambda: ScheduleConfig("cosine"), "schedule.kind"),
    (lambda: ModelConfig("resnet"), "model.name"),
    (lambda: ModelConfig("wrn", depth=15), "model.depth"),
    (lambda: ModelConfig(dropout=1.0), "model.dropout"),
    (lambda: DataConfig("imagenet"), "data.name"),
    (lambda: DataConfig(train_size=0), "data.train_size"),
    (lambda: RunConfig(epochs=0), "epochs"),
    (lambda: RunConfig(seed=-1), "seed"),
    (lambda: RunConfig(device="tpu"), "device"),
    (lambda: RunConfig(precision="fp8"), "precision"),
    (lambda: RunConfig(epochs=5, schedule=ScheduleConfig("step", milestones=(5,))), "schedule.milestones"),
    # non-finite numbers, strings for numbers, unknown keys in option dicts: refused when built, not mid-run
    (lambda: OptimConfig(lr=float("inf")), "optim.lr"),
    (lambda: OptimConfig(lr="0.1"), "optim.lr"),
    (lambda: OptimConfig(weight_decay=float("inf")), "optim.weight_decay"),
    (lambda: OptimConfig(weight_decay=float("nan")), "optim.weight_decay"),
    (lambda: OptimConfig(nesterov="yes"), "optim.nesterov"),
    (lambda: ModelConfig(act_noise_std=float("inf")), "model.act_noise_std"),
    (lambda: ScheduleConfig("autodecay", autodecay={"betta": 0.9}), "schedule.autodecay"),
    (lambda: ScheduleConfig("plateau", plateau={"patiense": 2}), "schedule.plateau"),
    (lambda: DataConfig("ps10", options={"imgsize": 4}), "data.options"),
    (lambda: DataConfig("fashion-mnist", options={"image_size": 4}), "data.options"),
    (lambda: RunConfig(diverge_loss=float("inf")), "diverge_loss"),
]


@pytest.mark.parametrize("make, field", BAD, ids=[f for _, f in BAD])
def test_bad_values_raise_one_clear_error(make, field):
    with pytest.raises(ConfigError) as err:
        make()
    assert err.value.field == field
    assert field in str(err.value) and "not allowed" in str(err.value)


def test_round_trip_and_key():
    cfg = RunConfig(schedule=ScheduleConfig("step", milestones=(3, 6)), epochs=9)
    again = RunConfig.from_dict(cfg.to_dict())
    assert again == cfg and again.key() == cfg.key()
    assert cfg.with_(seed=1).key() != cfg.key()


def test_an_integer_rate_is_the_same_run_as_its_float():
    """lr=1 trains what lr=1.0 trains: one run key, not two stored runs of the same numbers."""
    as_float = RunConfig(optim=OptimConfig(lr=1.0, momentum=0.0, weight_decay=0.0), model=ModelConfig(dropout=0.0),
                         schedule=ScheduleConfig("step", milestones=(3,), factor=1.0), diverge_loss=100.0)
    as_int = RunConfig(optim=OptimConfig(lr=1, momentum=0, weight_decay=0), model=ModelConfig(dropout=0),
                       schedule=ScheduleConfig("step", milestones=(3,), factor=1), diverge_loss=100)
    assert as_int.key() == as_float.key() and as_int.with_(**{"optim.lr": 2}).key() == as_float.with_(**{"optim.lr": 2.0}).key()
    assert isinstance(as_int.optim.lr, float) and isinstance(as_int.to_dict()["diverge_loss"], float)


def test_with_dotted_fields():
    cfg = RunConfig().with_(**{"optim.lr": 0.01, "model.name": "mlp", "seed": 3})
    assert (cfg.optim.lr, cfg.model.name, cfg.seed) == (0.01, "mlp", 3)
    with pytest.raises(ConfigError):
        RunConfig().with_(**{"optim.lr": -1.0})



@pytest.mark.parametrize("make, field", [
    (lambda: ScheduleConfig("step", milestones=5), "schedule.milestones"),
    (lambda: ScheduleConfig("step", milestones=(True,)), "schedule.milestones"),
    (lambda: ScheduleConfig("constant", noise_milestones=3), "schedule.noise_milestones"),
    (lambda: ModelConfig("wrn", depth=16.0), "model.depth")])
def test_wrongly_typed_fields_are_refused_by_name(make, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        make()


def test_noise_milestones_past_the_last_epoch_are_refused_like_lr_milestones():
    with pytest.raises(ConfigError, match=r"schedule\.noise_milestones"):
        RunConfig(epochs=5, schedule=ScheduleConfig("constant", noise_milestones=(50,)))
    assert RunConfig(epochs=5, schedule=ScheduleConfig("constant", noise_milestones=(4,))).epochs == 5


MORE_BAD = [
    # each guard of __post_init__ that no other row reaches: bools are not numbers, bounds are inclusive
    # only where stated, option values (not only their keys) and nested option dicts are checked
    (lambda: OptimConfig(batch_size=True), "optim.batch_size"),
    (lambda: OptimConfig(lr=True), "optim.lr"),
    (lambda: OptimConfig(gd_chunk=0), "optim.gd_chunk"),
    (lambda: DataConfig("toy-pq", options={"dim_q": 1}), "data.options"),
    (lambda: DataConfig("ps10", options=[]), "data.options"),
    (lambda: DataConfig(seed=-1), "data.seed"),
    (lambda: ModelConfig("wrn", depth=4), "model.depth"),
    (lambda: ModelConfig(width=0), "model.width"),
    (lambda: ModelConfig(hidden=0), "model.hidden"),
    (lambda: ModelConfig(act_noise_std=-0.1), "model.act_noise_std"),
    (lambda: ScheduleConfig("autodecay", autodecay=[]), "schedule.autodecay"),
    (lambda: ScheduleConfig("step", milestones=(3, 3)), "schedule.milestones"),
    (lambda: ScheduleConfig(noise_factor=0.0), "schedule.noise_factor"),
    (lambda: ScheduleConfig("plateau", factor=1.0), "schedule.factor"),
    (lambda: RunConfig(eval_train=()), "eval_train"),
    (lambda: RunConfig(diverge_loss=0.0), "diverge_loss"),
]


@pytest.mark.parametrize("make, field", MORE_BAD, ids=[f for _, f in MORE_BAD])
def test_every_guard_refuses_its_bad_value_by_name(make, field):
    with pytest.raises(ConfigError) as err:
        make()
    assert err.value.field == field


def test_eval_train_subsets_survive_a_json_round_trip():
    """A stored run's config is JSON (a list where the config had a tuple): read back, it is the same run."""
    cfg = RunConfig(eval_train=("p_only", "both"))
    again = RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again.eval_train == ("p_only", "both") and again == cfg and again.key() == cfg.key()


# Realistic mistakes that used to pass construction and fail later inside a worker, or train silently wrong.
LATE_BAD = [
    (lambda: DataConfig("ps10", train_size=5000), "data.train_size"),
    (lambda: DataConfig("ps10", test_size=3000), "data.test_size"),
    (lambda: DataConfig("ps10", options={"noise_fraction": "0.1"}), "data.options"),
    (lambda: DataConfig("ps10", options={"complex_cluster_size": 2.5}), "data.options"),
    (lambda: DataConfig("ps10", options={"image_size": 0}), "data.options"),
    (lambda: DataConfig("ps10", options={"noise_kind": "gauss"}), "data.options"),
    (lambda: DataConfig("toy-pq", options={"frac_p_only": "0.1"}), "data.options"),
    (lambda: DataConfig(options={"download": "no"}), "data.options"),
    (lambda: ScheduleConfig(milestones=(30, 60)), "schedule.milestones"),          # forgot kind="step"
    (lambda: ScheduleConfig("autodecay", factor=1.0), "schedule.factor"),
    (lambda: ScheduleConfig("autodecay", autodecay={"window": 1}), "schedule.autodecay"),
    (lambda: ScheduleConfig("plateau", plateau={"threshold_mode": "absolute"}), "schedule.plateau"),
]


@pytest.mark.parametrize("make, field", LATE_BAD, ids=[str(i) for i in range(len(LATE_BAD))])
def test_mistakes_are_refused_when_the_config_is_made_not_in_a_worker(make, field):
    with pytest.raises(ConfigError) as err:
        make()
    assert err.value.field == field


def test_whether_torchvision_may_download_is_not_part_of_a_runs_key():
    plain = RunConfig()
    assert {plain.with_(data=DataConfig(options={"download": d})).key() for d in (True, False)} == {plain.key()}
    assert RunConfig(data=DataConfig(seed=1)).key() != plain.key()


@pytest.mark.parametrize("seed", [-1, 2**32, 2**64 - 1])
def test_a_seed_torch_generators_cannot_take_is_refused_by_name(seed):
    with pytest.raises(ValueError, match="seed"):
        RunConfig(data=DataConfig("ps10"), model=ModelConfig("mlp"), seed=seed)
    with pytest.raises(ValueError, match="data.seed"):
        DataConfig("ps10", seed=seed)


@pytest.mark.parametrize("name, field, rows", [("fashion-mnist", "train_size", 60_000),
                                               ("patch-cifar10", "test_size", 10_000)])
def test_a_subset_larger_than_the_real_split_is_refused_when_the_config_is_made(name, field, rows):
    DataConfig(name, **{field: rows})   # the whole split: fine
    with pytest.raises(ConfigError, match=f"data.{field}={rows + 1}.*at most the {rows} rows"):
        DataConfig(name, **{field: rows + 1})


@pytest.mark.parametrize("make", [
    lambda v: RunConfig(schedule=ScheduleConfig("autodecay", autodecay={"tolerance": v})),
    lambda v: RunConfig(schedule=ScheduleConfig("plateau", plateau={"threshold": v})),
    lambda v: RunConfig(data=DataConfig("toy-pq", options={"z_norm": v}), model=ModelConfig("two_layer")),
    lambda v: RunConfig(data=DataConfig("patch-fashion-mnist", options={"z_scale": v})),
])
def test_a_float_option_written_as_a_whole_number_is_one_run_with_it_written_as_a_float(make):
    assert make(1).key() == make(1.0).key()   # as lr=1 and lr=1.0 are: one run, trained once


def test_a_measurement_with_none_for_its_options_is_the_one_with_its_defaults():
    assert RunConfig(measures={"weight_norm": None}).key() == RunConfig(measures={"weight_norm": {}}).key()

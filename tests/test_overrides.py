"""--set: a claim's profile at a scale the user picks (lrsci.overrides), never taken for the protocol's report."""
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrsci import cli, driver, overrides
from lrsci.claim import Profile
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from lrsci.harness import Job
from lrsci.overrides import OverrideError
from tests.helpers import ROOT, dev_context, load_file, project_pytester, tiny_config

pytest_plugins = ["pytester"]
DEMO = (Path(__file__).parent / "fixtures" / "demo_claim.py").read_text()
MLP = Profile("fast", device="cpu", seeds=3, run=RunConfig(
    data=DataConfig("fashion-mnist", train_size=10_000, test_size=2_000), model=ModelConfig("mlp", hidden=256),
    optim=OptimConfig(lr=0.3), epochs=16, device="cpu"))


def test_fields_are_parsed_in_order_with_their_kinds():
    got = overrides.parse(["model.hidden=64", " epochs = 8", "precision=bf16"])
    assert got == {"model.hidden": 64, "epochs": 8, "precision": "bf16"} and list(got) == ["model.hidden", "epochs", "precision"]
    assert overrides.parse(None) == {} and overrides.describe(got) == "model.hidden=64, epochs=8, precision=bf16"


@pytest.mark.parametrize("item, says", [
    ("epochs", "expected FIELD=VALUE"), ("=8", "expected FIELD=VALUE"), ("epochs=", "expected FIELD=VALUE"),
    ("optim.lr=0.01", "not a scale field (a profile's rates"), ("seed=3", "--seed-offset"),
    ("data.seed=7", "--data-seed"), ("schedule.factor=0.5", "declare a profile"),
    ("epochs=abc", "a whole number >= 1"), ("epochs=0", "a whole number >= 1"), ("epochs=-2", "a whole number"),
    ("model.width=8.5", "a whole number"), ("epochs=٣", "a whole number"),
])
def test_a_field_outside_the_scale_or_a_bad_value_is_refused_by_name(item, says):
    with pytest.raises(OverrideError) as err:
        overrides.parse([item])
    assert str(err.value).startswith("--set ") and says in str(err.value)


def test_a_field_given_twice_is_refused():
    with pytest.raises(OverrideError, match="epochs is given twice"):
        overrides.parse(["epochs=4", "epochs=5"])


def test_applied_to_a_profile_only_its_base_run_changes():
    scaled = overrides.apply(MLP, {"model.hidden": 32, "epochs": 8, "data.train_size": 2000})
    assert (scaled.run.model.hidden, scaled.run.epochs, scaled.run.data.train_size) == (32, 8, 2000)
    assert scaled.run.optim == MLP.run.optim and scaled.params == MLP.params and scaled.seeds == MLP.seeds
    assert overrides.apply(MLP, {}) is MLP


@pytest.mark.parametrize("field, value, says", [
    ("model.depth", 22, "trains model 'mlp', which does not read model.depth"),
    ("model.width", 8, "which does not read model.width"),
    ("precision", "bf16", "trains on the CPU, where precision is not used"),
])
def test_a_field_the_profiles_model_ignores_or_a_value_its_config_refuses_is_refused(field, value, says):
    with pytest.raises(OverrideError, match="--set") as err:
        overrides.apply(MLP, {field: value})
    assert says in str(err.value)


def test_a_precision_its_config_refuses_is_refused_on_a_gpu_profile():
    gpu = MLP.extend("gpu", device="cuda")
    assert overrides.apply(gpu, {"precision": "bf16"}).run.precision == "bf16"
    with pytest.raises(OverrideError, match="precision='fp16' is not allowed"):
        overrides.apply(gpu, {"precision": "fp16"})


def test_a_batch_size_would_turn_full_batch_gd_into_sgd_and_is_refused():
    gd = Profile("fast", device="cpu", seeds=3, run=RunConfig(optim=OptimConfig(batch_size=None), device="cpu"))
    with pytest.raises(OverrideError, match="full-batch gradient descent"):
        overrides.apply(gd, {"optim.batch_size": 64})


def test_ps10_sizes_must_still_be_a_multiple_of_its_patterns():
    ps10 = Profile("fast", device="cpu", seeds=3, run=RunConfig(data=DataConfig("ps10", train_size=2000, test_size=2000,
                                                                                options={"image_size": 4}), device="cpu"))
    with pytest.raises(OverrideError, match="data.train_size=2001"):
        overrides.apply(ps10, {"data.train_size": 2001})


def test_a_run_the_claim_sets_the_field_of_itself_is_refused_before_anything_trains(tmp_path, monkeypatch):
    from tests.helpers import blobs

    ctx = dev_context(tmp_path, monkeypatch, blobs())
    ctx.run_overrides = {"epochs": 3}
    jobs = [Job(tiny_config(seed=1000, epochs=3), "scaled"), Job(tiny_config(seed=1000, epochs=5), "its own budget")]
    with pytest.raises(OverrideError, match="sets epochs=5 itself for its run 'its own budget'"):
        ctx.run_all(jobs)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("result.json"))


def test_a_real_claim_at_another_scale_trains_every_run_at_it_and_says_so(tmp_path, monkeypatch):
    """sgd-post-decay-boost's fast profile at a tiny scale: every run (trunks and forks) carries the overrides, the
    decay epochs follow the scaled epochs, and the section is never the protocol's report."""
    from tests.helpers import blobs

    monkeypatch.setenv("LRSCI_WORKERS", "1")
    data = blobs(n_train=256, n_test=128)
    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: data)
    module = load_file(ROOT / "claims" / "test_sgd_post_decay_boost.py", "scaled_sgd_claim")
    claim, asked = module.CLAIM, {"model.hidden": 8, "epochs": 4, "optim.batch_size": 64}
    profile = driver.with_run_overrides(claim.profile("fast"), asked)
    ctx = driver.context(profile, run_store=tmp_path / "runs", report_dir=tmp_path / "rep", seeds=2,
                         seed_offset=9000, run_overrides=asked)
    section = driver.check(claim, profile, ctx).section
    configs = [RunConfig.from_dict(r.config) for r in ctx.results]
    assert len(configs) == 2 * 4 and all(
        (c.model.hidden, c.epochs, c.optim.batch_size) == (8, 4, 64) for c in configs)
    assert sorted({c.schedule.milestones for c in configs}) == [(), (1,), (2,), (3,)]   # ¼, ½, ¾ of 4 epochs
    assert section["run_overrides"] == asked and section["protocol"]["run"]["model"]["hidden"] == 8
    assert not claim.ran_current_protocol(claim.profile("fast"), section)
    stored = json.loads((tmp_path / "rep" / claim.id / "result.json").read_text())["profiles"]["fast"]
    from lrsci.report_notes import section_state

    assert section_state(claim, "fast", stored) == "other scale"
    report = (tmp_path / "rep" / claim.id / "report.md").read_text()
    assert "(another scale)" in report and "model.hidden=8, epochs=4, optim.batch_size=64 (`--set`)" in report
    changed = {**stored, "protocol": {**stored["protocol"], "factor": 0.5}}   # the module has moved on since
    assert section_state(claim, "fast", changed) == "earlier protocol"


@pytest.fixture
def suite(pytester):
    project_pytester(pytester)
    (pytester.path / "claims").mkdir()
    (pytester.path / "claims" / "conftest.py").write_text((ROOT / "claims" / "conftest.py").read_text())
    (pytester.path / "claims" / "test_demo_claim.py").write_text(DEMO)
    return pytester


def test_pytest_refuses_a_scaled_run_into_the_committed_reports_folder(suite):
    result = suite.runpytest("claims", "--set", "model.width=2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--set runs a profile at another scale*name a --report-dir*"])
    bad = suite.runpytest("claims", "--set", "optim.lr=1", "--report-dir", str(suite.path / "elsewhere"))
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--set optim.lr: not a scale field*"])


def test_pytest_refuses_a_profile_run_on_other_seeds_into_the_committed_reports_folder_before_it_trains(suite):
    result = suite.runpytest("claims", "-k", "demo-claim and declared and not passed", "--seed-offset", "90000",
                             "--run-store", str(suite.path / "runs"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*on seeds 90000-*not the protocol's*--report-dir*"])
    assert not (suite.path / "runs").exists() and not (suite.path / "reports" / "demo-claim").exists()


def test_under_xdist_a_profile_run_on_other_seeds_into_the_committed_reports_fails_before_it_trains(suite):
    """An xdist worker cannot stop the session at collection (it would be the controller's internal error): the
    item fails with the reason instead, and nothing trains."""
    result = suite.runpytest_subprocess("claims", "-k", "demo-claim and declared and not passed", "--seeds", "2",
                                        "--run-store", str(suite.path / "runs"), "-n", "1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*on seeds 0-1, not the report seeds*--report-dir*"])
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    assert not (suite.path / "reports" / "demo-claim").exists()


def test_pytest_runs_the_profile_at_the_scale_and_skips_a_profile_that_cannot_take_it(suite):
    args = ("--report-dir", str(suite.path / "scaled"), "--run-store", str(suite.path / "runs"))
    result = suite.runpytest("claims", "-k", "demo-claim and declared and not passed", "--set", "model.width=2", *args)
    result.assert_outcomes(xfailed=1)
    section = json.loads((suite.path / "scaled" / "demo-claim" / "result.json").read_text())["profiles"]["declared"]
    assert section["run_overrides"] == {"model.width": 2} and section["protocol"]["run"]["model"]["width"] == 2
    assert "This section ran with model.width=2 (`--set`)" in (suite.path / "scaled" / "demo-claim" / "report.md").read_text()
    skipped = suite.runpytest("claims/test_demo_claim.py::demo-claim[fast]", "--set", "model.hidden=8", "-rs", *args)
    skipped.assert_outcomes(skipped=1)
    skipped.stdout.fnmatch_lines(["*cannot take it: --set model.hidden*does not read model.hidden*"])


def _fake_cli_project(monkeypatch, tmp_path):
    from tests.test_cli import fake_project

    fake_project(monkeypatch, tmp_path, lambda claim: [])
    monkeypatch.setattr(cli, "_refuse_what_would_skip", lambda profile, data_root: None)
    called = {}
    monkeypatch.setattr(cli, "run_child", lambda cmd, cwd, env: called.update(cmd=cmd) or 0)
    return called


def test_lrsci_run_passes_the_scale_on_and_refuses_what_the_profile_cannot_take(monkeypatch, tmp_path, capsys):
    called = _fake_cli_project(monkeypatch, tmp_path)
    assert cli.main(["run", "x", "--set", "model.width=2", "--set", "epochs=3", "--report-dir", str(tmp_path / "s")]) == 0
    cmd = called.pop("cmd")
    assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "--set"] == ["model.width=2", "epochs=3"]
    for args, says in ((["--set", "model.hidden=8", "--report-dir", str(tmp_path / "s")], "does not read model.hidden"),
                       (["--set", "optim.lr=1", "--report-dir", str(tmp_path / "s")], "not a scale field"),
                       (["--set", "epochs=3"], "name a --report-dir")):
        assert cli.main(["run", "x", *args]) == 2
        assert says in capsys.readouterr().err and "cmd" not in called   # refused before pytest starts


def test_list_and_compare_name_the_scale_a_section_ran_at(monkeypatch, tmp_path, capsys):
    from lrsci.report_compare import ClaimComparison, render
    from lrsci.report_notes import section_state
    from tests.test_cli import fake_project

    claim = fake_project(monkeypatch, tmp_path, lambda claim: [])
    fast = claim.profile("fast")
    scaled = {"verdict": "replicated", "seeds": [9000, 9001], "run_overrides": {"model.width": 2},
              "protocol": claim.protocol(overrides.apply(fast, {"model.width": 2})), "provenance": {"date": "2026-11-29"}}
    assert section_state(claim, "fast", scaled) == "other scale"
    assert cli._again(fast, [scaled]) == [("again with model.width=2 on seeds 9000-9001", "replicated")]
    monkeypatch.setattr(cli.report, "load_all", lambda root: [{"id": "x", "profiles": {"fast": scaled}}])
    assert cli.main(["list"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.split()[:2] == ["x", "fast"])
    assert "on seeds 9000-9001 at another scale (--set model.width=2): not the protocol's report" in line
    table = render([ClaimComparison("x", [0, 1], [9000, 9001], "replicated", "replicated", [], "", "model.width=2")],
                   "reports", "scaled")
    assert "| x | 0-1 | 9000-9001 at model.width=2 | replicated | replicated | yes |" in table


@given(st.dictionaries(st.sampled_from(["model.hidden", "data.train_size", "data.test_size", "epochs",
                                        "optim.batch_size", "precision"]),
                       st.integers(1, 5000), max_size=6))
@settings(max_examples=60, deadline=None)
def test_what_a_report_names_parses_back_to_the_same_scale_and_the_profile_carries_it(asked):
    asked = {k: ("bf16" if v % 2 else "fp32") if k == "precision" else v for k, v in asked.items()}
    assert overrides.parse([f"{k}={v}" for k, v in asked.items()]) == asked
    scaled = overrides.apply(MLP.extend("gpu", device="cuda"), asked)   # precision is refused on a CPU profile
    assert all(overrides.get(scaled.run, k) == v for k, v in asked.items())
    overrides.check_job(scaled.run.with_(seed=7, **{"optim.lr": 0.01}), asked, "an arm at its own rate")


PS10_LIKE = Profile("fast", device="cpu", seeds=3, epoch_params=("stage_epochs",), params={"stage_epochs": 10, "window": 3},
                    run=RunConfig(data=DataConfig("ps10", train_size=2000, test_size=2000, options={"image_size": 4}),
                                  model=ModelConfig("mlp", hidden=16), epochs=30, device="cpu"))


def test_a_new_budget_must_say_where_the_profiles_epoch_parameters_go():
    with pytest.raises(OverrideError, match=r"counts stage_epochs=10 of its 30 epochs; set it .*--set stage_epochs=\.\.\."):
        overrides.apply(PS10_LIKE, {"epochs": 90})
    scaled = overrides.apply(PS10_LIKE, overrides.parse(["epochs=90", "stage_epochs=30"]))
    assert (scaled.run.epochs, scaled["stage_epochs"], scaled["window"]) == (90, 30, 3)
    assert scaled.record()["stage_epochs"] == 30 and PS10_LIKE["stage_epochs"] == 10
    with pytest.raises(OverrideError, match="moves with --set epochs only"):
        overrides.apply(PS10_LIKE, {"stage_epochs": 5})
    with pytest.raises(OverrideError, match=r"nor an epoch parameter of profile 'fast' \(it has stage_epochs\)"):
        overrides.apply(PS10_LIKE, {"epochs": 90, "stage_epochs": 30, "window": 9})
    with pytest.raises(OverrideError, match=r"\(it has none\)"):
        overrides.apply(MLP, {"epochs": 9, "anneal_epoch": 3})


def test_a_profile_names_only_whole_number_parameters_as_counted_in_epochs():
    from lrsci.claim import ClaimError

    for params in ({}, {"stage_epochs": 2.5}, {"stage_epochs": True}):
        with pytest.raises(ClaimError, match="epoch parameter 'stage_epochs'"):
            Profile("fast", device="cpu", seeds=3, run=RunConfig(), params=params, epoch_params=("stage_epochs",))
    assert PS10_LIKE.extend("gpu", device="cuda").epoch_params == ("stage_epochs",)


def test_ps10_claim_at_a_new_budget_moves_its_stages_with_it(tmp_path, monkeypatch):
    """The real ps10-decay-learns-complex at 6 epochs in stages of 2: lrDecay decays after epochs 2 and 4, every run
    trains 6 epochs, and the section records both."""
    monkeypatch.setenv("LRSCI_WORKERS", "1")
    module = load_file(ROOT / "claims" / "test_ps10_decay_learns_complex.py", "scaled_ps10_claim")
    claim = module.CLAIM
    asked = overrides.parse(["model.hidden=8", "data.train_size=2000", "data.test_size=2000", "epochs=6",
                             "stage_epochs=2"])
    profile = driver.with_run_overrides(claim.profile("fast"), asked)
    ctx = driver.context(profile, run_store=tmp_path / "runs", report_dir=tmp_path / "rep", seeds=2,
                         seed_offset=9000, run_overrides=asked)
    section = driver.check(claim, profile, ctx).section
    configs = [RunConfig.from_dict(r.config) for r in ctx.results]
    assert {c.epochs for c in configs} == {6} and {c.model.hidden for c in configs} == {8}
    assert {c.schedule.milestones for c in configs} == {(), (2, 4)}
    assert section["protocol"]["stage_epochs"] == 2 and section["protocol"]["decay_epochs"] == [2, 4]
    assert section["run_overrides"] == asked
    from lrsci.report_notes import section_state

    stored = json.loads((tmp_path / "rep" / claim.id / "result.json").read_text())["profiles"]["fast"]
    assert section_state(claim, "fast", stored) == "other scale"


@pytest.mark.parametrize("claim_id, epochs, points", [("sgd-post-decay-boost", 3, "epochs [1, 2, 2]"),
                                                      ("gd-decay-no-benefit", 2, "steps [0, 1, 2]")])
def test_a_budget_too_small_for_the_decay_design_is_refused_before_anything_trains(claim_id, epochs, points,
                                                                                  monkeypatch, capsys):
    from lrsci.catalog import load_claims

    claim = load_claims(ROOT)[claim_id][0]
    fast = claim.profile("fast")
    scale = {"epochs": epochs, "model.hidden": 256}
    with pytest.raises(OverrideError, match=rf"fall at {re.escape(points)}: each must be a different"):
        driver.with_run_overrides(fast, scale, claim=claim)   # before GD's η record is asked for, too
    assert driver.with_run_overrides(fast, {"model.hidden": 256}, claim=claim).run.model.hidden == 256
    monkeypatch.chdir(ROOT)
    assert cli.main(["run", claim_id, "--set", f"epochs={epochs}", "--seeds", "2", "--report-dir", "/tmp/never"]) == 2
    assert "this budget is too small for the design" in capsys.readouterr().err


def test_decay_points_are_the_fractions_of_the_budget_each_a_step_of_its_own():
    from lrsci.arms import decay_points

    from dataclasses import replace

    p = replace(MLP, params={"decay_fractions": (0.25, 0.5, 0.75)})
    assert decay_points(p) == [4, 8, 12] and decay_points(replace(p, run=p.run.with_(epochs=4))) == [1, 2, 3]
    with pytest.raises(ValueError, match=r"of 1 epochs fall at epochs \[0, 0, 1\]"):
        decay_points(replace(p, run=p.run.with_(epochs=1)))

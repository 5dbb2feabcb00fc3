"""GD's η at another scale (--set): the η rule applied there, on dev seeds, its record named by the scale, and a
scale the rule was not applied at refused with the command that applies it (lrsci.eta_rule.at_scale)."""
import json

import pytest

pytest_plugins = ["pytester"]

from lrsci import autodecay_calibration, calibration, cli, driver, eta_rule
from lrsci.calibration import CalibrationError
from tests.helpers import ROOT, blobs, dev_context, listed_blocks, load_file, tool_refusal

SCALE = {"model.hidden": 8, "epochs": 6}


@pytest.fixture
def cal_dir(tmp_path, monkeypatch):
    """claims/calibration, for this test: a folder of its own (the claims read records from the module's default).
    The claim modules are imported first, with the real folder: they read the gpu records when imported and stay
    in sys.modules, and a later test must not find them with this folder's (none)."""
    from lrsci.catalog import load_claims

    load_claims(ROOT)
    folder = tmp_path / "calibration"
    monkeypatch.setattr(eta_rule, "CALIBRATION_DIR", folder)
    return folder


def gd_claim(name="test_gd_decay_no_benefit.py"):
    return load_file(ROOT / "claims" / name, f"scaled_{name[:-3]}").CLAIM


def record(eta=0.5):
    return {"rule": "the rule", "eta": eta, "eta_div": None if eta is None else 2 * eta, "grid": [0.25, 0.5]}


def test_a_scaled_record_is_named_by_its_scale_whatever_order_the_fields_came_in(tmp_path):
    one = eta_rule.path_for("fast", tmp_path, {"model.hidden": 256, "epochs": 800})
    other = eta_rule.path_for("fast", tmp_path, {"epochs": 800, "model.hidden": 256})
    assert one == other and one.name == "gd-eta-fast@epochs=800,model.hidden=256.json"
    assert eta_rule.path_for("gpu", tmp_path, {}).name == "gd-eta-gpu.json" == eta_rule.path_for("gpu", tmp_path).name


def test_a_scaled_record_is_written_with_its_scale_and_read_back_at_that_scale_only(tmp_path):
    path = eta_rule.write(record(), "fast", tmp_path, SCALE)
    assert json.loads(path.read_text())["scale"] == SCALE
    assert eta_rule.calibrated("fast", tmp_path, {"epochs": 6, "model.hidden": 8})["eta"] == 0.5
    assert eta_rule.calibrated("fast", tmp_path) is None   # the profile's own scale has no record here
    with pytest.raises(CalibrationError, match="at --set epochs=6 --set model.hidden=8 was already calibrated"):
        eta_rule.write(record(), "fast", tmp_path, SCALE)


def test_a_record_under_another_scales_name_is_moved_aside_and_named(tmp_path):
    wrong = eta_rule.path_for("fast", tmp_path, {"model.hidden": 16})
    eta_rule.write(record(), "fast", tmp_path, SCALE).rename(wrong)   # copied by hand to the name of another scale
    with pytest.raises(CalibrationError, match=r"calibrated at scale .*'model.hidden': 8.*file name says .*16.*moved to"
                                               r".*calibrate_gd_eta.py --profile fast --set model.hidden=16 again"):
        eta_rule.calibrated("fast", tmp_path, {"model.hidden": 16})
    assert not wrong.exists() and len(list(tmp_path.glob("*.corrupt-*"))) == 1


@pytest.mark.parametrize("claim_file", ["test_gd_decay_no_benefit.py", "test_gd_larger_lr_diverges.py"])
def test_both_gd_claims_take_the_scales_eta_and_carry_its_record(cal_dir, claim_file):
    eta_rule.write(record(0.5), "fast", cal_dir, SCALE)
    claim = gd_claim(claim_file)
    scaled = driver.with_run_overrides(claim.profile("fast"), SCALE)
    assert scaled.run.optim.lr == 0.5 and scaled.run.model.hidden == 8 and scaled.run.epochs == 6
    assert scaled["eta_calibration"]["scale"] == SCALE
    assert claim.protocol(scaled)["eta_calibration"]["eta"] == 0.5   # the report's protocol shows the record
    assert driver.with_run_overrides(claim.profile("fast"), {}) == claim.profile("fast")   # own scale: as declared


def test_a_scale_the_rule_was_not_applied_at_is_refused_with_the_command_that_applies_it(cal_dir):
    fast = gd_claim().profile("fast")
    with pytest.raises(CalibrationError, match=r"has not been applied at this scale.*`python tools/calibrate_gd_eta.py "
                                               r"--profile fast --set epochs=6 --set model.hidden=8`"):
        driver.with_run_overrides(fast, SCALE)
    eta_rule.write(record(None), "fast", cal_dir, SCALE)
    with pytest.raises(CalibrationError, match="found no diverging rate on the grid"):
        driver.with_run_overrides(fast, SCALE)


def test_a_profile_whose_rates_follow_no_rule_keeps_them_at_any_scale(cal_dir):
    sgd = load_file(ROOT / "claims" / "test_sgd_post_decay_boost.py", "unscaled_sgd").CLAIM.profile("fast")
    assert driver.with_run_overrides(sgd, {"model.hidden": 8}).run.optim.lr == sgd.run.optim.lr


def test_lrsci_run_refuses_an_uncalibrated_scale_before_pytest_starts(cal_dir, monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_child", lambda *a, **k: pytest.fail("pytest must not start"))
    code = cli.main(["run", "gd-larger-lr-diverges", "--profile", "fast", "--set", "model.hidden=8",
                     "--report-dir", "scaled"])
    assert code == 2 and "tools/calibrate_gd_eta.py --profile fast --set model.hidden=8" in capsys.readouterr().err


def test_the_tool_applies_the_rule_to_the_scaled_profile_on_as_many_dev_seeds_as_report_seeds(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import lrsci.provenance

    seen = {}
    monkeypatch.setattr(driver, "context", lambda profile, **kw: SimpleNamespace(device="cpu", kw=kw))
    monkeypatch.setattr(eta_rule, "apply", lambda ctx, config, grid: seen.update(config=config, kw=ctx.kw) or {
        "eta": 0.5, "eta_div": 1.0, "dev_seeds": [1000]})
    monkeypatch.setattr(lrsci.provenance, "provenance", lambda device: {})
    tool = load_file(ROOT / "tools" / "calibrate_gd_eta.py", "scaled_calibrate_gd_eta")
    assert tool.main(["--profile", "fast", "--set", "model.hidden=8", "--set", "epochs=6",
                      "--out-dir", str(tmp_path)]) == 0
    assert (seen["config"].model.hidden, seen["config"].epochs, seen["config"].optim.lr) == (8, 6, 4.0)
    assert seen["kw"]["seeds"] == 5 and seen["kw"]["seed_offset"] == 1000   # the fast rule's dev seeds 1000-1004
    assert eta_rule.calibrated("fast", tmp_path, SCALE)["scale"] == SCALE


@pytest.mark.parametrize("argv, says", [
    (["--profile", "fast", "--set", "model.width=8"], "does not read model.width"),
    (["--profile", "fast", "--set", "optim.batch_size=64"], "full-batch gradient descent"),
    (["--profile", "fast", "--set", "optim.lr=1"], "not a scale field"),
    (["--profile", "fast"], "calibrated profiles are ['gpu']"),   # its own scale: the module's hand record
    (["--profile", "fast", "--set", "data.test_size=500"], "the size of the test set does not change training"),
])
def test_the_tool_refuses_a_scale_the_profile_cannot_take_before_training(argv, says, capsys):
    assert says in tool_refusal("calibrate_gd_eta", argv, capsys)


def test_a_real_gd_claim_at_a_tiny_scale_runs_on_the_rules_eta_and_its_report_says_other_scale(
        tmp_path, monkeypatch, cal_dir):
    """End to end: a record at the scale, the claim at that scale trains every run at its η, and the stored section
    is judged on the record it carries (without one it is an earlier protocol)."""
    monkeypatch.setenv("LRSCI_WORKERS", "1")
    data = blobs(n_train=64, n_test=32, dim=784)
    claim = gd_claim()
    fast = claim.profile("fast")
    asked = {"model.hidden": 8, "epochs": 8, "data.train_size": 64, "data.test_size": 32}
    dev_context(tmp_path, monkeypatch, data)   # the store trains ``data`` in this process
    eta_rule.write(record(0.05), "fast", cal_dir, asked)
    profile = driver.with_run_overrides(fast, asked)
    assert profile.run.optim.lr == 0.05 and fast.run.optim.lr == 4.0
    run_ctx = driver.context(profile, run_store=tmp_path / "runs", report_dir=tmp_path / "rep", seeds=2,
                             seed_offset=9000, run_overrides=asked)
    section = driver.check(claim, profile, run_ctx).section
    assert {r.config["optim"]["lr"] for r in run_ctx.results} == {0.05}   # every run at η (a decay is its schedule)
    assert section["protocol"]["eta_calibration"]["scale"] == eta_rule.rule_scale(asked)   # no test_size in it
    stored = json.loads((tmp_path / "rep" / claim.id / "result.json").read_text())["profiles"]["fast"]
    from lrsci.report_notes import section_state

    assert section_state(claim, "fast", stored) == "other scale"
    report = (tmp_path / "rep" / claim.id / "report.md").read_text()
    assert "Its η = 0.05 is the η rule's applied at this scale (η_div = 0.1;" in report
    no_record = {**stored, "protocol": {k: v for k, v in stored["protocol"].items() if k != "eta_calibration"}}
    assert section_state(claim, "fast", no_record) == "earlier protocol"


def test_pytest_fails_a_gd_profile_at_an_uncalibrated_scale_in_one_line_naming_the_command(pytester):
    from tests.helpers import project_pytester

    project_pytester(pytester)
    (pytester.path / "claims").mkdir()
    (pytester.path / "claims" / "conftest.py").write_text((ROOT / "claims" / "conftest.py").read_text())
    (pytester.path / "claims" / "test_gd_decay_no_benefit.py").write_text(
        (ROOT / "claims" / "test_gd_decay_no_benefit.py").read_text())
    # in a process of its own: this session may have imported the real claim module under the same name
    result = pytester.runpytest_subprocess("claims", "-m", "fast", "--set", "model.hidden=8", "--report-dir",
                                           str(pytester.path / "scaled"), "--run-store", str(pytester.path / "runs"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*gd-decay-no-benefit[[]fast[]]: profile 'fast' at --set model.hidden=8: *"
                                 "calibrate_gd_eta.py --profile fast --set model.hidden=8*"])
    assert "Traceback" not in result.stdout.str() and not (pytester.path / "runs").exists()   # nothing trained


def test_the_scales_a_profile_was_calibrated_at_are_listed_and_a_misnamed_record_is_moved_aside(tmp_path):
    eta_rule.write(record(0.5), "fast", tmp_path, SCALE)
    eta_rule.write(record(None), "fast", tmp_path, {"model.hidden": 512})
    eta_rule.write(record(2.0), "gpu", tmp_path, {"model.width": 2})   # another profile's: not listed
    assert [(r["scale"], r["eta"]) for r in eta_rule.scaled_records("fast", tmp_path)] == [
        (SCALE, 0.5), ({"model.hidden": 512}, None)]
    bad = tmp_path / "gd-eta-fast@hidden-256.json"
    bad.write_text("{}")
    with pytest.raises(CalibrationError, match="its name is not a scale .*moved to"):
        eta_rule.scaled_records("fast", tmp_path)
    assert not bad.exists() and len(list(tmp_path.glob("gd-eta-fast@hidden-256.json.corrupt-*"))) == 1


def test_lrsci_list_names_the_scales_a_gd_profile_can_run_at(cal_dir, monkeypatch, capsys):
    eta_rule.write(record(0.5), "fast", cal_dir, {"model.hidden": 256})
    eta_rule.write(record(None), "fast", cal_dir, {"model.hidden": 512})
    assert cli.main(["list", "-v"]) == 0
    lines = listed_blocks(capsys.readouterr().out)
    assert "η calibrated with model.hidden=256: η = 0.5\nη rule found no η with model.hidden=512" in lines[
        ("gd-decay-no-benefit", "fast")]
    assert "η calibrated" not in lines[("sgd-post-decay-boost", "fast")] + lines[("gd-decay-no-benefit", "gpu")]


@pytest.mark.parametrize("env, shown", [(None, True), ("", True), ("0", False), ("1", True)])
def test_a_calibration_tool_shows_its_dev_runs_as_they_train_unless_told_not_to(env, shown, monkeypatch):
    seen = {}
    monkeypatch.setattr(driver, "context", lambda profile, **kw: seen.update(kw) or kw)
    if env is None:
        monkeypatch.delenv("LRSCI_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("LRSCI_PROGRESS", env)
    ap = calibration.arguments("x", dev_seeds=None)
    calibration.add_scale_option(ap)
    args = ap.parse_args(["--profile", "fast", "--set", "model.hidden=8"])
    calibration.dev_context(ap, args, "gd-decay-no-benefit", eta_rule.RECORD_PARAM, eta_rule.path_for,
                            scale=calibration.scale_of(ap, args), rule_param=eta_rule.RULE_PARAM)
    assert seen["progress"] is shown and seen["seeds"] == 5


def test_a_calibration_tool_refuses_a_progress_switch_it_cannot_read_before_training(monkeypatch, capsys):
    monkeypatch.setattr(driver, "context", lambda profile, **kw: pytest.fail("nothing may start"))
    monkeypatch.setenv("LRSCI_PROGRESS", "loud")
    ap = calibration.arguments("x")
    args = ap.parse_args(["--profile", "gpu", "--out-dir", "/nonexistent-lrsci-test"])
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    with pytest.raises(SystemExit):
        calibration.dev_context(ap, args, "autodecay-matches-stepdecay", "autodecay_calibration",
                                autodecay_calibration.path_for)
    assert "LRSCI_PROGRESS" in capsys.readouterr().err


def test_a_scaled_record_brought_back_from_a_device_session_is_read_at_its_scale(tmp_path):
    """tools/take_device_results.py checks each record with the claims' own reader before taking it: a scaled
    one is read at the scale its name says (not refused as a record of the profile's own scale)."""
    from lrsci import device_results

    path = eta_rule.write(record(2.0), "gpu", tmp_path, {"model.width": 2, "epochs": 100})
    device_results.readable(path)   # no DeviceResultsError
    assert eta_rule.record_named("gpu@epochs=100,model.width=2", tmp_path)["eta"] == 2.0
    wrong = tmp_path / "gd-eta-gpu@epochs=100,model.width=8.json"
    path.rename(wrong)
    with pytest.raises(device_results.DeviceResultsError, match="cannot be used: .*calibrated at scale"):
        device_results.readable(wrong)


def test_the_test_sets_size_is_no_part_of_the_scale_the_eta_rule_is_applied_at(cal_dir):
    fast = gd_claim().profile("fast")
    bigger_test = driver.with_run_overrides(fast, {"data.test_size": 500})   # no record asked for: the profile's η
    assert bigger_test.run.optim.lr == fast.run.optim.lr and bigger_test.run.data.test_size == 500
    eta_rule.write(record(0.5), "fast", cal_dir, SCALE)
    both = driver.with_run_overrides(fast, {**SCALE, "data.test_size": 500})   # the record of the training scale
    assert both.run.optim.lr == 0.5 and both["eta_calibration"]["scale"] == SCALE
    assert eta_rule.rule_scale({"data.test_size": 5, "epochs": 6}) == {"epochs": 6}

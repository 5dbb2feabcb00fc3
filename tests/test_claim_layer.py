"""The declared-claim layer: profiles, the judge of expected failures, generated pytest items."""
from pathlib import Path

import pytest

from lrsci.claim import ClaimError, Profile
from lrsci.config import RunConfig
from lrsci.criteria import criterion, judge
from lrsci.stats import paired_t
from tests.helpers import ROOT, project_pytester

pytest_plugins = ["pytester"]
DEMO = (Path(__file__).parent / "fixtures" / "demo_claim.py").read_text()


def rows(first_passes: bool, second_passes: bool) -> list[dict]:
    good, bad = paired_t([1.0, 1.2, 1.3], [0.0, 0.1, 0.2]), paired_t([-1.0, -1.2, -0.9], [0.0, 0.1, 0.2])
    return [criterion("first", good if first_passes else bad, "p<0.05"),
            criterion("first (reported)", bad, "reported", reported_only=True),
            criterion("second", good if second_passes else bad, "p<0.05")]


def test_nothing_declared_and_nothing_failed_is_replicated():
    assert judge(rows(True, True), {})[0] == "replicated"


def test_exactly_the_declared_failure_is_as_declared_with_this_runs_figures():
    outcome, message = judge(rows(True, False), {"second": "too small a net"})
    assert outcome == "as declared"
    assert "too small a net" in message and "effect" in message and "p = " in message


def test_an_undeclared_failure_beside_a_declared_one_is_unexpected():
    outcome, message = judge(rows(False, False), {"second": "x"})
    assert outcome == "unexpected" and "failed without being declared" in message and "'first'" in message


def test_a_failure_of_a_profile_that_declares_nothing_says_how_to_declare_a_finding():
    outcome, message = judge(rows(True, False), {})
    assert outcome == "unexpected" and message.startswith("not replicated, and the profile declares no expected failure")
    assert "'second'" in message and "expected_failures" in message


def test_a_short_run_is_not_told_to_declare_its_failure():
    outcome, message = judge(rows(True, False), {}, full_run=False)
    assert outcome == "unexpected" and message.startswith("not replicated: 'second'")
    assert "expected_failures" not in message


def test_a_declared_failure_that_passes_is_unexpected():
    outcome, message = judge(rows(True, True), {"second": "x"})
    assert outcome == "unexpected" and "declared as expected to fail but passed" in message


def test_a_declared_name_that_is_no_required_criterion_is_unexpected():
    assert judge(rows(True, True), {"first (reported)": "x"})[0] == "unexpected"


def test_a_declared_name_a_scaled_run_lacks_is_said_to_be_the_scales_doing():
    # --set epochs=1600 renames gd-decay-no-benefit's rows (decay@100 -> decay@400): the declaration cannot be checked
    outcome, message = judge(rows(True, False), {"decay@100": "x"}, other_scale=True)
    assert outcome == "unexpected" and "name criteria this scale does not have (['decay@100']" in message
    assert "['first', 'second']" in message and "moves with --set epochs" in message
    assert "not required criteria of this claim" in judge(rows(True, False), {"decay@100": "x"})[1]


def test_a_declared_failure_that_is_undefined_this_run_is_unexpected():
    # e.g. stage3's transferability when the transfer itself failed: the row fails, but not as declared
    undefined = criterion("second", paired_t([1.0, 1.0], [1.0, 1.0]), "p<0.05")
    undefined.update(effect=float("nan"), passed=False)
    outcome, message = judge(rows(True, True)[:2] + [undefined], {"second": "too small a net"})
    assert outcome == "unexpected" and "undefined this run" in message and "'second'" in message
    undefined["effect"] = None                                  # as read back from result.json
    assert judge(rows(True, True)[:2] + [undefined], {"second": "x"})[0] == "unexpected"


def test_two_required_criteria_with_one_name_cannot_be_declared():
    dup = rows(True, True)
    dup[2]["criterion"] = "first"
    with pytest.raises(ValueError, match="both named 'first'"):
        judge(dup, {})


def test_a_failure_on_fewer_seeds_than_declared_says_first_that_it_is_not_the_protocols_verdict(tmp_path):
    # `lrsci run CLAIM --seeds 2` failed with judge's advice to declare the failure, where n = 2 was the cause.
    from lrsci import driver
    from tests.helpers import load_file

    demo = load_file(Path(__file__).parent / "fixtures" / "demo_claim.py", "demo_claim_seeds")
    five = demo.FAST.extend("five", seeds=5, a2=demo.DOWN)   # "second" fails; nothing declared

    def message(seeds):
        ctx = driver.context(five, run_store=tmp_path / "runs", report_dir=tmp_path / f"rep{seeds}", seeds=seeds)
        result = driver.check(demo.CLAIM, five, ctx)
        assert result.outcome == "unexpected"
        return result.message

    assert message(2).startswith("n = 2 seeds is fewer than the profile's declared 5: this verdict is not the "
                                 "protocol's, and no expected failure should be declared from it — not replicated")
    assert "expected_failures" not in message(2)   # no advice to declare what a short run found
    assert message(5).startswith("not replicated, and the profile declares no expected failure")
    assert message(None).startswith("not replicated")   # the profile's own seeds


def test_profile_extend_overrides_and_does_not_inherit_expected_failures():
    base = Profile("fast", device="cpu", seeds=5, run=RunConfig(device="cpu"), params={"alpha": 0.05, "floor": 1.0},
                   expected_failures={"x": "small scale"})
    gpu = base.extend("gpu", device="cuda", seeds=3, floor=2.0)
    assert (gpu.device, gpu.seeds, gpu["floor"], gpu["alpha"], gpu.mark) == ("cuda", 3, 2.0, 0.05, "gpu")
    assert dict(gpu.expected_failures) == {} and base.mark == "fast"
    with pytest.raises(KeyError, match="no parameter 'nope'"):
        gpu["nope"]


def test_report_seeds_start_at_first_seed_and_seed_offset_replaces_them(tmp_path):
    from lrsci import driver

    v2 = Profile("fast", device="cpu", seeds=3, run=RunConfig(device="cpu"), first_seed=3000)
    assert v2.extend("gpu", device="cuda").first_seed == 3000 and v2.record()["first_seed"] == 3000
    ctx = lambda **kw: driver.context(v2, run_store=tmp_path / "r", report_dir=tmp_path / "p", **kw)  # noqa: E731
    assert ctx().seeds == [3000, 3001, 3002]
    assert ctx(seed_offset=1000).seeds == [1000, 1001, 1002]  # the dev seeds, as for any profile
    assert ctx(seed_offset=0, seeds=2).seeds == [0, 1]


@pytest.mark.parametrize("kwargs, match", [
    ({"device": "tpu"}, "device='tpu'"), ({"seeds": 1}, "at least 2"), ({"name": "Fast Profile"}, "lower-case"),
    ({"first_seed": -1}, "first_seed=-1"), ({"params": {"first_seed": 3}}, "Profile field"),
    ({"params": {"seeds": 3}}, "Profile field"), ({"expected_failures": {"x": ""}}, "needs a reason")])
def test_bad_profile_declarations_are_named(kwargs, match):
    args = {"name": "fast", "device": "cpu", "seeds": 3, "run": RunConfig(device="cpu"), **kwargs}
    with pytest.raises(ClaimError, match=match):
        Profile(**args)


@pytest.fixture
def suite(pytester):
    project_pytester(pytester)
    pytester.mkdir("claims")
    (pytester.path / "claims" / "conftest.py").write_text((ROOT / "claims" / "conftest.py").read_text())
    return pytester


def test_items_are_generated_per_profile_with_marks_and_ids(suite):
    (suite.path / "claims" / "test_demo_claim.py").write_text(DEMO)
    result = suite.runpytest("claims", "--collect-only", "-q", "-m", "fast")
    result.stdout.fnmatch_lines(["claims/test_demo_claim.py::demo-claim[fast]",
                                 "claims/test_demo_claim.py::demo-claim[declared]"])
    assert "demo-claim[gpu]" not in result.stdout.str()
    selected = suite.runpytest("claims", "--collect-only", "-q", "-k", "demo-claim and gpu")
    selected.stdout.fnmatch_lines(["claims/test_demo_claim.py::demo-claim[gpu]"])


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the behaviour without CUDA")
def test_driver_outcomes_map_onto_pytest_outcomes(suite, tmp_path):
    (suite.path / "claims" / "test_demo_claim.py").write_text(DEMO)
    result = suite.runpytest("claims", "-rxsf", "--report-dir", str(tmp_path / "reports"),
                             "--run-store", str(tmp_path / "runs"))
    # fast passes; declared xfails; other-failed, declared-passed, unknown-criterion fail;
    # explodes fails with its exception (never an xfail); gpu skips without CUDA.
    result.assert_outcomes(passed=1, xfailed=1, failed=4, skipped=1)
    out = result.stdout.str()
    assert "a2 is below b at this scale" in out and "demo headline" in out  # the xfail reason, with figures
    assert "RuntimeError: training blew up" in out
    report = (tmp_path / "reports" / "demo-claim" / "report.md").read_text()
    assert "Declared expected failures" in report and "as declared" in report


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the behaviour without CUDA")
def test_an_unexpected_outcome_on_numbers_not_the_committed_reports_xfails_saying_so(suite, tmp_path):
    import json

    (suite.path / "claims" / "test_demo_claim.py").write_text(DEMO)
    committed = suite.path / "reports"   # what claims/conftest.py compares with: <checkout>/reports
    suite.runpytest("claims", "-k", "declared-passed or other-failed", "--report-dir", str(committed),
                    "--run-store", str(tmp_path / "runs"))
    path = committed / "demo-claim" / "result.json"
    record = json.loads(path.read_text())
    per_seed = record["profiles"]["declared-passed"]["per_seed"]["a"]
    per_seed["0"] += 1e-9                  # as another CPU's last bits would leave it
    path.write_text(json.dumps(record))
    result = suite.runpytest("claims", "-rxf", "-k", "declared-passed or other-failed",
                             "--report-dir", str(tmp_path / "fresh"), "--run-store", str(tmp_path / "runs"))
    result.assert_outcomes(xfailed=1, failed=1)   # other-failed: the committed numbers again, so a real failure
    out = result.stdout.str()
    assert "NUMBERS NOT THE COMMITTED REPORT'S (1 per-seed values differ, e.g. per_seed['a']" in out
    assert "declared as expected to fail but passed" in out
    fresh = json.loads((tmp_path / "fresh" / "demo-claim" / "result.json").read_text())
    assert fresh["profiles"]["declared-passed"]["outcome"] == "unexpected"   # the report records it as it is

    # A decision that moved far outside its committed interval is more than rounding: it fails.
    row = next(r for r in record["profiles"]["declared-passed"]["tests"] if r["criterion"] == "second")
    row.update(passed=False, ci=[-9.0, -8.0])
    path.write_text(json.dumps(record))
    again = suite.runpytest("claims", "-rxf", "-k", "declared-passed", "--report-dir", str(tmp_path / "fresh2"),
                            "--run-store", str(tmp_path / "runs"))
    again.assert_outcomes(failed=1)


def test_a_moved_decision_is_rounding_only_when_its_interval_overlaps_the_committed_one():
    from lrsci.driver import decided_beyond_rounding

    def section(passed, ci, reported=False):
        return {"tests": [{"criterion": "c", "passed": passed, "ci": ci, "reported_only": reported}]}
    committed = section(False, [-1.4, 0.25])
    assert decided_beyond_rounding(committed, section(True, [-0.77, 0.29])) == []      # overlapping: rounding
    assert decided_beyond_rounding(committed, section(True, [0.3, 0.9])) == ["c"]      # apart: more than that
    assert decided_beyond_rounding(committed, section(True, None)) == ["c"]            # no interval: strict
    assert decided_beyond_rounding(committed, section(False, [5.0, 6.0])) == []        # same decision
    assert decided_beyond_rounding(section(False, [-9, -8], True), section(True, [1, 2], True)) == []  # reported only


def test_a_claim_id_that_differs_from_the_file_name_is_a_collection_error(suite):
    (suite.path / "claims" / "test_other_name.py").write_text(DEMO)
    result = suite.runpytest("claims", "--collect-only")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*CLAIM.id is 'demo-claim' but the file name says 'other-name'*"])


def test_a_module_without_a_claim_is_a_collection_error(suite):
    (suite.path / "claims" / "test_nothing.py").write_text("X = 1\n")
    result = suite.runpytest("claims", "--collect-only")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*must define CLAIM*"])


@pytest.mark.parametrize("typo", ["first_seeds", "optional_date", "flor"])
def test_profile_extend_refuses_a_misspelt_field_or_parameter_instead_of_adding_it(typo):
    base = Profile("fast", device="cpu", seeds=5, run=RunConfig(device="cpu"), params={"alpha": 0.05, "floor": 1.0})
    with pytest.raises(ClaimError, match=f"{typo!r} is neither a field nor a parameter.*did you mean"):
        base.extend("gpu", **{typo: 1000})
    assert base.extend("gpu", eta_calibration={"eta": 2})["eta_calibration"] == {"eta": 2}   # a new one, unlike any


def test_an_unknown_executor_in_the_environment_stops_the_session_by_name(suite, monkeypatch):
    (suite.path / "claims" / "test_demo_claim.py").write_text(DEMO)
    monkeypatch.setenv("LRSCI_EXECUTOR", "foo")        # argparse's choices see only the command line
    result = suite.runpytest("claims", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*executor 'foo' (--executor / LRSCI_EXECUTOR)*"])


def test_another_draw_of_the_data_keeps_the_declaration_and_is_never_taken_for_the_report(suite):
    """--data-seed K: every run's data drawn with K, the profile's expected failures still declared; the section
    records the seed, and its report says it is not the protocol's report (as for other run seeds)."""
    import json

    (suite.path / "claims" / "test_demo_claim.py").write_text(DEMO)
    result = suite.runpytest("claims", "-k", "demo-claim and declared and not passed", "--data-seed", "7",
                             "--report-dir", str(suite.path / "drawn"), "--run-store", str(suite.path / "runs"))
    result.assert_outcomes(xfailed=1)
    section = json.loads((suite.path / "drawn" / "demo-claim" / "result.json").read_text())["profiles"]["declared"]
    assert section["protocol"]["run"]["data"]["seed"] == 7 and section["seeds"] == [0, 1, 2]
    report = (suite.path / "drawn" / "demo-claim" / "report.md").read_text()
    assert "This section ran on seeds 0-2, data seed 7, not the protocol's report seeds 0-2, data seed 0" in report
    assert suite.runpytest("claims", "--data-seed", "-1").ret == pytest.ExitCode.USAGE_ERROR

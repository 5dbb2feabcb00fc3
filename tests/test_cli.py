import re
import subprocess
import sys
from pathlib import Path

import pytest

from lrsci import cli
from lrsci.catalog import load_claims
from tests.helpers import listed_blocks

ROOT = Path(__file__).resolve().parents[1]


def test_list_says_in_one_line_what_list_v_shows_line_by_line(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert cli.main(["list"]) == 0
    short = capsys.readouterr().out
    assert cli.main(["list", "-v"]) == 0
    blocks = listed_blocks(capsys.readouterr().out)
    assert all(not line.startswith(" ") for line in short.splitlines())   # one line per claim × profile
    for line in short.splitlines()[1:]:
        block = blocks[tuple(line.split()[:2])]
        again = [ln for ln in block.splitlines()[1:] if ln.startswith("again")]
        scales = [ln for ln in block.splitlines()[1:] if ln.startswith("η ")]
        if again:
            held = sum(ln.endswith(": replicated") for ln in again)
            assert f"run again {len(again)}× ({held} replicated)" in line and line.endswith(": lrsci list -v")
        else:
            assert "run again" not in line
        assert (f"η calibrated at {len(scales)} other scale" in line) == bool(scales)


def test_list_shows_every_claim_and_profile(capsys, monkeypatch):
    from lrsci.overrides import describe

    monkeypatch.chdir(ROOT)
    assert cli.main(["list", "-v"]) == 0
    out = capsys.readouterr().out
    blocks = listed_blocks(out)
    for claim, _ in load_claims(ROOT).values():
        for p in claim.profiles:
            assert any(line.split()[:3] == [claim.id, p.name, p.mark] for line in out.splitlines())
    for claim, _ in load_claims(ROOT).values():   # a reading is pointed to where the report shows it
        for name in claim.readings:
            line = next(ln for ln in out.splitlines() if ln.split()[:2] == [claim.id, name])
            assert "see the reading" in line or "earlier protocol" in line
    declared = load_claims(ROOT)
    for root in cli.report.replication_roots(ROOT / "reports"):   # and the same profile run again on other seeds
        for rec in cli.report.load_all(root):
            for name, sec in rec["profiles"].items():
                line = blocks[(rec["id"], name)]
                drawn, own = sec["protocol"]["run"]["data"]["seed"], declared[rec["id"]][0].profile(name).run.data.seed
                where = f"data seed {drawn}, " if drawn != own else ""
                scale = f" with {describe(sec['run_overrides'])}" if sec.get("run_overrides") else ""   # --set
                assert f"again{scale} on {where}seeds {min(sec['seeds'])}-{max(sec['seeds'])}: {sec['verdict']}" in line
    line = blocks[("sgd-post-decay-boost", "fast")]
    assert line.index("seeds 5000-5009") < line.index("data seed 7, seeds 6000-6009")   # in order of seeds


def test_list_into_a_reader_that_leaves_early_ends_quietly():
    proc = subprocess.run(f"{sys.executable} -m lrsci.cli list | head -1", shell=True, cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.stdout.startswith("claim") and "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_unknown_claim_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert cli.main(["run", "no-such-claim"]) == 2   # bad input: not 1, which says a verdict did not hold
    assert "unknown claim" in capsys.readouterr().err


def test_outside_a_checkout_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="no claims/ folder"):
        cli.main(["list"])


def test_report_rerenders_without_training(tmp_path, monkeypatch):
    import shutil

    project = tmp_path / "p"
    (project / "claims").mkdir(parents=True)
    (project / "conftest.py").write_text("")
    for claim in ("sgd-post-decay-boost", "gd-larger-lr-diverges"):   # two claims, fast and gpu: every figure kind
        shutil.copytree(ROOT / "reports" / claim, project / "reports" / claim)
    # a folder of the same profile run on other seeds is re-rendered too
    shutil.copytree(ROOT / "reports" / "sgd-post-decay-boost", project / "reports" / "replication" / "s" / "sgd-post-decay-boost")
    for md in (project / "reports").rglob("*.md"):
        md.unlink()
    monkeypatch.chdir(project)
    assert cli.main(["report"]) == 0
    assert len(list((project / "reports").rglob("report.md"))) == 3
    assert (project / "reports" / "replication" / "s" / "README.md").exists()


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "lrsci.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "list" in out.stdout and "report" in out.stdout


def test_profiles_come_from_the_declared_claims():
    claims = load_claims(ROOT)
    assert [p.name for p in claims["sgd-post-decay-boost"][0].profiles] == ["fast", "gpu", "gpu-cifar10"]
    assert all({"fast", "gpu"} <= {p.name for p in c.profiles} for c, _ in claims.values())


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the behaviour without CUDA")
def test_run_of_a_gpu_profile_without_cuda_exits_2_not_1_which_is_a_verdict(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert cli.main(["run", "sgd-post-decay-boost", "--profile", "gpu"]) == 2
    assert "needs CUDA" in capsys.readouterr().err


def test_run_accepts_run_store_and_report_dir_after_the_subcommand(monkeypatch):
    called = {}
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(cli, "run_child", lambda cmd, cwd, env: called.setdefault("cmd", cmd) and 0)
    cli.main(["run", "sgd-post-decay-boost", "--run-store", "/tmp/rs", "--report-dir", "/tmp/rd", "--seeds", "3"])
    cmd = called["cmd"]
    assert cmd[cmd.index("--run-store") + 1] == "/tmp/rs" and cmd[cmd.index("--report-dir") + 1] == "/tmp/rd"
    assert any(a.endswith("::sgd-post-decay-boost[fast]") for a in cmd)


@pytest.mark.parametrize("argv", [["--seed-offset", "90000"], ["--seeds", "2"], ["--data-seed", "7"]])
def test_run_refuses_other_seeds_into_the_committed_reports_before_pytest_starts(monkeypatch, capsys, argv):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(cli, "run_child", lambda cmd, cwd, env: pytest.fail("pytest was started"))
    assert cli.main(["run", "sgd-post-decay-boost", *argv]) == 2
    err = capsys.readouterr().err
    assert "not the protocol's" in err and "--report-dir" in err and "lrsci compare" in err


def test_run_on_the_report_seeds_named_outright_is_the_protocols_run(monkeypatch):
    called = {}
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(cli, "run_child", lambda cmd, cwd, env: called.setdefault("cmd", cmd) and 0)
    cli.main(["run", "sgd-post-decay-boost", "--profile", "fast", "--seeds", "5", "--seed-offset", "3000"])
    assert "cmd" in called   # the README's example: the profile's own 5 seeds from its first seed 3000


def test_unknown_profile_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert cli.main(["run", "sgd-post-decay-boost", "--profile", "paper"]) == 2
    assert "has no profile 'paper'" in capsys.readouterr().err


@pytest.mark.parametrize("flag, env, make", [
    ("--report-dir", None, "file"), ("--run-store", None, "file"), (None, "LRSCI_RUNS", "file"),
    (None, "LRSCI_CACHE", "file"), ("--data-root", None, "file"), ("--data-root", None, "missing"),
    (None, "LRSCI_DATA", "missing")])
def test_run_refuses_a_folder_that_cannot_serve_before_pytest_starts(monkeypatch, capsys, tmp_path, flag, env, make):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(cli, "run_child", lambda *a, **k: pytest.fail("pytest started"))
    path = tmp_path / "named"
    if make == "file":
        path.write_text("")
    argv = ["run", "sgd-post-decay-boost"] + ([flag, str(path)] if flag else [])
    if env:
        monkeypatch.setenv(env, str(path))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert str(path) in err and ("is a file" if make == "file" else "does not exist") in err


def test_run_turns_pytests_usage_error_into_exit_2(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(cli, "run_child", lambda *a, **k: cli.PYTEST_USAGE_ERROR)   # e.g. --seeds 1, refused there
    assert cli.main(["run", "sgd-post-decay-boost", "--seeds", "1"]) == 2
    monkeypatch.setattr(cli, "run_child", lambda *a, **k: 1)   # a claim that failed stays 1
    assert cli.main(["run", "sgd-post-decay-boost"]) == 1


def test_list_names_a_report_run_under_an_earlier_protocol():
    from lrsci.claim import Claim, Profile
    from lrsci.config import RunConfig

    v2 = Profile("gpu", device="cuda", seeds=5, run=RunConfig(device="cuda"), params={"floor": 2.0}, first_seed=3000)
    claim = Claim(id="x", title="t", source="s", statement="s", profiles=[v2], train=None, analyse=None, figure=None)
    same = {"seeds": [3000, 3001, 3002, 3003, 3004], "protocol": claim.protocol(v2)}
    assert claim.ran_current_protocol(v2, same)
    assert not claim.ran_current_protocol(v2, {**same, "seeds": [0, 1, 2]})                       # v1's seeds
    assert not claim.ran_current_protocol(v2, {**same, "protocol": {**same["protocol"], "floor": 1.0}})  # v1's parameters


def test_list_names_the_tool_a_profile_without_its_calibration_record_needs():
    from lrsci.cli import _needs_calibration
    from lrsci.claim import Profile
    from lrsci.config import RunConfig

    uncalibrated = Profile("gpu", device="cuda", seeds=5, run=RunConfig(device="cuda"), params={"autodecay_calibration": None})
    assert "tools/calibrate_autodecay.py --profile gpu" in _needs_calibration(uncalibrated)
    calibrated = Profile("gpu", device="cuda", seeds=5, run=RunConfig(device="cuda"), params={"eta_calibration": {"eta": 2}})
    assert _needs_calibration(calibrated) == ""


def test_the_default_report_folder_is_the_projects_wherever_the_user_is(monkeypatch):
    called = {}
    monkeypatch.chdir(ROOT / "tests")
    monkeypatch.setattr(cli, "run_child", lambda cmd, cwd, env: called.setdefault("cmd", cmd) and 0)
    cli.main(["run", "sgd-post-decay-boost"])
    cmd = called["cmd"]
    assert cmd[cmd.index("--report-dir") + 1] == str(ROOT / "reports")


def test_folders_named_on_the_command_line_are_where_the_user_is(monkeypatch, tmp_path):
    called = {}
    monkeypatch.chdir(ROOT / "claims")   # pytest itself runs in the project folder
    monkeypatch.setattr(cli, "run_child", lambda cmd, cwd, env: called.setdefault("cmd", cmd) and 0)
    cli.main(["run", "sgd-post-decay-boost", "--run-store", "myruns", "--report-dir", "myreports"])
    cmd = called["cmd"]
    assert cmd[cmd.index("--run-store") + 1] == str(ROOT / "claims" / "myruns")
    assert cmd[cmd.index("--report-dir") + 1] == str(ROOT / "claims" / "myreports")


def fake_project(monkeypatch, tmp_path, records):
    """`lrsci` in a project of one claim "x" (profiles fast and gpu, gpu still uncalibrated)."""
    from lrsci.claim import Claim, Profile
    from lrsci.config import RunConfig

    fast = Profile("fast", device="cpu", seeds=5, run=RunConfig(device="cpu"), first_seed=0)
    gpu = Profile("gpu", device="cuda", seeds=3, run=RunConfig(device="cuda"), first_seed=3000,
                  params={"autodecay_calibration": None})
    claim = Claim(id="x", title="t", source="s", statement="s", profiles=[fast, gpu], train=None, analyse=None,
                  figure=None)
    monkeypatch.setattr(cli, "find_project", lambda: tmp_path)
    monkeypatch.setattr(cli, "claims", lambda project: {"x": (claim, tmp_path / "claims" / "test_x.py")})
    monkeypatch.setattr(cli.report, "load_all", lambda root: records(claim))
    return claim


def test_list_gives_the_report_seeds_the_last_verdict_its_outcome_and_date_and_a_missing_calibration(
        monkeypatch, tmp_path, capsys):
    fake_project(monkeypatch, tmp_path, lambda claim: [{"id": "x", "profiles": {"fast": {
        "verdict": "not supported", "outcome": "xfail", "provenance": {"date": "2026-03-04T05:06:07"},
        "seeds": [0, 1, 2, 3, 4], "protocol": claim.protocol(claim.profile("fast"))}}}])
    assert cli.main(["list"]) == 0
    lines = {tuple(ln.split()[:2]): ln for ln in capsys.readouterr().out.splitlines()}
    assert lines["x", "fast"].split()[3] == "0-4"
    assert lines["x", "fast"].endswith("not supported (xfail), 2026-03-04")
    assert lines["x", "gpu"].split()[3] == "3000-3002"
    assert "not run yet (needs `python tools/calibrate_autodecay.py --profile gpu` on the device first)" in lines["x", "gpu"]


def test_run_passes_every_option_the_user_gave_even_a_zero(monkeypatch, tmp_path):
    """--seed-offset 0 (the report seeds of a profile whose report seeds start elsewhere) is passed on,
    as --require-gpu is; pytest runs in the project folder with progress on."""
    fake_project(monkeypatch, tmp_path, lambda claim: [])
    monkeypatch.setattr(cli, "_refuse_what_would_skip", lambda profile, data_root: None)
    called = {}
    monkeypatch.setattr(cli, "run_child", lambda cmd, cwd, env: called.update(cmd=cmd, cwd=cwd, env=env) or 0)
    assert cli.main(["run", "x", "--profile", "gpu", "--seed-offset", "0", "--seeds", "2", "--require-gpu",
                     "--data-seed", "0", "--report-dir", str(tmp_path)]) == 0   # other seeds: not into reports/
    cmd = called["cmd"]
    assert cmd[cmd.index("--seed-offset") + 1] == "0" and cmd[cmd.index("--seeds") + 1] == "2"
    assert cmd[cmd.index("--data-seed") + 1] == "0"
    assert "--require-gpu" in cmd and cmd[cmd.index("-m") + 2].endswith("test_x.py::x[gpu]")
    assert called["cwd"] == tmp_path and called["env"]["LRSCI_PROGRESS"] == "1"


def test_run_of_a_profile_whose_optional_data_is_absent_exits_with_the_reason(monkeypatch, tmp_path, capsys):
    from lrsci import driver

    fake_project(monkeypatch, tmp_path, lambda claim: [])
    monkeypatch.setattr(driver, "skip_reason", lambda profile, data_root: "profile 'fast' runs only when cifar10 is there")
    monkeypatch.setattr(cli, "run_child", lambda cmd, cwd, env: pytest.fail("pytest was started"))
    assert cli.main(["run", "x"]) == 2
    assert "lrsci: profile 'fast' runs only when cifar10" in capsys.readouterr().err


def test_report_without_a_report_folder_says_to_run_a_claim_first(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "find_project", lambda: tmp_path)
    with pytest.raises(SystemExit, match="no reports under .*run a claim first"):
        cli.main(["report"])


def test_a_claims_folder_without_the_projects_conftest_is_not_the_project(tmp_path):
    (tmp_path / "sub" / "claims").mkdir(parents=True)
    (tmp_path / "claims").mkdir()
    (tmp_path / "conftest.py").write_text("")
    assert cli.find_project(tmp_path / "sub") == tmp_path


def test_a_broken_claim_module_is_named_and_the_others_still_list_and_run(tmp_path, monkeypatch, capsys):
    """One module with an ordinary Python error, or a profile declared wrongly, must not hide the others."""
    demo = (ROOT / "tests" / "fixtures" / "demo_claim.py").read_text()
    (tmp_path / "claims").mkdir()
    (tmp_path / "conftest.py").write_text("")
    (tmp_path / "claims" / "test_demo_claim.py").write_text(demo)
    (tmp_path / "claims" / "test_bad_seeds.py").write_text(
        "from lrsci.claim import Profile\nfrom lrsci.config import RunConfig\n"
        "P = Profile('fast', device='cpu', seeds=1, run=RunConfig(device='cpu'))\n")
    (tmp_path / "claims" / "test_typo.py").write_text("x = undefined_name\n")
    (tmp_path / "claims" / "small_lr_lags.py").write_text(demo.replace("demo-claim", "small-lr-lags"))
    monkeypatch.chdir(tmp_path)
    for stem in ("test_demo_claim", "test_bad_seeds", "test_typo"):   # imported from this tmp project, not a cache
        monkeypatch.delitem(sys.modules, f"lrsci_claims.{stem}", raising=False)
    assert cli.main(["list"]) == 1
    out, err = capsys.readouterr()
    assert any(line.startswith("demo-claim") for line in out.splitlines())
    assert "claims/test_bad_seeds.py: profile 'fast': seeds=1" in err
    assert "claims/test_typo.py cannot be imported: NameError: name 'undefined_name' is not defined" in err
    assert cli.main(["run", "small-lr-lags"]) == 2
    assert re.search(r"unknown claim 'small-lr-lags'.*2 claim module\(s\) could not be loaded.*"
                     r"claims/small_lr_lags.py is not read: a claim module is claims/test_", capsys.readouterr().err)


@pytest.mark.parametrize("command", ["list", "report"])
def test_a_named_report_dir_that_is_no_folder_is_bad_input(monkeypatch, capsys, tmp_path, command):
    monkeypatch.chdir(ROOT)   # a typo would list every claim as "not run yet", exit 0
    assert cli.main([command, "--report-dir", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "f").write_text("")
    assert cli.main([command, "--report-dir", str(tmp_path / "f")]) == 2
    assert "a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["compare", "reports", "reports"], ["store"]])
@pytest.mark.parametrize("before", [True, False])
def test_report_dir_is_refused_by_name_where_it_means_nothing_before_or_after_the_subcommand(
        monkeypatch, capsys, tmp_path, command, before):
    # It was taken and ignored before `compare` / `store`, and an unrecognized argument after them.
    monkeypatch.chdir(ROOT)
    option = ["--report-dir", str(tmp_path)]
    assert cli.main(option + command if before else command + option) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"lrsci: --report-dir is not an option of `lrsci {command[0]}`: ") and "\n" not in err
    assert "of list, run and report" in cli_help(capsys, ["--help"])
    assert "--report-dir" not in cli_help(capsys, [command[0], "--help"]).split("options:")[1]


def cli_help(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit):
        cli.main(argv)
    return capsys.readouterr().out


def test_a_damaged_report_is_named_in_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(ROOT)
    folder = tmp_path / "reports" / "two-layer-learning-order"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text('{"id": "two-layer')
    cli.main(["list", "--report-dir", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert "lrsci: " in err and "result.json is unreadable" in err and "UserWarning" not in err


def test_list_marks_a_batched_run_on_other_seeds_as_both(monkeypatch, tmp_path, capsys):
    fake_project(monkeypatch, tmp_path, lambda claim: [{"id": "x", "profiles": {"fast": {
        "verdict": "replicated", "provenance": {"date": "2026-03-04T05:06:07", "executor": "batched"},
        "seeds": [100, 101, 102, 103, 104], "protocol": claim.protocol(claim.profile("fast"))}}}])
    assert cli.main(["list"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.split()[:2] == ["x", "fast"])
    assert line.endswith("on seeds 100-104, not the protocol's report seeds, trained batched (--executor batched)")


@pytest.mark.parametrize("code, says", [(0, "lrsci: the outcome is as declared; report: "),
                                        (1, "lrsci: the outcome is not as declared (exit 1): "), (2, None)])
def test_run_ends_with_where_its_report_is_and_what_its_code_means(code, says, monkeypatch, tmp_path, capsys):
    fake_project(monkeypatch, tmp_path, lambda claim: [])
    monkeypatch.setattr(cli, "_refuse_what_would_skip", lambda profile, data_root: None)
    written = tmp_path / "out" / "x" / "report.md"

    def child(cmd, cwd, env):   # pytest writing the report, then exiting with `code` (2: interrupted)
        written.parent.mkdir(parents=True)
        written.write_text("# x")
        return code
    monkeypatch.setattr(cli, "run_child", child)
    assert cli.main(["run", "x", "--report-dir", str(tmp_path / "out")]) == code
    out = capsys.readouterr().out
    assert (f"{says}" in out and out.rstrip().endswith(f"report: {written}")) if says else "report:" not in out


def test_a_misspelt_claim_or_scale_field_is_answered_with_the_near_one(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert cli.main(["run", "sgd-post-decay-boos"]) == 2
    assert "did you mean 'sgd-post-decay-boost'?" in capsys.readouterr().err
    assert cli.main(["run", "sgd-post-decay-boost", "--set", "model.hiden=3", "--report-dir", str(ROOT / "tests")]) == 2
    assert "did you mean model.hidden?" in capsys.readouterr().err

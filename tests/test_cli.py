import subprocess
import sys
from pathlib import Path

import pytest

from lrsci import cli

ROOT = Path(__file__).resolve().parents[1]


def test_list_shows_every_claim_module(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for module in (ROOT / "claims").glob("test_*.py"):
        assert module.stem[5:].replace("_", "-") in out


def test_unknown_claim_is_a_clear_error(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit, match="unknown claim"):
        cli.main(["run", "no-such-claim"])


def test_outside_a_checkout_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="no claims/ folder"):
        cli.main(["list"])


def test_report_rerenders_without_training(tmp_path, monkeypatch):
    import shutil

    project = tmp_path / "p"
    (project / "claims").mkdir(parents=True)
    (project / "conftest.py").write_text("")
    shutil.copytree(ROOT / "reports", project / "reports")
    for md in (project / "reports").rglob("report.md"):
        md.unlink()
    monkeypatch.chdir(project)
    assert cli.main(["report"]) == 0
    assert list((project / "reports").rglob("report.md"))


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "lrsci.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "list" in out.stdout and "report" in out.stdout


def test_profiles_are_read_from_each_claims_protocol():
    modules = cli.claim_modules(ROOT)
    assert cli.claim_profiles(modules["sgd-post-decay-boost"]) == ["fast", "gpu", "gpu-cifar10"]
    assert all({"fast", "gpu"} <= set(cli.claim_profiles(path)) for path in modules.values())


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit, match="has no profile 'paper'"):
        cli.main(["run", "sgd-post-decay-boost", "--profile", "paper"])

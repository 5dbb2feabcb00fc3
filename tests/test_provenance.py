"""What every report's provenance records: the commit (dirty or not, or as the sender names it), the
CPU kind, the versions, CUDA only on CUDA, and a UTC date."""
import re
import subprocess

import pytest

from lrsci import provenance as prov


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.delenv("LRSCI_GIT", raising=False)
    git = lambda *a: subprocess.run(["git", "-C", str(tmp_path), *a], check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    (tmp_path / "f").write_text("a")
    git("add", "f")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    return tmp_path


def test_git_hash_names_the_commit_and_a_dirty_tree(repo):
    clean = prov.git_hash(repo)
    assert re.fullmatch(r"[0-9a-f]{40}", clean)
    (repo / "f").write_text("b")
    assert prov.git_hash(repo) == clean + "+dirty"


def test_a_new_file_git_does_not_ignore_makes_the_tree_dirty_but_not_one_under_reports(repo):
    """A claim module not committed yet: the commit alone does not hold what produced the report."""
    clean = prov.git_hash(repo)
    (repo / "reports").mkdir()
    (repo / "reports" / "new-claim.md").write_text("written by the suite")
    (repo / ".gitignore").write_text("ignored.txt\n.gitignore\n")
    (repo / "ignored.txt").write_text("x")
    assert prov.git_hash(repo) == clean
    (repo / "test_new_claim.py").write_text("CLAIM = ...")
    assert prov.git_hash(repo) == clean + "+dirty"


def test_reports_rewritten_by_the_suite_do_not_make_the_tree_dirty(repo):
    git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True)  # noqa: E731
    (repo / "reports").mkdir()
    (repo / "reports" / "r.json").write_text("{}")
    (repo / "sub").mkdir()
    git("add", "reports/r.json")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "r")
    clean = prov.git_hash(repo)
    (repo / "reports" / "r.json").write_text('{"new": 1}')
    assert prov.git_hash(repo) == clean and prov.git_hash(repo / "sub") == clean
    (repo / "f").write_text("code")
    assert prov.git_hash(repo / "sub") == clean + "+dirty"


def test_git_hash_outside_a_checkout_is_unknown_unless_the_sender_names_it(tmp_path, monkeypatch):
    monkeypatch.delenv("LRSCI_GIT", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert prov.git_hash(tmp_path) == "unknown"
    monkeypatch.setenv("LRSCI_GIT", "abc123+dirty")
    assert prov.git_hash(tmp_path) == "abc123+dirty"


def test_cpu_provenance_has_its_fields_and_no_cuda(monkeypatch):
    monkeypatch.setenv("LRSCI_GIT", "abc")
    out = prov.provenance("cpu")
    assert out["cuda"] is None and out["git"] == "abc" and out["device"] == "cpu"
    assert {"device_name", "cpu_capability", "torch", "torchvision", "numpy", "scipy", "python", "platform",
            "date"} <= set(out) and out["cpu_capability"]


def test_the_date_is_utc_whatever_the_local_time_zone(monkeypatch):
    import datetime
    import time

    monkeypatch.setenv("TZ", "Etc/GMT-14")   # UTC+14
    time.tzset()
    try:
        stamp = prov.utc_now()
    finally:
        monkeypatch.undo()
        time.tzset()
    now = datetime.datetime.now(datetime.timezone.utc)
    then = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert abs((then - now).total_seconds()) < 60


def test_a_cuda_run_names_the_gpu_it_trained_on_not_always_the_first(monkeypatch):
    """A local worker on a machine with several GPUs sets its own (lrsci.executors): "cuda" is that one."""
    import torch

    asked = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d=None: asked.append(d) or "GPU")
    assert prov.device_name("cuda") == "GPU" and prov.device_name("cuda:1") == "GPU"
    assert asked == [torch.device("cuda"), torch.device("cuda", 1)] and asked[0].index is None   # None: current

"""`lrsci run` and the pytest it starts: a signal to lrsci reaches it, and a killed lrsci leaves no orphan."""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from lrsci import cli
from tests.helpers import ROOT, ctrl_c_as_in_a_terminal

PARENT = """
import os, sys
from pathlib import Path
from lrsci.cli import run_child
from lrsci.executors import EXIT_WITH_PARENT
sys.exit(run_child([sys.executable, "-c", sys.argv[1]], Path("."), {**os.environ, EXIT_WITH_PARENT: str(os.getpid())}))
"""
CHILD = """
import os, signal, sys, time
from pathlib import Path
from lrsci.executors import exit_with_parent_from_env
out = Path(os.environ["PROBE_DIR"])
signal.signal(signal.SIGTERM, lambda *a: ((out / "got-term").write_text("x"), sys.exit(3)))
watching = exit_with_parent_from_env()
(out / "child.pid").write_text(f"{os.getpid()} {watching}")
time.sleep(60)
"""


def start(tmp_path, stderr: Path | None = None):
    env = {**os.environ, "PROBE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD], cwd=tmp_path, env=env,
                              stderr=None if stderr is None else stderr.open("w"), preexec_fn=ctrl_c_as_in_a_terminal)
    for _ in range(300):   # the child has written its pid once torch is imported
        if (tmp_path / "child.pid").exists():
            pid, watching = (tmp_path / "child.pid").read_text().split()
            return parent, int(pid), watching == "True"
        time.sleep(0.1)
    parent.kill()
    pytest.fail("the child never started")


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_to_lrsci_is_passed_on_to_the_pytest_it_started(tmp_path):
    parent, child, _ = start(tmp_path)
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(30) == 3 and (tmp_path / "got-term").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_sent_to_lrsci_alone_stops_the_child_and_exits_130_without_a_traceback(tmp_path):
    env_err = tmp_path / "stderr.txt"
    parent, child, _ = start(tmp_path, stderr=env_err)
    parent.send_signal(signal.SIGINT)
    assert parent.wait(30) == 130
    err = env_err.read_text()
    assert "lrsci: interrupted; running it again resumes" in err and "Traceback" not in err.split("lrsci:")[-1]
    deadline = time.monotonic() + 15
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(child)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_child_of_a_killed_lrsci_ends_itself(tmp_path):
    parent, child, watching = start(tmp_path)
    assert watching
    parent.kill()
    parent.wait(30)
    deadline = time.monotonic() + 15
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(child)


COUNTING_CHILD = """
import os, signal, sys, time
from pathlib import Path
out = Path(os.environ["PROBE_DIR"])
got = []
signal.signal(signal.SIGINT, lambda *a: got.append(1))
(out / "child.pid").write_text(f"{os.getpid()} False")
end = time.monotonic() + 60
while not got and time.monotonic() < end:
    time.sleep(0.05)
time.sleep(1.0)   # long enough for a signal passed on late (Popen.wait waits 0.25 s on Ctrl-C first)
(out / "sigints").write_text(str(len(got)))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal as controlling terminal")
def test_ctrl_c_typed_in_a_terminal_reaches_the_child_once(tmp_path):
    """The terminal sends Ctrl-C to lrsci and its child alike: lrsci does not send it again, which the child's
    runs would take for a second Ctrl-C (stop at once, lrsci.interrupts) instead of the same one."""
    master, slave = os.openpty()
    env = {**os.environ, "PROBE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}

    def own_terminal():   # a new session whose controlling terminal is the pty (lrsci in its foreground)
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        ctrl_c_as_in_a_terminal()
    parent = subprocess.Popen([sys.executable, "-c", PARENT, COUNTING_CHILD], cwd=tmp_path, env=env, stdin=slave,
                              stdout=slave, stderr=slave, start_new_session=True, preexec_fn=own_terminal)
    os.close(slave)
    try:
        for _ in range(300):
            if (tmp_path / "child.pid").exists():
                break
            time.sleep(0.1)
        os.write(master, b"\x03")   # Ctrl-C, typed
        assert parent.wait(30) == 130
        assert (tmp_path / "sigints").read_text() == "1"
    finally:
        parent.kill()
        os.close(master)


def test_progress_is_on_unless_the_user_set_it_and_a_bad_value_is_refused(monkeypatch):
    monkeypatch.delenv("LRSCI_PROGRESS", raising=False)
    assert cli._progress_setting() == "1"
    monkeypatch.setenv("LRSCI_PROGRESS", "off")
    assert cli._progress_setting() == "0"
    monkeypatch.setenv("LRSCI_PROGRESS", "maybe")
    with pytest.raises(cli.BadInput, match="LRSCI_PROGRESS='maybe'"):
        cli._progress_setting()


@pytest.mark.parametrize("name, value", [("LRSCI_WORKERS", "abc"), ("LRSCI_PROGRESS", "maybe"), ("LRSCI_CUDA_GRAPHS", "ture")])
def test_a_bad_environment_value_stops_pytest_at_once_in_one_line(name, value):
    proc = subprocess.run([sys.executable, "-m", "pytest", "claims", "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=ROOT, env={**os.environ, name: value}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4 and f"ERROR: {name}={value!r}" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc")
def test_ctrl_c_sent_to_the_whole_group_without_a_terminal_reaches_the_child_once(tmp_path):
    """A CI cancel or `kill -INT -PGID` reaches lrsci's whole process group: the child, in a group of its own,
    gets it once, passed on by lrsci (in lrsci's group it had it twice: two tracebacks, and a 'second Ctrl-C')."""
    env = {**os.environ, "PROBE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, COUNTING_CHILD], cwd=tmp_path, env=env,
                              stdin=subprocess.DEVNULL, start_new_session=True,   # no terminal, a group of its own
                              preexec_fn=ctrl_c_as_in_a_terminal)
    try:
        for _ in range(300):
            if (tmp_path / "child.pid").exists():
                break
            time.sleep(0.1)
        os.killpg(parent.pid, signal.SIGINT)
        assert parent.wait(30) == 130
        assert (tmp_path / "sigints").read_text() == "1"
    finally:
        parent.kill()

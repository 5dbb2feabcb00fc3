"""tools/device_session.sh: the parts it knows, acts on and documents agree, and a misspelt part stops it
before anything runs (on a lent GPU a part that silently runs nothing costs a machine start)."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "device_session.sh"


def known_parts() -> set[str]:
    return set(re.search(r'^KNOWN="([^"]+)"', SCRIPT.read_text(), re.M).group(1).split())


def test_every_known_part_is_acted_on_and_the_default_runs_each_once():
    text = SCRIPT.read_text()
    code = "\n".join(re.sub(r"(^|\s)#.*", "", line) for line in text.splitlines())   # comments say "has" too
    acted_on = set(re.findall(r"\bhas ([\w-]+)", code))
    assert acted_on == known_parts()
    default = re.search(r"^PARTS=\$\{\*:-([^}]+)\}", text, re.M).group(1).split()
    assert set(default) == known_parts() - {"sgd", "ps10", "noise"}   # v2 holds those three


def test_the_readme_invokes_only_known_parts():
    calls = re.findall(r"bash tools/device_session\.sh ([\w\- ]+)", (ROOT / "README.md").read_text())
    assert calls
    for call in calls:
        assert set(call.split()) <= known_parts(), call


def test_an_unknown_part_stops_the_script_with_the_list_of_parts(tmp_path):
    done = subprocess.run(["bash", str(SCRIPT), "throughput", "gd"], cwd=tmp_path, capture_output=True,
                          text=True, env={"OUT": str(tmp_path / "out"), "PATH": "/usr/bin:/bin"}, timeout=30)
    assert done.returncode == 2
    assert "unknown part 'gd'" in done.stderr and "gd-decay" in done.stderr
    assert not (tmp_path / "out").exists()   # nothing ran, not even the timeline

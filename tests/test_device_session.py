"""tools/device_session.sh: the parts it knows, acts on and documents agree, and a misspelt part stops it
before anything runs (on a lent GPU a part that silently runs nothing costs a machine start)."""
import os
import re
import subprocess
from pathlib import Path

from tests.helpers import device_script_function

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


def pays(tmp_path, info: dict, fast: str, slow: str) -> bool:
    """The script's own `pays` function, run by bash on a benchmark JSON holding ``info``."""
    import json
    (tmp_path / "bench-throughput.json").write_text(json.dumps({"benchmarks": [{"name": "t", "extra_info": info}]}))
    body = device_script_function("pays")
    done = subprocess.run(["bash", "-c", f'{body}\npays "$1" "$2"', "pays", fast, slow], env={
        "LOGS": str(tmp_path), "PATH": os.environ["PATH"]}, capture_output=True, text=True, timeout=30)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode == 0


def test_captured_steps_are_switched_on_only_where_the_benchmark_measured_them_at_least_1_2x(tmp_path):
    info = {"engine_images_per_s": 100.0, "engine_graphed_images_per_s": 130.0, "processes_graphed_k": 8,
            "batched_engine_images_per_s": {"1": 50.0, "8": 300.0}, "batched_graphed_images_per_s": 350.0}
    assert pays(tmp_path, info, "engine_graphed_images_per_s", "engine_images_per_s")
    assert not pays(tmp_path, info, "batched_graphed_images_per_s", "batched_engine_images_per_s")  # 350 < 1.2 × 300
    info["batched_graphed_images_per_s"] = 360.0
    assert pays(tmp_path, info, "batched_graphed_images_per_s", "batched_engine_images_per_s")
    info["batched_graphed_images_per_s"] = None   # the measurement failed
    assert not pays(tmp_path, info, "batched_graphed_images_per_s", "batched_engine_images_per_s")
    assert not pays(tmp_path, {"engine_images_per_s": 1.0}, "engine_graphed_images_per_s", "engine_images_per_s")


def pack(tmp_path, tar_exit: int) -> Path:
    """The script's own `pack`, with a `tar` that writes its archive and exits with ``tar_exit``."""
    bin_dir, out = tmp_path / "bin", tmp_path / "out"
    bin_dir.mkdir(exist_ok=True)
    out.mkdir(exist_ok=True)
    fake = bin_dir / "tar"
    fake.write_text(f'#!/bin/sh\nfor a; do case "$a" in *.tmp) echo packed > "$a";; esac; done\nexit {tar_exit}\n')
    fake.chmod(0o755)
    body = device_script_function("pack")
    done = subprocess.run(["bash", "-c", f"{body}\npack"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env={"OUT": str(out), "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert done.returncode in (0, 1), done.stderr
    return out / "results.tgz"


def test_a_pack_whose_files_changed_while_read_is_kept_and_a_failed_one_is_not(tmp_path):
    """GNU tar exits 1 when a live log grew while it read it: that archive is still whole and must
    replace the last one (else a call cut off later returns stale results); exit 2 is a failure."""
    assert pack(tmp_path, tar_exit=1).read_text() == "packed\n"
    (tmp_path / "out" / "results.tgz").unlink()
    assert not pack(tmp_path, tar_exit=2).exists()


def test_the_pack_holds_reports_logs_and_the_runs_json_but_no_weights(tmp_path):
    """What a cut-off session still returns: reports, calibration records, logs, and every stored run's JSON
    (for tools/pack_report_runs.py), never its checkpoints, snapshots or in-flight batch files."""
    import tarfile

    project, runs, logs, out = (tmp_path / d for d in ("project", "runs", "logs", "out"))
    for path, text in {project / "reports" / "c" / "result.json": "{}", project / "claims" / "calibration" / "x.json": "{}",
                       logs / "c.txt": "log", runs / "k-e2" / "result.json": "{}", runs / "k-e2" / "config.json": "{}",
                       runs / "k-e2" / "transfer-1.json": "{}", runs / "k-e2" / "snap-4.pt": "w",
                       runs / "k-e2" / "checkpoint.pt": "w", runs / "batches" / "b.json": "{}"}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    out.mkdir()
    body = device_script_function("pack")
    done = subprocess.run(["bash", "-c", f"{body}\npack"], cwd=project, capture_output=True, text=True, timeout=30,
                          env={"OUT": str(out), "LOGS": str(logs), "LRSCI_RUNS": str(runs), "PATH": os.environ["PATH"]})
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["results.tgz"]
    with tarfile.open(out / "results.tgz") as tar:
        names = {m.name for m in tar.getmembers() if m.isfile()}
    assert names == {"reports/c/result.json", "claims/calibration/x.json", "logs/c.txt",
                     "runs/k-e2/result.json", "runs/k-e2/config.json", "runs/k-e2/transfer-1.json"}


def session_without_data(tmp_path, *parts) -> subprocess.CompletedProcess:
    """The script with a `python` that loads everything but Fashion-MNIST (and runs nothing else)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "python"
    fake.write_text('#!/bin/sh\ncase "$*" in *load_data*) exit 1;; esac\nexit 0\n')
    fake.chmod(0o755)
    # under the packer loop's 45 s: the call's output must close with the script, not when a `sleep` ends
    return subprocess.run(["bash", str(SCRIPT), *parts], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env={"OUT": str(tmp_path / "out"), "LRSCI_LOGS": str(tmp_path / "lrsci-logs"),
                               "PATH": f"{bin_dir}:/usr/bin:/bin"})


def test_without_fashion_mnist_a_part_that_needs_it_stops_the_session_before_anything_runs(tmp_path):
    done = session_without_data(tmp_path, "throughput", "gd-decay")
    assert done.returncode == 4
    assert "part 'gd-decay' needs Fashion-MNIST" in done.stderr and "carry .data/fmnist" in done.stderr
    assert "throughput benchmark" not in (tmp_path / "out" / "timeline.txt").read_text()


def test_without_fashion_mnist_the_parts_on_generated_data_still_run(tmp_path):
    done = session_without_data(tmp_path, "toy")
    assert done.returncode == 0, done.stderr
    timeline = (tmp_path / "out" / "timeline.txt").read_text()
    assert "two_layer_learning_order exit 0" in timeline and "done" in timeline

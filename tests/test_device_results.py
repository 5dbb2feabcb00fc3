"""Taking a device session's results.tgz into a checkout: only the sections, records and benchmarks it added."""
import copy
import io
import json
import os
import re
import shutil
import subprocess
import tarfile

import pytest

from lrsci import device_results
from lrsci.device_results import DeviceResultsError
from tests.helpers import ROOT, device_script_function, load_file

GD, SGD = "gd-larger-lr-diverges", "sgd-post-decay-boost"
tool = load_file(ROOT / "tools" / "take_device_results.py", "take_device_results")


def record(claim: str) -> dict:
    return json.loads((ROOT / "reports" / claim / "result.json").read_text())


@pytest.fixture
def checkout(tmp_path):
    """A checkout with this project's claims and two of its committed reports."""
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "claims", root / "claims", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "conftest.py", root / "conftest.py")
    for claim in (GD, SGD):
        (root / "reports" / claim).mkdir(parents=True)
        shutil.copy(ROOT / "reports" / claim / "result.json", root / "reports" / claim / "result.json")
    return root


def contents(root) -> dict:
    """Every file under ``root`` and its bytes: what a refused or dry run must leave as it was."""
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def archive(path, members: dict) -> None:
    """A results.tgz holding ``members`` ({name: JSON-able object or bytes})."""
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in members.items():
            data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def newer_gpu_section(claim: str) -> dict:
    """The committed record with its gpu section trained again later, on other numbers."""
    rec = copy.deepcopy(record(claim))
    sec = rec["profiles"]["gpu"]
    sec["provenance"]["date"] = "2027-01-02T03:04:05Z"
    name = sorted(sec["per_seed"])[0]
    sec["per_seed"][name] = {seed: v + 1 if isinstance(v, (int, float)) else v for seed, v in sec["per_seed"][name].items()}
    return rec


def hessian_benchmark() -> dict:
    prov = {"device": "cuda", "device_name": "NVIDIA H200", "torch": "2.11.0", "git": "abc", "date": "2027-01-02"}
    info = {"k": 10, "examples": 10000, "chunk": 2500, "hvps": 120, "seconds": 42.0, "seconds_per_hvp": 0.35,
            "note": "WRN-16-4", "provenance": prov}
    return {"benchmarks": [{"name": "test_hessian_on_the_gpu", "extra_info": info}]}


def session(tmp_path) -> tuple:
    """A device session's archive: gd-larger's gpu section trained again, sgd's an older copy of other
    numbers, its fast section as it was given, a new calibration record and the Hessian benchmark."""
    older = copy.deepcopy(record(SGD))
    older["profiles"]["gpu"]["provenance"]["date"] = "2026-01-01T00:00:00Z"
    older["profiles"]["gpu"]["per_seed"] = {"only": {"0": 1.0}}
    calibration = {"rule": "a rule", "chosen": {"epochs": 30, "weight_decay": 0.0005, "tolerance": 0.05}}
    path = tmp_path / "results.tgz"
    archive(path, {f"reports/{GD}/result.json": newer_gpu_section(GD), f"reports/{SGD}/result.json": older,
                   "claims/calibration/autodecay-gpu.json": calibration,
                   "claims/calibration/gd-eta-gpu.json": (ROOT / "claims/calibration/gd-eta-gpu.json").read_bytes(),
                   "lrsci-logs/bench-hessian.json": hessian_benchmark(), "lrsci-logs/gd_decay.txt": b"a log\n",
                   "runs/abc/result.json": {"history": []}})
    return path, calibration


def test_only_what_the_session_added_is_taken(checkout, tmp_path):
    path, calibration = session(tmp_path)
    sgd_before = (checkout / "reports" / SGD / "result.json").read_bytes()
    assert tool.main([str(path), "--root", str(checkout), "--no-pack"]) == 0
    gd = json.loads((checkout / "reports" / GD / "result.json").read_text())
    taken = newer_gpu_section(GD)["profiles"]["gpu"]
    assert gd["profiles"]["gpu"]["per_seed"] == taken["per_seed"]
    assert gd["profiles"]["fast"] == record(GD)["profiles"]["fast"]
    # filed after the section was taken, so the taken section carries it
    assert gd["profiles"]["gpu"]["provenance"]["hessian_benchmark"]["seconds"] == 42.0
    assert (checkout / "reports" / "benchmarks" / "hessian.json").exists()
    assert "2027-01-02" in (checkout / "reports" / GD / "report.md").read_text()
    assert (checkout / "reports" / SGD / "result.json").read_bytes() == sgd_before   # older: left alone
    assert json.loads((checkout / "claims/calibration/autodecay-gpu.json").read_text()) == calibration


def test_the_plan_says_why_each_section_is_or_is_not_taken(checkout, tmp_path):
    path, _ = session(tmp_path)
    unpacked = device_results.unpack(path, tmp_path / "unpacked")
    plan = device_results.plan(unpacked, checkout, {GD, SGD})
    actions = {(s.claim, s.profile): s.action for s in plan.sections}
    assert actions == {(GD, "fast"): "same", (GD, "gpu"): "take", (SGD, "fast"): "same", (SGD, "gpu"): "skip"}
    assert [a for _, a in plan.calibrations] == ["take", "same"]
    lines = device_results.describe(plan)
    assert lines[0].startswith(f"take  {GD}[gpu] ({record(GD)['profiles']['gpu']['verdict']})")
    assert any("not newer (2026-01-01T00:00:00Z) than this checkout's" in line for line in lines)


def test_a_dry_run_writes_nothing(checkout, tmp_path, capsys):
    path, _ = session(tmp_path)
    before = contents(checkout)
    assert tool.main([str(path), "--root", str(checkout), "--dry-run"]) == 0
    assert contents(checkout) == before
    assert f"take  {GD}[gpu]" in capsys.readouterr().out


def test_a_section_not_trained_on_a_gpu_is_not_taken():
    fast = record(GD)["profiles"]["fast"]
    changed = {**copy.deepcopy(fast), "verdict": "replicated"}
    changed["provenance"]["date"] = "2027-01-01T00:00:00Z"
    assert device_results.decide(changed, fast)[0] == "skip"
    assert device_results.decide(changed, None)[0] == "skip"
    assert device_results.decide(fast, fast)[0] == "same"


def test_a_member_outside_the_folder_is_refused(tmp_path):
    path = tmp_path / "results.tgz"
    archive(path, {"../outside.txt": b"x"})
    with pytest.raises(DeviceResultsError, match="refused member '../outside.txt'"):
        device_results.unpack(path, tmp_path / "unpacked")
    assert not (tmp_path / "outside.txt").exists()


def test_a_cut_off_archive_is_named(tmp_path):
    path, _ = session(tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DeviceResultsError, match="cannot be read.*fetch it again"):
        device_results.unpack(path, tmp_path / "unpacked")


def test_an_archive_without_reports_is_not_a_session(tmp_path):
    path = tmp_path / "results.tgz"
    archive(path, {"something.txt": b"x"})
    unpacked = device_results.unpack(path, tmp_path / "unpacked")
    with pytest.raises(DeviceResultsError, match="holds no reports/"):
        device_results.plan(unpacked, tmp_path, set())


def test_the_runs_are_packed_from_the_session_and_this_checkouts_store(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(tool.subprocess, "call", lambda cmd, cwd: calls.append((cmd, cwd)) or 0)
    (tmp_path / ".runs").mkdir()
    assert tool.pack_runs(tmp_path / "unpacked", tmp_path) == 0
    cmd, cwd = calls[0]
    assert cmd[1].endswith("tools/pack_report_runs.py") and cwd == tmp_path
    assert cmd[2:] == ["--run-store", str(tmp_path / "unpacked" / "runs"), "--run-store", str(tmp_path / ".runs")]


def test_what_the_device_script_packs_is_what_is_taken(checkout, tmp_path):
    """The archive's layout is device_session.sh's: its own pack() makes the results.tgz read here."""
    script = (ROOT / "tools" / "device_session.sh").read_text()
    logs = tmp_path / re.search(r"^LOGS=\$\{LRSCI_LOGS:-/tmp/([\w-]+)\};", script, re.M).group(1)   # the script's folder name
    device, runs, out = tmp_path / "device", tmp_path / "runs", tmp_path / "out"
    for path, text in {device / "reports" / GD / "result.json": json.dumps(newer_gpu_section(GD)),
                       device / "claims" / "calibration" / "autodecay-gpu.json": '{"chosen": null}',
                       logs / "bench-hessian.json": json.dumps(hessian_benchmark()),
                       runs / "k-e2" / "result.json": "{}"}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    out.mkdir()
    subprocess.run(["bash", "-c", f"{device_script_function('pack')}\npack"], cwd=device, check=True, timeout=30,
                   env={"OUT": str(out), "LOGS": str(logs), "LRSCI_RUNS": str(runs), "PATH": os.environ["PATH"]})
    plan = device_results.plan(device_results.unpack(out / "results.tgz", tmp_path / "unpacked"), checkout, {GD})
    assert [(s.claim, s.profile) for s in plan.taken()] == [(GD, "gpu")]
    assert [p.name for p in plan.benchmarks] == ["bench-hessian.json"]
    assert [(p.name, a) for p, a in plan.calibrations] == [("autodecay-gpu.json", "take")]
    assert (tmp_path / "unpacked" / "runs" / "k-e2" / "result.json").exists()


@pytest.mark.parametrize("name, record, message", [
    ("gd-eta-gpu.json", {"eta": 123.0}, "gd-eta-gpu.json differs"),   # a calibration is done once
    ("autodecay-gpu.json", {"weight_decay": 0.0005}, "calibration record cannot be used"),   # the claims' reader refuses it
])
def test_a_calibration_record_that_cannot_be_taken_refuses_the_whole_archive(checkout, tmp_path, capsys,
                                                                              name, record, message):
    path = tmp_path / "results.tgz"
    archive(path, {f"reports/{GD}/result.json": newer_gpu_section(GD), f"claims/calibration/{name}": record})
    before = contents(checkout)
    assert tool.main([str(path), "--root", str(checkout), "--no-pack"]) == 2
    assert message in capsys.readouterr().err
    assert contents(checkout) == before


def test_an_unreadable_calibration_record_of_this_checkout_is_named_and_nothing_is_taken(checkout, tmp_path, capsys):
    path = tmp_path / "results.tgz"
    archive(path, {f"reports/{GD}/result.json": newer_gpu_section(GD),
                   "claims/calibration/gd-eta-gpu.json": {"eta": 123.0}})
    (checkout / "claims/calibration/gd-eta-gpu.json").write_text('{"eta": 1')   # a torn copy in this checkout
    before = contents(checkout)
    assert tool.main([str(path), "--root", str(checkout), "--no-pack"]) == 2
    assert "gd-eta-gpu.json is unreadable" in capsys.readouterr().err
    assert contents(checkout) == before


def test_a_cut_off_throughput_benchmark_is_named_not_filed(tmp_path):
    path = tmp_path / "results.tgz"
    archive(path, {f"reports/{GD}/result.json": record(GD), "lrsci-logs/throughput-partial.jsonl": b"{}\n"})
    plan = device_results.plan(device_results.unpack(path, tmp_path / "unpacked"), tmp_path, {GD})
    assert plan.benchmarks == []
    assert "cut off" in device_results.describe(plan)[-1]


def test_a_damaged_record_in_the_checkout_is_named_and_left_as_it_is(checkout, tmp_path):
    path, _ = session(tmp_path)
    (checkout / "reports" / GD / "result.json").write_text("{not json")
    with pytest.raises(DeviceResultsError, match="result.json is unreadable.*restore it from git"):
        device_results.plan(device_results.unpack(path, tmp_path / "unpacked"), checkout, {GD, SGD})
    assert (checkout / "reports" / GD / "result.json").read_text() == "{not json"

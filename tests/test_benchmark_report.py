"""lrsci.benchmark_report: the committed throughput report, filed from pytest-benchmark JSON."""
import json

import pytest

from lrsci import benchmark_report


def bench(device_name: str, plain: float, **extra) -> dict:
    info = {"plain_loop_images_per_s": plain, "engine_images_per_s": plain * 1.1, "engine_over_plain": 1.1,
            "images_per_epoch": 2048, "concurrent_engines_images_per_s": {"2": 2 * plain},
            "k2_processes_over_plain": 2.0, "batched_engine_images_per_s": {"2": None},
            "k2_batched_over_plain": None, "errors": {"k2_batched": "RuntimeError: boom"},
            "provenance": {"device_name": device_name, "torch": "2.x", "python": "3.11", "git": "abc", "date": "d"},
            **extra}
    return {"benchmarks": [{"name": "test_x", "extra_info": info}, {"name": "unrelated", "extra_info": {}}]}


def test_sections_by_device_a_new_measurement_replaces_its_own_device_only(tmp_path):
    benchmark_report.add(tmp_path, bench("cpu (x, 2 cores)", 100.0))
    benchmark_report.add(tmp_path, bench("NVIDIA H200", 20_000.0, graphed_over_plain=2.5,
                                         graphed_loop_images_per_s=50_000.0, engine_graphed_over_plain=2.0,
                                         engine_graphed_images_per_s=40_000.0, processes_graphed_k=8,
                                         processes_graphed_images_per_s=None, processes_graphed_over_plain=None,
                                         batched_graphed_images_per_s=80_000.0, batched_graphed_over_plain=4.0))
    record = benchmark_report.add(tmp_path, bench("cpu (x, 2 cores)", 200.0))
    assert sorted(record) == ["NVIDIA H200", "cpu (x, 2 cores)"]
    assert record["cpu (x, 2 cores)"]["plain_loop_images_per_s"] == 200.0
    md = (tmp_path / "throughput.md").read_text()
    assert "| plain loop as one CUDA graph | 50,000 | 2.50 |" in md
    assert "| engine, one run, step as one CUDA graph | 40,000 | 2.00 |" in md
    assert "| K = 8 engine processes, CUDA graphs, aggregate | – | – |" in md
    assert "| K = 8 runs batched, step as one CUDA graph, aggregate | 80,000 | 4.00 |" in md
    assert "| K = 2 runs batched (vmap), aggregate | – | – |" in md and "k2_batched: `RuntimeError: boom`" in md
    assert json.loads((tmp_path / "throughput.json").read_text()) == record


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe binary", b"[1, 2]"])
def test_an_unreadable_record_is_moved_aside_not_overwritten(tmp_path, content):
    (tmp_path / "throughput.json").write_bytes(content)
    benchmark_report.add(tmp_path, bench("cpu", 1.0))
    assert [p.read_bytes() for p in tmp_path.glob("throughput.json.corrupt-*")] == [content]


def test_the_hessian_benchmark_goes_to_its_record_and_into_the_gd_claims_gpu_provenance(tmp_path):
    import shutil
    from pathlib import Path

    real = Path(__file__).resolve().parents[1] / "reports" / "gd-larger-lr-diverges"
    shutil.copytree(real, tmp_path / "gd-larger-lr-diverges")
    before = json.loads((real / "result.json").read_text())["profiles"]["gpu"]
    info = {"examples": 10_000, "chunk": 1024, "k": 10, "hvps": 120, "seconds": 30.0, "seconds_per_hvp": 0.25,
            "note": "untrained WRN-16-4", "provenance": {"device": "cuda", "device_name": "NVIDIA H200",
                                                         "torch": "2.11", "git": "abc", "date": "d"}}
    bench = {"benchmarks": [{"name": "test_hessian", "extra_info": info}]}
    assert benchmark_report.add(tmp_path / "benchmarks", bench) == {}   # no throughput numbers: nothing written
    record = benchmark_report.add_hessian(tmp_path, bench)
    assert record["NVIDIA H200"]["seconds"] == 30.0
    assert json.loads((tmp_path / "benchmarks" / "hessian.json").read_text()) == record
    after = json.loads((tmp_path / "gd-larger-lr-diverges" / "result.json").read_text())["profiles"]["gpu"]
    assert after["provenance"]["hessian_benchmark"]["hvps"] == 120
    assert {k: after[k] for k in ("verdict", "tests", "per_seed")} == {k: before[k] for k in ("verdict", "tests", "per_seed")}
    md = (tmp_path / "gd-larger-lr-diverges" / "report.md").read_text()
    assert "over 10,000 images took 30.0 s on NVIDIA H200 (120 Hessian-vector products" in md
    assert not (tmp_path / "benchmarks" / "throughput.json").exists()


def hessian(device, device_name, hvps=120):
    info = {"examples": 10_000, "chunk": 1024, "k": 10, "hvps": hvps, "seconds": 30.0, "seconds_per_hvp": 0.25,
            "provenance": {"device": device, "device_name": device_name, "torch": "2.11", "git": "abc", "date": "d"}}
    return {"benchmarks": [{"name": "test_hessian", "extra_info": info},
                           {"name": "no provenance", "extra_info": {"seconds_per_hvp": 1.0}}]}


def test_a_cpu_hessian_benchmark_is_filed_beside_the_others_and_not_into_the_gpu_report(tmp_path):
    import shutil
    from pathlib import Path

    real = Path(__file__).resolve().parents[1] / "reports" / "gd-larger-lr-diverges"
    shutil.copytree(real, tmp_path / "gd-larger-lr-diverges")
    before = (tmp_path / "gd-larger-lr-diverges" / "result.json").read_text()
    benchmark_report.add_hessian(tmp_path / "elsewhere", hessian("cuda", "NVIDIA H200"))   # no claim there: fine
    benchmark_report.add_hessian(tmp_path, hessian("cuda", "NVIDIA H100", hvps=7))
    gpu_after = (tmp_path / "gd-larger-lr-diverges" / "result.json").read_text()
    record = benchmark_report.add_hessian(tmp_path, hessian("cpu", "cpu (x, 2 cores)"))
    assert sorted(record) == ["NVIDIA H100", "cpu (x, 2 cores)"]   # one entry per device, the older kept
    assert (tmp_path / "gd-larger-lr-diverges" / "result.json").read_text() == gpu_after != before


def test_the_tool_files_the_hessian_benchmark_in_the_folder_it_was_given(tmp_path):
    """--report-dir names where both records go: the Hessian's is not written one folder up."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    bench = tmp_path / "b.json"
    bench.write_text(json.dumps(hessian("cpu", "cpu (x, 2 cores)")))
    tool = Path(__file__).resolve().parents[1] / "tools" / "benchmark_report.py"
    out = subprocess.run([sys.executable, str(tool), str(bench), "--report-dir", str(tmp_path / "mine")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "mine" / "hessian.json").exists() and not (tmp_path / "benchmarks").exists()

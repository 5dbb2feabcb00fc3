"""The committed throughput report (issue #13): reports/benchmarks/throughput.{json,md}.

``pytest tests/test_benchmark_throughput.py --benchmark-json B.json`` records every number of
:func:`lrsci.throughput.report` and the run's provenance in each benchmark's ``extra_info``;
:func:`add` files them under their device's name (one section per device kind: a CPU and a GPU
measurement sit side by side, a new measurement on the same device replaces the old) and renders
the markdown. Read-only numbers: nothing here times anything.
"""
from __future__ import annotations

from pathlib import Path

from . import files, report


# Which claim's gpu report carries the Hessian benchmark in its provenance (#8 asks for it there).
HESSIAN_CLAIM, HESSIAN_PROFILE = "gd-larger-lr-diverges", "gpu"


def sections_of(benchmark_json: dict, marker: str = "plain_loop_images_per_s") -> dict:
    """{device name: extra_info} for every benchmark in a pytest-benchmark JSON whose extra_info has
    ``marker`` (throughput: plain_loop_images_per_s; Hessian: seconds_per_hvp) and its provenance."""
    out = {}
    for b in benchmark_json.get("benchmarks", []):
        info = b.get("extra_info", {})
        if marker in info and "provenance" in info:
            out[info["provenance"]["device_name"]] = {"test": b.get("name"), **info}
    return out


def add_hessian(report_root: Path, benchmark_json: dict, benchmarks_dir: Path | None = None) -> dict:
    """File the Hessian benchmark: ``benchmarks_dir``/hessian.json (default reports/benchmarks/, one entry per
    device) and, for a GPU, the provenance of gd-larger-lr-diverges' gpu section under ``report_root``
    (re-rendered; its verdict and tests untouched)."""
    found = sections_of(benchmark_json, "seconds_per_hvp")
    path = Path(benchmarks_dir or Path(report_root) / "benchmarks") / "hessian.json"
    record = {**read(path), **found}
    if found:
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_json(path, record)
    gpu = {name: s for name, s in found.items() if s["provenance"].get("device", "").startswith("cuda")}
    claim = Path(report_root) / HESSIAN_CLAIM / "result.json"
    if gpu and claim.exists():
        s = next(iter(gpu.values()))
        summary = {k: s[k] for k in ("k", "examples", "chunk", "hvps", "seconds", "seconds_per_hvp")}
        summary.update(model=s.get("note", "WRN-16-4"),
                       **{k: s["provenance"][k] for k in ("device_name", "torch", "git", "date")})
        report.set_provenance(claim.parent, HESSIAN_PROFILE, "hessian_benchmark", summary)
    return record


def read(path: Path) -> dict:
    try:
        return files.read_json_object(path) or {}
    except ValueError as exc:
        moved = files.quarantine(path)   # named and kept, never silently overwritten
        print(f"{path} could not be read ({exc}); moved aside to {moved.name}, starting a new record")
        return {}


def add(report_dir: Path, benchmark_json: dict) -> dict:
    """Merge the benchmark's sections into report_dir/throughput.json and re-render throughput.md."""
    path = Path(report_dir) / "throughput.json"
    record, found = read(path), sections_of(benchmark_json)
    if found:   # a JSON without throughput benchmarks (the Hessian one) leaves the record as it is
        record.update(found)
        files.write_json(path, record)
        files.write_text(path.with_suffix(".md"), render(record))
    return record


def _num(v, fmt="{:,.0f}") -> str:
    return "–" if v is None else fmt.format(v)


def render(record: dict) -> str:
    lines = ["# Training throughput", "",
             "Images/s of training steps, measured side by side in one process and one machine "
             "(`lrsci.throughput`, `tests/test_benchmark_throughput.py`). Ratios are to the plain eager "
             "loop on the same machine; compare numbers only within one section. No number here is a "
             "timed assertion. Re-render with `python tools/benchmark_report.py B.json`.", ""]
    for name, s in sorted(record.items()):
        p = s["provenance"]
        lines += [f"## {name}", "",
                  f"{s['test']}: {s['images_per_epoch']} images per epoch; torch {p['torch']}, python "
                  f"{p['python']}, git {p['git']}, {p['date']}.", "",
                  "| what | images/s | × plain loop |", "|---|---|---|",
                  f"| plain eager loop | {_num(s['plain_loop_images_per_s'])} | 1.00 |",
                  f"| engine, one run | {_num(s['engine_images_per_s'])} | {_num(s['engine_over_plain'], '{:.2f}')} |"]
        if "graphed_over_plain" in s:
            lines.append(f"| plain loop as one CUDA graph | {_num(s.get('graphed_loop_images_per_s'))} | "
                         f"{_num(s['graphed_over_plain'], '{:.2f}')} |")
        if "engine_graphed_over_plain" in s:
            lines.append(f"| engine, one run, step as one CUDA graph | {_num(s.get('engine_graphed_images_per_s'))} | "
                         f"{_num(s['engine_graphed_over_plain'], '{:.2f}')} |")
            lines.append(f"| K = {s['processes_graphed_k']} engine processes, CUDA graphs, aggregate | "
                         f"{_num(s.get('processes_graphed_images_per_s'))} | "
                         f"{_num(s.get('processes_graphed_over_plain'), '{:.2f}')} |")
        if "batched_graphed_over_plain" in s:
            lines.append(f"| K = {s['processes_graphed_k']} runs batched, step as one CUDA graph, aggregate | "
                         f"{_num(s.get('batched_graphed_images_per_s'))} | "
                         f"{_num(s['batched_graphed_over_plain'], '{:.2f}')} |")
        for kind, label in (("processes", "engine processes"), ("batched", "runs batched (vmap)")):
            table = s["concurrent_engines_images_per_s" if kind == "processes" else "batched_engine_images_per_s"]
            for k, v in table.items():
                lines.append(f"| K = {k} {label}, aggregate | {_num(v)} | {_num(s.get(f'k{k}_{kind}_over_plain'), '{:.2f}')} |")
        if "bf16_peak_flops" in s:
            lines += ["", f"FLOP per training image {s['flops_per_image'] / 1e9:.2f} G; measured bf16 peak "
                      f"{s['bf16_peak_flops'] / 1e12:.0f} TFLOP/s; plain loop {100 * s['plain_fraction_of_peak']:.1f} % "
                      f"of it, best above {100 * s['best_fraction_of_peak']:.1f} %."]
        if s.get("errors"):
            lines += ["", "Measurements that failed (recorded, not retried):", ""]
            lines += [f"- {k}: `{v}`" for k, v in sorted(s["errors"].items())]
        lines.append("")
    return "\n".join(lines)

"""File benchmark numbers into the reports (see lrsci.benchmark_report).

    python tools/benchmark_report.py B.json [B2.json ...] [--report-dir reports/benchmarks]

Throughput benchmarks go to <report-dir>/throughput.{json,md}; the Hessian benchmark to
<report-dir>/hessian.json and, from a GPU, into the gpu provenance of gd-larger-lr-diverges' report in
the folder above <report-dir> (reports/, by default), where there is one.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's lrsci, not an installed one
from lrsci.benchmark_report import add, add_hessian

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("benchmark_json", nargs="+", type=Path)
    ap.add_argument("--report-dir", type=Path, default=Path("reports/benchmarks"))
    args = ap.parse_args()
    args.report_dir.mkdir(parents=True, exist_ok=True)
    for path in args.benchmark_json:
        bench = json.loads(path.read_text(encoding="utf-8"))
        record = add(args.report_dir, bench)
        hessian = add_hessian(args.report_dir.parent, bench, benchmarks_dir=args.report_dir)   # beside throughput.md
    print(f"{args.report_dir / 'throughput.md'}: sections {sorted(record)}; hessian.json: {sorted(hessian)}")

"""File the throughput benchmark's numbers into reports/benchmarks/ (see lrsci.benchmark_report).

    python tools/benchmark_report.py B.json [B2.json ...] [--report-dir reports/benchmarks]
"""
import argparse
import json
from pathlib import Path

from lrsci.benchmark_report import add

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("benchmark_json", nargs="+", type=Path)
    ap.add_argument("--report-dir", type=Path, default=Path("reports/benchmarks"))
    args = ap.parse_args()
    args.report_dir.mkdir(parents=True, exist_ok=True)
    for path in args.benchmark_json:
        record = add(args.report_dir, json.loads(path.read_text()))
    print(f"{args.report_dir / 'throughput.md'}: sections {sorted(record)}")

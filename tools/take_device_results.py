"""Take a device session's results.tgz into this checkout: only what the session added.

    python tools/take_device_results.py results.tgz [--dry-run] [--keep DIR] [--no-pack] [--root CHECKOUT]

Takes the report sections it trained on the GPU (new, or newer than this checkout's), the calibration
records it wrote (never one that differs from a record here: nothing is taken then), and files the
throughput and Hessian benchmarks; then packs the taken sections' runs for CI
(tools/pack_report_runs.py with the session's runs/ beside .runs). What it does and why is in
lrsci/device_results.py; --dry-run prints the decisions and writes nothing. Exit status 2 when the
archive is refused. After it: the README's claims table (the taken sections' verdicts are printed), a
declaration where a profile failed a criterion it did not declare, `python tools/upgrade_reports.py
reports` then, and a commit.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # this checkout's lrsci, not an installed one

from lrsci import device_results  # noqa: E402
from lrsci.catalog import load_claims  # noqa: E402


def pack_runs(unpacked: Path, root: Path) -> int:
    """tools/pack_report_runs.py in its own process (it installs an audit hook for the rest of its life)."""
    stores = [unpacked / "runs"] + ([root / ".runs"] if (root / ".runs").is_dir() else [])
    cmd = [sys.executable, str(root / "tools" / "pack_report_runs.py")]
    for store in stores:
        cmd += ["--run-store", str(store.resolve())]
    return subprocess.call(cmd, cwd=root)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", type=Path, help="results.tgz from tools/device_session.sh")
    ap.add_argument("--dry-run", action="store_true", help="print what would be taken; write nothing")
    ap.add_argument("--keep", type=Path, help="unpack here and keep it (default: a temporary folder)")
    ap.add_argument("--no-pack", action="store_true", help="do not pack the runs for CI")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to take them into (default: this one)")
    args = ap.parse_args(argv)
    if not args.archive.is_file():
        ap.error(f"{args.archive}: no such file")
    with tempfile.TemporaryDirectory() as tmp:
        unpacked = args.keep or Path(tmp)
        try:
            device_results.unpack(args.archive, unpacked)
            plan = device_results.plan(unpacked, args.root, set(load_claims(args.root)))
        except device_results.DeviceResultsError as exc:
            print(f"take_device_results: {exc}", file=sys.stderr)
            return 2
        print("\n".join(device_results.describe(plan)))
        if args.dry_run:
            return 0
        device_results.apply(plan, args.root)
        if plan.taken():
            print("README claims table: " + "; ".join(f"{s.claim} [{s.profile}] → {s.verdict}" for s in plan.taken()))
        return 0 if args.no_pack or not plan.taken() else pack_runs(unpacked.resolve(), args.root.resolve())


if __name__ == "__main__":
    sys.exit(main())

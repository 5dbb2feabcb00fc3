"""Do the committed reports come out of the code as it is now? Run the claims again and compare.

    python tools/check_reproduced.py                  # every fast profile: analyses over the stored runs
                                                      # (runs the store lacks are trained; an empty store is refused)
    python tools/check_reproduced.py --fresh          # ... trained from nothing (a new run store; minutes)
    python tools/check_reproduced.py -k ps10 --fresh  # one claim
    python tools/check_reproduced.py --results DIR    # compare reports written elsewhere (a device's), no run

The claims run through pytest on their report seeds into a temporary report folder (the committed
reports are never written), and each section is compared with the committed one on what a run found:
seeds, protocol, every per-seed value, every test row, verdict, declaration and outcome
(lrsci.report.result_differences; provenance and wording aside). Exit status 1 when any differs.

Why: a committed report is evidence only while the code reproduces it. Before landing a change to
training, data or an analysis, `--fresh` shows whether any committed number moved (and where).
Numbers are exact only on a machine like the one the report was trained on (same CPU model, not only
the same vector unit, and torch: docs/replication.md, "another CPU"): elsewhere a difference is printed with that caveat, as it may come from the machine alone.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # run from a checkout without installing it (as on the device)

from lrsci import report  # noqa: E402


def run_claims(report_dir: Path, fresh: bool, marker: str, select: str | None, workers: str) -> int:
    """The claims' pytest items into ``report_dir``; with ``fresh``, from a new run store beside it."""
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "claims"), "-m", marker, "-q", "-rfE", "-p", "no:cacheprovider",
           "--report-dir", str(report_dir)]
    if fresh:
        cmd += ["--run-store", str(report_dir.parent / "runs")]
    if select:
        cmd += ["-k", select]
    if workers != "1":
        cmd += ["-n", workers]
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def compare(committed_root: Path, new_root: Path) -> list[str]:
    """One line per section of ``new_root``: reproduced, or where it differs from ``committed_root``'s."""
    lines = []
    for path in sorted(new_root.glob("*/result.json")):
        new = report.read_record(path, quarantine_bad=False)
        old_path = committed_root / path.parent.name / "result.json"
        old = report.read_record(old_path, quarantine_bad=False) if old_path.exists() else None
        for profile, section in sorted(new["profiles"].items()):
            name = f"{new['id']}[{profile}]"
            stored = (old or {}).get("profiles", {}).get(profile)
            if stored is None:
                lines.append(f"NEW        {name}: no committed section to compare with")
                continue
            if section == stored:   # --results: not run there, or run with the same findings (the writer then
                lines.append(f"identical  {name}: the committed section, provenance included")   # keeps provenance)
                continue
            diffs = report.result_differences(stored, section)
            if not diffs:
                lines.append(f"reproduced {name}")
                continue
            shown = ", ".join(diffs[:8]) + (f" and {len(diffs) - 8} more" if len(diffs) > 8 else "")
            lines.append(f"DIFFERS    {name}: {shown}{_machine_caveat(stored['provenance'], section['provenance'])}")
    return lines


def _machine_caveat(committed: dict, new: dict) -> str:
    """Why numbers may differ without a code change: the two sections' provenance names other machines."""
    # cpu_model too: two CPUs with one vector unit and torch still round differently (docs/replication.md);
    # sections written before it was recorded say so, rather than passing for the same machine
    shown = lambda value: "(not recorded)" if value is None else value  # noqa: E731
    other = [f"{k} {shown(committed.get(k))} / {shown(new.get(k))}"
             for k in ("device_name", "cpu_model", "cpu_capability", "torch") if committed.get(k) != new.get(k)]
    return f" (committed / new ran on other machines: {'; '.join(other)})" if other else ""


def _stored_runs_missing(fresh: bool) -> str | None:
    """Why "re-analyse the stored runs" cannot be what this call does: the run store it would read is empty
    (a fresh clone: .runs/ is not committed), so every run would train, unasked, for minutes."""
    store = Path(os.environ.get("LRSCI_RUNS") or ROOT / ".runs")
    if fresh or (store.is_dir() and any(store.iterdir())):
        return None
    return (f"no stored runs in {store} (LRSCI_RUNS, else .runs/): there is nothing to re-analyse. Run a claim first, "
            "or use --fresh to train every selected run from nothing (minutes)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fresh", action="store_true", help="train every run again in a new run store")
    ap.add_argument("-m", dest="marker", default="fast", help="pytest marker of the profiles (default fast)")
    ap.add_argument("-k", dest="select", help="pytest -k expression (a claim id)")
    ap.add_argument("-n", dest="workers", default="2", help="pytest-xdist workers (default 2; 1 = none)")
    ap.add_argument("--results", type=Path, help="compare this report folder instead of running the claims")
    ap.add_argument("--committed", type=Path, default=ROOT / "reports", help="the reports to compare with")
    args = ap.parse_args(argv)
    code = 0
    with tempfile.TemporaryDirectory(prefix="lrsci-reproduce-") as tmp:
        new_root = args.results
        if new_root is not None and not new_root.is_dir():
            print(f"--results {new_root}: no such folder", file=sys.stderr)
            return 2
        if new_root is None:
            why_not = _stored_runs_missing(args.fresh)
            if why_not:
                print(why_not, file=sys.stderr)
                return 2
            new_root = Path(tmp) / "reports"
            code = run_claims(new_root, args.fresh, args.marker, args.select, args.workers)
            if code not in (0, 1):   # 1: some item failed; its section (if written) is still compared
                print(f"pytest exited {code}: nothing to compare", file=sys.stderr)
                return code
        lines = compare(args.committed, new_root)
    print("\n".join(lines) if lines else "no report sections were written (nothing selected?)")
    if code == 1:   # a claim that raised writes no section, so the comparison alone would not show it
        print("pytest reported a failure (above): a claim that failed or raised is not reproduced", file=sys.stderr)
    return 1 if code or not lines or any(line.startswith("DIFFERS") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())

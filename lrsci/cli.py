"""`lrsci list | run CLAIM --profile P [--seeds N] | report` — the suite from a shell.

`run` is pytest underneath (the claim modules are the protocol), with progress on stderr.
`report` re-renders every report from result.json: it never trains.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from . import report


def find_project(start: Path | None = None) -> Path:
    """The folder holding claims/ — the current directory or one above it."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "claims").is_dir() and (folder / "conftest.py").exists():
            return folder
    raise SystemExit("lrsci: no claims/ folder here or above; run lrsci inside a clone of the lrsci repository")


def claim_modules(project: Path) -> dict[str, Path]:
    return {p.stem[len("test_"):].replace("_", "-"): p for p in sorted((project / "claims").glob("test_*.py"))}


def claim_profiles(path: Path) -> list[str]:
    """The profiles a claim module declares (the keys given to PROTOCOL), read without running it."""
    import ast

    names = []
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.Assign):
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "PROTOCOL" and isinstance(node.value, ast.Dict):
            names += [k.value for k in node.value.keys if isinstance(k, ast.Constant)]
        elif isinstance(target, ast.Subscript) and getattr(target.value, "id", None) == "PROTOCOL":
            names.append(target.slice.value)  # PROTOCOL["gpu-cifar10"] = ...
    return names


def cmd_list(args) -> int:
    project = find_project()
    verdicts = {r["id"]: r for r in report.load_all(project / args.report_dir)}
    print(f"{'claim':<30} {'profiles':<24} last verdicts")
    for claim, path in claim_modules(project).items():
        profiles = verdicts.get(claim, {}).get("profiles", {})
        text = profiles and ", ".join(f"{p}: {s['verdict']}" for p, s in sorted(profiles.items()))
        print(f"{claim:<30} {', '.join(claim_profiles(path)):<24} {text or 'not run yet'}")
    return 0


def cmd_run(args) -> int:
    project = find_project()
    modules = claim_modules(project)
    if args.claim not in modules:
        raise SystemExit(f"lrsci: unknown claim {args.claim!r}; known: {', '.join(modules)}")
    profiles = claim_profiles(modules[args.claim])
    if args.profile not in profiles:
        raise SystemExit(f"lrsci: {args.claim} has no profile {args.profile!r}; it has: {', '.join(profiles)}")
    # Each profile is one test function, test_<profile>, in the claim's module.
    target = f"{modules[args.claim]}::test_{args.profile.replace('-', '_')}"
    cmd = [sys.executable, "-m", "pytest", target, "-s", "-q",
           "-p", "no:cacheprovider", "--seed-offset", str(args.seed_offset), "--report-dir", args.report_dir]
    if args.seeds is not None:
        cmd += ["--seeds", str(args.seeds)]
    if args.data_root:
        cmd += ["--data-root", args.data_root]
    if args.require_gpu:
        cmd.append("--require-gpu")
    env = {**os.environ, "LRSCI_PROGRESS": "1"}
    return subprocess.call(cmd, cwd=project, env=env)


def cmd_report(args) -> int:
    root = find_project() / args.report_dir
    if not root.is_dir():
        raise SystemExit(f"lrsci: no reports under {root}; run a claim first")
    for path in report.render_all(root):
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lrsci", description=__doc__.splitlines()[0])
    parser.add_argument("--report-dir", default="reports")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="claims, profiles and last verdicts").set_defaults(func=cmd_list)
    run = sub.add_parser("run", help="run one claim at one profile")
    run.add_argument("claim")
    run.add_argument("--profile", default="fast", help="fast, gpu, or another profile the claim declares")
    run.add_argument("--seeds", type=int)
    run.add_argument("--seed-offset", type=int, default=0)
    run.add_argument("--data-root", default=None)
    run.add_argument("--require-gpu", action="store_true")
    run.set_defaults(func=cmd_run)
    sub.add_parser("report", help="re-render every report from result.json (no training)").set_defaults(func=cmd_report)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

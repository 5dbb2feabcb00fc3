"""`lrsci list | run CLAIM --profile P [--seeds N] [--set F=V] | report | compare BASE OTHER [MORE ...] | store` — the suite from a shell.

Claims and profiles come from the declared claims (lrsci.catalog), the same registry the
pytest items are generated from. `run` is pytest underneath (one item, CLAIM[PROFILE]), with
progress on stderr; a profile that cannot run here (no CUDA, optional data absent) exits
non-zero with the reason instead of "1 skipped". `report` re-renders every report from
result.json: it never trains. `compare` puts two report folders side by side (a profile run on
other seeds beside the committed one, lrsci.report_compare), or a base beside several (a sweep over seeds or
scales: one column per folder), and exits 1 when a verdict did not hold (2 on bad input). `store` says
what the run store holds and what no run reads again (set-aside copies, older engine versions' runs,
finished batches' checkpoints); it deletes only with --prune.
"""
from __future__ import annotations

import argparse
import difflib
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

from . import calibration, report
from .executors import EXIT_WITH_PARENT
from .report_notes import project_of, section_state, seed_span, trained_batched


def find_project(start: Path | None = None) -> Path:
    """The folder holding claims/ — the current directory or one above it."""
    project = project_of(start or Path.cwd())
    if project is not None:
        return project
    raise SystemExit("lrsci: no claims/ folder here or above; run lrsci inside a clone of the lrsci repository")


BROKEN: list[str] = []   # claim modules that could not be loaded this call, each named with why
PYTEST_USAGE_ERROR = 4   # pytest.ExitCode.USAGE_ERROR: a bad --seeds, LRSCI_WORKERS, ... refused by conftest.py


class BadInput(Exception):
    """A user's mistake on the command line or in an LRSCI_* variable: one line on stderr, exit 2 (1 means a
    verdict did not hold, so the two must not share a code)."""


def claims(project: Path) -> dict:
    """{claim id: (Claim, module path)} from the project's claims/. A module that cannot be loaded is named on
    stderr (and in BROKEN) and left out, so the other claims still list and run."""
    from .catalog import load_claims

    BROKEN.clear()
    found = load_claims(project, errors=BROKEN)
    for text in BROKEN:
        print(f"lrsci: a claim module was left out: {text}", file=sys.stderr)
    return found


def _unknown_claim(name: str, project: Path, known: dict) -> str:
    """Why ``name`` is not a claim here, with the modules that were left out or never read."""
    from .catalog import misnamed_files

    near = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    text = f"lrsci: unknown claim {name!r}" + (f" (did you mean {near[0]!r}?)" if near else "") + \
        f"; known: {', '.join(known)}"
    if BROKEN:
        text += f"; {len(BROKEN)} claim module(s) could not be loaded (named above)"
    for path in misnamed_files(project):
        text += f"; {path.relative_to(project)} is not read: a claim module is claims/test_<id with _ for ->.py"
    return text


def _needs_calibration(profile) -> str:
    """What `list` adds for a profile that cannot run until a rule has been applied on dev seeds."""
    return "".join(f" (needs `python {t} --profile {profile.name}` on the device first)"
                   for t in calibration.missing(profile))


def _calibrated_scales(profile) -> list[str]:
    """What `list` adds for a profile whose η follows the η rule: the --set scales it has been applied at (the
    scales its GD claims can run at without calibrating first), one item each."""
    from .eta_rule import RULE_PARAM, scaled_records
    from .overrides import describe

    if RULE_PARAM not in profile.params:
        return []
    try:
        found = scaled_records(profile.name)
    except calibration.CalibrationError as exc:   # named and moved aside; the listing goes on
        print(f"lrsci: {exc}", file=sys.stderr)
        return []
    return [f"η calibrated with {describe(r['scale'])}: η = {r['eta']:g}" if r.get("eta") is not None else
            f"η rule found no η with {describe(r['scale'])}" for r in found]


def _again(profile, sections: list) -> list[tuple[str, str]]:
    """The same profile run again (reports/replication/<name>/), in order of their first seed, each named by its
    seeds and, where it drew other data, its data seed: ('again on seeds 5000-5009', 'replicated')."""
    from .claim import data_seed

    found = []
    for sec in sorted(filter(None, sections), key=lambda s: min(s.get("seeds") or [0])):
        drawn = data_seed(sec)
        where = "" if drawn in (None, profile.run.data.seed) else f"data seed {drawn}, "
        scale = f" with {_scale(sec)}" if sec.get("run_overrides") else ""
        found.append((f"again{scale} on {where}{seed_span(sec.get('seeds') or [])}", sec["verdict"]))
    return found


def _summary(scales: list[str], again: list[tuple[str, str]]) -> str:
    """One line's worth of what `list -v` shows on lines of its own: how many scales have an η record, how many
    times the profile ran again and how many of those replicated."""
    parts = [f"η calibrated at {len(scales)} other scale{'s' * (len(scales) != 1)}"] if scales else []
    if again:
        held = sum(verdict == "replicated" for _, verdict in again)
        parts.append(f"run again {len(again)}× ({held} replicated)")
    return f"; {', '.join(parts)}: lrsci list -v" if parts else ""


def _scale(section: dict | None) -> str:
    from .overrides import describe

    return describe((section or {}).get("run_overrides") or {})


def _named_report_dir(args, project: Path) -> Path:
    """The report folder; one the user named (--report-dir) must be a folder: a typo would otherwise list
    every claim as "not run yet" and exit 0."""
    root = project / args.report_dir
    if args.report_dir != "reports" and not root.is_dir():
        raise BadInput(f"lrsci: --report-dir {args.report_dir}: " + ("a file, not a folder" if root.exists()
                                                                     else "no such folder"))
    return root


def cmd_list(args) -> int:
    project = find_project()
    _named_report_dir(args, project)
    records = {r["id"]: r for r in report.load_all(project / args.report_dir)}
    again = [{r["id"]: r for r in report.load_all(root)} for root in report.replication_roots(project / args.report_dir)]
    found = claims(project)
    width = max([len("claim"), *map(len, found)])
    print(f"{'claim':<{width}} {'profile':<16} {'mark':<5} {'seeds':>11}  last verdict")
    for cid, (claim, _) in found.items():
        done = records.get(cid, {}).get("profiles", {})
        for p in claim.profiles:
            sec = done.get(p.name)
            text = "not run yet" if sec is None else sec["verdict"] + (
                f" ({sec['outcome']})" if sec.get("outcome") else "") + f", {(sec['provenance'].get('date') or '')[:10]}"
            seeds = f"{p.first_seed}-{p.first_seed + p.seeds - 1}"
            state = "current" if sec is None else section_state(claim, p.name, sec)
            ran = seed_span((sec or {}).get("seeds") or [])
            text += {"earlier protocol": f" — on {ran} under an earlier protocol; this one not run yet",
                     "other seeds": f" — on {ran}, not the protocol's report seeds" + (
                         ", trained batched (--executor batched)" if trained_batched(sec or {}) else ""),
                     "batched": " — trained batched (--executor batched): not the protocol's report",
                     "other scale": f" — on {ran} at another scale (--set {_scale(sec)}): not the protocol's report",
                     "reading": " — see the reading in its report (written after the run)"}.get(state, "")
            scales = _calibrated_scales(p)
            runs_again = _again(p, [recs.get(cid, {}).get("profiles", {}).get(p.name) for recs in again])
            text += _needs_calibration(p) + ("" if args.verbose else _summary(scales, runs_again))
            print(f"{cid:<{width}} {p.name:<16} {p.mark:<5} {seeds:>11}  {text}")
            for detail in (scales + [f"{where}: {verdict}" for where, verdict in runs_again]) if args.verbose else ():
                print(f"{'':<{width}}   {detail}")
    return 1 if BROKEN else 0   # every claim that could be read is listed; a broken module still fails


def cmd_run(args) -> int:
    project = find_project()
    known = claims(project)
    if args.claim not in known:
        raise BadInput(_unknown_claim(args.claim, project, known))
    claim, path = known[args.claim]
    from .claim import ClaimError

    try:
        profile = claim.profile(args.profile)
    except ClaimError as exc:
        raise BadInput(f"lrsci: {exc}") from None
    _refuse_bad_folders(args)
    _refuse_what_would_skip(profile, args.data_root)
    _refuse_scale_it_cannot_take(claim, profile, args, project)
    _refuse_other_seeds_in_committed(profile, args, project)
    target = f"{path}::{claim.id}[{profile.name}]"
    cmd = [sys.executable, "-m", "pytest", target, "-s", "-q", "-rxs", "-p", "no:cacheprovider",
           "--report-dir", str(project / args.report_dir)]   # a named folder is absolute by now; else reports/
    for flag, value in (("--seeds", args.seeds), ("--seed-offset", args.seed_offset), ("--data-seed", args.data_seed),
                        ("--data-root", args.data_root), ("--run-store", args.run_store),
                        ("--executor", args.executor)):
        if value is not None:
            cmd += [flag, str(value)]
    for item in args.set or []:
        cmd += ["--set", item]
    if args.require_gpu:
        cmd.append("--require-gpu")
    started = time.time()
    code = run_child(cmd, project, {**os.environ, "LRSCI_PROGRESS": _progress_setting(),
                                    EXIT_WITH_PARENT: str(os.getpid())})
    if code == PYTEST_USAGE_ERROR:
        return 2   # pytest has printed why
    _say_where_the_report_is(project / args.report_dir / claim.id / "report.md", started, code)
    return code


def _say_where_the_report_is(path: Path, started: float, code: int) -> None:
    """The last line of `lrsci run`: where this run's report is, and what the exit code means (pytest's FAILURES
    above it is a verdict that did not come out as declared, not a crash, unless a traceback says otherwise)."""
    if code not in (0, 1) or not path.is_file() or path.stat().st_mtime < started:
        return   # interrupted, or nothing written by this run: pytest has said why
    meaning = ("the outcome is as declared" if code == 0 else
               "the outcome is not as declared (exit 1): the criteria are above and in the report")
    print(f"lrsci: {meaning}; report: {path}")


def _refuse_bad_folders(args) -> None:
    """Folders named by the user that cannot be what they are for, refused before any worker starts (else
    each would end in a worker's traceback after training, or before it, in every claim)."""
    named = (("--report-dir", args.report_dir if args.report_dir != "reports" else None, True),
             ("--run-store / LRSCI_RUNS", args.run_store or os.environ.get("LRSCI_RUNS"), True),
             ("LRSCI_CACHE", os.environ.get("LRSCI_CACHE"), True),
             ("--data-root / LRSCI_DATA", args.data_root or os.environ.get("LRSCI_DATA"), False))
    for what, folder, may_be_new in named:
        if not folder:
            continue
        path = Path(folder).expanduser()
        if path.exists() and not path.is_dir():
            raise BadInput(f"lrsci: {what} {folder} is a file, not a folder")
        if not may_be_new and not path.exists():   # the data must already be there; the others are made
            raise BadInput(f"lrsci: {what} {folder} does not exist (README, Datasets: where the data is looked for)")


def _progress_setting() -> str:
    """LRSCI_PROGRESS for the pytest `run` starts: on, unless the user set it (a bad value is refused)."""
    from .harness import progress_from_env

    try:
        return "1" if progress_from_env(unset=True) else "0"
    except ValueError as exc:
        raise BadInput(f"lrsci: {exc}") from None


def run_child(cmd: list[str], cwd: Path, env: dict) -> int:
    """Run ``cmd`` and return its exit status. SIGTERM and SIGHUP sent to lrsci are passed on to it; Ctrl-C waits
    for it to stop (its runs end their epochs with a checkpoint: lrsci.interrupts) and exits 130 without a
    traceback; if lrsci is killed outright the child sees it and ends itself (EXIT_WITH_PARENT), so no pytest
    trains on as an orphan."""
    # Outside a terminal's foreground a SIGINT may be sent to lrsci alone or to its whole process group (a CI
    # cancel, `kill -INT -PGID`): in a group of its own the child gets it once, from lrsci, either way.
    own_group = {} if in_terminal_foreground() else {"process_group": 0}
    child = subprocess.Popen(cmd, cwd=cwd, env=env, **own_group)
    forward = lambda signum, frame: child.send_signal(signum)  # noqa: E731
    old = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return child.wait()
    except KeyboardInterrupt:
        if not in_terminal_foreground():   # typed there, Ctrl-C reached the child too: a second one would stop it now
            child.send_signal(signal.SIGINT)
        try:
            child.wait()
        except KeyboardInterrupt:   # a second Ctrl-C: stop now
            child.kill()
            child.wait()
        print("lrsci: interrupted; running it again resumes from the last finished epoch", file=sys.stderr)
        return 130
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def in_terminal_foreground() -> bool:
    """Whether this process's group is the foreground of its controlling terminal: a Ctrl-C typed there is sent to
    the whole group, this process's children included."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:   # no controlling terminal (a script, CI, a daemon)
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def _refuse_scale_it_cannot_take(claim, profile, args, project: Path) -> None:
    """--set: a field or value this profile cannot take, a scale its calibration rule was not applied at (GD's η),
    or the committed reports/ as the report folder, is bad input named now (pytest would skip the profile, or
    refuse it, in words lrsci cannot exit 2 on)."""
    from .calibration import CalibrationError
    from .driver import with_run_overrides
    from .overrides import OverrideError, parse, refuse_committed_reports

    try:
        overrides = parse(args.set)
        with_run_overrides(profile, overrides, claim=claim)
        refuse_committed_reports(overrides, project / args.report_dir, project / "reports")
    except (OverrideError, CalibrationError) as exc:
        raise BadInput(f"lrsci: {exc}") from None


def _refuse_other_seeds_in_committed(profile, args, project: Path) -> None:
    """--seeds, --seed-offset or --data-seed for another run than the protocol's report, into the committed
    reports/: refused now, as pytest would refuse it (lrsci.driver.refuse_other_seeds_in_committed)."""
    from .driver import refuse_other_seeds_in_committed, seeds_of

    try:
        refuse_other_seeds_in_committed(profile, seeds_of(profile, args.seeds, args.seed_offset), args.data_seed,
                                        project / args.report_dir, project / "reports")
    except ValueError as exc:
        raise BadInput(f"lrsci: {exc}") from None


def _refuse_what_would_skip(profile, data_root) -> None:
    """pytest skips a profile it cannot run; asked for by name, that is a refusal with its reason (exit 2: it cannot
    run here, which a script must not take for a verdict that did not hold)."""
    from .driver import skip_reason

    if profile.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise BadInput(f"lrsci: profile {profile.name!r} needs CUDA, and torch.cuda.is_available() is False "
                           "on this machine")
    reason = skip_reason(profile, data_root)
    if reason:
        raise BadInput(f"lrsci: {reason}")


def cmd_report(args) -> int:
    root = _named_report_dir(args, find_project())
    if not root.is_dir():
        raise SystemExit(f"lrsci: no reports under {root}; run a claim first")
    problems: list[str] = []
    for folder in (root, *report.replication_roots(root)):
        for path in report.render_all(folder, problems):
            print(path)
    for text in problems:
        print(f"lrsci: {text}", file=sys.stderr)
    return 1 if problems else 0


def cmd_compare(args) -> int:
    from .report_compare import compare, render, render_sweep

    name = lambda folder: Path(folder).name or str(folder)   # noqa: E731
    others = args.others
    try:
        if len({name(o) for o in others}) < len(others):   # a column is named by its folder
            raise ValueError("two of the folders to compare have the same name; give each its own")
        found = {}
        for other in others:
            found[name(other)] = compare(args.base, other, args.profile)
            if not found[name(other)]:
                raise ValueError(f"{args.base} and {other} share no claim with a {args.profile!r} section")
    except ValueError as exc:   # exit 2, not 1: "a verdict did not hold" must not be confused with bad input
        print(f"lrsci: {exc}", file=sys.stderr)
        return 2
    text = (render(found[name(others[0])], name(args.base), name(others[0])) if len(others) == 1
            else render_sweep(name(args.base), found))
    print(text, end="")
    return 0 if all(c.holds for comps in found.values() for c in comps) else 1


def cmd_store(args) -> int:
    from . import store_audit
    from .data.vision import cache_root

    root = Path(args.run_store or os.environ.get("LRSCI_RUNS") or find_project() / ".runs")
    cache = cache_root(args.data_root or os.environ.get("LRSCI_DATA") or None)   # where loading unpacks to
    if not (args.run_store or os.environ.get("LRSCI_RUNS")) and not root.exists():   # a fresh clone: not an error
        print(f"no run store yet at {root}: nothing has trained here")
        return 0
    try:
        found = store_audit.audit(root, cache)
        deleted = store_audit.prune(found, args.prune) if args.prune else []
    except ValueError as exc:
        print(f"lrsci: {exc}", file=sys.stderr)
        return 2
    for path in deleted:
        print(f"deleted {path}")
    print(store_audit.render(store_audit.audit(root, cache) if deleted else found), end="")
    return 0


# Subcommands --report-dir means nothing to, and why: named there (before or after the subcommand) it is refused
# as bad input, not taken and ignored as it was before one and refused as an unknown argument after one.
NO_REPORT_DIR = {"compare": "it compares the two report folders it is given",
                 "store": "it reads the run store (--run-store), not reports"}


def _add_run(sub, common: argparse.ArgumentParser) -> None:
    from .overrides import allowed_text

    run = sub.add_parser("run", parents=[common], help="run one claim at one profile")
    run.add_argument("claim")
    run.add_argument("--profile", default="fast", help="fast (the default), gpu, or another profile the claim declares")
    run.add_argument("--seeds", type=int, help="seeds per arm, 2 to 1000 (default: the profile's)")
    run.add_argument("--seed-offset", type=int, default=None,
                     help="first seed (default: the profile's report seeds; 1000: the dev seeds)")
    run.add_argument("--data-seed", type=int, default=None,
                     help="draw the data with this seed instead of the profile's (another PS10, another subset)")
    run.add_argument("--data-root", default=None, help="where datasets are looked for (also LRSCI_DATA)")
    run.add_argument("--run-store", default=None, help="finished runs and checkpoints (also LRSCI_RUNS)")
    run.add_argument("--set", action="append", metavar="FIELD=VALUE",
                     help=f"the profile at another scale (repeatable): {allowed_text()}; needs --report-dir")
    run.add_argument("--require-gpu", action="store_true", help="fail, not skip, when the profile needs CUDA and there is none")
    run.add_argument("--executor", choices=("local", "ray", "batched"), default=None,
                     help="where runs train: local workers (default), a Ray cluster, or batched (also LRSCI_EXECUTOR)")
    run.set_defaults(func=cmd_run)


def _add_compare(sub) -> None:
    comp = sub.add_parser("compare", help="report folders side by side: the same decisions on other seeds or at "
                          "other scales? (exit 1 if not, 2 on bad input)")
    comp.add_argument("base", help="a report folder, e.g. reports")
    # one positional list, not "other" and "more": argparse would name the optional one as missing too
    comp.add_argument("others", nargs="+", metavar="other",
                      help="a report folder of the same profile run on other seeds (a run's --report-dir); more than "
                           "one: a sweep over seeds or scales, one column each")
    comp.add_argument("--profile", default="fast", help="the profile compared (default fast)")
    comp.set_defaults(func=cmd_compare)


def _add_store(sub) -> None:
    store = sub.add_parser("store", help="what the run store holds and what no run reads again; --prune deletes "
                           "the kinds named, printing each path")
    store.add_argument("--run-store", default=None, help="the run store (default LRSCI_RUNS, else .runs/)")
    store.add_argument("--data-root", default=None, help="datasets (also LRSCI_DATA): its data cache is looked "
                       "at too")
    store.add_argument("--prune", nargs="+", default=[], metavar="KIND",
                       help="set-aside, old-engine and/or done-batches")
    store.set_defaults(func=cmd_store)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)  # accepted before or after the subcommand
    common.add_argument("--report-dir", default=argparse.SUPPRESS,
                        help="claim reports folder of list, run and report (default reports/)")
    parser = argparse.ArgumentParser(prog="lrsci", description=__doc__.splitlines()[0], parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", parents=[common], help="claims × profiles and last verdicts")
    listing.add_argument("-v", "--verbose", action="store_true",
                         help="each η scale and each run again (reports/replication/) on a line of its own")
    listing.set_defaults(func=cmd_list)
    _add_run(sub, common)
    sub.add_parser("report", parents=[common], help="re-render every report from result.json, "
                   "those under replication/ too (no training)"
                   ).set_defaults(func=cmd_report)
    _add_compare(sub)
    _add_store(sub)
    for name in NO_REPORT_DIR:   # after the subcommand too, so both placements get the one message in main
        sub.choices[name].add_argument("--report-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command in NO_REPORT_DIR and hasattr(args, "report_dir"):
        print(f"lrsci: --report-dir is not an option of `lrsci {args.command}`: {NO_REPORT_DIR[args.command]}",
              file=sys.stderr)
        return 2
    # A folder the user names is where they are (pytest later runs in the project folder); the default
    # report folder is the project's own.
    args.report_dir = str(Path(args.report_dir).resolve()) if hasattr(args, "report_dir") else "reports"
    for name in ("run_store", "data_root"):
        if getattr(args, name, None):
            setattr(args, name, str(Path(getattr(args, name)).expanduser().resolve()))
    try:
        with warnings.catch_warnings():   # a damaged report read by list/report: one line, not Python's warning
            warnings.showwarning = lambda message, *rest, **kw: print(f"lrsci: {message}", file=sys.stderr)
            return args.func(args)
    except BadInput as exc:
        print(exc, file=sys.stderr)
        return 2
    except BrokenPipeError:   # `lrsci list | head`: the reader left; say nothing more (Python's documented recipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())

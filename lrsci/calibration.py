"""Calibration records: a rule applied once on development seeds, its result kept in claims/calibration/.

Shared by the GD η rule (lrsci.eta_rule) and AutoDecay's gpu constants (lrsci.autodecay_calibration).
A record is written once (atomically; never replaced by accident), read back with a check of the fields
a profile uses (an unreadable file is moved aside and named, never silently used), and a device profile
whose record is missing, or whose rule found nothing, refuses to run with the tool to run. A rule applied
at a --set scale keeps its record beside the profile's own, named by the scale (:func:`scale_suffix`).
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path
from typing import Callable

from . import files

ROOT = Path(__file__).resolve().parents[1]
CALIBRATION_DIR = ROOT / "claims" / "calibration"
DEV_SEED_OFFSET = 1000  # the development seed range of every lrsci protocol
# A profile parameter holding a calibration record -> the tool that writes it.
TOOLS = {"eta_calibration": "tools/calibrate_gd_eta.py", "autodecay_calibration": "tools/calibrate_autodecay.py"}


class CalibrationError(RuntimeError):
    """A calibration cannot be read or used: the file is missing, unreadable, or the rule found nothing."""


def rule_text(doc: str) -> str:
    """The rule as a module's docstring states it: the paragraph that introduces it and the indented
    paragraph that is the rule (a record keeps both, so it says what was applied)."""
    paragraphs = doc.split("\n\n")
    i = next(k for k, p in enumerate(paragraphs) if p.startswith("    "))
    return paragraphs[i - 1].strip() + "\n\n" + textwrap.dedent(paragraphs[i]).strip()


def write_once(path: Path, record: dict, what: str) -> Path:
    """Publish a record that must not replace one: refused if it exists, also when another writer
    publishes it between the check and the write (files.write_json_new links, never replaces)."""
    refused = CalibrationError(f"{path} exists: {what} was already calibrated. A calibration is done once, "
                               "before the final run; move the file aside to redo it on purpose")
    if path.exists():
        raise refused
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        files.write_json_new(path, record)
    except FileExistsError:
        raise refused from None
    return path


def read(path: Path, check: Callable[[dict], None], again: str) -> dict | None:
    """The record at ``path`` (``check`` raises on a field it cannot use), or None if there is none."""
    try:
        record = files.read_json_object(path)
        if record is not None:
            check(record)
        return record
    except (ValueError, KeyError, TypeError) as exc:
        moved = files.quarantine(path)
        raise CalibrationError(f"{path} is unreadable ({exc}); moved to {moved}. Run {again} again") from exc


def interruptible(main: Callable[[], int], tool: str) -> int:
    """A calibration tool's ``main()``; Ctrl-C (or a stop its runs took at an epoch's end) ends it with one line and
    exit 130, as `lrsci run` does: the runs it finished are in the run store, and running it again resumes."""
    try:
        return main()
    except KeyboardInterrupt:   # lrsci.interrupts.StopRequested is one
        print(f"{tool}: interrupted; running it again resumes from the last finished epoch (no record was written)",
              file=sys.stderr)
        return 130


def require(profile, param: str, found: Callable[[dict], bool], nothing_found: Callable[[dict], str]) -> None:
    """Stop a device profile whose ``param`` record is missing, or whose rule found nothing."""
    if param not in profile.params or profile.device != "cuda":
        return
    record = profile[param]
    if record is None:
        raise CalibrationError(f"profile {profile.name!r}: {param.replace('_', ' ')} is missing. Run "
                               f"`python {TOOLS[param]} --profile {profile.name}` on the device first")
    if not found(record):
        raise CalibrationError(f"profile {profile.name!r}: {nothing_found(record)}")


def _shows_progress(ap: argparse.ArgumentParser) -> bool:
    """A rule's dev runs take minutes: a tool shows them as they train (as `lrsci run` does) unless LRSCI_PROGRESS
    says otherwise; a value that is neither on nor off is refused before anything trains."""
    from .harness import progress_from_env

    try:
        return progress_from_env(unset=True)
    except ValueError as exc:
        ap.error(str(exc))


def scale_suffix(scale: dict | None) -> str:
    """What a record's file name adds at a --set scale: "" at the profile's own, "@epochs=800,model.hidden=256"
    (fields sorted, so the order they were given in names the same record) at another."""
    return "@" + ",".join(f"{k}={v}" for k, v in sorted(scale.items())) if scale else ""


def set_options(scale: dict | None) -> str:
    """" --set epochs=800 --set model.hidden=256": the tool's options that name ``scale`` again."""
    return "".join(f" --set {k}={v}" for k, v in sorted((scale or {}).items()))


def missing(profile) -> list[str]:
    """The tools whose records ``profile`` still lacks (what ``lrsci list`` names)."""
    return [tool for param, tool in TOOLS.items() if param in profile.params and profile.params[param] is None]


# --- what both calibration tools share ---------------------------------------------------------


def arguments(description: str, dev_seeds: int | None = 3) -> argparse.ArgumentParser:
    """The options both tools take; ``dev_seeds`` None: as many dev seeds as the profile has report seeds."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--profile", required=True)
    default = "the profile's number of seeds" if dev_seeds is None else dev_seeds
    ap.add_argument("--dev-seeds", type=_seed_count, default=dev_seeds,
                    help=f"number of dev seeds from {DEV_SEED_OFFSET} (default {default})")
    ap.add_argument("--run-store", default=os.environ.get("LRSCI_RUNS") or str(ROOT / ".runs"),
                    help="finished runs and checkpoints (default: $LRSCI_RUNS, else .runs/ as pytest)")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--out-dir", default=None, help="where the record goes (default claims/calibration)")
    return ap


def add_scale_option(ap: argparse.ArgumentParser) -> None:
    """--set, for a tool whose rule can be applied at another scale (read back with :func:`scale_of`)."""
    from .overrides import allowed_text

    ap.add_argument("--set", action="append", metavar="FIELD=VALUE",
                    help=f"apply the rule at another scale, as the claims' --set ({allowed_text()})")


def scale_of(ap: argparse.ArgumentParser, args) -> dict:
    """The --set scale asked for ({}: the profile's own); a malformed one is a usage error, before any training."""
    from .overrides import OverrideError, parse

    try:
        return parse(args.set)
    except OverrideError as exc:
        ap.error(str(exc))


def _seed_count(raw: str) -> int:
    """--dev-seeds: a whole number >= 1 (0 once meant the profile's count, a negative one no seeds at all,
    and the record, written once, then said the rule found nothing)."""
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number of seeds >= 1")
    return int(raw)


def dev_context(ap: argparse.ArgumentParser, args, claim_id: str, param: str, record_path: Callable,
                scale: dict | None = None, rule_param: str | None = None):
    """(profile, ClaimContext on the dev seeds) for a tool; refuses, before any training, a profile that
    takes no such record, or one whose record already exists.

    ``scale`` (--set, parsed): the rule is applied to the profile at that scale, for any profile that
    follows the rule (has ``rule_param``), and its record is the scale's (:func:`scale_suffix`)."""
    from . import driver
    from .catalog import load_claims
    from .overrides import OverrideError, apply, describe

    claim, _ = load_claims(ROOT)[claim_id]
    key = rule_param if scale else param
    profile = {p.name: p for p in claim.profiles}.get(args.profile)
    if profile is None or key not in profile.params:
        which = "rule-following" if scale else "calibrated"
        ap.error(f"profile {args.profile!r}: {claim_id}'s {which} profiles are "
                 f"{[p.name for p in claim.profiles if key in p.params]}")
    if scale:
        try:
            profile = apply(profile, scale)
        except OverrideError as exc:
            ap.error(str(exc))
    folder = Path(args.out_dir) if args.out_dir else None
    path = record_path(args.profile, folder, scale) if scale else record_path(args.profile, folder)
    if path.exists():
        at = f" at {describe(scale)}" if scale else ""
        ap.error(f"{path} exists: this profile was already calibrated{at}")
    if profile.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():   # before any lock or worker: a cuda profile is calibrated on its device
            ap.error(f"profile {args.profile!r} trains on CUDA, which this machine does not have: calibrate it on "
                     "the GPU machine it will run on")
    ctx = driver.context(profile, run_store=args.run_store, report_dir=ROOT / "reports", data_root=args.data_root,
                         seeds=args.dev_seeds or profile.seeds, seed_offset=DEV_SEED_OFFSET, progress=_shows_progress(ap))
    return profile, ctx

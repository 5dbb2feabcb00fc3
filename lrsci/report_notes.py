"""What a report says beside a stored section, from what its claim module declares now.

``result.json`` keeps what a run produced; the module may since have moved on. Two things are shown
from the module, not the record:

* a section run under an earlier protocol (other parameters than the profile declares now, e.g. a gpu
  report of v1 beside a v2 declaration not yet run) is marked as such, and one run on other seeds than
  the protocol's report seeds (a --seed-offset run written into the report folder) too: neither
  verdict is the current protocol's report;
* a claim's ``readings`` (written after a final run, never a criterion) are shown under that
  profile's verdict while its section is the current protocol's.

A report folder belongs to the project above it (the first folder up holding ``claims/`` and
``conftest.py``): ``reports/`` and ``reports/replication/<name>/`` alike. A folder outside any project
(``--report-dir /tmp/dev-reports``) belongs to the project lrsci runs in, found the same way from the
working directory, as ``lrsci`` and pytest find it; with neither, reports get no notes.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from .claim import data_seed, report_seeds, seed_range

EARLIER = " (earlier protocol)"
OTHER_SEEDS = " (other seeds)"
OTHER_SCALE = " (another scale)"
READ_NOTE = " (see the reading)"
BATCHED = " (batched runs)"


def project_of(path: str | Path) -> Path | None:
    """The project holding ``path``: the first folder from it upwards with ``claims/`` and ``conftest.py``."""
    here = Path(path).resolve()
    for folder in (here, *here.parents):
        if (folder / "claims").is_dir() and (folder / "conftest.py").exists():
            return folder
    return None


def declared_claims(report_root: str | Path) -> dict:
    """{claim id: Claim} of the project whose reports live in ``report_root``; {} outside a project. A claim
    module that cannot be loaded is named in a warning (the reports still render, without notes)."""
    project = project_of(report_root) or project_of(Path.cwd())
    if project is None:
        return {}
    from .catalog import load_claims

    broken: list[str] = []   # rendering must not fail on a broken module: its reports go without notes, named
    found = {cid: claim for cid, (claim, _) in load_claims(project, errors=broken).items()}
    for text in broken:
        warnings.warn(f"reports of this claim rendered without notes: {text}", stacklevel=2)
    return found


def section_state(claim, profile: str, section: dict) -> str:
    """Where a stored section stands against what ``claim`` declares now: "undeclared" (no such profile),
    "earlier protocol" (other parameters), "other scale" (--set), "other seeds" (not the report seeds), "batched" (the report seeds,
    trained as one batched model: --executor batched), "reading" (current, with a reading) or "current".
    The report and ``lrsci list`` both say it from here."""
    declared = {p.name: p for p in claim.profiles}
    if profile not in declared:
        return "undeclared"
    p = declared[profile]
    if section.get("run_overrides"):   # its derived values (decay epochs, say) are those of its own scale
        from .calibration import CalibrationError
        from .driver import with_run_overrides
        from .overrides import OverrideError

        try:   # with the calibration record it ran with (GD's η at its scale), not this machine's files
            scaled = with_run_overrides(p, section["run_overrides"], protocol=section.get("protocol") or {})
        except (OverrideError, CalibrationError):   # the profile has changed so that this scale no longer applies,
            return "earlier protocol"               # or it ran before η followed the rule at every scale
        return "other scale" if claim.ran_declared_parameters(scaled, section) else "earlier protocol"
    if not claim.ran_declared_parameters(p, section):
        return "earlier protocol"
    if not claim.ran_current_protocol(p, section):
        return "other seeds"
    if trained_batched(section):
        return "batched"   # statistically equivalent runs, not the report's own trajectories: no reading of them
    return "reading" if claim.readings.get(profile) else "current"


def seed_span(seeds: list[int]) -> str:
    return f"seeds {seed_range(seeds)}" if seeds else "its seeds"


_BATCHED_NOTE = [
    "> **Batched runs.** This section's runs were trained as one batched model (`--executor batched`): "
    "statistically equivalent runs, not the trajectories the protocol's report was read from (README, "
    "*Several runs as one batched model*), so its verdict is not the protocol's report and the reading "
    "written for that report is not shown."]


def _scaled_eta(section: dict) -> str:
    """What the note on a scaled GD section adds: its η is the η rule's at that scale (lrsci.eta_rule.at_scale)."""
    from .eta_rule import RECORD_PARAM

    record = (section.get("protocol") or {}).get(RECORD_PARAM) or {}
    if not record.get("scale") or record.get("eta") is None:
        return ""
    seeds = record.get("dev_seeds") or []
    on = f" on dev {seed_span(seeds)}" if seeds else ""
    return (f" Its η = {record['eta']:g} is the η rule's applied at this scale{on} (η_div = {record['eta_div']:g}; "
            "the record is the protocol's `eta_calibration`).")


def trained_batched(section: dict) -> bool:
    return (section.get("provenance") or {}).get("executor") == "batched"


def section_notes(claim, profile: str, section: dict) -> tuple[str, list[str]]:
    """(a suffix for the verdict, Markdown notes) for one stored section of ``claim`` (None: no notes)."""
    state = "current" if claim is None else section_state(claim, profile, section)
    if state == "current":
        return "", []
    if state == "undeclared":
        return " (profile no longer declared)", [
            f"> **No longer declared.** The claim module declares no profile `{profile}` now; this section is "
            "kept as it was run."]
    p = claim.profile(profile)
    ran, report = seed_span(section.get("seeds") or []), seed_span(report_seeds(p))
    if state == "earlier protocol":
        return EARLIER, [
            f"> **Earlier protocol.** This section ran on {ran} under a protocol the claim module has since "
            f"replaced; the current one ({report}) has not run at this profile yet, so this verdict is not the "
            "current protocol's."]
    if state == "other scale":
        from .overrides import describe

        other = [f"> **Another scale.** This section ran with {describe(section['run_overrides'])} (`--set`), on {ran}: "
                 "the protocol's tests and thresholds asked of a bigger or smaller experiment than the one they were "
                 "registered for, so its verdict is not the protocol's report. The protocol below shows every value its "
                 "runs used." + _scaled_eta(section)]
        return (OTHER_SCALE + BATCHED, other + _BATCHED_NOTE) if trained_batched(section) else (OTHER_SCALE, other)
    if state == "other seeds":
        drawn, declared = data_seed(section), p.run.data.seed
        if drawn not in (None, declared):   # another draw of the data (--data-seed)
            ran, report = f"{ran}, data seed {drawn}", f"{report}, data seed {declared}"
        other = [f"> **Other seeds.** This section ran on {ran}, not the protocol's report {report} (a `--seed-offset`, "
                 "`--seeds` or `--data-seed` run): its verdict is not the protocol's report."]
        if trained_batched(section):   # both marks: a reader comparing it with the report should know each
            return OTHER_SEEDS + BATCHED, other + _BATCHED_NOTE
        return OTHER_SEEDS, other
    if state == "batched":
        return BATCHED, _BATCHED_NOTE
    return READ_NOTE, [f"> **Reading, written after the run** (not a criterion: the verdict is the "
                       f"pre-registered one). {claim.readings[profile]}"]

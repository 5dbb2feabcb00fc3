"""What a device session brought back, taken into this checkout (``tools/take_device_results.py``).

``tools/device_session.sh`` packs, as it goes, one ``results.tgz``: the device's copy of ``reports/`` (the
sections the session wrote, beside every section it was given with the checkout), ``claims/calibration/``
(where a calibration run writes its record), its logs (``lrsci-logs/``: each part's output and the
pytest-benchmark JSON) and its run store's JSON (``runs/``). Copying those folders over this checkout would
also copy back what the device was given, undoing any change made here since the session started. So this
takes only what the session added:

- a report section trained on a GPU that this checkout lacks, or holds an older one of
  (``lrsci.report.write_section``: under the claim's lock, earlier declarations kept, report re-rendered);
- a calibration record this checkout lacks, once the claims' own reader has read it (a record it refuses
  would stop every claim module from importing); one that differs from the record here is an error, since
  a calibration is done once;
- the throughput and Hessian benchmarks, filed from their JSON (``lrsci.benchmark_report``), which also puts
  the Hessian figure into gd-larger-lr-diverges' gpu provenance. This runs after the sections: filed on the
  device, that provenance entry would not survive a section being taken again.

Everything is decided before anything is written (``plan``), so a refused archive changes nothing.
"""
from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from . import autodecay_calibration, benchmark_report, eta_rule, files, report
from .calibration import CalibrationError

# what device_session.sh names its parts' benchmark JSON: the only ones filed here (the claims' own
# bench-<claim>.json hold their wall times, which their sections' provenance already has)
BENCHMARKS = ("bench-throughput.json", "bench-hessian.json")


# the reader the claim modules use for each kind of calibration record (<prefix><profile>.json): a record
# they could not read would stop every claim module from importing once it is in the tree
READERS = {"autodecay-": autodecay_calibration.calibrated, "gd-eta-": eta_rule.record_named}   # gd-eta-: a scale too


class DeviceResultsError(RuntimeError):
    """The archive cannot be taken as it is: unreadable, unsafe, or in conflict with this checkout."""


@dataclass
class Section:
    """What to do with one claim × profile section of the archive: take, same (already here) or skip."""
    claim: str
    profile: str
    action: str
    why: str
    header: dict = field(default_factory=dict, repr=False)   # the record's id, title, source and statement
    section: dict = field(default_factory=dict, repr=False)

    @property
    def verdict(self) -> str:
        return self.section.get("verdict", "")


@dataclass
class Plan:
    sections: list[Section]
    calibrations: list[tuple[Path, str]]   # (record in the archive, "take" or "same")
    benchmarks: list[Path]
    notes: list[str] = field(default_factory=list)   # what is not taken, but a person should look at

    def taken(self) -> list[Section]:
        return [s for s in self.sections if s.action == "take"]


def unpack(archive: Path, into: Path) -> Path:
    """Extract ``archive`` into ``into``, nothing outside it (files.extract_tar)."""
    try:
        files.extract_tar(archive, into)
    except files.UnsafeArchive as exc:   # an absolute path, a '..', a link out of the folder, a device file
        raise DeviceResultsError(f"{archive}: refused {exc}; a results.tgz from tools/device_session.sh "
                                 "holds none") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DeviceResultsError(f"{archive} cannot be read ({exc}); if the copy was cut off, fetch it "
                                 "again") from None
    return Path(into)


def decide(theirs: dict, ours: dict | None) -> tuple[str, str]:
    """Take the archive's section ``theirs`` over this checkout's ``ours`` (None: none here)?"""
    if ours is not None and not report.result_differences(ours, theirs):
        return "same", "this checkout has the same result"
    prov = theirs.get("provenance", {})
    if not str(prov.get("device", "")).startswith("cuda"):
        return "skip", (f"trained on {prov.get('device_name') or prov.get('device') or 'an unknown device'}, not "
                        "a GPU: a device session trains gpu profiles only, so this came with its checkout")
    if ours is None:
        return "take", "new"
    mine, new = ours.get("provenance", {}).get("date") or "", prov.get("date") or ""
    if new > mine:
        return "take", f"replaces the section of {mine[:10] or 'an unknown date'}"
    return "skip", f"not newer ({new or 'undated'}) than this checkout's ({mine})"


def section_plan(their_reports: Path, our_reports: Path, known: set[str]) -> list[Section]:
    """A decision for every section of every claim record the archive holds (replications and benchmarks
    aside: a device session writes neither under reports/<claim>/)."""
    out = []
    for path in sorted(Path(their_reports).glob("*/result.json")):
        try:
            theirs = report.read_record(path, quarantine_bad=False)
        except ValueError as exc:
            raise DeviceResultsError(f"the archive's {path.parent.name}/result.json: {exc}") from None
        header = {k: theirs.get(k) for k in ("id", "title", "source", "statement")}
        try:
            ours = report.read_record(Path(our_reports) / theirs["id"] / "result.json", quarantine_bad=False) or {}
        except ValueError as exc:   # this checkout's record is damaged: mend it first, never write over it
            raise DeviceResultsError(str(exc)) from None
        for profile, sec in sorted(theirs["profiles"].items()):
            if theirs["id"] not in known:
                action, why = "skip", "no such claim in this checkout"
            else:
                action, why = decide(sec, ours.get("profiles", {}).get(profile))
            out.append(Section(theirs["id"], profile, action, why, header, sec))
    return out


def calibration_plan(theirs: Path, ours: Path) -> list[tuple[Path, str]]:
    """(record, "take" | "same") for every calibration record in the archive; one that differs from the
    record of the same name here is refused: a calibration is done once, and the committed one stands."""
    out = []
    for path in sorted(Path(theirs).glob("*.json")):
        mine = Path(ours) / path.name
        try:
            record = files.read_json_object(path)
        except ValueError as exc:
            raise DeviceResultsError(f"the archive's calibration record {path.name} is unreadable ({exc})") from None
        try:
            ours_now = files.read_json_object(mine)
        except ValueError as exc:   # named, left for the user: it is a committed file, git has its history
            raise DeviceResultsError(f"this checkout's {mine} is unreadable ({exc}): restore it from git, then "
                                     "take the results again. Nothing was taken") from None
        if ours_now is None:
            readable(path)
            out.append((path, "take"))
        elif ours_now == record:
            out.append((path, "same"))
        else:
            raise DeviceResultsError(
                f"the archive's {path.name} differs from {mine}: a calibration is done once and this checkout "
                "already has one. Nothing was taken; compare the two by hand (the session calibrated again, "
                "so the record was missing from the tree it was given?)")
    return out


def readable(path: Path) -> None:
    """Refuse a record the claims' own reader cannot use (that reader moves it aside in the unpacked copy)."""
    for prefix, read in READERS.items():
        if path.name.startswith(prefix):
            try:
                read(path.name[len(prefix):-len(".json")], folder=path.parent)
            except CalibrationError as exc:
                raise DeviceResultsError(f"the archive's calibration record cannot be used: {exc}. Nothing "
                                         "was taken") from None


def plan(unpacked: Path, root: Path, known: set[str]) -> Plan:
    """Everything the archive unpacked at ``unpacked`` would change in the checkout at ``root``."""
    unpacked, root = Path(unpacked), Path(root)
    if not (unpacked / "reports").is_dir():
        raise DeviceResultsError(f"{unpacked} holds no reports/: not a results.tgz of tools/device_session.sh")
    logs = unpacked / "lrsci-logs"
    notes = []
    if (logs / "throughput-partial.jsonl").is_file() and not (logs / "bench-throughput.json").is_file():
        notes.append("the throughput benchmark was cut off before its JSON was written: what it measured is in "
                     "lrsci-logs/throughput-partial.jsonl (not filed; keep it with --keep)")
    return Plan(sections=section_plan(unpacked / "reports", root / "reports", known),
                calibrations=calibration_plan(unpacked / "claims" / "calibration", root / "claims" / "calibration"),
                benchmarks=[logs / name for name in BENCHMARKS if (logs / name).is_file()], notes=notes)


def apply(p: Plan, root: Path) -> None:
    """Write what ``p`` takes: calibration records (never replacing one), sections, then benchmarks."""
    root = Path(root)
    for path, action in p.calibrations:
        if action == "take":   # the record's bytes as the device wrote them; never onto an existing one
            target = root / "claims" / "calibration" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            files.publish_new(target, lambda tmp, data=path.read_bytes(): Path(tmp).write_bytes(data))
    for s in p.taken():
        report.write_section(root / "reports", s.header, s.profile, s.section)
    for path in p.benchmarks:
        bench = json.loads(path.read_text(encoding="utf-8"))
        benchmark_report.add(root / "reports" / "benchmarks", bench)
        benchmark_report.add_hessian(root / "reports", bench, benchmarks_dir=root / "reports" / "benchmarks")


def describe(p: Plan) -> list[str]:
    """One line per decision, the taken sections first."""
    order = {"take": 0, "skip": 1, "same": 2}
    lines = [f"{s.action:5s} {s.claim}[{s.profile}]" + (f" ({s.verdict})" if s.action == "take" else "")
             + f": {s.why}" for s in sorted(p.sections, key=lambda s: order[s.action])]
    lines += [f"{action:5s} calibration record {path.name}" for path, action in p.calibrations]
    lines += [f"file  benchmark {path.name}" for path in p.benchmarks]
    return lines + [f"note  {n}" for n in p.notes]

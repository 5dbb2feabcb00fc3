"""The one driver every claim goes through: train, analyse, judge, report.

``check(claim, profile, ctx)`` trains the arms the claim declares (through the run store, so
nothing is trained twice), turns the runs into pre-registered criteria, compares the failed
criteria with the profile's declared expected failures, and writes the report. The pytest
items in ``claims/`` and ``lrsci run`` are thin callers of it, so the report's verdict and the
test outcome are one fact:

    outcome "replicated"   every required criterion passed           -> test passes
    outcome "as declared"  exactly the declared criteria failed      -> test xfails, reason from this run's figures
    outcome "unexpected"   any other set, or the declaration is bad  -> test fails, unless the runs'
                           numbers are not the committed report's (:func:`numbers_not_committed`) and
                           each criterion that moved has a 95 % interval overlapping its committed one
                           (:func:`decided_beyond_rounding`): then it xfails saying so (claims/conftest.py)
An exception while training or analysing propagates: it is never read as an expected failure.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from . import analysis_check
from .claim import Claim, ClaimError, Profile, other_seeds_reason
from .criteria import judge, verdict
from .harness import ClaimContext, Progress
from .runs import RunStore


@dataclass
class Outcome:
    outcome: str     # "replicated" | "as declared" | "unexpected"
    message: str
    section: dict

    @property
    def ok(self) -> bool:
        return self.outcome != "unexpected"


def context(profile: Profile, *, run_store, report_dir, data_root=None, seeds: int | None = None,
            seed_offset: int | None = None, run_overrides: dict | None = None,
            progress: bool | None = None) -> ClaimContext:
    """The context a profile trains in: its device, its report seeds (``profile.first_seed``, and on)
    unless ``seeds`` / ``seed_offset`` (the first seed) say otherwise; ``run_overrides``: the scale --set
    asked for (lrsci.overrides), which every run must carry; ``progress``: lines as runs train (None:
    LRSCI_PROGRESS)."""
    seed_offset = profile.first_seed if seed_offset is None else seed_offset
    shown = {} if progress is None else {"progress": Progress(enabled=progress)}
    return ClaimContext(profile=profile.name, store=RunStore(run_store, data_root=data_root),
                        report_root=Path(report_dir), n_seeds=seeds or profile.seeds,
                        seed_offset=seed_offset, device=profile.device, run_overrides=dict(run_overrides or {}),
                        **shown)


def check(claim: Claim, profile: Profile, ctx: ClaimContext) -> Outcome:
    """Train, analyse, judge against the declaration, write the report section; return the outcome."""
    ctx.check_can_report(claim.id)   # before training, not after it
    runs = claim.train(ctx, profile)
    analysis, spec = claim.analyse(runs, profile), claim.figure(runs, profile)
    analysis_check.check(claim.id, profile.name, analysis, spec)   # a malformed one is never stored
    analysis = dict(analysis)
    rows = analysis["tests"]
    outcome, message = judge_outcome(rows, declared_profile(claim, profile), analysis.get("headline"), ctx.seeds,
                                     profile.run.data.seed, ctx.run_overrides)
    section = {"protocol": claim.protocol(profile), **analysis, "verdict": verdict(rows),
               "figure": {"file": f"fig-{profile.name}.png", "spec": spec}}
    if profile.expected_failures:
        section["expected_failures"] = dict(profile.expected_failures)
        section["outcome"] = outcome
        section["outcome_message"] = message
    return Outcome(outcome, message, ctx.finish(claim.header, section))


def judge_outcome(rows: list[dict], profile: Profile, headline: str | None, seeds: list[int], data_seed: int | None,
                  run_overrides: dict | None) -> tuple[str, str]:
    """The outcome and message of ``rows`` against ``profile``'s declaration (as declared: not at another data
    seed), for a run on ``seeds`` with its data drawn with ``data_seed`` at the scale ``run_overrides`` names:
    what a report section records (driver.check, and tools/upgrade_reports.py when it judges a stored section
    again). Only the protocol's own run is a full run: no finding is declared from another."""
    other_seeds = other_seeds_reason(profile, seeds, data_seed)
    full_run = len(seeds) >= profile.seeds and not run_overrides and not other_seeds
    outcome, message = judge(rows, profile.expected_failures, headline, full_run=full_run,
                             other_scale=bool(run_overrides))
    if outcome != "replicated" and run_overrides:
        message = other_scale_note(run_overrides) + message
    elif outcome != "replicated" and len(seeds) < profile.seeds:
        message = fewer_seeds_note(len(seeds), profile.seeds) + message
    elif outcome != "replicated" and other_seeds:
        message = (f"on {other_seeds}: this verdict is not the protocol's report, and no expected failure should be "
                   "declared from it (set it beside the report: lrsci compare) — " + message)
    return outcome, message


def seeds_of(profile: Profile, seeds: int | None = None, seed_offset: int | None = None) -> list[int]:
    """The seeds a run of ``profile`` trains: ``seeds`` of them (default the profile's) from ``seed_offset``
    (default its ``first_seed``), as :func:`context` sets them."""
    first = profile.first_seed if seed_offset is None else seed_offset
    return list(range(first, first + (seeds or profile.seeds)))


def refuse_other_seeds_in_committed(profile: Profile, seeds: list[int], data_seed: int | None, report_dir,
                                    committed) -> None:
    """A run on other seeds than the report's (--seeds, --seed-offset, --data-seed) is not the protocol's report:
    it must not replace the committed section. ValueError, before anything trains, when it would."""
    why = other_seeds_reason(profile, seeds, data_seed)
    if why and Path(report_dir).resolve() == Path(committed).resolve():
        raise ValueError(f"profile {profile.name!r} on {why}: that report is not the protocol's, so it does not go "
                         f"into the committed {Path(committed).resolve()}; name a --report-dir (e.g. "
                         "reports/replication/<name>) and set it beside the committed one with `lrsci compare reports "
                         "DIR`")


def declared_profile(claim: Claim, profile: Profile) -> Profile:
    """``profile`` with the data seed its claim declares (the one it reports on), whatever --data-seed drew."""
    try:
        declared = claim.profile(profile.name)
    except ClaimError:   # a profile the claim does not list (a test's own): as given
        return profile
    return with_data_seed(profile, declared.run.data.seed)


def fewer_seeds_note(n: int, declared: int) -> str:
    """What a non-replication on fewer seeds than declared says first (``--seeds 2``). Why: at such an n a test
    may be unable to pass at all (a sign test's smallest p is 0.5**n: 0.25 at n = 2), so such a failure is no
    finding to declare (judge, told it is not a full run, leaves out that advice)."""
    return (f"n = {n} seeds is fewer than the profile's declared {declared}: this verdict is not the protocol's, "
            "and no expected failure should be declared from it — ")


def other_scale_note(overrides: dict) -> str:
    """What a non-replication at a scale --set asked for says first: its declared expected failures were
    written for the profile's own scale, so neither its verdict nor its failures are the protocol's."""
    from .overrides import describe

    return (f"at another scale ({describe(overrides)}): this verdict is not the protocol's, and no expected "
            "failure should be declared from it — ")


def with_run_overrides(profile: Profile, overrides: dict, protocol: dict | None = None,
                       claim: Claim | None = None) -> Profile:
    """``profile`` at the scale ``overrides`` names (--set; lrsci.overrides.apply), with what a rule calibrates
    taken at that scale (GD's η: lrsci.eta_rule.at_scale; from ``protocol``, a stored section's, when given);
    ``{}``: as is. Raises OverrideError for a scale it cannot take, CalibrationError for one not calibrated.
    Given the ``claim``, its protocol values derived at that scale (decay points, ...) must exist too: a budget too
    small for its design is refused here, before anything trains, not after."""
    from .eta_rule import at_scale
    from .overrides import OverrideError, apply, describe

    scaled = apply(profile, overrides)
    if claim is not None and overrides:   # before the η rule's record is asked for: no calibration for a lost cause
        try:
            claim.protocol(scaled)
        except ValueError as exc:
            raise OverrideError(f"--set {describe(overrides)}: profile {profile.name!r} of {claim.id}: {exc}") from None
    return at_scale(scaled, overrides, protocol=protocol)


def with_data_seed(profile: Profile, seed: int | None) -> Profile:
    """``profile`` with its data drawn with ``seed`` (--data-seed): another draw of the synthetic data, another
    subset of a real set; everything else, the declared expected failures included, as declared. None: as is."""
    if seed is None or seed == profile.run.data.seed:
        return profile
    return replace(profile, run=profile.run.with_(**{"data.seed": seed}))


def skip_reason(profile: Profile, data_root=None) -> str | None:
    """Why a profile cannot run here without it being a failure (its optional data is absent)."""
    from .data.registry import dataset_available

    if profile.optional_data and not dataset_available(profile.run.data, data_root):
        return (f"profile {profile.name!r} runs only when {profile.run.data.name} is under --data-root / "
                "LRSCI_DATA (it cannot be downloaded here)")
    return None


def committed_section(claim_id: str, profile: str, committed_root: Path) -> dict | None:
    """The committed report's section of a profile (read before a run that may write over it), or None."""
    from . import report

    try:
        record = report.read_record(Path(committed_root) / claim_id / "result.json", quarantine_bad=False)
    except Exception:  # noqa: BLE001 -- an unreadable committed report: nothing to compare with
        return None
    return (record or {}).get("profiles", {}).get(profile)


def numbers_not_committed(committed: dict | None, section: dict) -> list[str]:
    """Where a fresh section's numbers differ from the committed section (:func:`committed_section`) on the
    same seeds and protocol: its per-seed values (``per_seed[...]``); empty when they are the same, or when
    there is no such committed section to compare with (other seeds, a changed protocol, no report).

    Why it matters: a profile's declared expected failures were written for the committed numbers. The same
    seeds on another CPU (its kernels round otherwise, and chaotic SGD carries the last bits to whole points
    of accuracy) are statistically equivalent runs, not the same ones, and at five seeds a criterion near its
    threshold may decide otherwise there: a finding about that machine's runs, which its report records,
    not a failure of the code. A change to training that moves the numbers looks the same from here;
    tools/check_reproduced.py --fresh, on a machine like the report's, is the check for that."""
    from . import report

    section = _as_stored(section)
    if not committed or committed.get("seeds") != section.get("seeds") or committed.get("protocol") != section.get("protocol"):
        return []
    return [d for d in report.result_differences(committed, section) if d.startswith("per_seed[")]


def decided_beyond_rounding(committed: dict, section: dict) -> list[str]:
    """Required criteria that decide otherwise than in the committed section although their 95 % intervals
    do not overlap, or either has none (a count, a binomial row): more than statistically equivalent runs
    explain — a change to training, not another CPU's rounding — so such an item fails, never xfails."""
    section = _as_stored(section)
    before = {row["criterion"]: row for row in committed.get("tests", []) if not row.get("reported_only")}
    out = []
    for row in section.get("tests", []):
        old = before.get(row["criterion"])
        if row.get("reported_only") or old is None or old.get("passed") == row.get("passed"):
            continue
        a, b = old.get("ci"), row.get("ci")
        if not (a and b and None not in (*a, *b) and a[0] <= b[1] and b[0] <= a[1]):
            out.append(row["criterion"])
    return out


def _as_stored(section: dict) -> dict:
    """A section as result.json holds it (seeds as keys become strings, tuples lists, NaN null)."""
    import json

    from . import report

    return json.loads(json.dumps(report.json_safe(section)))

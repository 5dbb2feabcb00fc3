"""Two report folders side by side: does each verdict hold on other seeds (or at another scale, ``--set``)?

A profile run on another seed range (``--seeds N --seed-offset K --report-dir DIR``) writes its own
report folder. :func:`compare` puts its sections beside the ones in a base folder (say the committed
``reports/``), criterion by criterion: the decision (pass / fail) and the effect with its interval
in each. A claim *holds* when every required criterion made the same decision in both; a criterion
that is reported only (not part of the verdict) is shown but never decides that. ``lrsci compare``
prints the result as Markdown (docs/replication.md is one such comparison). Given more than one other
folder (a sweep over scales, say), :func:`render_sweep` puts every folder's decision and effect of each
criterion in one row, and says for each folder whether every verdict held against the base.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import report
from .overrides import describe
from .claim import seed_range
from .report_notes import trained_batched


@dataclass(frozen=True)
class Row:
    claim: str
    criterion: str
    test: str            # a criterion may have two rows (a t-test and a reported-only Wilcoxon, say)
    required: bool
    base: dict | None    # the test row in the base folder, None where it has no such criterion
    other: dict | None

    @property
    def same(self) -> bool:
        return decision(self.base) == decision(self.other)


@dataclass(frozen=True)
class ClaimComparison:
    claim: str
    base_seeds: list
    other_seeds: list
    base_verdict: str | None
    other_verdict: str | None
    rows: list
    base_scale: str = ""    # "model.hidden=64" for a section run at another scale (--set), else ""
    other_scale: str = ""
    base_batched: bool = False   # trained as one batched model (--executor batched): equivalent runs, not the same
    other_batched: bool = False

    @property
    def holds(self) -> bool:
        """Every required criterion made the same decision on both seed ranges."""
        return all(r.same for r in self.rows if r.required)

    @property
    def unmatched(self) -> list[str]:
        """Required criteria that only one folder has: named by a value that moved with the scale (a decay step
        under --set epochs), or the protocols differ. They make ``holds`` False; :func:`notes` says why."""
        return [r.criterion for r in self.rows if r.required and (r.base is None) != (r.other is None)]


LEGEND = ("≠: the decision differs from the base folder's; absent: that folder has no criterion of this name; "
          "–: no effect measured (or no such folder); an effect without an interval: every seed gave the same value.")


def notes(comparisons: list[ClaimComparison]) -> list[str]:
    """What a reader needs below the tables: the legend, and each claim whose criteria do not line up by name."""
    out = ["", LEGEND]
    for c in comparisons:
        if c.unmatched:
            scaled = " (the scales differ: a criterion named by an epoch or step moves with --set epochs)" if (
                c.base_scale != c.other_scale) else ""
            out.append(f"{c.claim}: {len(c.unmatched)} required criteria are in one folder only{scaled}, so "
                       "they cannot be compared by name: read them by their place in the design.")
    return out


def decision(test: dict | None) -> str:
    if test is None:
        return "absent"
    if test.get("effect") is None:
        return "undefined"   # nothing measured (e.g. every run diverged): neither a pass nor a fail of the effect
    return "pass" if test.get("passed") else "fail"


def compare(base_root: str | Path, other_root: str | Path, profile: str = "fast") -> list[ClaimComparison]:
    """Every claim with a ``profile`` section in both folders, compared criterion by criterion.

    Raises ValueError naming a folder that holds no such section at all (a wrong path or profile)."""
    base, other = (_sections(root, profile) for root in (base_root, other_root))
    for root, found in ((base_root, base), (other_root, other)):
        if not found:
            held = sorted({p for r in report.load_all(root) for p in r.get("profiles", {})})
            raise ValueError(f"{root}: no claim report with a {profile!r} section " +
                             (f"(its reports hold the profiles {', '.join(held)}: --profile NAME)" if held
                              else "(is it a report folder?)"))
    return [_compare_claim(cid, base[cid], other[cid]) for cid in sorted(set(base) & set(other))]


def _sections(root: str | Path, profile: str) -> dict:
    if not Path(root).is_dir():
        raise ValueError(f"{root}: no such folder")
    return {r["id"]: r["profiles"][profile] for r in report.load_all(root) if profile in r.get("profiles", {})}


def _compare_claim(cid: str, base: dict, other: dict) -> ClaimComparison:
    by_name = [{(t["criterion"], t.get("test", "")): t for t in sec.get("tests", [])} for sec in (base, other)]
    names = list(by_name[0]) + [n for n in by_name[1] if n not in by_name[0]]
    rows = [Row(cid, *n, not any(t.get("reported_only") for t in (by_name[0].get(n), by_name[1].get(n)) if t),
                by_name[0].get(n), by_name[1].get(n)) for n in names]
    return ClaimComparison(cid, base.get("seeds") or [], other.get("seeds") or [], base.get("verdict"),
                           other.get("verdict"), rows, *(describe(sec.get("run_overrides") or {}) for sec in (base, other)),
                           *(trained_batched(sec) for sec in (base, other)))


def _effect(test: dict | None) -> str:
    if test is None or test.get("effect") is None:
        return "–"
    ci = test.get("ci") or [None, None]
    text = f"{test['effect']:+.3g}"
    if ci[0] is not None and ci[1] is not None and ci[0] != ci[1]:
        text += f" [{ci[0]:+.3g}, {ci[1]:+.3g}]"
    return text + f" (n={test.get('n')})"


def _seeds(seeds: list, scale: str, batched: bool = False) -> str:
    return seed_range(seeds) + (f" at {scale}" if scale else "") + (" (batched runs)" if batched else "")


def render(comparisons: list[ClaimComparison], base_name: str, other_name: str) -> str:
    """Markdown: one line per claim (holds or not), then every criterion's decision and effect in both."""
    lines = [f"| claim | seeds ({base_name}) | seeds ({other_name}) | verdict ({base_name}) | "
             f"verdict ({other_name}) | every required criterion the same |", "|---|---|---|---|---|---|"]
    for c in comparisons:
        lines.append(f"| {c.claim} | {_seeds(c.base_seeds, c.base_scale, c.base_batched)} | {_seeds(c.other_seeds, c.other_scale, c.other_batched)} | {c.base_verdict} | "
                     f"{c.other_verdict} | {'yes' if c.holds else '**no**'} |")
    lines += ["", f"| claim | criterion | test | {base_name} | {other_name} | effect, 95% CI ({base_name}) | "
              f"effect, 95% CI ({other_name}) |", "|---|---|---|---|---|---|---|"]
    for c in comparisons:
        for r in c.rows:
            mark = "" if r.same else " ≠"
            name = r.criterion + ("" if r.required or "reported only" in r.criterion else " (reported only)")
            lines.append(f"| {c.claim} | {name} | {r.test} | {decision(r.base)} | {decision(r.other)}{mark} | "
                         f"{_effect(r.base)} | {_effect(r.other)} |")
    return "\n".join(lines + notes(comparisons)) + "\n"


def render_sweep(base_name: str, found: dict[str, list[ClaimComparison]]) -> str:
    """Markdown for one base folder beside several others (``found``: folder name -> :func:`compare` of the base
    with it): per claim and folder, its seeds, verdict and whether every required criterion decided as in the
    base; then per criterion one column per folder (decision and effect), the base's first. A claim appears
    wherever at least one other folder has it; a folder without it shows "–"."""
    names = list(found)
    claims = sorted({c.claim for comps in found.values() for c in comps})
    by = {name: {c.claim: c for c in comps} for name, comps in found.items()}
    lines = ["| claim | folder | seeds | verdict | every required criterion as in " + base_name + " |",
             "|---|---|---|---|---|"]
    for cid in claims:
        first = next(by[n][cid] for n in names if cid in by[n])
        lines.append(f"| {cid} | {base_name} | {_seeds(first.base_seeds, first.base_scale, first.base_batched)} | {first.base_verdict} | |")
        lines += [f"| {cid} | {n} | {_seeds(c.other_seeds, c.other_scale, c.other_batched)} | {c.other_verdict} | "
                  f"{'yes' if c.holds else '**no**'} |" for n in names if (c := by[n].get(cid))]
    lines += ["", "| claim | criterion | test | " + " | ".join([base_name, *names]) + " |",
              "|---|---|---|" + "---|" * (len(names) + 1)]
    for cid in claims:
        lines += [_sweep_row(cid, key, [by[n].get(cid) for n in names]) for key in _criteria(cid, by, names)]
    seen = {c.claim: c for n in names for c in found[n] if c.unmatched}   # one note per claim is enough
    return "\n".join(lines + notes(list(seen.values()))) + "\n"


def _criteria(cid: str, by: dict, names: list) -> list[tuple[str, str]]:
    """Every (criterion, test) of ``cid`` in any folder, in the order the base and then each folder has them."""
    keys: list[tuple[str, str]] = []
    for n in names:
        for r in (by[n][cid].rows if cid in by[n] else []):
            if (r.criterion, r.test) not in keys:
                keys.append((r.criterion, r.test))
    return keys


def _sweep_row(cid: str, key: tuple[str, str], comps: list) -> str:
    rows = [next((r for r in c.rows if (r.criterion, r.test) == key), None) if c else None for c in comps]
    base = next((r.base for r in rows if r is not None and r.base is not None), None)
    required = all(r.required for r in rows if r is not None)
    name = key[0] + ("" if required or "reported only" in key[0] else " (reported only)")
    cells = [_cell(base, False)] + [_cell(r.other, not r.same) if r else "–" for r in rows]
    return f"| {cid} | {name} | {key[1]} | " + " | ".join(cells) + " |"


def _cell(test: dict | None, changed: bool) -> str:
    if test is None:
        return "absent"
    return f"{decision(test)}{' ≠' if changed else ''} {_effect(test)}"

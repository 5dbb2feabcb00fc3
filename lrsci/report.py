"""Claim reports: ``result.json`` is the record, ``report.md`` and the figures render from it.

One folder per claim under the report root::

    reports/<claim>/result.json     {"claim", "source", "statement", "profiles": {profile: section}}
    reports/<claim>/report.md       every profile's section, rendered
    reports/<claim>/fig-<profile>.png
    reports/README.md               index: claim × profile → verdict, effect, date

A profile's section holds its protocol, seeds, per-seed values, tests (statistic, p, CI,
threshold, pass), verdict and provenance. Re-rendering reads these files and, for the notes beside a
section (run under an earlier protocol; a reading written after the run), the claim modules
(lrsci.report_notes).
"""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

from filelock import FileLock

from . import figures, files
from .claim import seed_range
from .criteria import VERDICTS, p_text
from .report_notes import declared_claims, section_notes
from .report_schema import SCHEMA, upgrade_record



def json_safe(obj):
    """JSON-safe: NaN/inf become None, tuples become lists, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


class ReportDirError(RuntimeError):
    """The report folder cannot be written (not a folder, not writable)."""


def check_report_dir(report_root: str | Path, claim_id: str) -> None:
    """Before training: the claim's report folder can be made and written, so a run does not train for hours
    and then fail to say what it found. A ReportDirError names the folder and why."""
    folder = Path(report_root) / claim_id
    try:
        files.probe_creatable(folder)   # makes nothing that stays: a run stopped early leaves no empty folder
    except OSError as exc:
        where = "" if exc.filename in (None, str(folder)) else f": {exc.filename}"
        raise ReportDirError(f"cannot write the report in {folder} ({exc.strerror or exc}{where}); choose a "
                             "writable --report-dir") from None


def write_section(report_root: str | Path, claim: dict, profile: str, section: dict, draw_figures: bool = True) -> Path:
    """Merge one profile's section into the claim's result.json and re-render the claim and index
    (``draw_figures=False``: the report without drawing its PNGs, whose specs stay in result.json).

    Read-modify-write under a file lock, so two writers (say a fast and a gpu run of one
    claim) both land; every file is written to a temporary name and renamed into place.
    """
    if section.get("verdict") not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {section.get('verdict')!r}")
    folder = Path(report_root) / claim["id"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "result.json"
    with FileLock(str(folder / ".result.json.lock")):
        record = read_record(path) or {}
        record.update({k: claim[k] for k in ("id", "title", "source", "statement")}, schema=SCHEMA)
        new, old = json_safe(section), record.setdefault("profiles", {}).get(profile)
        if old is not None and _same_result(old, new) and not _trains_what_old_only_loaded(old, new):
            # an identical re-analysis (runs loaded from the store) keeps the training provenance, and takes
            # everything else (summary, headline, extra tables, figure) from the analysis as it is now
            new = {**new, "provenance": old["provenance"]}
        elif old is not None and _extends_result(old, new):
            # rows or values added by the analysis as it is now, over the same runs: the section keeps the
            # provenance of the run that produced its verdict, and says when it was analysed again
            new = {**new, "provenance": {**old["provenance"], "analysed_again": _reanalysis_note(new["provenance"])}}
        if old is not None:
            new = _keep_declaration_history(old, new)
        record["profiles"][profile] = new
        files.write_json(path, record)
        render_claim(folder, draw_figures=draw_figures)
    with FileLock(str(Path(report_root) / ".index.lock")):  # claims finishing at once: the last index sees all
        render_index(report_root)
    return path


def set_provenance(folder: Path, profile: str, key: str, value) -> None:
    """Add one entry to a stored section's provenance (a measurement filed beside it) and re-render the
    claim; verdicts, tests and values are untouched. Under the claim's lock, written atomically."""
    path = Path(folder) / "result.json"
    with FileLock(str(Path(folder) / ".result.json.lock")):
        record = read_record(path, quarantine_bad=False)
        if record is None or profile not in record["profiles"]:
            raise ValueError(f"{path} has no {profile!r} section to file {key!r} beside")
        record["profiles"][profile]["provenance"][key] = value
        files.write_json(path, record)
        render_claim(folder)   # under the lock: a later write_section's render is never overwritten by this one


def read_record(path: Path, quarantine_bad: bool = True) -> dict | None:
    """A claim's result.json in the current schema; None if absent.

    A file that is not valid JSON, or not a claim record, is an error naming it; when about to write
    (``quarantine_bad``) it is instead moved aside, named in a warning, and treated as
    absent — never silently overwritten or deleted.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(record, dict) and isinstance(record.get("id"), str)
                and isinstance(record.get("profiles"), dict)):
            raise ValueError("not a claim record (a JSON object with an 'id' and a 'profiles' object)")
    except (ValueError, UnicodeDecodeError) as exc:   # json.JSONDecodeError is a ValueError
        if not quarantine_bad:
            raise ValueError(f"{path} is unreadable ({exc}); restore it from git or move it aside") from None
        moved = files.quarantine(path)
        warnings.warn(f"{path} is unreadable ({exc}); moved it aside to {moved.name} and started a new "
                      "record", stacklevel=2)
        return None
    if not isinstance(record.get("schema", SCHEMA), int):
        raise ValueError(f"{path} has report schema {record['schema']!r}, not a version number: restore it from git")
    if record.get("schema", SCHEMA) > SCHEMA:   # never relabel a newer record as this version's
        raise ValueError(f"{path} has report schema {record['schema']}, newer than this lrsci's {SCHEMA}: "
                         "update lrsci to read or write it")
    return upgrade_record(record)


def fast_section(report_dir: Path, claim_id: str) -> dict:
    """``claim_id``'s fast section in a report folder, for an analysis of its runs written beside it; ValueError
    saying what is missing (the tools of docs/replication.md run the claim first, then read its report)."""
    path = Path(report_dir) / claim_id / "result.json"
    record = read_record(path, quarantine_bad=False)
    if record is None or "fast" not in record["profiles"]:
        raise ValueError(f"{path}: no fast report of {claim_id} there; run the claim first (see --help)")
    return record["profiles"]["fast"]


RESULT_KEYS = ("seeds", "protocol", "per_seed", "tests", "verdict", "expected_failures", "outcome")


def _same_result(a: dict, b: dict) -> bool:
    """Same seeds, protocol, values, tests, verdict and declaration: only provenance (and figure rendering) differ."""
    return not result_differences(a, b)


def result_differences(old: dict, new: dict, rel: float = 0.0) -> list[str]:
    """Where two sections of one profile differ in what a run found (RESULT_KEYS; not provenance, wording
    or figure rendering): a key, or one per-seed value or test row by name. Empty when they agree.
    ``rel`` > 0 lets numbers differ by that relative amount (another scipy's last digits of a p-value)."""
    out = []
    for key in RESULT_KEYS:
        a, b = old.get(key), new.get(key)
        if equal_within(a, b, rel):
            continue
        if key == "per_seed" and isinstance(a, dict) and isinstance(b, dict):
            out += [f"per_seed[{name!r}]" for name in sorted(set(a) | set(b)) if not equal_within(a.get(name), b.get(name), rel)]
        elif key == "tests" and isinstance(a, list) and isinstance(b, list):
            rows_a, rows_b = ({_row_key(r): r for r in rows} for rows in (a, b))
            rows = [f"tests[{name!r}]" for name in sorted(set(rows_a) | set(rows_b))
                    if not equal_within(rows_a.get(name), rows_b.get(name), rel)]
            out += rows or ["tests (their order)"]   # the same rows by name, listed otherwise
        else:
            out.append(key)
    return out


def equal_within(a, b, rel: float) -> bool:
    """a == b, numbers within ``rel`` of each other (and of zero within 1e-12 · rel)."""
    if rel == 0.0 or a == b:
        return a == b
    number = (int, float)
    if isinstance(a, number) and isinstance(b, number) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12 * rel)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal_within(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal_within(x, y, rel) for x, y in zip(a, b))
    return False


def _row_key(row: dict) -> str:
    return row["criterion"] + (" (reported)" if row.get("reported_only") else "")


def _keep_declaration_history(old: dict, new: dict) -> dict:
    """A declaration is evidence of what was expected when: a new section never erases an earlier wording. The
    stored section's earlier declarations stay, and its own declaration joins them when the new one differs."""
    history = list(old.get("provenance", {}).get("earlier_declarations", []))
    if old.get("expected_failures") and old.get("expected_failures") != new.get("expected_failures"):
        history.append({"recorded": old["provenance"].get("declaration_recorded", "with the run"),
                        "expected_failures": old["expected_failures"]})
    if not history or new.get("provenance", {}).get("earlier_declarations") == history:
        return new
    return {**new, "provenance": {**new.get("provenance", {}), "earlier_declarations": history}}


def _trains_what_old_only_loaded(old: dict, new: dict) -> bool:
    """The stored provenance is an analysis of runs trained elsewhere (nothing trained in it), and this one
    trained the same numbers: its record (git, date, wall time, runs trained) is the better one to keep."""
    def trained(sec):
        return sec.get("provenance", {}).get("runs_trained")
    return trained(old) == 0 and (trained(new) or 0) > 0


def _extends_result(old: dict, new: dict) -> bool:
    """A re-analysis that trained nothing and only added to the section: the same seeds, protocol, verdict,
    declaration and outcome, and every stored test row and per-seed value still there, unchanged."""
    same = all(old.get(k) == new.get(k) for k in ("seeds", "protocol", "verdict", "expected_failures", "outcome"))
    rows = {_row_key(r): r for r in new.get("tests", [])}
    kept_rows = all(rows.get(_row_key(r)) == r for r in old.get("tests", []))
    kept_values = all(new.get("per_seed", {}).get(k) == v for k, v in old.get("per_seed", {}).items())
    return same and kept_rows and kept_values and new.get("provenance", {}).get("runs_trained") == 0


def _reanalysis_note(prov: dict) -> str:
    return (f"{prov.get('date', '')}: analysed again at git {prov.get('git', 'unknown')} from the stored runs "
            "(nothing re-trained); rows or per-seed values were added, none changed")


def _fmt(v, digits=3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) < 1e-3 and v != 0 else f"{v:.{digits}f}"
    return str(v)


def _pass_cell(t: dict) -> str:
    """Required rows say yes/NO; reported-only rows say so, so no one reads them as the verdict."""
    if t.get("reported_only"):
        return f"reported ({'yes' if t['passed'] else 'no'})"
    return "yes" if t["passed"] else "NO"


def _ci_cell(t: dict) -> str:
    """The t-interval; the bootstrap CI beside it (labelled) only where a row has one (n >= 10)."""
    ci = t.get("ci") or [None, None]
    if ci[0] is not None and ci[0] == ci[1]:  # zero spread: every seed gave the same value, not a real interval
        return "— (every seed: the same value)"
    cell = f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"
    if t.get("ci_bootstrap"):
        lo, hi = t["ci_bootstrap"]
        cell += f" (bootstrap [{_fmt(lo)}, {_fmt(hi)}])"
    return cell


def _tests_table(tests: list[dict]) -> list[str]:
    lines = ["| criterion | test | H1 | n | effect | 95% CI (t) | seeds on H1's side | statistic | p | threshold | pass |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in tests:
        lines.append(f"| {t['criterion']} | {t['test']} | {t['hypothesis']} | {t['n']} | {_fmt(t['effect'])} | "
                     f"{_ci_cell(t)} | {_side_cell(t)} | {_fmt(t['statistic'])} | {_p_cell(t)} | "
                     f"{t.get('threshold', '')} | {_pass_cell(t)} |")
    return lines


def _p_cell(t: dict) -> str:
    """p to 3 significant digits, more where that rounding would land on the other side of the row's α
    (0.04996 is not printed "0.0500" beside a pass)."""
    return p_text(t.get("p_value"), t.get("alpha"))


def _side_cell(t: dict) -> str:
    """k/n seeds whose own value lies on H1's side; "every seed" / "no seed" when they all agree."""
    k, n = t.get("seeds_on_h1_side"), t.get("n")
    if k is None or not n:
        return "–"
    return f"{k}/{n}" + (" (every seed)" if k == n else " (no seed)" if k == 0 else "")


def _where_trained(prov: dict) -> str:
    """How the runs of a section were trained, as the provenance line says it."""
    executor = prov.get("executor")
    if executor == "batched":
        return "as one batched model in one process"
    if executor == "ray":
        return "as tasks on a Ray cluster"
    return f"{prov.get('workers', '?')} parallel workers"


def _point_interval_note(rows: list[dict]) -> str:
    """What a t-test row with a point interval means (every seed the same difference), where a section has one."""
    from .criteria import T_TESTS

    if not any(r.get("test") in T_TESTS and r.get("ci") and None not in r["ci"] and r["ci"][0] == r["ci"][1]
               for r in rows):
        return ""
    return (" A t-test row whose interval is a point had the same difference on every seed: the t-test has no "
            "answer there, so its p is the exact sign test's, 0.5^n when every seed is on H1's side (such a row "
            "cannot pass below 5 seeds), 1 otherwise (lrsci.stats).")


def _declared_md(sec: dict) -> list[str]:
    """The profile's declared expected failures and whether this run matched them."""
    expected = sec.get("expected_failures") or {}
    if not expected:
        return []
    out = ["### Declared expected failures", "",
           "Declared in the claim module: at this profile the claim is expected to fail exactly these "
           "required criteria (any other outcome fails the test). See the module's calibration record for "
           "when each was declared.", ""]
    out += [f"- **{name}** — {reason}" for name, reason in expected.items()]
    matched = {"as declared": "exactly the declared criteria failed",
               "replicated": "nothing failed: the declaration no longer holds",
               "unexpected": "the outcome differs from the declaration"}
    out += ["", f"Outcome: **{sec.get('outcome', '?')}** — {matched.get(sec.get('outcome'), '')}.", ""]
    if sec.get("outcome") == "unexpected" and sec.get("outcome_message"):   # which criteria, by how much
        out += [sec["outcome_message"], ""]
    return out


def _per_seed_table(per_seed: dict) -> list[str]:
    cols = list(per_seed)
    seeds = per_seed[cols[0]].keys() if cols else []
    lines = ["| seed | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for s in seeds:
        lines.append(f"| {s} | " + " | ".join(_fmt(per_seed[c].get(s)) for c in cols) + " |")
    return lines


def _section_md(profile: str, sec: dict, folder: Path, claim=None) -> list[str]:
    out = _verdict_md(profile, sec, claim) + _declared_md(sec) + _tests_md(sec)
    if sec.get("figure"):  # rendered by render_claim from the same spec
        out += [f"![{profile} figure]({sec['figure']['file']})", ""]
    out += ["### Per-seed values", "", *_per_seed_table(sec.get("per_seed", {})), ""]
    if sec.get("extra_tables"):
        for title, table in sec["extra_tables"].items():
            out += [f"### {title}", "", *_per_seed_table(table), ""]
    out += ["### Protocol", "", "```json", json.dumps(sec.get("protocol", {}), indent=1), "```", ""]
    return out + _provenance_md(sec)


def _verdict_md(profile: str, sec: dict, claim) -> list[str]:
    """The heading with the verdict, the summary, the notes beside it, and what the verdict is not."""
    suffix, notes = section_notes(claim, profile, sec)
    out = [f"## Profile `{profile}` — **{sec['verdict'].upper()}**{suffix}", "", sec.get("summary", ""), ""]
    for note in notes:
        out += [note, ""]
    planned, used = sec.get("protocol", {}).get("seeds"), len(sec.get("seeds", []))
    if isinstance(planned, int) and used < planned:
        out += [f"> **Note:** run with {used} seeds per arm, fewer than the protocol's {planned}: the tests have "
                "less power than was pre-registered, and this verdict is not the protocol's.", ""]
    failed = [t["criterion"] for t in sec["tests"] if not t.get("reported_only") and not t["passed"]]
    if failed:
        out += [f"> **Finding: not replicated at this profile.** Pre-registered criteria that failed: "
                f"{'; '.join(failed)}. The tests, figure and per-seed values below are the evidence.", ""]
    return out


def _tests_md(sec: dict) -> list[str]:
    return ["### Tests (pre-registered)", "", *_tests_table(sec["tests"]), "",
            "95% CI (t): the two-sided t-interval of the mean effect over seeds; a percentile bootstrap CI is "
            "shown beside it only from 10 seeds on. " + _alpha_note(sec["tests"]) + " A ratio row is judged on its point estimate (no test). Seeds on H1's side: how many seeds' own values lie where H1 puts "
            "the mean (– where the row has none, e.g. counts, trends, or rows stored before it was recorded)."
            + _point_interval_note(sec["tests"]), ""]


def _alpha_note(tests: list[dict]) -> str:
    """What the tests' α means beside the 95 % t-interval, from the α the rows carry (not assumed)."""
    alphas = sorted({t["alpha"] for t in tests if isinstance(t.get("alpha"), (int, float))})
    if len(alphas) != 1:
        return ("The tests are one-sided, each at the α its threshold states: a 95 % interval may reach past a "
                "floor or margin while its test passes.")
    a = alphas[0]
    return (f"The tests are one-sided at α = {a:g}, which matches a one-sided {100 * (1 - a):g} % bound (an end of "
            f"the {100 * (1 - 2 * a):g} % two-sided interval): a 95 % interval may reach past a floor or margin "
            "while its test passes.")


def _provenance_md(sec: dict) -> list[str]:
    prov = sec.get("provenance", {})
    out = ["### Provenance", "",
           f"seeds {sec.get('seeds')} (offset {sec.get('seed_offset', 0)}); device {prov.get('device_name')}; "
           f"torch {prov.get('torch')} (CUDA {prov.get('cuda')}); python {prov.get('python')}; "
           f"git `{prov.get('git')}`; {prov.get('date')}; wall time {_fmt(prov.get('wall_seconds'), 1)} s "
           f"({prov.get('runs_trained', '?')} runs trained, {prov.get('runs_loaded', '?')} loaded from the run store, "
           f"{_where_trained(prov)}).", "",
           f"The runs were trained at git {', '.join(f'`{g}`' for g in prov.get('runs_trained_at_git', []))} on "
           f"{', '.join(prov.get('runs_trained_on', []))}; their training wall times sum to "
           f"{_fmt(prov.get('runs_wall_seconds_summed'), 1)} s; "
           f"{_fmt(prov.get('images_per_second_per_run'), 0)} training images/s per run.", ""]
    if prov.get("analysed_again"):   # rows added later over the same runs (write_section)
        out += [f"Analysed again: {prov['analysed_again']}.", ""]
    if prov.get("hessian_benchmark"):  # filed beside the section by tools/benchmark_report.py (issue #8)
        h = prov["hessian_benchmark"]
        out += [f"Hessian cost at this scale (measured separately by `tests/test_benchmark_hessian.py`): top-{h['k']} "
                f"eigenvalues of {h['model']} over {h['examples']:,} images took {_fmt(h['seconds'], 1)} s on "
                f"{h['device_name']} ({h['hvps']} Hessian-vector products, {_fmt(h['seconds_per_hvp'], 3)} s each; "
                f"torch {h['torch']}, git `{h['git']}`, {h['date']}).", ""]
    return out


def render_claim(folder: str | Path, claims: dict | None = None, draw_figures: bool = True) -> Path:
    """report.md and (``draw_figures``) the figures of one claim; ``claims``: the declared claims (default: read
    from the project)."""
    folder = Path(folder)
    rec = read_record(folder / "result.json", quarantine_bad=False)
    claim = (declared_claims(folder.parent) if claims is None else claims).get(rec["id"])
    lines = [f"# {rec['id']}: {rec['title']}", "", f"**Source:** {rec['source']}", "",
             f"**Claim:** {rec['statement']}", ""]
    not_run = [p.name for p in (claim.profiles if claim else []) if p.name not in rec["profiles"]]
    if not_run:   # declared in the module, no section yet: say so, so their absence is not read as omission
        lines += ["Declared profiles not run yet: " + ", ".join(f"`{n}`" for n in not_run) + ".", ""]
    for profile in sorted(rec["profiles"]):
        sec = rec["profiles"][profile]
        if draw_figures and sec.get("figure"):
            figures.render(sec["figure"]["spec"], folder / sec["figure"]["file"])
        lines += _section_md(profile, sec, folder, claim)
    path = folder / "report.md"
    files.write_text(path, "\n".join(lines))
    return path


def load_all(report_root: str | Path) -> list[dict]:
    """Every readable claim record; an unreadable one is named in a warning and skipped."""
    out = []
    for path in sorted(Path(report_root).glob("*/result.json")):
        try:
            out.append(read_record(path, quarantine_bad=False))
        except ValueError as exc:
            warnings.warn(str(exc), stacklevel=2)
    return out


def render_index(report_root: str | Path, claims: dict | None = None) -> Path:
    root = Path(report_root)
    claims = declared_claims(root) if claims is None else claims
    lines = ["# lrsci reports", "", *_replication_header(root), "Every claim × profile this checkout has run. Re-render with `lrsci report`. "
             "The seeds say which protocol version a section ran under (a new version takes a fresh range); "
             "a verdict marked *earlier protocol* is not the one its module now declares (not yet run), and "
             "*see the reading* points to what the report says of the figures beside a verdict; *other seeds*, "
             "*another scale* and *batched runs* mark sections that are not the protocol's report (run on other "
             "seeds or data, at a scale `--set` chose, or trained as one batched model). A section's seeds "
             "are its runs' seeds (initialisation, data order); the data are drawn with the data seed of the claim's "
             "config, the same for development and report runs.", "",
             "| claim | source | profile | verdict | headline effect | seeds | date | device |",
             "|---|---|---|---|---|---|---|---|"]
    for rec in load_all(root):
        for profile, sec in sorted(rec["profiles"].items()):
            prov, seeds = sec.get("provenance", {}), sec.get("seeds") or []
            ran = seed_range(seeds)
            suffix, _ = section_notes(claims.get(rec["id"]), profile, sec)
            lines.append(f"| [{rec['id']}]({rec['id']}/report.md) | {rec['source']} | {profile} | "
                         f"**{sec['verdict']}**{suffix} | {sec.get('headline', '')} | {ran} | {(prov.get('date') or '')[:10]} | "
                         f"{prov.get('device_name', '')} |")
    again = replication_roots(root)
    if again:
        lines += ["", "The same profiles run again on other seeds or at another scale, each a report folder of its own "
                  "(docs/replication.md compares them, criterion by criterion): "
                  + ", ".join(f"[{r.name}](replication/{r.name}/README.md)" for r in again) + "."]
    beside = sorted(p for p in root.glob("*.md") if p.name != "README.md")
    if beside:   # an analysis of this folder's runs written beside its reports (docs/replication.md, replication 17)
        lines += ["", "Analyses of these runs beside the claims' reports (docs/replication.md): "
                  + ", ".join(f"[{p.stem}]({p.name})" for p in beside) + "."]
    controls = sorted((root / "controls").glob("*.md"))
    if controls:   # experiments beside the claims that test what their arms' differences come from
        lines += ["", "Controls (the claims' arms on data changed in one way, docs/replication.md): "
                  + ", ".join(f"[{c.stem}](controls/{c.name})" for c in controls) + "."]
    path = root / "README.md"
    root.mkdir(parents=True, exist_ok=True)
    files.write_text(path, "\n".join(lines) + "\n")
    return path


def _replication_header(root: Path) -> list[str]:
    """What the index of a folder under replication/ says first: these are not the committed verdicts."""
    if root.parent.name != "replication":
        return []
    return [f"**Replication `{root.name}`:** profiles run again, as declared, on other seeds than their report seeds "
            "(or another draw of their data, or at a scale `--set` chose); "
            "the verdicts of record are in [../../README.md](../../README.md), and `lrsci compare` puts the two "
            "side by side.", ""]


def replication_roots(report_root: str | Path) -> list[Path]:
    """The report folders of profiles run again on other seeds, ``<report_root>/replication/<name>/``
    (docs/replication.md): each a report folder of its own, with its own index."""
    return sorted(p for p in (Path(report_root) / "replication").glob("*") if p.is_dir())


def render_all(report_root: str | Path, problems: list[str] | None = None) -> list[Path]:
    """Re-render every claim's report.md and figures and the index, from result.json (and the notes the
    claim modules give, lrsci.report_notes).

    A claim whose result.json cannot be read, or holds a section that cannot be rendered (written by hand, or
    by an lrsci before sections were checked), is named in a warning, and in ``problems`` when given; the
    others still render."""
    paths, claims = [], declared_claims(report_root)
    for p in sorted(Path(report_root).glob("*/result.json")):
        try:
            paths.append(render_claim(p.parent, claims))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            text = str(exc) if isinstance(exc, ValueError) else (
                f"{p} cannot be rendered ({type(exc).__name__}: {exc}); the other claims were")
            warnings.warn(text, stacklevel=2)
            if problems is not None:
                problems.append(text)
    paths.append(render_index(report_root, claims))
    return paths

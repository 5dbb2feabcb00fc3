"""Claim reports: ``result.json`` is the record, ``report.md`` and the figures render from it.

One folder per claim under the report root::

    reports/<claim>/result.json     {"claim", "source", "statement", "profiles": {profile: section}}
    reports/<claim>/report.md       every profile's section, rendered
    reports/<claim>/fig-<profile>.png
    reports/README.md               index: claim × profile → verdict, effect, date

A profile's section holds its protocol, seeds, per-seed values, tests (statistic, p, CI,
threshold, pass), verdict and provenance. Re-rendering reads only these files.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from . import figures

VERDICTS = ("replicated", "not replicated")


def _clean(obj):
    """JSON-safe: NaN/inf become None, tuples become lists, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def write_section(report_root: str | Path, claim: dict, profile: str, section: dict) -> Path:
    """Merge one profile's section into the claim's result.json and re-render the claim and index."""
    if section.get("verdict") not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {section.get('verdict')!r}")
    folder = Path(report_root) / claim["id"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "result.json"
    record = json.loads(path.read_text()) if path.exists() else {}
    record.update({k: claim[k] for k in ("id", "title", "source", "statement")})
    new, old = _clean(section), record.setdefault("profiles", {}).get(profile)
    if old is not None and _same_result(old, new):
        new = old  # an identical re-analysis (runs loaded from the store) keeps the training provenance
    record["profiles"][profile] = new
    path.write_text(json.dumps(record, indent=1) + "\n")
    render_claim(folder)
    render_index(report_root)
    return path


def _same_result(a: dict, b: dict) -> bool:
    """Same seeds, protocol, values, tests and verdict: only provenance (and figure rendering) differ."""
    keys = ("seeds", "protocol", "per_seed", "tests", "verdict")
    return all(a.get(k) == b.get(k) for k in keys)


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


def _tests_table(tests: list[dict]) -> list[str]:
    lines = ["| criterion | test | H1 | n | effect | 95% CI | statistic | p | threshold | pass |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for t in tests:
        ci = t.get("ci") or [None, None]
        lines.append(f"| {t['criterion']} | {t['test']} | {t['hypothesis']} | {t['n']} | {_fmt(t['effect'])} | "
                     f"[{_fmt(ci[0])}, {_fmt(ci[1])}] | {_fmt(t['statistic'])} | {_fmt(t['p_value'], 4)} | "
                     f"{t.get('threshold', '')} | {_pass_cell(t)} |")
    return lines


def _per_seed_table(per_seed: dict) -> list[str]:
    cols = list(per_seed)
    seeds = per_seed[cols[0]].keys() if cols else []
    lines = ["| seed | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for s in seeds:
        lines.append(f"| {s} | " + " | ".join(_fmt(per_seed[c].get(s)) for c in cols) + " |")
    return lines


def _section_md(profile: str, sec: dict, folder: Path) -> list[str]:
    prov = sec.get("provenance", {})
    out = [f"## Profile `{profile}` — **{sec['verdict'].upper()}**", "", sec.get("summary", ""), ""]
    planned, used = sec.get("protocol", {}).get("seeds"), len(sec.get("seeds", []))
    if isinstance(planned, int) and used < planned:
        out += [f"> **Note:** run with {used} seeds per arm, fewer than the protocol's {planned}: the tests have "
                "less power than was pre-registered, and this verdict is not the protocol's.", ""]
    failed = [t["criterion"] for t in sec["tests"] if not t.get("reported_only") and not t["passed"]]
    if failed:
        out += [f"> **Finding: not replicated at this profile.** Pre-registered criteria that failed: "
                f"{'; '.join(failed)}. The tests, figure and per-seed values below are the evidence.", ""]
    out += ["### Tests (pre-registered)", "", *_tests_table(sec["tests"]), ""]
    if sec.get("figure"):  # rendered by render_claim from the same spec
        out += [f"![{profile} figure]({sec['figure']['file']})", ""]
    out += ["### Per-seed values", "", *_per_seed_table(sec.get("per_seed", {})), ""]
    if sec.get("extra_tables"):
        for title, table in sec["extra_tables"].items():
            out += [f"### {title}", "", *_per_seed_table(table), ""]
    out += ["### Protocol", "", "```json", json.dumps(sec.get("protocol", {}), indent=1), "```", "",
            "### Provenance", "",
            f"seeds {sec.get('seeds')} (offset {sec.get('seed_offset', 0)}); device {prov.get('device_name')}; "
            f"torch {prov.get('torch')} (CUDA {prov.get('cuda')}); python {prov.get('python')}; "
            f"git `{prov.get('git')}`; {prov.get('date')}; wall time {_fmt(prov.get('wall_seconds'), 1)} s "
            f"({prov.get('runs_trained', '?')} runs trained, {prov.get('runs_loaded', '?')} loaded from the run store, "
            f"{prov.get('workers', '?')} parallel workers).", "",
            f"The runs were trained at git {', '.join(f'`{g}`' for g in prov.get('runs_trained_at_git', []))} on "
            f"{', '.join(prov.get('runs_trained_on', []))}; their training wall times sum to "
            f"{_fmt(prov.get('runs_wall_seconds_summed'), 1)} s; "
            f"{_fmt(prov.get('images_per_second_per_run'), 0)} training images/s per run.", ""]
    return out


def render_claim(folder: str | Path) -> Path:
    folder = Path(folder)
    rec = json.loads((folder / "result.json").read_text())
    lines = [f"# {rec['id']}: {rec['title']}", "", f"**Source:** {rec['source']}", "",
             f"**Claim:** {rec['statement']}", ""]
    for profile in sorted(rec["profiles"]):
        sec = rec["profiles"][profile]
        if sec.get("figure"):
            figures.render(sec["figure"]["spec"], folder / sec["figure"]["file"])
        lines += _section_md(profile, sec, folder)
    path = folder / "report.md"
    path.write_text("\n".join(lines))
    return path


def load_all(report_root: str | Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(Path(report_root).glob("*/result.json"))]


def render_index(report_root: str | Path) -> Path:
    root = Path(report_root)
    lines = ["# lrsci reports", "", "Every claim × profile this checkout has run. Re-render with `lrsci report`.", "",
             "| claim | source | profile | verdict | headline effect | date | device |", "|---|---|---|---|---|---|---|"]
    for rec in load_all(root):
        for profile, sec in sorted(rec["profiles"].items()):
            prov = sec.get("provenance", {})
            lines.append(f"| [{rec['id']}]({rec['id']}/report.md) | {rec['source']} | {profile} | "
                         f"**{sec['verdict']}** | {sec.get('headline', '')} | {(prov.get('date') or '')[:10]} | "
                         f"{prov.get('device_name', '')} |")
    path = root / "README.md"
    root.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def render_all(report_root: str | Path) -> list[Path]:
    """Re-render every claim's report.md and figures and the index, from result.json alone."""
    paths = [render_claim(p.parent) for p in sorted(Path(report_root).glob("*/result.json"))]
    paths.append(render_index(report_root))
    return paths

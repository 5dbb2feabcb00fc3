"""The shape of what a claim's ``analyse`` and ``figure`` return, checked before anything is written.

A malformed analysis stored in result.json would fail only when rendered, after the record was written,
and would then stop ``lrsci report`` for every claim of its folder. So the driver checks it first and
names each problem with what to write instead (docs/adding-a-claim.md shows the shapes).
"""
from __future__ import annotations

import json
from collections.abc import Mapping

from .claim import ClaimError

ROW_KEYS = ("criterion", "test", "passed", "threshold")   # what lrsci.criteria.criterion always gives


def analysis_problems(analysis) -> list[str]:
    """Each way ``analysis`` departs from {"tests": [criterion rows], "per_seed": {column: {seed: value}},
    optional "extra_tables": {title: {column: {seed: value}}}, "headline": str, "summary": str}."""
    if not isinstance(analysis, Mapping):
        return [f"analyse() returned a {type(analysis).__name__}, not a dict with 'tests' and 'per_seed'"]
    out = _row_problems(analysis.get("tests"))
    out += _table_problems("per_seed", analysis.get("per_seed", {}))
    for title, table in _mapping(analysis.get("extra_tables", {}), "extra_tables", out).items():
        out += _table_problems(f"extra_tables[{title!r}]", table)
    out += [f"'{key}' is a {type(analysis[key]).__name__}, not a str (a line of text for the report)"
            for key in ("headline", "summary") if key in analysis and not isinstance(analysis[key], str)]
    if not out:
        out += _json_problems("the analysis", analysis)
    return out


def figure_problems(spec) -> list[str]:
    """Each way ``spec`` departs from lrsci.figures' spec: {"panels": [{"title": str, "curves": [{"label": str,
    "runs": [[y per epoch] per seed]}]}]} (None: no figure)."""
    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        return [f"figure() returned a {type(spec).__name__}, not a figure spec (a dict with 'panels')"]
    panels = spec.get("panels")
    if not isinstance(panels, list) or not panels:
        return ["the figure spec has no 'panels' list (one dict per panel, e.g. from lrsci.figures.arm_panel)"]
    out = []
    for i, panel in enumerate(panels):
        where = f"figure panels[{i}]"
        if not isinstance(panel, Mapping) or not isinstance(panel.get("title"), str) \
                or not isinstance(panel.get("curves"), list):
            out.append(f"{where} must be a dict with a 'title' str and a 'curves' list")
            continue
        for j, curve in enumerate(panel["curves"]):
            runs = curve.get("runs") if isinstance(curve, Mapping) else None
            if not (isinstance(runs, list) and runs and all(isinstance(r, (list, tuple)) for r in runs)) \
                    or not isinstance(curve.get("label"), str):
                out.append(f"{where}.curves[{j}] must be a dict with a 'label' str and 'runs': a non-empty list "
                           "of per-seed lists of values")
    return out or _json_problems("the figure spec", spec)


def check(claim_id: str, profile: str, analysis, spec) -> None:
    """Raise a ClaimError naming every problem of the analysis and figure spec of ``claim_id[profile]``."""
    problems = analysis_problems(analysis) + figure_problems(spec)
    if problems:
        raise ClaimError(f"{claim_id}[{profile}]: nothing was written, because " + "; ".join(problems))


def _row_problems(rows) -> list[str]:
    if not isinstance(rows, list) or not rows:
        return ["the analysis has no 'tests' list (its rows, made with lrsci.criteria.criterion)"]
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            out.append(f"tests[{i}] is a {type(row).__name__}, not a criterion row: wrap it in "
                       "lrsci.criteria.criterion(name, result, threshold, values)")
        elif missing := [k for k in ROW_KEYS if k not in row]:
            out.append(f"tests[{i}] lacks {missing}: make it with lrsci.criteria.criterion")
    return out


def _table_problems(name: str, table) -> list[str]:
    out: list[str] = []
    for column, values in _mapping(table, name, out).items():
        if not isinstance(values, Mapping):
            out.append(f"{name}[{column!r}] is a {type(values).__name__}, not {{seed: value}} "
                       "(e.g. dict(zip(seeds, values)))")
    return out


def _mapping(value, name: str, out: list[str]) -> Mapping:
    if isinstance(value, Mapping):
        return value
    out.append(f"'{name}' is a {type(value).__name__}, not a dict")
    return {}


def _json_problems(what: str, value) -> list[str]:
    from .report import json_safe   # what the report will store: keys as str, NaN as None

    try:
        json.dumps(json_safe(value))
    except (TypeError, ValueError) as exc:   # a numpy number, a tensor, a set...
        return [f"{what} is not JSON ({exc}): store Python numbers (float(x)), lists and dicts"]
    return []

"""Versions of a claim's ``result.json`` and how an older record is read today.

Schema 1 (until 2026-11): a test row's ``ci`` was a percentile bootstrap CI whatever the
number of seeds; AutoDecay tables showed a run's ``status``.
Schema 2: ``ci`` is the 95 % t-interval of the mean (``ci_method: "t"``); a bootstrap CI
appears only from 10 seeds on, as ``ci_bootstrap``; runs say why they ended
(``stop_reason``: budget, rule, diverged); a profile may declare expected failures.
Schema 3: a section's protocol names its report seeds' start (``first_seed``); sections written
before it were all run from seed 0 on their profile's declaration (``--seed-offset`` runs aside).

Upgrading never re-trains and never changes a verdict, a p-value or a per-seed value: the
t-interval of a t-test row follows from the row's own effect, t statistic and n
(se = (effect − null) / t), which is exactly what a fresh analysis computes.
"""
from __future__ import annotations

import math
import re

from scipy import stats as _st

from .train import STOP_REASONS

SCHEMA = 3
_T_TESTS = {"paired t (one-sided)": 1.0, "non-inferiority t": -1.0}  # test -> sign of the margin in H0


def upgrade_record(record: dict) -> dict:
    """The record in the current schema (a no-op for current records)."""
    schema = record.get("schema", 1)
    if schema >= SCHEMA:
        return record
    for section in record.get("profiles", {}).values():
        if schema < 2:
            _upgrade_section(section)
        section.get("protocol", {}).setdefault("first_seed", 0)
    record["schema"] = SCHEMA
    return record


def _upgrade_section(sec: dict) -> None:
    for row in sec.get("tests", []):
        _upgrade_row(row)
    tables = sec.get("extra_tables", {})
    for title, table in tables.items():
        if "AutoDecay status" in table:
            table["AutoDecay stop reason"] = {s: STOP_REASONS.get(v, v) for s, v in table.pop("AutoDecay status").items()}
    sec.pop("finding", None)  # schema 1's free-text finding; the report now renders it from the tests
    if "summary" in sec:      # a bootstrap ratio CI at n < 10 is no longer shown (AutoDecay's summary)
        sec["summary"] = re.sub(r", 95% CI \[[^\]]*\](?=, limit)", "", sec["summary"])


def _upgrade_row(row: dict) -> None:
    if "ci_method" in row or row.get("ci") is None:
        return
    old = row.pop("ci")
    if row["test"].startswith("ratio of means"):
        row["test"] = "ratio of means"       # its bootstrap CI is dropped below 10 seeds
        return
    sign = _T_TESTS.get(row["test"])
    row["ci"], row["ci_method"] = (_t_interval(row, sign, old), "t") if sign is not None else (None, None)


def _t_interval(row: dict, sign: float, old_ci: list) -> list | None:
    """95 % t-interval of the mean difference, from the row's effect, t statistic and n."""
    effect, t, n = row["effect"], row["statistic"], row["n"]
    null = sign * row["margin"]
    if t is None or (old_ci[0] == old_ci[1]):  # ±inf t or a constant sample: zero variance
        return [effect, effect]
    if t == 0:                                 # effect on the null with spread: se is not recoverable
        return None
    half = _st.t.ppf(0.975, df=n - 1) * abs((effect - null) / t)
    return [effect - half, effect + half] if math.isfinite(half) else None

"""An analysis written beside a claim's report (docs/replication.md, replications 17-22).

Such an analysis runs after the claim, on the claim's own report and stored runs, and trains nothing. This module
holds what the tools share: the claim's own profile and arm configs at the report's scale (so the analysis reads the
very runs the claim trained), loading those runs, what every result records of the report it rests on, the command
line, and writing the result once, its table with it. The table is rendered from the result alone, so a table lost
between the two writes is rendered again from the JSON."""
from __future__ import annotations

from pathlib import Path

from . import files


def rests_on(section: dict) -> dict:
    """The fields of the claim's section a result carries: its scale and where and from which commit it trained;
    plus this process's provenance (the analysis' own git and versions)."""
    from .overrides import describe
    from .provenance import provenance

    trained, overrides = section.get("provenance", {}), section.get("run_overrides") or {}
    return {"run_overrides": overrides or None,
            "scale": describe(overrides) if overrides else "the profile as declared",
            "window": section.get("protocol", {}).get("final_window"),
            "trained_on": f"{trained.get('device_name')}, git {trained.get('git')}",
            "provenance": provenance("cpu")}


def write_once(path: Path, result: dict, text: str) -> None:
    """``path`` (JSON) and its Markdown beside it; FileExistsError if the result exists (it is run once). The text
    is rendered before this is called, so a result is never left without its table."""
    files.write_json_new(path, result)
    files.write_text(path.with_suffix(".md"), text)


def claim_fast_profile(project: Path, claim_id: str, scale: dict):
    """(``claim_id``'s fast profile at ``scale``, its module's ``arm_configs(profile, seed)``), from the claim module
    itself, so an analysis reads the very runs the claim trained."""
    import sys

    from .catalog import load_claims
    from .driver import with_run_overrides

    claim, _ = load_claims(project)[claim_id]
    module = sys.modules[claim.train.__module__]
    return with_run_overrides({p.name: p for p in claim.profiles}["fast"], scale), module.arm_configs


def report_runs(project: Path, report_dir: Path, store_root: Path, claim_id: str, data_root=None):
    """(the claim's fast section in ``report_dir``, its profile at the section's scale, {seed: {arm: RunResult}})
    for the section's seeds, from ``store_root``: nothing trains; a missing report or run is an error naming it."""
    from .report import fast_section
    from .runs import RunStore, stored_arms

    section = fast_section(report_dir, claim_id)
    profile, arm_configs = claim_fast_profile(project, claim_id, section.get("run_overrides") or {})
    store = RunStore(store_root, data_root=data_root)
    return section, profile, stored_arms(store, lambda seed: arm_configs(profile, seed), section["seeds"])


def tool_main(argv, description: str, result_name: str, claim_id: str, number: int, compute, render,
              summarize=None, reads_runs: bool = True) -> int:
    """The command line of a tool that analyses a claim's report (tools/learning_order.py, anneal_gain.py,
    pooled_transfer.py, gd_outcomes.py): --report-dir, and with ``reads_runs`` --run-store and --data-root; refused
    before anything is read if its result exists. ``compute(report_dir, store_root, data_root)`` -> (analysis,
    section, number of runs), or without runs ``compute(report_dir)`` -> (analysis, section). The result is written
    once, with the table ``render`` makes of it; ``summarize(analysis)`` is what the terminal shows (default: the
    tests' lines, lrsci.paired_rows.summary)."""
    import argparse

    from .paired_rows import summary

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--report-dir", required=True, help="the folder the claim's report was written to (--report-dir)")
    if reads_runs:
        ap.add_argument("--run-store", required=True, help="the run store the claim trained into (--run-store)")
        ap.add_argument("--data-root", default=None, help="where the data are (default: as lrsci finds them)")
    args = ap.parse_args(argv)
    report_dir = Path(args.report_dir)
    path = report_dir / result_name
    if path.exists():
        ap.error(f"{path} exists: this analysis was written already")
    try:
        if reads_runs:
            analysis, section, n_runs = compute(report_dir, Path(args.run_store), args.data_root)
        else:
            analysis, section = compute(report_dir)
    except (ValueError, LookupError) as exc:
        ap.error(str(exc))
    out = {"claim": claim_id, "protocol": f"docs/replication.md, replication {number}", "analysis": analysis,
           **({"runs": n_runs} if reads_runs else {}), **rests_on(section)}
    write_once(path, out, render(out))
    print(summarize(analysis) if summarize else summary(analysis["tests"]))
    print(f"wrote {path} and {path.with_suffix('.md').name}")
    return 0

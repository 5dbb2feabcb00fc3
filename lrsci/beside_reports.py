"""An analysis written beside a claim's report (docs/replication.md, replications 17-20): what every such result
records of the report it rests on, and how it is written (once, its table with it)."""
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

"""What a run store holds, and which of it no run will ever read again: ``lrsci store [--prune WHAT]``.

The store never deletes on its own (nothing is lost), so over months it keeps:

- set-aside copies (``*.corrupt-<time>``): files that could not be read, moved aside for inspection, in the
  store and in the data cache (unpacked Fashion-MNIST files whose bytes changed);
- runs of an older engine version (``<key>-e<old>``): never reused after ENGINE_VERSION moved on;
- batch checkpoints (``batches/<digest>.pt``) whose runs are all stored by now: the batch was interrupted,
  then its runs were trained in another batch (other ``--seeds``), so no rerun resumes from it.

:func:`audit` names them with their sizes; :func:`prune` deletes only the kinds the user names, and returns
every path it deleted so the command can print them. Lock files are never touched: another process may hold
one, and a run folder whose lock is held (an older lrsci training it now) is left where it is. A batch
checkpoint that still has runs to train is kept: rerunning the same runs resumes from it.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from .runs import lock_path, run_folder_name
from .state_files import read_state
from .train import ENGINE_VERSION

PRUNABLE = ("set-aside", "old-engine", "done-batches")
_RUN_DIR = re.compile(r"^[0-9a-f]+-e(?P<engine>\d+)(-batched)?$")   # runs.run_folder_name
_SET_ASIDE = ".corrupt-"


@dataclass
class StoreAudit:
    root: Path
    data_cache: Path | None = None
    finished: list[Path] = field(default_factory=list)      # current engine, result.json present
    unfinished: list[Path] = field(default_factory=list)    # current engine, no result yet (resumable)
    old_engine: list[Path] = field(default_factory=list)
    set_aside: list[Path] = field(default_factory=list)             # in the run store
    data_set_aside: list[Path] = field(default_factory=list)        # in the data cache
    done_batches: list[Path] = field(default_factory=list)
    open_batches: list[Path] = field(default_factory=list)  # runs still to train: a rerun resumes here
    unreadable_batches: list[Path] = field(default_factory=list)

    def prunable(self, what: str) -> list[Path]:
        return {"set-aside": self.set_aside + self.data_set_aside, "old-engine": self.old_engine,
                "done-batches": self.done_batches}[what]


def size(path: Path) -> int:
    """Bytes of a file, or of everything under a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def audit(root: Path, data_cache: Path | None = None) -> StoreAudit:
    """The run store at ``root`` and, when given, the set-aside copies under the data cache ``data_cache``."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"run store {root}: no such folder (--run-store / LRSCI_RUNS)")
    found = StoreAudit(root, data_cache)
    if data_cache is not None and Path(data_cache).is_dir():
        found.data_set_aside = _set_aside_under(Path(data_cache))
    for path in sorted(root.iterdir()):
        if _SET_ASIDE in path.name:
            found.set_aside.append(path)
        elif path.is_dir() and (m := _RUN_DIR.match(path.name)):
            _audit_run(found, path, int(m["engine"]))
    batches = root / "batches"
    if batches.is_dir():
        for path in sorted(batches.iterdir()):
            if _SET_ASIDE in path.name:
                found.set_aside.append(path)
            elif path.suffix == ".pt":
                _audit_batch(found, path)
    return found


def _audit_run(found: StoreAudit, run_dir: Path, engine: int) -> None:
    found.set_aside += _set_aside_under(run_dir)
    if engine != ENGINE_VERSION:
        found.old_engine.append(run_dir)
    elif (run_dir / "result.json").exists():
        found.finished.append(run_dir)
    else:
        found.unfinished.append(run_dir)


def _set_aside_under(folder: Path) -> list[Path]:
    """Set-aside copies anywhere under ``folder`` (results, checkpoints, a run's cached measurements), not
    counting what lies inside a set-aside folder."""
    marked = sorted(p for p in folder.rglob(f"*{_SET_ASIDE}*") if _SET_ASIDE in p.name)
    return [p for p in marked if not any(_SET_ASIDE in q.name for q in p.relative_to(folder).parents if q.name)]


def _audit_batch(found: StoreAudit, path: Path) -> None:
    """Done when every run the checkpoint holds has a result in the batched engine's folder."""
    try:
        state = read_state(path, map_location="cpu")
        # run_dirs names the folders with device "auto" resolved; checkpoints written before it have keys only
        folders = state.get("run_dirs") or [run_folder_name(k, "batched") for k in state["keys"]]
    except Exception:   # damaged: the executor sets it aside when its batch runs again; here it is only named
        found.unreadable_batches.append(path)
        return
    stored = all((found.root / name / "result.json").exists() for name in folders)
    (found.done_batches if stored else found.open_batches).append(path)


def prune(found: StoreAudit, what: list[str]) -> list[Path]:
    """Delete the named kinds (from PRUNABLE); every path deleted, in order."""
    bad = [w for w in what if w not in PRUNABLE]
    if bad:
        raise ValueError(f"--prune {', '.join(bad)}: expected one or more of {', '.join(PRUNABLE)}")
    deleted = []
    for kind in what:
        for path in found.prunable(kind):
            if kind == "old-engine":
                if _delete_unless_locked(path):
                    deleted.append(path)
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            deleted.append(path)
    return deleted


def _delete_unless_locked(run_dir: Path) -> bool:
    """Delete a run folder while holding its lock; False (kept) when another process holds it."""
    try:
        with FileLock(str(lock_path(run_dir)), timeout=0):
            shutil.rmtree(run_dir)
    except Timeout:
        return False
    return True


def render(found: StoreAudit) -> str:
    def line(label: str, paths: list[Path], note: str = "") -> str:
        mib = sum(size(p) for p in paths) / 2**20
        return f"{label:<34} {len(paths):>6}  {mib:9.1f} MiB{note}\n"

    return (f"run store {found.root}\n"
            + line(f"finished runs (engine {ENGINE_VERSION})", found.finished)
            + line("unfinished runs (resumable)", found.unfinished)
            + line("runs of older engine versions", found.old_engine, "  never reused: --prune old-engine")
            + line("set-aside copies (*.corrupt-*)", found.set_aside, "  kept for inspection: --prune set-aside")
            + (line("  in the data cache", found.data_set_aside, f"  {found.data_cache}")
               if found.data_cache is not None else "")
            + line("batch checkpoints, runs all stored", found.done_batches, "  no longer read: --prune done-batches")
            + line("batch checkpoints, runs to train", found.open_batches, "  kept: rerunning those runs resumes")
            + line("batch checkpoints, unreadable", found.unreadable_batches,
                   "  set aside when their batch runs again"))

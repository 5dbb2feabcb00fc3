"""The claims of a project: every ``claims/test_<id>.py`` module and the :class:`Claim` it declares.

pytest (through ``claims/conftest.py``) and the CLI both read claims from here, so they agree
on what exists: a module must define ``CLAIM``, a :class:`~lrsci.claim.Claim` whose id is its
file name (``test_sgd_post_decay_boost.py`` declares ``sgd-post-decay-boost``); anything else
is an error that names the file, not a claim that silently never reports.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .claim import Claim, ClaimError, claim_id_for_file


def claim_files(project: Path) -> list[Path]:
    return sorted((Path(project) / "claims").glob("test_*.py"))


def claim_of_module(module: ModuleType, path: Path) -> Claim:
    """The module's declared claim, checked against its file name."""
    claim = getattr(module, "CLAIM", None)
    if not isinstance(claim, Claim):
        raise ClaimError(f"{path}: a claim module must define CLAIM = lrsci.claim.Claim(...); "
                         f"found {type(claim).__name__}")
    expected = claim_id_for_file(Path(path).stem)
    if claim.id != expected:
        raise ClaimError(f"{path}: CLAIM.id is {claim.id!r} but the file name says {expected!r}; "
                         f"rename the file to test_{claim.id.replace('-', '_')}.py or fix the id")
    return claim


def _import(path: Path) -> ModuleType:
    """Import a claim module by path, under a name of its own (not the one pytest gives it)."""
    name = f"lrsci_claims.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_claims(project: Path, errors: list[str] | None = None) -> dict[str, tuple[Claim, Path]]:
    """{claim id: (claim, module path)} for every claim module of the project. A module that cannot be
    imported, or declares no valid claim, raises a ClaimError naming its file — or, when ``errors`` is given,
    is named there and left out, so one broken module does not hide the others (``lrsci list``)."""
    out: dict[str, tuple[Claim, Path]] = {}
    for path in claim_files(project):
        try:
            claim = claim_of_module(_import_named(path), path)
        except ClaimError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
            continue
        out[claim.id] = (claim, path)
    return out


def misnamed_files(project: Path) -> list[Path]:
    """Python files in claims/ that are never read as claims: not named test_<id>.py."""
    return sorted(p for p in (Path(project) / "claims").glob("*.py")
                  if not p.name.startswith("test_") and p.name not in ("conftest.py", "__init__.py"))


def _import_named(path: Path) -> ModuleType:
    """_import, with any error raised by the module's own code named by its file."""
    try:
        return _import(path)
    except ClaimError as exc:   # a Profile or Claim declared wrongly (seeds=1, a typo'd parameter)
        raise ClaimError(f"{path}: {exc}") from exc
    except Exception as exc:
        raise ClaimError(f"{path} cannot be imported: {type(exc).__name__}: {exc}") from exc

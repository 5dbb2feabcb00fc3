"""Where the file-backed datasets (Fashion-MNIST, CIFAR-10) are looked for, and where unpacked copies go.

Looked for, in order: the ``data_root`` argument (the CLI's ``--data-root``), ``$LRSCI_DATA``, for
Fashion-MNIST only the Debian package's folder, then the cache root. The cache root is ``$LRSCI_CACHE``
if set, else the user's data root if it is writable, else ``~/.cache/lrsci/data``; the Debian package's
folder is never written to.

The two folders are module constants so tests can point them elsewhere: patch them here
(``lrsci.data.locations``), where every reader looks them up at call time.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import DatasetNotFound

DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
DEFAULT_CACHE_DIR = Path("~/.cache/lrsci/data").expanduser()
DATA_ENV = "LRSCI_DATA"
CACHE_ENV = "LRSCI_CACHE"

USER_ROOT_LABELS = ("data_root argument", f"${DATA_ENV}")   # the candidates the user named


def resolve_data_root(data_root: str | os.PathLike | None = None) -> Path | None:
    """The data root the user asked for: the argument, else ``$LRSCI_DATA``, else None."""
    if data_root is not None and str(data_root) != "":
        return Path(data_root).expanduser()
    env = os.environ.get(DATA_ENV, "")
    return Path(env).expanduser() if env else None


def cache_root(preferred: str | os.PathLike | None = None) -> Path:
    """Where unpacked/downloaded files go: ``$LRSCI_CACHE``, else ``preferred`` if it is a
    writable directory, else :data:`DEFAULT_CACHE_DIR` (``~/.cache/lrsci/data``)."""
    env = os.environ.get(CACHE_ENV, "")
    if env:
        return Path(env).expanduser()
    if preferred is not None:
        p = Path(preferred).expanduser()
        # the Debian package's folder is never written to, even when root passes it as the data root
        packaged = p.resolve() == DEBIAN_FASHION_MNIST_DIR.resolve()
        if p.is_dir() and os.access(p, os.W_OK | os.X_OK) and not packaged:
            return p
    return Path(DEFAULT_CACHE_DIR).expanduser()


def fallback_cache() -> Path:
    """The cache root when the user's data root is not one: ``$LRSCI_CACHE``, else the default."""
    env = os.environ.get(CACHE_ENV, "")
    return Path(env).expanduser() if env else Path(DEFAULT_CACHE_DIR).expanduser()


def candidates(data_root, include_debian: bool) -> list[tuple[Path | None, str]]:
    """(directory or None, label) in search order; None = not given/not set."""
    out: list[tuple[Path | None, str]] = []
    if data_root is not None and str(data_root) != "":
        out.append((Path(data_root).expanduser(), USER_ROOT_LABELS[0]))
    env = os.environ.get(DATA_ENV, "")
    out.append((Path(env).expanduser() if env else None, USER_ROOT_LABELS[1]))
    if include_debian:
        out.append((Path(DEBIAN_FASHION_MNIST_DIR), "Debian package dataset-fashion-mnist"))
    out.append((fallback_cache(), "cache"))
    return out


def looked_report(looked: list[str]) -> str:
    """The places looked at, one indented line each, for a DatasetNotFound message."""
    return "\n".join(f"  - {line}" for line in looked)


def given_root_exists(data_root, download: bool, what: str) -> None:
    """A data root the caller names must exist (it is almost always a typo otherwise): searching on past it
    would read the data from somewhere else without a word. With ``download`` it is where files will go."""
    if data_root is None or str(data_root) == "" or download:
        return
    p = Path(data_root).expanduser()
    if not p.exists():
        where = "the Debian package folder and the cache" if "Fashion" in what else "the cache"
        raise DatasetNotFound(f"{what}: the data root {p} does not exist. Give an existing folder, or none to "
                              f"search ${DATA_ENV} and {where}")

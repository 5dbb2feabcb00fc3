"""The two ways a dataset can fail to load: not found anywhere, or found but unusable."""
from __future__ import annotations

import os
from pathlib import Path


class DatasetNotFound(FileNotFoundError):
    """The dataset's files are in none of the places looked at; the message says where and how to get it."""


class DataError(ValueError):
    """A dataset file is there but unusable (truncated, corrupt, wrong format or shape).

    The message names the file, says what is wrong and what to do; ``path`` and ``problem``
    hold the first two for callers.
    """

    def __init__(self, path: str | os.PathLike, problem: str, remedy: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path}: {problem}. {remedy}")

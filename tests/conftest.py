"""Guards for the unit tests (the shared options and fixtures are in the root conftest.py)."""
from __future__ import annotations

import pytest

import lrsci.data.registry
import lrsci.runs
import lrsci.transfer

# Tests replace the data loader with tiny in-memory data. One that does so without monkeypatch leaves
# it replaced for every later test in its process (an xdist worker): the claims run there would then
# train on the tiny data. Fail the test that did it, by name, and put the real loader back.
_LOADER_HOMES = (lrsci.data.registry, lrsci.runs, lrsci.transfer)


@pytest.fixture(autouse=True)
def _data_loader_put_back():
    real = {m: m.load_data for m in _LOADER_HOMES}
    yield
    left = [m.__name__ for m in _LOADER_HOMES if m.load_data is not real[m]]
    for module, loader in real.items():
        module.load_data = loader
    if left:
        pytest.fail(f"this test left load_data replaced in {', '.join(left)}: use monkeypatch.setattr")

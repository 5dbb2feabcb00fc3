"""Guards and shared fixtures for the unit tests (the shared options and fixtures of claims and tests are in the
root conftest.py)."""
from __future__ import annotations

import pytest

import lrsci.data.registry
import lrsci.runs
import lrsci.transfer
from lrsci.data import locations

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


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No data loader sees the user's env, the real Debian folder or ~/.cache (the data tests ask for it with
    ``pytestmark = pytest.mark.usefixtures("isolated")``)."""
    monkeypatch.delenv("LRSCI_DATA", raising=False)
    monkeypatch.delenv("LRSCI_CACHE", raising=False)
    monkeypatch.setattr(locations, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(locations, "DEFAULT_CACHE_DIR", tmp_path / "home-cache")
    return tmp_path


@pytest.fixture
def _torchvision_imported():
    import torchvision  # noqa: F401


@pytest.fixture
def pytester(_torchvision_imported, pytester):
    # An in-process pytester run puts sys.modules back as it found them, but the C++ operators a first
    # `import torchvision` registers stay: importing it again (a report's provenance does) then fails with
    # "already a kernel registered". Imported before pytester takes its snapshot (the argument order), it is
    # in the snapshot and never imported twice.
    return pytester


@pytest.fixture
def every_epoch_checkpoints(monkeypatch):
    """A checkpoint after every epoch (``LRSCI_CHECKPOINT_SECONDS=0``, inherited by worker processes), for the
    tests of resuming from one: by default a run as short as a test's writes none (lrsci.checkpoints)."""
    monkeypatch.setenv("LRSCI_CHECKPOINT_SECONDS", "0")

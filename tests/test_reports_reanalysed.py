"""Every committed fast report comes out of the code as it is now, from the runs it was analysed from.

tests/fixtures/report-runs.tar.xz holds those runs as the run store kept them (per-epoch histories,
configs, cached transfers: JSON, no weights), packed by tools/pack_report_runs.py. Here each packed
claim is analysed again through the one driver, nothing trained, and its section must equal the
committed one in every seed, protocol value, per-seed value, test row, verdict and outcome. So a
change to an analysis, a statistic or the report that moves a committed number fails CI, on any
machine. After a claim's final run changes its fast report, pack the runs again.
"""
from __future__ import annotations

import json
import tarfile

import pytest

from lrsci.catalog import load_claims
from tests.helpers import ROOT, load_file

FIXTURE = ROOT / "tests" / "fixtures" / "report-runs.tar.xz"
REL = 1e-9   # another scipy may round a p-value's last digits otherwise; everything else is exact
pack_tool = load_file(ROOT / "tools" / "pack_report_runs.py", "pack_report_runs")


def manifest() -> dict:
    with tarfile.open(FIXTURE) as tar:
        return json.load(tar.extractfile("manifest.json"))


CLAIMS = load_claims(ROOT)
FAST = [f"{cid}[{p.name}]" for cid, (claim, _) in sorted(CLAIMS.items()) for p in claim.profiles if p.device == "cpu"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-runs")
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(root, filter="data")
    return root


def test_every_fast_profile_is_packed_or_left_out_with_its_reason():
    m = manifest()
    assert sorted([*m["claims"], *m["left_out"]]) == FAST, \
        "a fast profile is neither packed nor left out: python tools/pack_report_runs.py"
    assert all("weights" in why for why in m["left_out"].values())


@pytest.mark.parametrize("name", sorted(manifest()["claims"]))
def test_the_committed_report_is_what_the_analysis_gives_now(name, store, tmp_path):
    claim_id, profile_name = name[:-1].split("[")
    claim = CLAIMS[claim_id][0]
    profile = next(p for p in claim.profiles if p.name == profile_name)
    _, diffs = pack_tool.reanalyse(claim, profile, store, tmp_path, rel=REL)
    assert diffs == [], (f"{name}: the analysis now gives other numbers than the committed report at "
                         f"{', '.join(diffs[:8])}: if that is meant, the claim needs its final run again "
                         "(and python tools/pack_report_runs.py)")


def test_a_run_missing_from_the_pack_is_named_not_trained(store, tmp_path):
    name = sorted(manifest()["claims"])[0]
    claim_id, profile_name = name[:-1].split("[")
    claim = CLAIMS[claim_id][0]
    profile = next(p for p in claim.profiles if p.name == profile_name)
    with pytest.raises(pack_tool.NotStored, match="is not in"):
        pack_tool.reanalyse(claim, profile, tmp_path / "empty-store", tmp_path / "rep")

"""Every committed report whose runs are packed (every fast one; gpu ones once a device session's runs
are packed) comes out of the code as it is now, from the runs it was analysed from.

tests/fixtures/report-runs.tar.xz holds those runs as the run store kept them (per-epoch histories,
configs, cached transfers: JSON, no weights), packed by tools/pack_report_runs.py. Here each packed
claim is analysed again through the one driver, nothing trained, and its section must equal the
committed one in every seed, protocol value, per-seed value, test row, verdict and outcome. So a
change to an analysis, a statistic or the report that moves a committed number fails CI, on any
machine. After a claim's final run changes its report, pack the runs again (tools/pack_report_runs.py).
"""
from __future__ import annotations

import functools
import json
import tarfile

import pytest

from lrsci import files
from lrsci.catalog import load_claims
from tests.helpers import ROOT, load_file

FIXTURE = ROOT / "tests" / "fixtures" / "report-runs.tar.xz"
REL = 1e-9   # another scipy may round a p-value's last digits otherwise; everything else is exact
pack_tool = load_file(ROOT / "tools" / "pack_report_runs.py", "pack_report_runs")


@functools.lru_cache(maxsize=1)
def _manifest_text() -> bytes:
    # manifest.json sorts last in the pack, so reading it unpacks the whole xz stream (~1 s): once per process
    with tarfile.open(FIXTURE) as tar:
        return tar.extractfile("manifest.json").read()


def manifest() -> dict:
    """The pack's manifest, a fresh dict each call (a test may change its copy)."""
    return json.loads(_manifest_text())


CLAIMS = load_claims(ROOT)
PROFILES = {f"{cid}[{p.name}]": p.device for cid, (claim, _) in sorted(CLAIMS.items()) for p in claim.profiles}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-runs")
    files.extract_tar(FIXTURE, root)
    return root


def test_every_profile_is_accounted_for_and_every_fast_one_is_checked():
    """Fast profiles are packed or left out (their analysis reads weights); gpu ones may also be not packed yet
    (their runs come back from a device session): a new claim or profile cannot go unnoticed."""
    m = manifest()
    assert sorted([*m["claims"], *m["left_out"], *m["not_packed"]]) == sorted(PROFILES), \
        "the pack does not match the declared profiles: python tools/pack_report_runs.py"
    assert not [name for name in m["not_packed"] if PROFILES[name] == "cpu"]
    assert all("weights" in why for why in m["left_out"].values())


@pytest.mark.parametrize("name", sorted(manifest()["claims"]))
def test_the_committed_report_is_what_the_analysis_gives_now(name, store, tmp_path, monkeypatch):
    from lrsci import driver

    claim_id, profile_name = name[:-1].split("[")
    claim = CLAIMS[claim_id][0]
    profile = next(p for p in claim.profiles if p.name == profile_name)
    committed = driver.committed_section(claim_id, profile_name, ROOT / "reports")
    outcomes, check = [], driver.check
    monkeypatch.setattr(driver, "check", lambda *a: outcomes.append(check(*a)) or outcomes[-1])
    _, diffs = pack_tool.reanalyse(claim, profile, store, tmp_path, rel=REL)
    # The committed numbers again: a claim item would hold this run to its declaration, strictly.
    assert driver.numbers_not_committed(committed, outcomes[0].section) == []
    assert diffs == [], (f"{name}: the analysis now gives other numbers than the committed report at "
                         f"{', '.join(diffs[:8])}: if that is meant, the claim needs its final run again "
                         "(and python tools/pack_report_runs.py)")


REPLICATIONS = [(root, name) for root, names in sorted(manifest().get("replications", {}).items()) for name in sorted(names)]


@pytest.mark.parametrize("root,name", REPLICATIONS, ids=[f"{r}/{n}" for r, n in REPLICATIONS])
def test_a_replication_report_is_what_the_analysis_gives_now_on_its_own_seeds(root, name, store, tmp_path):
    claim_id, profile_name = name[:-1].split("[")
    claim = CLAIMS[claim_id][0]
    profile = next(p for p in claim.profiles if p.name == profile_name)
    section, diffs = pack_tool.reanalyse(claim, profile, store, tmp_path, rel=REL,
                                         committed_root=ROOT / "reports" / "replication" / root)
    assert section["seeds"] != list(range(profile.first_seed, profile.first_seed + profile.seeds))
    assert diffs == [], f"replication/{root}/{name}: the analysis now gives other numbers at {', '.join(diffs[:8])}"


def test_every_replication_report_is_packed():
    from lrsci import report

    packed = manifest().get("replications", {})
    for root in report.replication_roots(ROOT / "reports"):
        cpu = sorted(f"{r['id']}[{p}]" for r in report.load_all(root) for p in r["profiles"]
                     if next(q for q in CLAIMS[r["id"]][0].profiles if q.name == p).device == "cpu")
        assert sorted(packed.get(root.name, {})) == cpu, "python tools/pack_report_runs.py"


def test_a_run_missing_from_the_pack_is_named_not_trained(store, tmp_path):
    name = sorted(manifest()["claims"])[0]
    claim_id, profile_name = name[:-1].split("[")
    claim = CLAIMS[claim_id][0]
    profile = next(p for p in claim.profiles if p.name == profile_name)
    with pytest.raises(pack_tool.NotStored, match="is not stored"):
        pack_tool.reanalyse(claim, profile, tmp_path / "empty-store", tmp_path / "rep")


def test_packing_names_what_each_run_store_lacks_not_only_the_last_one(store, tmp_path):
    name = sorted(manifest()["claims"])[0]
    claim_id, profile_name = name[:-1].split("[")
    claim = CLAIMS[claim_id][0]
    profile = next(p for p in claim.profiles if p.name == profile_name)
    stores = [tmp_path / "mine", tmp_path / "other"]
    kind, why = pack_tool.pack_profile(claim, profile, stores, set(), tmp_path / "rep")
    assert kind == "absent" and all(f"{s}: its runs are not there" in why for s in stores)


def test_a_gpu_profiles_runs_are_analysed_again_on_a_cpu(store, tmp_path):
    """A device session brings back its runs' JSON; their analysis must then run here, without CUDA. Staged
    with sgd-post-decay-boost's fast runs relabelled as trained on "cuda" (the device is part of a run's key)."""
    from lrsci.config import RunConfig
    from lrsci.runs import RunStore

    claim = CLAIMS["sgd-post-decay-boost"][0]
    fast = next(p for p in claim.profiles if p.name == "fast")
    on_gpu = RunStore(tmp_path / "device-runs")
    for rel in manifest()["claims"]["sgd-post-decay-boost[fast]"]:
        if rel.endswith("/result.json"):
            run = json.loads((store / rel).read_text())
            config = RunConfig.from_dict({**run["config"], "device": "cuda"})
            on_gpu.dir(config).mkdir(parents=True)
            (on_gpu.dir(config) / "result.json").write_text(json.dumps({**run, "config": config.to_dict()}))
    gpu_like = fast.extend("fast", device="cuda")   # compared with the committed fast section: the same runs
    section, diffs = pack_tool.reanalyse(claim, gpu_like, on_gpu.root, tmp_path / "rep")
    assert diffs == [] and section["provenance"]["device"] == "cuda"


def test_packing_again_without_a_change_leaves_the_committed_pack_as_it_is(tmp_path):
    out = tmp_path / "p.tar.xz"
    contents, manifest = {"r/result.json": b"{}"}, {"claims": {"x[fast]": ["r/result.json"]}, "packed": "t1", "git": "a"}
    assert not pack_tool.same_pack(out, contents, manifest)   # nothing there yet
    pack_tool.pack(contents, manifest, out)
    assert pack_tool.same_pack(out, contents, {**manifest, "packed": "t2", "git": "b"})   # only the stamps differ
    assert not pack_tool.same_pack(out, {"r/result.json": b"{ }"}, manifest)
    assert not pack_tool.same_pack(out, contents, {**manifest, "claims": {}})


CONTROLS = sorted(manifest().get("controls", {}))


def test_every_committed_control_is_packed():
    from lrsci import patch_control

    committed = sorted(patch_control.result_path(c).stem for c in patch_control.CONTROLS
                       if (ROOT / "reports" / patch_control.result_path(c)).exists())
    assert CONTROLS == committed and "no-patch" in committed, "python tools/pack_report_runs.py"


@pytest.mark.parametrize("name", CONTROLS)
def test_a_control_is_what_its_analysis_gives_now_from_its_packed_runs(name, store):
    """reports/controls/<name>.json (docs/replication.md, replications 15-16): its 120 runs are packed too."""
    assert len(manifest()["controls"][name]) == 120
    assert pack_tool.reanalyse_control(store, name.replace("-", " "), rel=REL) == []


# docs/replication.md, replications 17-18: analyses of a replication's own runs (packed with that replication)
POST_ANNEAL = sorted((p.parent.name, p.stem) for p in (ROOT / "reports" / "replication").glob("*/*-gap.json"))


@pytest.mark.parametrize("folder, name", POST_ANNEAL, ids=[f"{f}/{n}" for f, n in POST_ANNEAL])
def test_a_post_anneal_analysis_is_what_its_replications_packed_runs_give_now(folder, name, store):
    from lrsci import patch_control

    root = ROOT / "reports" / "replication" / folder
    committed = files.read_json_object(root / f"{name}.json")
    tool = load_file(ROOT / "tools" / "post_anneal.py", "post_anneal_tool")
    analysis, _, n_runs = tool.analysis(root, store, name)
    assert n_runs == committed["runs"] and patch_control.differences(committed["analysis"], analysis, REL) == []


# docs/replication.md, replications 20-21: analyses of a replication's packed runs by a tool that reads them
BESIDE = sorted((p.parent.name, p.stem) for p in (ROOT / "reports" / "replication").glob("*/*.json")
                if p.stem in ("learning-order", "anneal-gain"))


@pytest.mark.parametrize("folder, name", BESIDE, ids=[f"{f}/{n}" for f, n in BESIDE])
def test_an_analysis_beside_a_replication_is_what_its_packed_runs_give_now(folder, name, store):
    from lrsci import patch_control

    root = ROOT / "reports" / "replication" / folder
    committed = files.read_json_object(root / f"{name}.json")
    tool = load_file(ROOT / "tools" / f"{name.replace('-', '_')}.py", f"{name}_tool")
    analysis, _, n_runs = tool.analysis(root, store)
    assert n_runs == committed["runs"] and patch_control.differences(committed["analysis"], analysis, REL) == []

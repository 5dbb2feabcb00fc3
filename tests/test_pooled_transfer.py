"""stage3-less-transferable's rows as pooled ratios (lrsci.stats.pooled_ratio_difference, lrsci.pooled_transfer,
tools/pooled_transfer.py; docs/replication.md, replication 19)."""
import json
import shutil

import numpy as np
import pytest

from lrsci import pooled_transfer
from lrsci.stats import pooled_ratio_difference
from tests.helpers import ROOT, load_file, tool_refusal


def test_the_difference_is_of_the_pooled_ratios_and_a_seed_weighs_by_its_denominator():
    a1, b1 = [1.0, 2.0, 0.5, 3.0], [2.0, 2.0, 0.01, 4.0]   # seed 3's ratio alone is 50
    a2, b2 = [1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]
    r = pooled_ratio_difference(a1, b1, a2, b2)
    assert r["ratio1"] == pytest.approx(6.5 / 8.01) and r["ratio2"] == pytest.approx(0.5)
    assert r["effect"] == pytest.approx(6.5 / 8.01 - 0.5)
    assert r["ci"][0] < r["effect"] < r["ci"][1] and 0 < r["p_below_0"] <= 1
    assert r == pooled_ratio_difference(a1, b1, a2, b2)   # deterministic for its seed


def test_a_clearly_lower_ratio_passes_and_the_p_value_is_the_bootstraps_share_at_or_above_0():
    rng = np.random.default_rng(0)
    gains = rng.uniform(0.5, 1.5, 20)
    low = pooled_ratio_difference(0.2 * gains + rng.normal(0, 0.02, 20), gains, 0.6 * gains, gains)
    assert low["effect"] == pytest.approx(-0.4, abs=0.02) and low["ci"][1] < 0
    assert low["p_below_0"] == pytest.approx(1 / 10_001)   # no resample at or above 0: (1 + 0) / (1 + B)
    same = pooled_ratio_difference(0.6 * gains, gains, 0.6 * gains, gains)
    assert same["p_below_0"] == 1.0   # every resample exactly at 0


def test_a_denominator_that_can_change_sign_gives_no_interval_and_bad_input_is_refused():
    r = pooled_ratio_difference([1.0, 1.0, 1.0], [1.0, -0.9, 0.1], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    assert r["ci"] is None and r["p_below_0"] is None and "changes sign" in r["why_no_interval"]
    with pytest.raises(ValueError, match="equal lengths"):
        pooled_ratio_difference([1.0, 2.0], [1.0, 1.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="denominator is 0"):
        pooled_ratio_difference([1.0, 2.0], [1.0, -1.0], [1.0, 1.0], [1.0, 1.0])


def fake_section(n: int = 20, t3_scale: float = 0.5) -> dict:
    rng = np.random.default_rng(1)
    acc1 = rng.uniform(70, 72, n)
    acc2, acc3 = acc1 + rng.uniform(3, 5, n), acc1 + 4 + rng.uniform(0.3, 1.0, n)
    per_seed = {"acc1": {}, "acc2": {}, "acc3": {}}
    seeds = list(range(27000, 27000 + n))
    for i, s in enumerate(seeds):
        for k, v in (("acc1", acc1), ("acc2", acc2), ("acc3", acc3)):
            per_seed[k][str(s)] = float(v[i])
        for row in pooled_transfer.ROWS:
            per_seed.setdefault(f"{row} T2", {})[str(s)] = float(0.6 + rng.normal(0, 0.05))
            per_seed.setdefault(f"{row} T3", {})[str(s)] = float(t3_scale * 0.6 + rng.normal(0, 0.05))
    return {"seeds": seeds, "per_seed": per_seed}


def test_the_analysis_tests_every_row_and_recovers_each_numerator_from_the_ratio_and_the_gain():
    section = fake_section()
    a = pooled_transfer.analyse(section)
    assert [t["row"] for t in a["tests"]] == [f"{r}: pooled T3 < pooled T2" for r in pooled_transfer.ROWS]
    assert all(t["passed"] for t in a["tests"]) and not a["reported"][0]["passed"]   # T3 halved, still > 0
    ps = section["per_seed"]
    gains = [ps["acc3"][s] - ps["acc2"][s] for s in ps["acc1"]]
    num = [ps["near/fix T3"][s] * g for s, g in zip(ps["acc1"], gains)]
    assert a["tests"][0]["ratio1"] == pytest.approx(sum(num) / sum(gains))
    assert not any(t["passed"] for t in pooled_transfer.analyse(fake_section(t3_scale=1.3))["tests"])


def test_a_row_with_an_undefined_ratio_fails_and_says_why():
    section = fake_section()
    section["per_seed"]["far/fix T3"]["27003"] = None   # the claim leaves T undefined on a zero stage gain
    a = pooled_transfer.analyse(section)
    row = next(t for t in a["tests"] if t["row"].startswith("far/fix"))
    assert not row["passed"] and "cannot be recovered" in row["why_no_interval"]
    assert "none: far/fix T3" in pooled_transfer.render({"analysis": a, "scale": "s", "trained_on": "cpu",
                                                         "provenance": {"git": "abc"}})


def test_the_tool_needs_the_claims_report_and_writes_once(tmp_path, capsys):
    assert "no fast report of stage3-less-transferable" in tool_refusal("pooled_transfer", ["--report-dir",
                                                                                            str(tmp_path)], capsys)
    shutil.copytree(ROOT / "reports" / pooled_transfer.CLAIM, tmp_path / pooled_transfer.CLAIM)
    tool = load_file(ROOT / "tools" / "pooled_transfer.py", "pooled_transfer_tool")
    assert tool.main(["--report-dir", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "pooled-transfer.json").read_text(encoding="utf-8"))
    assert len(result["analysis"]["tests"]) == 4 and result["scale"] == "the profile as declared"
    assert pooled_transfer.render(result) == (tmp_path / "pooled-transfer.md").read_text(encoding="utf-8")
    assert "written already" in tool_refusal("pooled_transfer", ["--report-dir", str(tmp_path)], capsys)


COMMITTED = sorted((ROOT / "reports" / "replication").glob("*/pooled-transfer.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_a_committed_result_is_what_the_claims_report_beside_it_gives_now(path):
    from lrsci import report
    from lrsci.patch_control import differences

    result = json.loads(path.read_text(encoding="utf-8"))
    section = report.read_record(path.parent / pooled_transfer.CLAIM / "result.json")["profiles"]["fast"]
    assert differences(result["analysis"], pooled_transfer.analyse(section), rel=1e-9) == []
    assert pooled_transfer.render(result) == path.with_suffix(".md").read_text(encoding="utf-8")

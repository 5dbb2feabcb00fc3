"""gd-larger-lr-diverges with outcomes read from the loss (lrsci.gd_outcomes, tools/gd_outcomes.py;
docs/replication.md, replication 22)."""
import json
import math
import shutil

import pytest

from lrsci import gd_outcomes
from lrsci.patch_control import differences
from tests.helpers import ROOT, load_file, tool_refusal


@pytest.mark.parametrize("outcome, loss, kind", [
    ("diverged", None, "diverged"), ("budget", 2.2930, "collapsed"), ("budget", 0.9 * math.log(10), "collapsed"),
    ("budget", 1.43, "trained"), ("budget", 0.0017, "trained")])
def test_a_run_is_diverged_collapsed_or_trained(outcome, loss, kind):
    assert gd_outcomes.classify(outcome, loss) == kind


def test_a_finished_run_without_a_loss_is_an_error():
    with pytest.raises(ValueError, match="no final train loss"):
        gd_outcomes.classify("budget", None)


def section(c_eta_losses: list, protocol: dict | None = None) -> dict:
    seeds = [str(30000 + i) for i in range(len(c_eta_losses))]
    return {"seeds": [int(s) for s in seeds],
            "protocol": protocol or {"min_diverged_fraction": 0.8, "null_p": 0.25, "alpha": 0.05},
            "per_seed": {"η=4: outcome": {s: "budget" for s in seeds},
                         "η=4: final train loss": {s: 0.01 for s in seeds},
                         "c·η=8: outcome": {s: "diverged" if v is None else "budget" for s, v in zip(seeds, c_eta_losses)},
                         "c·η=8: final train loss (if finished)": dict(zip(seeds, c_eta_losses))}}


def test_the_count_of_runs_that_failed_to_train_is_tested_as_the_claims_criterion_2():
    a = gd_outcomes.analyse(section([2.29] * 15 + [None] * 2 + [0.5] * 3))
    assert a["counts"]["c·η"] == {"trained": 3, "collapsed": 15, "diverged": 2} and a["counts"]["η"]["trained"] == 20
    assert a["test"]["failed"] == 17 and a["test"]["passed"]   # 85 % ≥ 80 %, binomial p tiny
    few = gd_outcomes.analyse(section([2.29] * 15 + [0.5] * 5))
    assert few["test"]["failed"] == 15 and few["test"]["p"] < 0.05 and not few["test"]["passed"]   # 75 % < 80 %
    assert differences(json.loads(json.dumps(a)), gd_outcomes.analyse(section([2.29] * 15 + [None] * 2 + [0.5] * 3))) == []


def test_the_tool_reads_the_claims_report_and_writes_once(tmp_path, capsys):
    assert "no fast report of gd-larger-lr-diverges" in tool_refusal("gd_outcomes", ["--report-dir", str(tmp_path)],
                                                                     capsys)
    shutil.copytree(ROOT / "reports" / gd_outcomes.CLAIM, tmp_path / gd_outcomes.CLAIM)
    tool = load_file(ROOT / "tools" / "gd_outcomes.py", "gd_outcomes_tool")
    assert tool.main(["--report-dir", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "gd-outcomes.json").read_text(encoding="utf-8"))
    assert result["analysis"]["test"]["n"] == 5 and "(G1)" in capsys.readouterr().out
    assert gd_outcomes.render(result) == (tmp_path / "gd-outcomes.md").read_text(encoding="utf-8")
    assert "written already" in tool_refusal("gd_outcomes", ["--report-dir", str(tmp_path)], capsys)


COMMITTED = sorted((ROOT / "reports" / "replication").glob("*/gd-outcomes.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_a_committed_result_is_what_the_claims_report_beside_it_gives_now(path):
    from lrsci import report

    result = json.loads(path.read_text(encoding="utf-8"))
    claim_section = report.read_record(path.parent / gd_outcomes.CLAIM / "result.json")["profiles"]["fast"]
    assert differences(result["analysis"], gd_outcomes.analyse(claim_section)) == []
    assert gd_outcomes.render(result) == path.with_suffix(".md").read_text(encoding="utf-8")

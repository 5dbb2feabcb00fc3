"""tools/check_reproduced.py: a report section compared with the committed one on what the run found."""
import pytest

from lrsci import report
from tests.helpers import ROOT, load_file
from tests.test_report import CLAIM, section

tool = load_file(ROOT / "tools" / "check_reproduced.py", "check_reproduced")


def roots(tmp_path, committed: dict, new: dict):
    for root, sections in (("committed", committed), ("new", new)):
        for profile, sec in sections.items():
            report.write_section(tmp_path / root, CLAIM, profile, sec)
    return tmp_path / "committed", tmp_path / "new"


def test_the_same_findings_under_another_provenance_are_reproduced(tmp_path):
    again = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    again["provenance"] = {**again["provenance"], "git": "def", "date": "2026-02-02T00:00:00Z"}
    again["summary"] = "worded otherwise"
    assert tool.compare(*roots(tmp_path, {"fast": section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])},
                               {"fast": again})) == ["reproduced demo-claim[fast]"]


def test_a_moved_per_seed_value_is_named_with_the_rows_it_moved(tmp_path):
    moved = section([2.0, 3.0, 4.2], [1.0, 1.5, 2.0])
    moved["provenance"] = {**moved["provenance"], "device_name": "gpu x", "torch": "2.11"}
    [line] = tool.compare(*roots(tmp_path, {"fast": section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])}, {"fast": moved}))
    assert line.startswith("DIFFERS    demo-claim[fast]: per_seed['a'], tests['a > b']")
    assert "other machines: device_name cpu / gpu x; torch (not recorded) / 2.11" in line


def test_another_cpu_model_is_named_also_when_the_committed_section_predates_recording_it(tmp_path):
    here = section([2.0, 3.0, 4.2], [1.0, 1.5, 2.0])
    here["provenance"] = {**here["provenance"], "cpu_model": "AMD EPYC 9R14"}   # device_name alike: "cpu"
    [line] = tool.compare(*roots(tmp_path, {"fast": section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])}, {"fast": here}))
    assert line.endswith("(committed / new ran on other machines: cpu_model (not recorded) / AMD EPYC 9R14)")


def test_an_empty_run_store_is_refused_rather_than_trained_unasked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LRSCI_RUNS", str(tmp_path / "runs"))   # a fresh clone: no .runs/
    monkeypatch.setattr(tool, "run_claims", lambda *a: pytest.fail("claims ran"))
    assert tool.main([]) == 2
    assert "no stored runs in" in capsys.readouterr().err and "--fresh" in tool._stored_runs_missing(False)
    assert tool._stored_runs_missing(True) is None
    assert tool.main(["--results", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_a_section_without_a_committed_one_and_an_identical_copy_are_said_as_such(tmp_path):
    same = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    committed, new = roots(tmp_path, {"fast": same}, {"fast": same, "gpu": section([1.0, 1.1, 1.2], [1.0, 1.0, 1.0], "gpu")})
    assert tool.compare(committed, new) == ["identical  demo-claim[fast]: the committed section, provenance included",
                                            "NEW        demo-claim[gpu]: no committed section to compare with"]


@pytest.mark.parametrize("change, named", [
    (lambda s: s.update(seeds=[5, 6, 7]), ["seeds"]),
    (lambda s: s.update(verdict="not replicated"), ["verdict"]),
    (lambda s: s["tests"].append({**s["tests"][0], "criterion": "extra"}), ["tests['extra']"]),
    (lambda s: s["per_seed"].pop("b"), ["per_seed['b']"]),
])
def test_result_differences_name_each_kind_of_change(change, named):
    old, new = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]), section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    change(new)
    assert report.result_differences(old, new) == named
    assert report.result_differences(old, section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])) == []


def test_rows_listed_in_another_order_are_a_difference():
    old = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    old["tests"].append({**old["tests"][0], "criterion": "second"})
    new = {**old, "tests": old["tests"][::-1]}
    assert report.result_differences(old, new) == ["tests (their order)"]


def test_the_exit_status_says_whether_everything_reproduced(tmp_path):
    committed, new = roots(tmp_path, {"fast": section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])},
                           {"fast": section([2.0, 3.0, 4.2], [1.0, 1.5, 2.0])})
    assert tool.main(["--results", str(new), "--committed", str(committed)]) == 1
    assert tool.main(["--results", str(committed), "--committed", str(committed)]) == 0
    (tmp_path / "empty").mkdir()
    assert tool.main(["--results", str(tmp_path / "empty"), "--committed", str(committed)]) == 1   # nothing compared


def test_numbers_may_differ_by_rel_and_nothing_else_may():
    old = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    near = section([2.0, 3.0, 4.1 * (1 + 1e-12)], [1.0, 1.5, 2.0])
    assert report.result_differences(old, near, rel=1e-9) == []
    assert report.result_differences(old, near) == ["per_seed['a']", "tests['a > b']"]
    far = section([2.0, 3.0, 4.1 * (1 + 1e-6)], [1.0, 1.5, 2.0])
    assert report.result_differences(old, far, rel=1e-9) == ["per_seed['a']", "tests['a > b']"]
    worded = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    worded["tests"][0]["threshold"] = "p<0.01"
    assert report.result_differences(old, worded, rel=1e-9) == ["tests['a > b']"]


def test_a_claim_that_raised_fails_the_check_though_every_written_section_is_identical(tmp_path, monkeypatch):
    committed, _ = roots(tmp_path, {"fast": section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])}, {})

    def one_section_and_a_failure(new_root, *args):
        report.write_section(new_root, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
        return 1                                   # another claim raised and wrote nothing
    monkeypatch.setattr(tool, "run_claims", one_section_and_a_failure)
    (tmp_path / "runs" / "some-run").mkdir(parents=True)   # a store with runs: passed only where .runs/ existed
    monkeypatch.setenv("LRSCI_RUNS", str(tmp_path / "runs"))
    assert tool.main(["--committed", str(committed)]) == 1

"""lrsci.report_notes: a report marks a section run under an earlier protocol, and shows a claim's reading
(written after its run) while the section is the current protocol's; from the claim modules, not result.json."""
from dataclasses import replace
from pathlib import Path

import pytest

from lrsci import driver, report
from lrsci.harness import ClaimContext
from lrsci.report_notes import declared_claims
from lrsci.runs import RunStore
from tests.helpers import load_file

DEMO = Path(__file__).parent / "fixtures" / "demo_claim.py"


def demo_module():
    return load_file(DEMO, "notes_demo_claim")


@pytest.fixture
def ran(tmp_path):
    """The demo claim's fast profile run once into tmp_path/reports (no claims/ beside it: no notes yet)."""
    demo = demo_module()
    claim = replace(demo.CLAIM, profiles=[demo.FAST])
    ctx = ClaimContext(profile="fast", store=RunStore(tmp_path / "runs"), report_root=tmp_path / "reports",
                       n_seeds=3, device="cpu", workers=1)
    assert driver.check(claim, demo.FAST, ctx).ok
    return claim, demo, tmp_path / "reports"


def test_a_section_run_under_an_earlier_protocol_is_marked_in_its_report_and_the_index(ran):
    claim, demo, root = ran
    folder = root / claim.id
    assert "(earlier protocol)" not in (folder / "report.md").read_text()
    v2 = replace(claim, profiles=[demo.FAST.extend("fast", a2=demo.DOWN, first_seed=3000)])   # v2: new a2, seeds
    report.render_claim(folder, {claim.id: v2})
    report.render_index(root, {claim.id: v2})
    md = (folder / "report.md").read_text()
    assert "## Profile `fast` — **REPLICATED** (earlier protocol)" in md
    assert "ran on seeds 0-2 under a protocol the claim module has since replaced" in md and "3000-3002" in md
    assert "| fast | **replicated** (earlier protocol) |" in (root / "README.md").read_text()


def test_a_section_run_on_other_seeds_says_so(ran):
    claim, demo, root = ran
    folder = root / claim.id
    same_protocol = replace(claim, profiles=[demo.FAST.extend("fast", first_seed=1000)])   # the run: seeds 0-2
    report.render_claim(folder, {claim.id: same_protocol})
    md = (folder / "report.md").read_text()
    assert "**REPLICATED** (other seeds)" in md and "not the protocol's report seeds 1000-1002" in md


def test_a_reading_shows_under_the_verdict_of_the_current_protocol_only(ran):
    claim, demo, root = ran
    folder = root / claim.id
    read = replace(claim, readings={"fast": "the a arm is far above b on every seed"})
    report.render_claim(folder, {claim.id: read})
    report.render_index(root, {claim.id: read})
    md = (folder / "report.md").read_text()
    assert "**REPLICATED** (see the reading)" in md and "written after the run" in md
    assert "the a arm is far above b on every seed" in md
    assert "| fast | **replicated** (see the reading) |" in (root / "README.md").read_text()
    later = replace(read, profiles=[demo.FAST.extend("fast", first_seed=3000)])   # superseded: no reading
    report.render_claim(folder, {claim.id: later})
    assert "far above b" not in (folder / "report.md").read_text()


def test_readings_must_name_declared_profiles(ran):
    from lrsci.claim import ClaimError

    claim, _, _ = ran
    with pytest.raises(ClaimError, match="readings for profiles it does not declare"):
        replace(claim, readings={"paper": "x"})


def test_the_claims_are_read_from_the_project_around_the_report_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)                           # and lrsci runs outside any project
    assert declared_claims(tmp_path / "reports") == {}          # no claims/ beside it
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "test_notes_project_demo.py").write_text(
        DEMO.read_text().replace('id="demo-claim"', 'id="notes-project-demo"'))
    assert declared_claims(tmp_path / "reports") == {}          # claims/ without conftest.py: not a project
    (tmp_path / "conftest.py").write_text("")
    assert list(declared_claims(tmp_path / "reports")) == ["notes-project-demo"]
    # a folder of reports run on other seeds, deeper in the project, belongs to it too
    assert list(declared_claims(tmp_path / "reports" / "replication" / "seeds-5000-5009")) == ["notes-project-demo"]
    (tmp_path / "claims" / "test_broken_notes_demo.py").write_text("raise RuntimeError('broken module')\n")
    with pytest.warns(UserWarning, match="without notes.*test_broken_notes_demo.py cannot be imported.*broken module"):
        assert list(declared_claims(tmp_path / "reports")) == ["notes-project-demo"]   # the others keep theirs


def test_reports_outside_a_project_get_no_notes_and_no_warning(tmp_path, recwarn, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert declared_claims(tmp_path / "reports") == {} and not recwarn.list


def test_a_report_folder_outside_the_project_gets_the_notes_of_the_project_lrsci_runs_in(tmp_path, monkeypatch):
    """--report-dir /tmp/dev-reports from a checkout: its sections are marked against the checkout's claims."""
    monkeypatch.chdir(Path(__file__).resolve().parents[1] / "tests")
    assert "sgd-post-decay-boost" in declared_claims(tmp_path / "dev-reports")


def test_a_section_of_a_profile_no_longer_declared_is_marked_so(ran):
    from lrsci.report_notes import section_notes, section_state

    claim, demo, root = ran
    sec = report.read_record(root / claim.id / "result.json")["profiles"]["fast"]
    assert section_state(claim, "gpu-old", sec) == "undeclared"
    suffix, notes = section_notes(claim, "gpu-old", sec)
    assert suffix == " (profile no longer declared)" and "declares no profile `gpu-old`" in notes[0]


def test_a_section_trained_batched_is_marked_and_shows_no_reading(ran):
    """--executor batched into the report folder: statistically equivalent runs, not the report's own."""
    import json

    claim, demo, root = ran
    folder = root / claim.id
    record = json.loads((folder / "result.json").read_text())
    record["profiles"]["fast"]["provenance"]["executor"] = "batched"
    (folder / "result.json").write_text(json.dumps(record))
    read = replace(claim, readings={"fast": "the a arm is far above b on every seed"})
    report.render_claim(folder, {claim.id: read})
    report.render_index(root, {claim.id: read})
    md = (folder / "report.md").read_text()
    assert "**REPLICATED** (batched runs)" in md and "trained as one batched model" in md
    assert "the a arm is far above b" not in md and "as one batched model in one process)" in md
    assert "| fast | **replicated** (batched runs) |" in (root / "README.md").read_text()


def test_a_section_on_other_seeds_trained_batched_carries_both_marks(ran):
    from lrsci.report_notes import section_notes, section_state

    claim, demo, root = ran
    sec = report.read_record(root / claim.id / "result.json")["profiles"]["fast"]
    sec = {**sec, "seeds": [s + 100 for s in sec["seeds"]], "provenance": {**sec["provenance"], "executor": "batched"}}
    assert section_state(claim, "fast", sec) == "other seeds"
    suffix, notes = section_notes(claim, "fast", sec)
    assert suffix == " (other seeds) (batched runs)"
    assert "**Other seeds.**" in notes[0] and "**Batched runs.**" in notes[1]

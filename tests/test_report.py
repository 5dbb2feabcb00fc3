import json

from lrsci import report
from lrsci.harness import criterion, verdict
from lrsci.stats import paired_t

CLAIM = {"id": "demo-claim", "title": "a demo", "source": "nowhere §0", "statement": "a > b"}


def section(a, b, profile="fast"):
    rows = [criterion("a > b", paired_t(a, b), "p<0.05", [x - y for x, y in zip(a, b)])]
    return {"protocol": {"epochs": 1}, "seeds": [0, 1, 2], "tests": rows, "verdict": verdict(rows),
            "per_seed": {"a": dict(enumerate(a)), "b": dict(enumerate(b))}, "summary": "demo", "headline": "+1",
            "figure": {"file": f"fig-{profile}.png", "spec": {"title": "t", "ylabel": "acc", "panels": [
                {"title": "p", "marks": [1], "curves": [{"label": "x", "runs": [[1, 2, 3], [1, 2, 4]]}]}]}},
            "provenance": {"git": "abc", "date": "2026-01-01T00:00:00Z", "device_name": "cpu"}}


def test_write_render_and_index(tmp_path):
    report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
    folder = tmp_path / "demo-claim"
    rec = json.loads((folder / "result.json").read_text())
    assert rec["profiles"]["fast"]["verdict"] == "replicated"
    md = (folder / "report.md").read_text()
    assert "REPLICATED" in md and "fig-fast.png" in md and "| a > b |" in md
    assert (folder / "fig-fast.png").stat().st_size > 1000
    index = (tmp_path / "README.md").read_text()
    assert "[demo-claim](demo-claim/report.md)" in index and "**replicated**" in index


def test_profiles_merge_and_rerender_without_training(tmp_path):
    report.write_section(tmp_path, CLAIM, "fast", section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0]))
    report.write_section(tmp_path, CLAIM, "gpu", section([1.0, 1.0, 1.1], [1.0, 1.5, 2.0], "gpu"))
    rec = json.loads((tmp_path / "demo-claim" / "result.json").read_text())
    assert set(rec["profiles"]) == {"fast", "gpu"}
    assert rec["profiles"]["gpu"]["verdict"] == "not replicated"
    (tmp_path / "demo-claim" / "report.md").unlink()
    (tmp_path / "demo-claim" / "fig-gpu.png").unlink()
    report.render_all(tmp_path)
    assert (tmp_path / "demo-claim" / "fig-gpu.png").exists()
    assert "NOT REPLICATED" in (tmp_path / "demo-claim" / "report.md").read_text()


def test_nan_becomes_null(tmp_path):
    sec = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    sec["per_seed"]["a"][0] = float("nan")
    report.write_section(tmp_path, CLAIM, "fast", sec)
    assert json.loads((tmp_path / "demo-claim" / "result.json").read_text())["profiles"]["fast"]["per_seed"]["a"]["0"] is None


def test_identical_reanalysis_keeps_the_training_provenance(tmp_path):
    first = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    report.write_section(tmp_path, CLAIM, "fast", first)
    again = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    again["provenance"] = {"git": "later", "date": "2027-01-01T00:00:00Z", "runs_trained": 0}
    report.write_section(tmp_path, CLAIM, "fast", again)
    rec = json.loads((tmp_path / "demo-claim" / "result.json").read_text())
    assert rec["profiles"]["fast"]["provenance"]["git"] == "abc"
    changed = section([2.0, 3.0, 9.0], [1.0, 1.5, 2.0])
    changed["provenance"] = {"git": "later"}
    report.write_section(tmp_path, CLAIM, "fast", changed)
    rec = json.loads((tmp_path / "demo-claim" / "result.json").read_text())
    assert rec["profiles"]["fast"]["provenance"]["git"] == "later"


def test_fewer_seeds_than_the_protocol_is_flagged(tmp_path):
    sec = section([2.0, 3.0, 4.1], [1.0, 1.5, 2.0])
    sec["protocol"] = {"seeds": 5}
    report.write_section(tmp_path, CLAIM, "fast", sec)
    assert "fewer than the protocol's 5" in (tmp_path / "demo-claim" / "report.md").read_text()

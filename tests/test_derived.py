"""lrsci.derived: a result computed from a stored run, kept beside it as JSON and read back by its key."""
import json

import pytest

from lrsci import derived


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return {"value": value}
    return compute, calls


def test_computed_once_then_read_back_by_its_key(tmp_path):
    key = {"run": "abc", "step": 3, "opts": {"k": 2}}
    path = derived.path_for(tmp_path / "run", "measure", key)
    compute, calls = counting([1.5, 0.5])
    assert derived.cached(path, key, compute) == {"key": key, "value": [1.5, 0.5]}
    assert derived.cached(path, key, compute)["value"] == [1.5, 0.5] and len(calls) == 1
    assert path.parent == tmp_path / "run" and path.name.startswith("measure-") and path.suffix == ".json"
    assert derived.path_for(tmp_path, "m", {"b": 1, "a": 2}) == derived.path_for(tmp_path, "m", {"a": 2, "b": 1})


def test_a_record_of_another_key_or_failing_its_check_is_computed_again(tmp_path):
    key = {"run": "abc"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"key": {"run": "other"}, "value": 1}))
    compute, calls = counting(2)
    assert derived.cached(path, key, compute)["value"] == 2
    with pytest.warns(UserWarning, match="fail the check.*moved it aside"):   # never silently replaced
        assert derived.cached(path, key, compute, valid=lambda r: r["value"] > 5)["value"] == 2 and len(calls) == 2
    assert len(list(tmp_path.glob("r.json.corrupt-*"))) == 1


def test_a_record_another_process_moved_aside_meanwhile_is_computed_not_a_crash(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text('{"key": ')

    def gone(p):
        raise FileNotFoundError(f"cannot quarantine {p}: it is gone")
    monkeypatch.setattr(derived.files, "quarantine", gone)
    compute, calls = counting(4)
    monkeypatch.setattr(derived.files, "write_json", lambda p, r: None)
    assert derived.cached(path, {"run": "abc"}, compute)["value"] == 4 and len(calls) == 1


def test_an_unreadable_record_is_moved_aside_named_and_computed_again(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"key": ')
    compute, calls = counting(3)
    with pytest.warns(UserWarning, match=r"r\.json: unreadable sharpness measurement .*moved it aside"):
        assert derived.cached(path, {"a": 1}, compute, what="sharpness measurement")["value"] == 3
    assert [p.name for p in tmp_path.glob("r.json.corrupt-*")] and json.loads(path.read_text())["value"] == 3

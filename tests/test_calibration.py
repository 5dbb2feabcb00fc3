"""What both calibration tools share (lrsci.calibration): a record written once even against a racing
writer, any unusable record moved aside and named, only device profiles refused, dev seeds only."""

import pytest

from lrsci import autodecay_calibration, calibration, files
from lrsci.calibration import CalibrationError


def test_a_record_published_by_another_writer_during_the_write_is_not_replaced(tmp_path, monkeypatch):
    path = tmp_path / "autodecay-gpu.json"
    real = files._text_writer

    def another_writer_lands_first(text):
        def write(tmp):
            path.write_text('{"theirs": true}')
            real(text)(tmp)
        return write
    monkeypatch.setattr(files, "_text_writer", another_writer_lands_first)
    with pytest.raises(CalibrationError, match="already calibrated"):
        calibration.write_once(path, {"mine": True}, "AutoDecay's 'gpu' constants")
    assert path.read_text() == '{"theirs": true}' and list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("text", ['{"chosen": {"epochs": 30}}', '{"chosen": {"epochs": null, "weight_decay": 1, '
                                  '"tolerance": 1}}', "[1, 2]"])
def test_a_record_missing_or_mistyping_a_field_is_moved_aside_and_named(tmp_path, text):
    path = autodecay_calibration.path_for("gpu", tmp_path)
    path.write_text(text)
    with pytest.raises(CalibrationError, match="autodecay-gpu.json is unreadable .*moved to .*corrupt-.*"
                                               "calibrate_autodecay.py --profile gpu again"):
        autodecay_calibration.calibrated("gpu", tmp_path)
    assert not path.exists() and len(list(tmp_path.glob("autodecay-gpu.json.corrupt-*"))) == 1


def test_only_a_device_profile_needs_its_record():
    class P:
        name, device, params = "fast", "cpu", {"autodecay_calibration": None}

        def __getitem__(self, k):
            return self.params[k]
    autodecay_calibration.require(P())   # the CPU profile runs on its declared constants
    P.device = "cuda"
    with pytest.raises(CalibrationError, match="is missing"):
        autodecay_calibration.require(P())


@pytest.mark.parametrize("raw", ["0", "-1", "two"])
def test_dev_seeds_must_be_a_positive_count(raw):
    with pytest.raises(SystemExit):
        calibration.arguments("x").parse_args(["--profile", "gpu", "--dev-seeds", raw])


def test_a_tool_trains_on_the_dev_seeds(tmp_path, monkeypatch):
    from lrsci import driver

    monkeypatch.setattr(driver, "context", lambda profile, **kw: kw)
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)   # as on the GPU machine the tool runs on
    ap = calibration.arguments("x")
    args = ap.parse_args(["--profile", "gpu", "--out-dir", str(tmp_path), "--dev-seeds", "2"])
    profile, kw = calibration.dev_context(ap, args, "autodecay-matches-stepdecay", "autodecay_calibration",
                                          autodecay_calibration.path_for)
    assert profile.name == "gpu" and kw["seed_offset"] == calibration.DEV_SEED_OFFSET == 1000 and kw["seeds"] == 2


def test_the_rule_text_keeps_the_paragraph_that_introduces_the_rule():
    doc = "Title.\n\nWhy there is a rule:\n\n    the rule itself,\n    indented.\n\nAfterwards."
    assert calibration.rule_text(doc) == "Why there is a rule:\n\nthe rule itself,\nindented."


def test_a_calibration_tool_interrupted_says_so_in_one_line_and_exits_130(capsys):
    from lrsci.calibration import interruptible
    from lrsci.interrupts import StopRequested

    def stopped():
        raise StopRequested("stopped after epoch 38 of 400, with a checkpoint")
    assert interruptible(stopped, "calibrate_gd_eta") == 130
    err = capsys.readouterr().err
    assert err.startswith("calibrate_gd_eta: interrupted; running it again resumes") and "Traceback" not in err
    assert interruptible(lambda: 0, "calibrate_gd_eta") == 0

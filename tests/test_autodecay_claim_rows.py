"""The reported-only rows of autodecay-matches-stepdecay that ask whether AutoDecay's saving is a faster
route or StepDecay's budget (claims/test_autodecay_matches_stepdecay.py), on hand-made histories."""
from lrsci.train import RunResult
from tests.helpers import ROOT, load_file

CLAIM = load_file(ROOT / "claims" / "test_autodecay_matches_stepdecay.py", "_autodecay_claim")


def _run(accs, lrs, stop="budget"):
    history = [{"epoch": i + 1, "lr": lr, "train_loss": 1.0 / (i + 1), "test_acc": a}
               for i, (a, lr) in enumerate(zip(accs, lrs))]
    return RunResult(config={}, history=history, status="finished", epochs_trained=len(history),
                     decay_epochs=[], stop_reason=stop)


STEP = _run([70, 80, 84, 85, 86, 86.5], [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
AUTO = _run([70, 81, 85, 86], [0.1, 0.01, 0.001, 1e-4], stop="rule")


def test_stepdecay_is_read_at_the_epoch_autodecay_stopped():
    assert CLAIM.step_at_autodecay_stop({"step": STEP, "autodecay": AUTO}) == 85


def test_first_epoch_stepdecay_is_within_the_margin_of_autodecays_final():
    runs = {"step": STEP, "autodecay": AUTO}
    assert CLAIM.step_within_margin(runs, 1.0) == 4          # 85 ≥ 86 − 1
    assert CLAIM.step_within_margin(runs, 0.0) == 5          # 86 ≥ 86
    never = {"step": STEP, "autodecay": _run([70, 99], [0.1, 0.01])}
    assert CLAIM.step_within_margin(never, 1.0) == len(STEP.history) + 1


def test_analysis_reports_the_rows_and_each_arms_final_rate():
    plateau = _run([70, 80, 82, 83, 84, 84.5], [0.1] * 4 + [0.01] * 2)
    runs = {s: {"step": STEP, "autodecay": AUTO, "plateau": plateau} for s in (0, 1, 2)}
    out = CLAIM.analyse(runs, CLAIM.FAST)
    row = next(r for r in out["tests"] if "at AutoDecay's stopping epoch" in r["criterion"])
    assert row["reported_only"] and abs(row["effect"] - 1.0) < 1e-9      # 86 − 85 on every seed
    assert out["per_seed"]["StepDecay acc at AutoDecay's stopping epoch"] == {0: 85, 1: 85, 2: 85}
    assert out["per_seed"]["StepDecay: first epoch within 1 pp of AutoDecay's final acc"] == {0: 4, 1: 4, 2: 4}
    final_lr = out["extra_tables"]["Decays and outcome"]
    assert (final_lr["StepDecay final LR"][0], final_lr["AutoDecay final LR"][0],
            final_lr["ReduceLROnPlateau final LR"][0]) == ("0.001", "0.0001", "0.01")

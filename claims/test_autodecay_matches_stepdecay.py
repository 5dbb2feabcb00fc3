"""autodecay-matches-stepdecay — You, Long, Wang, Jordan (2019), App. A.1.3, Fig. 14.

Claim: AutoDecay (decay the LR when the bias-corrected EDMA of the training loss plateaus,
stop when a stage brings no significant drop) reaches the accuracy of the usual
three-stage StepDecay schedule in fewer epochs (ImageNet, ResNet-50: AutoDecay 81 epochs,
75.91 top-1 vs StepDecay 90 epochs, 75.80).

Arms, paired by seed (same init, same data order), same initial LR and decay factor:

* StepDecay — multiply the LR by ``factor`` after E/3 and 2E/3 of E epochs (the 30/60/90
  of 90 ImageNet epochs, scaled to the profile);
* AutoDecay — :class:`lrsci.autodecay.AutoDecayRule` fed the mean training loss of every
  epoch (one observation per epoch), at most E epochs; it may stop early (stop reason "rule");
* reference, reported only — PyTorch's own ``torch.optim.lr_scheduler.ReduceLROnPlateau``
  on the same per-epoch training loss (patience and threshold in the protocol). It has no
  stopping rule, so it always trains E epochs.

"Final test accuracy" of a run = its test accuracy (%) at the last epoch it trained
(``history[-1]``: epoch E for StepDecay, the stopping epoch for AutoDecay). "Epochs" of a
run = ``RunResult.epochs_trained``.

Pass, both required (pre-registered; α = 0.05):
  (1) non-inferiority: mean(final acc AutoDecay − final acc StepDecay) > −margin, one-sided
      paired t-test p < α (margin 1.0 pp fast, 0.5 pp gpu);
  (2) fewer epochs: mean(epochs AutoDecay) / mean(epochs StepDecay) ≤ 0.95 (the paper saw
      81/90 = 0.90); its paired bootstrap 95 % CI is reported from 10 seeds on (lrsci.criteria;
      with 5 seeds the report shows every seed's epochs instead).
Reported beside them (not part of the pass rule): the Wilcoxon version of (1), and the
ReduceLROnPlateau arm's accuracy and epochs against StepDecay and AutoDecay.

Calibration (fast profile, development seeds 1000-1004 only). At this scale (an MLP on
8,000 Fashion-MNIST images, 6-epoch stages) the training loss after a decay keeps falling
5-10 % per epoch for several epochs (the net keeps fitting its small training set). With a
tight stability tolerance (η ≤ 8 %, W = 3 or 4) AutoDecay judged the second stage stable only
after StepDecay's milestone and ran into the 18-epoch budget on every dev seed; at η = 10 %
(W = 3) one seed in five still did. W = 3, η = 12 %, β = 0.9 (the paper's β) and ζ = 0.85
decay once the smoothed loss falls by less than ~6 % per epoch. Weight decay 5e-3 makes the
loss at the initial LR plateau within ~3 epochs, like the first ImageNet stage. On the dev
seeds the rule decayed after epochs 5, 9 and 12 and stopped at 15 of 18, on every seed
(final test acc: StepDecay 86.04 %, AutoDecay 86.14 %, ReduceLROnPlateau 84.92 %; epochs
18 / 15 / 18). The third decay is the "extra decay" the rule can make: the stage after the
second decay still shows a > 15 % drop against the previous stage's EDMA (largely the
immediate drop a decay brings); the stage after it brings no drop, and the rule stops
after W more epochs. ReduceLROnPlateau's settings were not tuned.

v1 → v2 (2026-11-27, before any v2 run). v1's gpu profile took the fast profile's rule constants by
analogy, with the gpu profiles' weight decay 5e-4 (the fast calibration's point was that 5e-3 lets the
first stage plateau) and an 18-epoch budget; on the WideResNet every AutoDecay run decayed once and
trained the whole budget. v2's gpu profile takes its weight decay, stability tolerance and budget E
(a longer StepDecay baseline: 30 or 45 epochs, so three stages have room) from a rule stated before
any GPU development run and applied once on GPU dev seeds 1000-1002
(lrsci.autodecay_calibration; tools/calibrate_autodecay.py; the record in
claims/calibration/autodecay-gpu.json): only the rule's decisions enter it, never an accuracy. Until
that record exists the gpu profile refuses to run, naming the tool. Five gpu seeds (v1: three). Every
arm's stop reason is reported ("budget" for a run that trained every epoch: v1 reported AutoDecay's
budget stop as a rule stop, corrected in its stored report); a ratio row says when every seed made
the same decisions instead of printing a zero-width interval (corrected 2026-11-27, wording only: it says
so when every seed stopped at the same epochs, which is what makes the interval a point; the decays in
between may differ). The fast protocol is v1's, on fresh
report seeds. Margins and the 0.95 ratio are unchanged.

Added 2026-11-27, after the fast v2 run and before any gpu v2 run, prompted by the fast report's reading
(reported only, never part of the verdict): StepDecay's own test accuracy at each AutoDecay run's
stopping epoch, AutoDecay's final accuracy against it (does AutoDecay's saving come from a faster route,
or from StepDecay's budget?), the first epoch at which StepDecay is within the margin of AutoDecay's final
accuracy, and every arm's final learning rate. The committed fast section was analysed again with them
from its stored runs (nothing re-trained; every per-seed value and verdict unchanged).
"""
from __future__ import annotations

import math

from lrsci import autodecay_calibration
from lrsci.claim import Claim, Profile
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig
from lrsci.criteria import BOOTSTRAP_MIN_N, criterion
from lrsci.edma import edma_series
from lrsci.stats import StatResult, non_inferiority, paired_t, ratio_ci, wilcoxon

ARMS = ("step", "autodecay", "plateau")
ARM_NAMES = {"step": "StepDecay", "autodecay": "AutoDecay", "plateau": "ReduceLROnPlateau"}
FEWER_EPOCHS = "(2) epochs: AutoDecay / StepDecay"

# Protocol, written before the final run. The fast profile's E, LR, weight decay, data size,
# AutoDecay hyperparameters (beta, window, tolerance, zeta; one observation per epoch) and the
# ReduceLROnPlateau settings were fixed on development seeds 1000-1004 (--seed-offset 1000);
# v1's reports used seeds 0-4 (fast) and 0-2 (gpu); v2's use 3000-3004 (the seed record below). Margins and the
# 0.95 ratio are the issue's.
# Seed record (every range anyone looked at): v1 — dev 1000-1004 (fast calibration), fast report 0-4, gpu
# report 0-2 (H100), fast re-check 2000-2004 (same verdict). v2 — GPU dev 1000-1002 (the calibration rule
# only), report seeds 3000-3004 (fast and gpu), which nothing had touched.
# v2 fast final run (seeds 3000-3004, once, this 2-core CPU, 2026-11-27): replicated — +0.05 pp (non-
# inferiority p < 0.001), epochs ×0.82 (AutoDecay stopped by its rule after 14-15 of 18 on every seed).
FAST = Profile(
    "fast", device="cpu", seeds=5, first_seed=3000,
    run=RunConfig(
        data=DataConfig("fashion-mnist", train_size=8_000, test_size=2_000, seed=0),
        model=ModelConfig("mlp", hidden=256),
        optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=5e-3, batch_size=128),
        epochs=18, eval_train=False),                 # E = 18: StepDecay milestones 6, 12
    params={"factor": 0.1,                                    # LR multiplier per decay, every arm
            "observe": "mean training loss of each epoch",    # AutoDecay's and ReduceLROnPlateau's signal
            "autodecay": {"beta": 0.9, "window": 3, "tolerance": 0.12, "zeta": 0.85},
            "plateau": {"mode": "min", "patience": 2, "threshold": 0.02, "threshold_mode": "rel"},
            "margin_pp": 1.0,         # non-inferiority margin on final test accuracy (percentage points)
            "max_epoch_ratio": 0.95,  # mean epochs AutoDecay / StepDecay must not exceed this
            "alpha": 0.05})
# gpu v2: the rule's setting (E, weight decay, tolerance) from its record; declared, not yet run (the v1
# gpu report, 3 seeds 0-2 on an H100, stays until it is). Data, model and precision are v1's (a fixed
# seeded half of Fashion-MNIST's training set, chosen in v1 before any gpu result to fit the budget).
GPU_CALIBRATION = autodecay_calibration.calibrated("gpu")
GPU_SETTING = autodecay_calibration.setting_of(GPU_CALIBRATION)
GPU = FAST.extend(
    "gpu", device="cuda", seeds=5, first_seed=3000, margin_pp=0.5, autodecay_calibration=GPU_CALIBRATION,
    autodecay={**FAST["autodecay"], "tolerance": GPU_SETTING["tolerance"]},
    run=RunConfig(
        data=DataConfig("fashion-mnist", train_size=30_000, seed=0),
        model=ModelConfig("wrn", depth=16, width=4),
        optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=GPU_SETTING["weight_decay"], batch_size=128),
        epochs=GPU_SETTING["epochs"], precision="bf16", eval_train=False))   # StepDecay milestones E/3, 2E/3


def milestones(p: Profile) -> tuple[int, int]:
    e = p.run.epochs
    return round(e / 3), round(2 * e / 3)


def arm_schedule(arm: str, p: Profile) -> ScheduleConfig:
    if arm == "step":
        return ScheduleConfig("step", milestones=milestones(p), factor=p["factor"])
    if arm == "autodecay":   # max epochs = E (the run's epochs)
        return ScheduleConfig("autodecay", factor=p["factor"], autodecay=dict(p["autodecay"]))
    return ScheduleConfig("plateau", factor=p["factor"], plateau=dict(p["plateau"]))


def train_arms(ctx, p: Profile) -> dict:
    """{seed: {arm: RunResult}}; every run is independent (AutoDecay cannot fork)."""
    autodecay_calibration.require(p)
    return ctx.run_arms(lambda seed: {arm: p.run.with_(seed=seed, schedule=arm_schedule(arm, p)) for arm in ARMS},
                        labels=ARM_NAMES)


def final_acc(r) -> float:
    return r.curve("test_acc")[-1]


def ratio_row(name: str, a, b, limit: float, reported_only: bool = False) -> dict:
    """A report row for mean(a)/mean(b) ≤ limit, judged on the point estimate.

    Its paired bootstrap CI is shown only from BOOTSTRAP_MIN_N seeds on (lrsci.criteria)."""
    ratio, lo, hi = ratio_ci(a, b)
    result = StatResult("ratio of means", f"mean(a) / mean(b) ≤ {limit:g}", ratio, math.nan, len(a), ratio, limit)
    row = criterion(name, result, f"ratio ≤ {limit:g}", reported_only=reported_only)
    row.update(passed=bool(ratio <= limit), alpha=None)
    if len(set(zip(a, b))) == 1:  # every seed stopped at the same epochs: an interval would be a point
        # (only the counts are equal: the runs may have decayed at different epochs)
        row["threshold"] += f" (every seed: {a[0]:g} vs {b[0]:g} epochs, so no interval)"
    elif len(a) >= BOOTSTRAP_MIN_N:
        row["ci_bootstrap"] = [lo, hi]
    return row


def step_at_autodecay_stop(seed_runs: dict) -> float:
    """StepDecay's test accuracy at the epoch its paired AutoDecay run stopped: AutoDecay's saving is a faster
    route only if StepDecay has not reached the same accuracy by then."""
    step = seed_runs["step"].curve("test_acc")
    return step[min(seed_runs["autodecay"].epochs_trained, len(step)) - 1]


def step_within_margin(seed_runs: dict, margin: float) -> int:
    """First epoch at which StepDecay's test accuracy is within ``margin`` of AutoDecay's final accuracy
    (its epochs + 1 when it never is)."""
    step, target = seed_runs["step"].curve("test_acc"), final_acc(seed_runs["autodecay"]) - margin
    return next((i + 1 for i, v in enumerate(step) if v >= target), len(step) + 1)


def analyse(runs: dict, p: Profile) -> dict:
    seeds, alpha, m = list(runs), p["alpha"], p["margin_pp"]
    acc = {arm: [final_acc(runs[s][arm]) for s in seeds] for arm in ARMS}
    ep = {arm: [runs[s][arm].epochs_trained for s in seeds] for arm in ARMS}
    diff = [a - b for a, b in zip(acc["autodecay"], acc["step"])]
    step_then = [step_at_autodecay_stop(runs[s]) for s in seeds]
    ni = non_inferiority(acc["autodecay"], acc["step"], m)
    rows = [
        criterion("(1) final test acc: AutoDecay ≥ StepDecay − margin", ni,
                  f"p<{alpha} (margin {m} pp)", diff, alpha),
        criterion("(1) final test acc: AutoDecay ≥ StepDecay − margin", wilcoxon(acc["autodecay"], acc["step"],
                  margin=-m), "reported", None, alpha, reported_only=True),
        ratio_row(FEWER_EPOCHS, ep["autodecay"], ep["step"], p["max_epoch_ratio"]),
        criterion("(2) epochs: AutoDecay < StepDecay", paired_t(ep["autodecay"], ep["step"], alternative="less"),
                  "reported", [a - b for a, b in zip(ep["autodecay"], ep["step"])], alpha, reported_only=True),
        criterion("(ref) final test acc: ReduceLROnPlateau ≥ StepDecay − margin",
                  non_inferiority(acc["plateau"], acc["step"], m), "reported",
                  [a - b for a, b in zip(acc["plateau"], acc["step"])], alpha, reported_only=True),
        criterion("(ref) final test acc: AutoDecay ≥ ReduceLROnPlateau − margin",
                  non_inferiority(acc["autodecay"], acc["plateau"], m), "reported",
                  [a - b for a, b in zip(acc["autodecay"], acc["plateau"])], alpha, reported_only=True),
        ratio_row("(ref) epochs: ReduceLROnPlateau / StepDecay", ep["plateau"], ep["step"], p["max_epoch_ratio"],
                  reported_only=True),
        criterion("(ref) final test acc: AutoDecay > StepDecay at AutoDecay's stopping epoch",
                  paired_t(acc["autodecay"], step_then), "reported",
                  [a - b for a, b in zip(acc["autodecay"], step_then)], alpha, reported_only=True),
    ]
    per_seed = {}
    for arm in ARMS:
        per_seed[f"{ARM_NAMES[arm]} final acc"] = dict(zip(seeds, acc[arm]))
    per_seed["AutoDecay − StepDecay acc"] = dict(zip(seeds, diff))
    per_seed["StepDecay acc at AutoDecay's stopping epoch"] = dict(zip(seeds, step_then))
    per_seed[f"StepDecay: first epoch within {m:g} pp of AutoDecay's final acc"] = {
        s: step_within_margin(runs[s], m) for s in seeds}
    for arm in ARMS:
        per_seed[f"{ARM_NAMES[arm]} epochs"] = dict(zip(seeds, ep[arm]))
    outcomes = {}
    for arm in ARMS:
        outcomes[f"{ARM_NAMES[arm]} decays after epochs"] = {
            s: ", ".join(map(str, runs[s][arm].decay_epochs)) or "none" for s in seeds}
    for arm in ARMS:  # budget: ran all its epochs; rule: its own rule stopped it; diverged
        outcomes[f"{ARM_NAMES[arm]} stop reason"] = {s: runs[s][arm].stop_reason for s in seeds}
    for arm in ARMS:  # arms that end at other rates are not compared at the same point of annealing
        outcomes[f"{ARM_NAMES[arm]} final LR"] = {s: f"{runs[s][arm].series('lr')[-1]:.3g}" for s in seeds}

    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    ratio, d = rows[2]["effect"], mean(diff)
    numbers = (f"final test acc StepDecay {mean(acc['step']):.2f} %, AutoDecay {mean(acc['autodecay']):.2f} %, "
               f"ReduceLROnPlateau {mean(acc['plateau']):.2f} % (AutoDecay − StepDecay {d:+.2f} pp, "
               f"non-inferiority p = {ni.p_value:.3g} at margin {m} pp); epochs StepDecay {mean(ep['step']):.1f}, "
               f"AutoDecay {mean(ep['autodecay']):.1f}, ReduceLROnPlateau {mean(ep['plateau']):.1f} "
               f"(AutoDecay/StepDecay {ratio:.3f}, limit {p['max_epoch_ratio']})")
    return {"tests": rows, "per_seed": per_seed, "extra_tables": {"Decays and outcome": outcomes},
            "headline": f"Δacc {d:+.2f} pp (p={ni.p_value:.2g}), epochs ×{ratio:.2f}",
            "summary": f"Means over {len(seeds)} seeds: {numbers}. Paper (ImageNet): 75.91 vs 75.80 top-1, "
                       f"81/90 = 0.90 of the epochs."}


def edma_by_stage(losses: list[float], decays: list[int], beta: float) -> list[float]:
    """The rule's ĝ: the EDMA of the per-epoch training loss, restarted at every decay."""
    bounds = [0, *[d for d in decays if 0 < d < len(losses)], len(losses)]
    out: list[float] = []
    for a, b in zip(bounds, bounds[1:]):
        if b > a:
            out += edma_series(losses[a:b], beta)
    return out


def figure_spec(runs: dict, p: Profile) -> dict:
    seeds, beta = list(runs), p["autodecay"]["beta"]

    def series(arm, key):
        return [runs[s][arm].series(key) for s in seeds]

    def marks(arm):
        return sorted({d for s in seeds for d in runs[s][arm].decay_epochs})

    panels = [{"title": f"{ARM_NAMES[arm]}: train loss and its EDMA (β={beta:g})", "marks": marks(arm),
               "logy": True, "ylabel": "training loss",
               "curves": [{"label": "train loss", "runs": series(arm, "train_loss")},
                          {"label": "EDMA ĝ (restarts at decay)",
                           "runs": [edma_by_stage(runs[s][arm].series("train_loss"), runs[s][arm].decay_epochs,
                                                  beta) for s in seeds]}]}
              for arm in ARMS]
    panels.append({"title": "learning rate (dashed: StepDecay milestones)", "marks": list(milestones(p)),
                   "logy": True, "ylabel": "learning rate",
                   "curves": [{"label": ARM_NAMES[arm], "runs": series(arm, "lr")} for arm in ARMS]})
    panels.append({"title": "test accuracy (dashed: AutoDecay decays)", "marks": marks("autodecay"),
                   "ylabel": "test accuracy (%)",
                   "curves": [{"label": ARM_NAMES[arm], "runs": series(arm, "test_acc")} for arm in ARMS]})
    return {"title": f"AutoDecay vs StepDecay vs ReduceLROnPlateau — {p.name} (cf. You et al. Fig. 13, Fig. 7); "
                     f"dashed: decays", "sharey": False, "panels": panels}


def arm_record(p: Profile) -> dict:
    return {"step_milestones": list(milestones(p)),
            "schedules": {ARM_NAMES[a]: arm_schedule(a, p).__dict__ for a in ARMS}}


def epochs_per_arm(section: dict) -> dict:
    """For --benchmark-json: epochs each arm trained, summed over seeds."""
    return {"epochs_per_arm": {name: sum(section["per_seed"][f"{name} epochs"].values())
                               for name in ARM_NAMES.values()}}


# Seeds 5000-5009 and, on data seed 7, seeds 6000-6009 (fast, n = 10 each, each run once on 2026-11-28 after
# the fast report; docs/replication.md): ranges no one had looked at, added to this claim's seed record.
# Seeds 14000-14004 (fast at --set model.hidden=1024, its constants unchanged, run once on 2026-11-29:
# replication 9 of docs/replication.md, declared before it ran), untouched before and added to the seed record.
# Seeds 22000-22019 (fast, n = 20, run once on 2026-11-29: replication 14 of docs/replication.md, declared before
# it ran), untouched before and added to the seed record.
# Not a criterion: shown under the fast verdict with its reading.
FAST_REPLICATION = (
    "Replication on fresh seeds (docs/replication.md; this fast profile as declared, run once on seeds "
    "5000-5009, n = 10, 2026-11-28, after this report): every required criterion decides as here: AutoDecay − "
    "StepDecay +0.24 pp (non-inferiority p < 0.001), every AutoDecay run stopped by its rule at epoch 15 "
    "(×0.83 of 18). The later reading holds too: StepDecay is first within 1 pp of AutoDecay's final accuracy "
    "at epoch 7-9 and cannot be told from AutoDecay's accuracy by AutoDecay's stopping epoch (AutoDecay ahead there by "
    "+0.19 pp, [−0.21, +0.59]). "
    "On another draw of the data (data seed 7, seeds 6000-6009) every required criterion decides as here "
    "again (+0.22 pp, epochs ×0.83). There AutoDecay is ahead of StepDecay at its own stopping epoch (+0.28 "
    "pp, [+0.15, +0.40]), which qualifies the later reading above for that draw. "
    "At four times the width, with these constants unchanged (--set model.hidden=1024, seeds 14000-14004; "
    "docs/replication.md, replication 9) both criteria pass again (+0.02 pp, p = 0.0001; epochs ×0.91) and every "
    "AutoDecay run stopped by its rule: the constants set by hand at 256 units carry to 1024 at this budget. The "
    "wider network's loss falls for longer in each stage, so each decay comes about an epoch later (after 6, "
    "10-11, 13-14) and the run stops after 16-17 epochs; StepDecay again has AutoDecay's accuracy by then "
    "(−0.06 pp, [−0.46, +0.34]). "
    "At twenty seeds (22000-22019; docs/replication.md, replication 14, registered before it ran) both required "
    "criteria pass: AutoDecay − StepDecay +0.12 pp, [−0.14, +0.38] (the near end 0.86 pp inside the 1 pp margin; "
    "19 of 20 seeds above −1 pp, one at −1.1), epochs ×0.83, every AutoDecay run stopped by its rule "
    "(after 15 epochs on 18 seeds, 14 on 2). StepDecay is within 1 pp of AutoDecay's final accuracy by epoch 7-9 "
    "and level with it at AutoDecay's stopping epoch (+0.02 pp, [−0.20, +0.24]): the saving is against "
    "StepDecay's 18-epoch budget, as read above."
)


CLAIM = Claim(
    id="autodecay-matches-stepdecay",
    title="AutoDecay matches StepDecay's accuracy in fewer epochs",
    source="You et al. 2019, App. A.1.3, Fig. 14",
    statement="AutoDecay (decay when the EDMA of the training loss plateaus, stop when a stage brings no "
              "significant drop) reaches StepDecay's final accuracy in fewer epochs (ImageNet ResNet-50: "
              "81 epochs, 75.91 top-1 vs 90 epochs, 75.80).",
    profiles=[FAST, GPU],
    train=train_arms, analyse=analyse, figure=figure_spec,
    derived=arm_record, benchmark_info=epochs_per_arm,
    # Written after the fast v2 final run (a replay of its AutoDecay runs' own losses; nothing changed).
    readings={"fast": (
        "The third decay of each AutoDecay run (epoch 11-12) comes from how lrsci reads the paper's ĝ(0): for a "
        "later stage it is the smoothed loss that ended the previous one, which with β = 0.9 still lags above the "
        "loss (seed 3000: 0.275 at the end of stage 2, when the epoch-9 loss was 0.246). Stage 3's loss then falls "
        "only 0.219 → 0.205, yet reads as a drop below ζ = 0.85 against that lagging start. Replaying the same "
        "losses with ĝ(0) = the last loss before the decay, 4 of 5 seeds would have stopped at epoch 11-12 after "
        "two decays instead of decaying a third time and stopping at 14-15 (what they would have reached then is "
        "not known: the runs went on at the lower rate). The paper's text does not settle which ĝ(0) it meant. "
        # added 2026-11-27 after an independent read of the stored curves (nothing re-run, no criterion changed)
        "Later reading of the curves: the saving in epochs is against StepDecay's 18-epoch budget, not a faster "
        "route to the same accuracy. At each AutoDecay run's stopping epoch (14-15) StepDecay's own test accuracy "
        "is already 85.9-86.2 % (mean 86.06 %; AutoDecay's final mean 86.02 %). StepDecay is first within 1 pp of "
        "AutoDecay's final accuracy on every seed at epoch 7, one epoch after its first decay (cut there it would "
        "pass test 1's non-inferiority: −0.60 pp, p = 0.017), but not at every epoch after it: 3 of 5 seeds at "
        "epochs 8 and 9, 4 of 5 at epoch 11 (cut at 8, 9 or 11 it would fail: p = 0.083, 0.16, 0.47); from "
        "epoch 12, its second stage's end, it is within 1 pp on every seed (corrected 2026-11-27 after a further "
        "read of the same curves: the first version said 'from epoch 7'). So at this scale StepDecay's third "
        "stage adds nothing, and the 1 pp margin cannot tell the schedules apart from the end of the second "
        "stage. The arms also end at "
        "different rates: AutoDecay at 1e-4 (decays after epochs 5, 8-9 and 11-12), StepDecay at 1e-3, and "
        "ReduceLROnPlateau (its constants not tuned) at 1e-2 after one decay after epoch 7-9, which is most of its "
        "−1.14 pp gap." + " " + FAST_REPLICATION)},
)

"""activation-noise-fixes-small-lr — Li, Wei, Ma (NeurIPS 2019), the activation-noise experiment.

Claim: training with the small learning rate plus Gaussian noise injected before the activations
(annealed at the point where the large LR is annealed) recovers the large-LR model's
generalization: on the patched data of the patch experiment, the small-LR + noise model's clean
accuracy beats the plain small-LR model's and is close to the large-LR model's.

Data and arms as in patch-memorized-by-small-lr (the same run configs, so the run store trains
the large- and small-LR arms once for both claims): the patch scheme of lrsci.data.patch; large
LR η_L then η_L·f after epoch m; small LR η_S = η_L·f; and the noise arm: small LR plus
Gaussian noise of std σ_act added after every BatchNorm and before its ReLU (lrsci.models.noise:
one map shared over the batch — for the MLP one value per feature, for conv nets one H×W map
shared over channels too — redrawn every forward pass, training only), multiplied by 1e-5 after
epoch m.

Per seed: final_X = median clean test accuracy over the last W epochs of arm X (as in the patch
claim); pre_X = mean patch-only test accuracy over epochs 1..m.
Pre-registered tests (α = 0.05, paired over seeds):
  1. noise helps: one-sided paired t, H1 mean(final_noise − final_small) > 0;
  2. noise is not worse than the large LR by more than NI_MARGIN_PP: one-sided paired
     non-inferiority t, H1 mean(final_noise − final_large) > −NI_MARGIN_PP.
Reported only: Wilcoxon beside test 1; the noise arm's pre-anneal patch-only accuracy against
the small LR's (the noise keeps the model off the patch); final patch-only accuracy.
"""
from __future__ import annotations

import statistics

from lrsci.arms import large_annealed_and_small
from lrsci.claim import Claim, Profile
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig
from lrsci.criteria import criterion
from lrsci.figures import arm_panel
from lrsci.stats import non_inferiority, paired_t, wilcoxon

BEATS_SMALL = "1. at the end, clean accuracy small LR + noise > small LR"
NI = "2. small LR + noise not worse than large LR by more than 1 pp (clean accuracy)"

# Protocol, written before the final run. Calibrated on development seeds 1000-1004
# (--seed-offset 1000, run store /tmp/li-runs); the committed report uses seeds 0-4 (offset 0).
# The run (data, model, optimizer, 20 epochs, anneal after 10) is the fast profile of
# patch-memorized-by-small-lr (see its calibration record for patch_sep 0.5 and the MLP).
# Calibration record (fast, dev seeds):
#  * σ_act 0.4 (the authors'), seeds 1000-1004: the noise delays the patch (pre-anneal mean
#    patch-only ~30 % vs ~72 % for the small LR) but after the noise is annealed the model
#    memorizes the patch within 1-2 epochs and its clean accuracy falls back to the small LR's
#    (final clean noise − small −0.5 pp; noise − large −2.9 pp, mean of the last 5 epochs).
#  * σ_act 1.0, seeds 1000-1004: patch ignored until the anneal (9-15 %), then memorized within
#    ~5 epochs; final clean (mean of last 5) 81.4-83.5 %, no better than the small LR.
#  * σ_act 2.0, seeds 1000-1004: patch ignored until the anneal, memorized more slowly after it
#    (72-91 % at epoch 20); final clean, median of the last 5 epochs: noise − small +1.5 pp
#    (t ≈ 1.9, one seed −0.5), noise − large −0.6 pp (sd 0.5).
# Fixed from that: σ_act 2.0 (CPU-scale adaptation: the MLP's per-feature noise at the authors'
# 0.4 does not keep it off the patch), NI_MARGIN_PP 1.0 (about half of the large − small gap of
# ~2 pp seen on the dev seeds: "closes most of the gap"), W = 5 with the median, as the patch claim.
# (Noted 2026-11-27, nothing changed: a margin of half the gap tests that at least about half of it is
# closed, not "most" of it; the final run's gap was 2.44 pp, so 1 pp is about 40 % of it.)
FAST = Profile(
    "fast", device="cpu", seeds=5, epoch_params=("anneal_epoch",),   # counted in epochs: --set epochs moves it
    run=RunConfig(
        data=DataConfig("patch-fashion-mnist", train_size=10_000, test_size=2_000, seed=0,
                        options={"patch_sep": 0.5}),
        model=ModelConfig("mlp", hidden=256),
        optim=OptimConfig(lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4, batch_size=128),
        epochs=20, eval_train=False),
    params={"anneal_epoch": 10, "anneal_factor": 0.04, "small_lr": 0.004,
            "noise_std": 2.0,          # σ_act (the authors: 0.4)
            "noise_factor": 1e-5,      # noise multiplier after the anneal epoch (the authors')
            "final_window": 5, "ni_margin_pp": 1.0, "alpha": 0.05},
    # Declared after the final run (seeds 0-4, offset 0), which failed this criterion; nothing else
    # in the protocol was changed. (Later, its wording only: "61-75% patch-only by epoch 20" was the median
    # of epochs 16-20, not epoch 20's value.)
    expected_failures={NI: (
        "at CPU scale the noise recovers most, not all, of the large LR's clean accuracy: once its noise "
        "is annealed the MLP memorizes the patch too (patch-only accuracy 61-75 % as the median of epochs 16-20, "
        "77-96 % at epoch 20 itself) and its clean "
        "accuracy stays about 0.6 pp below the large LR's; five seeds cannot exclude a shortfall larger "
        "than the 1 pp margin (test 1, noise > small LR, holds)")})
# gpu profile (protocol v1, written before its first run, 2026-11-27; no GPU calibration): the authors' patch
# and activation noise (σ_act 0.4, one H×W map shared over batch and channels, ×1e-5 at the anneal) on
# patch-memorized-by-small-lr's gpu data and runs (30 000 Fashion-MNIST images, WRN-16-4, 20 epochs, anneal
# after 10, bf16, five seeds) plus the noise arm. Margin, window and α are the fast profile's.
# Seed ranges: final 0-4 only (no GPU dev seeds).
# Final run (seeds 0-4, once: device call 1 of 2026-11-27, one H200, commit b57eb87): tests 1 and 2 failed;
# declared below after that run; nothing else was changed. (Later, the wording of test 1's explanation
# only: it said the noise arm's final patch-only accuracy was "like the large LR" — true on four of five
# seeds; the per-seed table shows seed 4's large LR at 92 %.)
GPU = FAST.extend(
    "gpu", device="cuda", seeds=5, noise_std=0.4,
    expected_failures={
        BEATS_SMALL: ("the noise does keep the small-LR model off the patch (final patch-only accuracy, the median of "
                      "the last 5 epochs, 9-13 %, as the large LR's on four of five seeds — seed 4's large LR "
                      "memorized it after the anneal, 92 % — against 90-97 % without noise), but its clean "
                      "accuracy gains only "
                      "+0.53 pp over the small LR (95 % CI [−0.51, 1.57], p = 0.12)"),
        NI: ("clean accuracy with noise stays 4.7 pp under the large LR's (95 % CI [−5.2, −4.2]) on every seed: "
             "at this scale the large LR's advantage (+5.2 pp) is not explained by ignoring the patch alone")},
    run=RunConfig(
        data=DataConfig("patch-fashion-mnist", train_size=30_000, test_size=5_000, seed=0),
        model=ModelConfig("wrn", depth=16, width=4),
        optim=OptimConfig(lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4, batch_size=128),
        epochs=20, precision="bf16", eval_train=False))
GPU_CIFAR10 = GPU.extend("gpu-cifar10", run=GPU.run.with_(data=DataConfig("patch-cifar10", seed=0)),
                         optional_data=True)

ARMS = ("large", "small", "noise")


def arm_configs(p: Profile, seed: int) -> dict[str, RunConfig]:
    arms = large_annealed_and_small(p, seed)
    noise = ScheduleConfig("constant", noise_milestones=(p["anneal_epoch"],), noise_factor=p["noise_factor"])
    arms["noise"] = arms["small"].with_(**{"model.act_noise_std": p["noise_std"]}, schedule=noise)
    return arms


def train_arms(ctx, p: Profile) -> dict:
    """{seed: {"large": RunResult, "small": RunResult, "noise": RunResult}}"""
    return ctx.run_arms(lambda seed: arm_configs(p, seed))


def final(run, p: Profile, key: str) -> float:
    return statistics.median(run.curve(key)[-p["final_window"]:])


def pre_anneal(run, p: Profile) -> float:
    values = run.curve("test_acc@patch_only", 1, p["anneal_epoch"])
    return sum(values) / len(values)


def analyse(runs: dict, p: Profile) -> dict:
    seeds, alpha = list(runs), p["alpha"]
    clean = {arm: [final(runs[s][arm], p, "test_acc@clean") for s in seeds] for arm in ARMS}
    only = {arm: [final(runs[s][arm], p, "test_acc@patch_only") for s in seeds] for arm in ARMS}
    pre = {arm: [pre_anneal(runs[s][arm], p) for s in seeds] for arm in ARMS}
    diff = lambda a, b: [x - y for x, y in zip(a, b)]  # noqa: E731
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    margin = p["ni_margin_pp"]
    rows = [
        criterion(BEATS_SMALL,
                  paired_t(clean["noise"], clean["small"]), f"p<{alpha}", diff(clean["noise"], clean["small"]), alpha),
        criterion("1. (Wilcoxon)", wilcoxon(clean["noise"], clean["small"]), "reported", None, alpha,
                  reported_only=True),
        criterion(f"2. small LR + noise not worse than large LR by more than {margin:g} pp (clean accuracy)",
                  non_inferiority(clean["noise"], clean["large"], margin),
                  f"one-sided p<{alpha} against −{margin:g} pp", diff(clean["noise"], clean["large"]), alpha),
        criterion(f"noise keeps the model off the patch before epoch {p['anneal_epoch']}: small − noise "
                  "(patch-only acc; reported only)", paired_t(pre["small"], pre["noise"]), "reported",
                  diff(pre["small"], pre["noise"]), alpha, reported_only=True),
    ]
    per_seed = {}
    for arm in ARMS:
        per_seed[f"{arm}: final clean acc"] = dict(zip(seeds, clean[arm]))
        per_seed[f"{arm}: final patch-only acc"] = dict(zip(seeds, only[arm]))
        per_seed[f"{arm}: mean patch-only acc, epochs 1-{p['anneal_epoch']}"] = dict(zip(seeds, pre[arm]))
    return {"tests": rows, "per_seed": per_seed,
            "headline": f"final clean: noise − small {mean(diff(clean['noise'], clean['small'])):+.2f} pp, "
                        f"noise − large {mean(diff(clean['noise'], clean['large'])):+.2f} pp (margin −{margin:g})",
            "summary": (f"Final clean test accuracy (median of the last {p['final_window']} epochs): large LR "
                        f"{mean(clean['large']):.2f}%, small LR {mean(clean['small']):.2f}%, small LR + activation "
                        f"noise (σ {p['noise_std']:g}, ×{p['noise_factor']:g} after epoch {p['anneal_epoch']}) "
                        f"{mean(clean['noise']):.2f}%. Mean patch-only accuracy before the anneal: small "
                        f"{mean(pre['small']):.1f}%, noise {mean(pre['noise']):.1f}%, large {mean(pre['large']):.1f}%.")}


def figure_spec(runs: dict, p: Profile) -> dict:
    m = p["anneal_epoch"]
    labels = {"large": f"large LR ({p.run.optim.lr:g}, ×{p['anneal_factor']:g} after {m})",
              "small": f"small LR ({p['small_lr']:g})",
              "noise": f"small LR + noise (σ {p['noise_std']:g}, annealed after {m})"}
    panel = lambda title, key: arm_panel(runs, ARMS, labels, key, title, marks=[m])  # noqa: E731
    return {"title": f"Activation noise on the patch experiment: accuracy (%) vs epoch — {p.name} "
                     "(cf. Li et al. 2019)",
            "ylabel": "accuracy (%)", "sharey": False,
            "panels": [panel("clean test", "test_acc@clean"), panel("patch-only (zero image + patch)",
                                                                    "test_acc@patch_only")]}


# Seeds 5000-5009 and, on data seed 7, seeds 6000-6009 (fast, n = 10 each, each run once on 2026-11-28 after
# the fast report; docs/replication.md): ranges no one had looked at, added to this claim's seed record.
# Seeds 7000-7019 (fast, n = 20, run once on 2026-11-28 on another CPU: replication 4 of docs/replication.md,
# declared before it ran), likewise untouched before and added to the seed record.
# Seeds 11000-11004 (fast at --set model.hidden=1024, run once on 2026-11-29: replication 6 of
# docs/replication.md, declared before it ran), untouched before and added to the seed record.
# Seeds 12000-12009 (fast at --set model.hidden=1024, n = 10, run once on 2026-11-29: replication 7 of
# docs/replication.md, declared before it ran), untouched before and added to the seed record.
# Seeds 23000-23019 (this profile's three arms on its data and on the same data without the patch, n = 20, run
# once on 2026-11-29: replication 15 of docs/replication.md, a no-patch control declared before it ran,
# tools/no_patch_control.py), untouched before and added to the seed record.
# Seeds 24000-24019 (the three arms on its data and on a blank patch, n = 20, run once on 2026-11-29: replication
# 16 of docs/replication.md, a control declared before it ran), untouched before and added to the seed record.
# Seeds 25000-25019 (fast at --set epochs=40 --set anneal_epoch=10, n = 20, run once on 2026-11-29: replication 17 of
# docs/replication.md, 30 epochs after the anneal, declared before it ran, tools/post_anneal.py), untouched before and
# added to the seed record.
# Not a criterion: shown under the fast verdict with its reading.
FAST_REPLICATION = (
    "Replication on fresh seeds (docs/replication.md; this fast profile as declared, run once on seeds "
    "5000-5009, n = 10, 2026-11-28, after this report): criterion 2, declared failing on seeds 0-4, passes on "
    "5000-5009: noise − large −0.60 pp, 95 % CI [−1.03, −0.16] (seeds 0-4: −0.58, [−1.41, +0.25]), non- "
    "inferiority p = 0.033 at the 1 pp margin: the same mean with a narrower interval. Test 1 passes again "
    "(noise − small +1.14 pp, [+0.79, +1.49]). So the noise arm ends within 1 pp of the large LR but below it "
    "(the interval excludes 0): it closes about two thirds of the small LR's gap (+1.14 of 1.74 pp), not all "
    "of it. "
    "On another draw of the data (data seed 7, seeds 6000-6009) criterion 2 fails again, as declared: noise − "
    "large −0.87 pp, [−1.29, −0.46]; test 1 passes (+2.02 pp). Over three ranges the noise arm ends 0.6-0.9 "
    "pp below the large LR: non-inferiority at 1 pp is borderline, and which side of the margin a range lands "
    "on is chance. "
    "At twenty seeds (7000-7019, on another CPU; docs/replication.md, replication 4) criterion 2 fails, as "
    "declared: noise − large −0.98 pp, [−1.25, −0.71], non-inferiority p = 0.44, 9 of 20 seeds above −1 pp "
    "and two exactly at it; test 1 passes (noise − small +1.37 pp, [+0.88, +1.86], 20 of 20 seeds). The noise arm ends about "
    "1 pp below the large LR: the declared failure stands, and the passes on seeds 5000-5009 and on another CPU "
    "were the favourable side of the margin. "
    "At four times the width (--set model.hidden=1024, seeds 11000-11004; docs/replication.md, replication 6) the"
    " small LR alone loses less to the patch (final clean accuracy 84.3 %, the large LR 85.3 %), so the noise has"
    " less to recover: its gain over the small LR is not shown (+0.50 pp, [−0.42, +1.42]), and its "
    "non-inferiority to the large LR passes (−0.56 pp, [−1.00, −0.12]). "
    "At ten fresh seeds and 1024 units (seeds 12000-12009; docs/replication.md, replication 7) neither criterion holds: the noise gain"
    " is +0.33 pp ([−0.25, +0.91]) and the noise arm is −0.70 pp from the large LR ([−1.13, −0.27]; p = 0.076 "
    "against the 1 pp margin), so the n = 5 pass of criterion 2 was the seeds'; the noise still keeps the model "
    "off the patch in epochs 1-10. "
    "Without the patch (a control, seeds 23000-23019: the same three arms on the same data with no training "
    "image patched; docs/replication.md, replication 15, registered before it ran) the noise's gain over the "
    "small LR shrinks from +1.41 pp [+1.03, +1.80] to +0.45 pp [+0.22, +0.68]: the patch widens it by +0.96 pp "
    "[+0.44, +1.49] (p = 0.0005), so most of test 1's gain is the patch's, as the claim's mechanism says. The "
    "noise arm's shortfall against the large LR is the same with the patch and without it (−0.70 and −0.73 pp): "
    "criterion 2 tests an advantage the large LR has on this data with no patch at all, which the noise does not "
    "recover. On these twenty seeds with the patch that shortfall is inside the 1 pp margin (non-inferiority "
    "p = 0.010), where seeds 7000-7019 had it on the margin (−0.98 pp, p = 0.44): the declared failure is a "
    "borderline one, about 0.7-1 pp. "
    "With a blank patch instead (seeds 24000-24019, replication 16: the same rows taken away, no class signal) the "
    "noise's gain is +0.27 pp ([−0.12, +0.67]) against +1.02 pp with the patch: what the noise recovers is what "
    "the patch's memorizable signal costs (+0.75 pp [+0.14, +1.37], p = 0.010). "
    "**Test 1's gain does not last.** With 30 epochs after the anneal instead of 10 (--set epochs=40 --set "
    "anneal_epoch=10, seeds 25000-25019; docs/replication.md, replication 17, registered before it ran) the noise "
    "arm's gain over the small LR is +1.61 pp [+1.21, +2.00] over epochs 16-20, where this profile reads it, and "
    "−0.40 pp [−0.83, +0.04] over epochs 36-40: test 1 fails there (p = 0.96), and the gain shrinks by +2.00 pp "
    "[+1.47, +2.54] (p = 1e-7, 19 of 20 seeds). Once its noise is annealed the noise arm memorizes the patch (98.9 % "
    "patch-only at the end, as the small LR's 99.3 %) and its clean accuracy falls to the small LR's. The share of "
    "the large LR's gap it closes goes from 0.63 [0.56, 0.70] to −0.23 [−0.50, −0.01]. The large LR memorizes the "
    "patch too (97.1 %) and keeps +1.75 pp of its +2.54 pp lead. So on this MLP the noise delays memorization, "
    "and test 1 at 20 epochs reads a point on the way; it does not give the small LR the large LR's lasting "
    "advantage. The verdict above stays as registered for 20 epochs."
)


CLAIM = Claim(
    id="activation-noise-fixes-small-lr",
    title="Activation noise gives a small LR back the large LR's generalization",
    source="Li, Wei, Ma 2019, NeurIPS reviews and the authors' code (activation-noise arm)",
    statement="Small LR plus Gaussian noise injected before the activations (then annealed) recovers the "
              "large-LR model's generalization: clean accuracy above the small LR's, not worse than the "
              "large LR's by more than a stated margin.",
    profiles=[FAST, GPU, GPU_CIFAR10],
    train=train_arms, analyse=analyse, figure=figure_spec,
    # written 2026-11-27 after an independent read of the stored curves (nothing re-run, no criterion changed)
    readings={"fast": (
        "Test 1 passes on a measure taken while the noise arm is still memorizing the patch. Once its noise is "
        "annealed after epoch 10, its patch-only accuracy climbs from 10-19 % (epoch 11) to 77-96 % (epoch 20); "
        "epoch by epoch its clean-accuracy edge over the small LR moves between +1.2 and +5.0 pp (+1.2 pp at "
        "epoch 20), and its gap to the large LR widens from −0.2 pp (epoch 14) to −2.1 pp (epoch 19) and −1.3 pp "
        "(epoch 20). The tests' median of epochs 16-20 (+1.86 pp over the small LR) is therefore a point on a "
        "transient: the dev runs at σ 0.4 fell back to the small LR's accuracy once the patch was memorized, and "
        "a longer post-anneal stage (the authors train 30 epochs after the anneal) might show the same here." + " (It does: replication 17, at the end of "
        "this reading.) " + FAST_REPLICATION)},
)

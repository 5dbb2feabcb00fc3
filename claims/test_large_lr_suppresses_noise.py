"""large-lr-suppresses-noise — You, Long, Wang, Jordan (2019), §5.3, Fig. 10.

Claim: on PS10 with 10 % noisy training data, lrDecay (large LR first) memorizes less noise and
reaches higher complex-pattern accuracy than training with a constant small LR.

Arms, paired by seed: lrDecay (η0, η0/10, η0/100 in three equal stages) and a constant small
LR η0/10 (the rate of lrDecay's middle stage: small enough to fit complex patterns, large enough
to train in the same budget), both for the same epochs. The noise rows are PS10's "point6"
noise (lrsci.data.ps10): a fresh random point in all six channels with a uniformly random
label, so fitting them is memorization, and measurable (the default "point" noise is not
memorized at all by these models: every arm would tie at chance).

Pre-registered statistics (α = 0.05, one-sided paired t-tests over seeds; Wilcoxon reported;
"final" = mean of the last 3 epochs):
  1. lrDecay fits less noise: H1 mean(final train acc on noise rows: constant − lrDecay) > 0,
     and the mean ≥ MIN_NOISE_GAP_PP.
  2. lrDecay learns complex patterns better: H1 mean(final complex test acc: lrDecay − constant)
     > 0, and the mean ≥ MIN_COMPLEX_GAP_PP.
Simple-pattern test accuracy is reported (the paper shows little difference there).
"""
from __future__ import annotations

from lrsci.claim import Claim, Profile
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig
from lrsci.criteria import criterion
from lrsci.curves import window_mean
from lrsci.stats import paired_t, wilcoxon

NOISE = {"noise_fraction": 0.1, "noise_kind": "point6"}
STAT1 = "1. lrDecay fits less noise (train acc on noise rows)"

# Written before the final run; calibrated on development seeds 1000-1004 (--seed-offset 1000).
# (PS10's construction and noise kinds were explored while building the dataset with an MLP on
# run seeds 0-2; no threshold below was set from those runs.)
# Calibration record (fast, 10-epoch stages): noise-row train accuracy lrDecay 46.8% vs constant
# 42.2% (gap −4.6 pp: statistic 1 fails); complex test accuracy 99.0% vs 88.9% (holds).
FAST = Profile(
    "fast", device="cpu", seeds=5,
    run=RunConfig(
        data=DataConfig("ps10", train_size=10_000, test_size=2_000, seed=0, options={"image_size": 4, **NOISE}),
        model=ModelConfig("mlp", hidden=256),
        optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=128),
        epochs=30),
    params={"stage_epochs": 10,         # lrDecay: η0, η0/10, η0/100 in three equal stages
            "small_lr": 0.01,           # the constant arm
            "min_noise_gap_pp": 2.0,
            "min_complex_gap_pp": 1.0,
            "window": 3,                # "final" = mean of the last this many epochs
            "alpha": 0.05},
    expected_failures={STAT1: (
        "at CPU scale the MLP under lrDecay memorizes more of the noise rows than the constant small LR, not "
        "less, while it still learns complex patterns better (first seen on the dev seeds; see the calibration "
        "record)")})
GPU = FAST.extend(
    "gpu", device="cuda", seeds=3, stage_epochs=8,
    run=RunConfig(
        data=DataConfig("ps10", train_size=20_000, test_size=4_000, seed=0, options={"image_size": 32, **NOISE}),
        model=ModelConfig("wrn", depth=16, width=4),
        optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=128),
        epochs=24, precision="bf16"))


def train_arms(ctx, p: Profile) -> dict:
    """{seed: {"decay": RunResult, "const": RunResult}}"""
    s = p["stage_epochs"]
    return ctx.run_arms(lambda seed: {
        "decay": p.run.with_(seed=seed, schedule=ScheduleConfig("step", milestones=(s, 2 * s), factor=0.1)),
        "const": p.run.with_(seed=seed, **{"optim.lr": p["small_lr"]})},
        labels={"decay": "lrDecay", "const": f"const {p['small_lr']:g}"})


def final(run, key: str, p: Profile) -> float:
    return window_mean(run.curve(key), run.epochs_trained, p["window"])


def analyse(runs: dict, p: Profile) -> dict:
    seeds, alpha = list(runs), p["alpha"]
    values = {(arm, key): [final(runs[s][arm], key, p) for s in seeds]
              for arm in ("decay", "const") for key in ("train_acc@noise", "test_acc@complex", "test_acc@simple")}
    per_seed = {f"{arm} {key}": dict(zip(seeds, v)) for (arm, key), v in values.items()}
    noise_gap = [c - d for c, d in zip(values["const", "train_acc@noise"], values["decay", "train_acc@noise"])]
    complex_gap = [d - c for d, c in zip(values["decay", "test_acc@complex"], values["const", "test_acc@complex"])]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    rows = [
        criterion(STAT1,
                  paired_t(values["const", "train_acc@noise"], values["decay", "train_acc@noise"]),
                  f"p<{alpha} and mean gap ≥ {p['min_noise_gap_pp']} pp (mean {mean(noise_gap):.2f})", noise_gap,
                  alpha, extra_pass=mean(noise_gap) >= p["min_noise_gap_pp"]),
        criterion("1. (Wilcoxon)", wilcoxon(values["const", "train_acc@noise"], values["decay", "train_acc@noise"]),
                  "reported", None, alpha, reported_only=True),
        criterion("2. lrDecay learns complex patterns better (test acc)",
                  paired_t(values["decay", "test_acc@complex"], values["const", "test_acc@complex"]),
                  f"p<{alpha} and mean gap ≥ {p['min_complex_gap_pp']} pp (mean {mean(complex_gap):.2f})",
                  complex_gap, alpha, extra_pass=mean(complex_gap) >= p["min_complex_gap_pp"]),
        criterion("2. (Wilcoxon)", wilcoxon(values["decay", "test_acc@complex"], values["const", "test_acc@complex"]),
                  "reported", None, alpha, reported_only=True),
        criterion("simple-pattern test acc: lrDecay > constant (reported only)",
                  paired_t(values["decay", "test_acc@simple"], values["const", "test_acc@simple"]), "reported",
                  None, alpha, reported_only=True),
    ]
    return {"tests": rows, "per_seed": per_seed,
            "headline": f"noise fit (const − lrDecay) {mean(noise_gap):+.1f} pp, complex (lrDecay − const) "
                        f"{mean(complex_gap):+.1f} pp",
            "summary": (f"Final train accuracy on noise rows: lrDecay {mean(values['decay', 'train_acc@noise']):.1f}% vs "
                        f"constant {mean(values['const', 'train_acc@noise']):.1f}%; complex test accuracy: lrDecay "
                        f"{mean(values['decay', 'test_acc@complex']):.1f}% vs constant "
                        f"{mean(values['const', 'test_acc@complex']):.1f}%.")}


def figure_spec(runs: dict, p: Profile) -> dict:
    seeds, s = list(runs), p["stage_epochs"]
    curves = lambda arm: [  # noqa: E731
        {"label": label, "runs": [runs[seed][arm].series(key) for seed in seeds]}
        for label, key in (("simple (test)", "test_acc@simple"), ("complex (test)", "test_acc@complex"),
                           ("noise rows (train)", "train_acc@noise"))]
    return {"title": f"PS10 with 10% noise: accuracy (%) per subset — {p.name} (cf. You et al. Fig. 10)",
            "ylabel": "accuracy (%)",
            "panels": [{"title": "lrDecay", "marks": [s, 2 * s], "curves": curves("decay")},
                       {"title": f"constant {p['small_lr']:g}", "marks": [], "curves": curves("const")}]}


CLAIM = Claim(
    id="large-lr-suppresses-noise",
    title="PS10 + noise: an initially large LR memorizes less and learns complex patterns better",
    source="You et al. 2019, §5.3, Fig. 10",
    statement="With 10% noisy data, lrDecay fits less of the noise and reaches higher complex-pattern accuracy "
              "than a constant small learning rate.",
    profiles=[FAST, GPU],
    train=train_arms, analyse=analyse, figure=figure_spec,
)

"""large-lr-suppresses-noise — You, Long, Wang, Jordan (2019), §5.3, Fig. 10.

Claim: on PS10 with 10 % noisy training data, lrDecay (large LR first) memorizes less noise and
reaches higher complex-pattern accuracy than training with a constant small LR.

Arms, paired by seed (protocol v2): lrDecay (η0, η0/10, η0/100 in three equal stages) and the
paper's "small constant LR" — Fig. 9's η0/100 — for the same epochs. The noise rows are PS10's
"point6" noise (lrsci.data.ps10): a fresh random point in all six channels with a uniformly random
label, so fitting them is memorization, and measurable (the default "point" noise is not memorized
by the CPU MLP: every arm ties at chance — seen only in the scratch runs that built PS10, seeds 0-2,
15-epoch stages, noise-row accuracy 0.10-0.14 in every arm (lrsci.data.ps10's docstring); the fast
profile has no default-noise arm, the gpu-point-noise profile reports one). Reported beside: the constant η0/10 arm (v1's comparison),
and a no-noise control — lrDecay and constant η0/100 on the same PS10 without the noise rows (its
clean rows and test set are identical for a seed) — which shows how much of lrDecay's
complex-pattern advantage remains without noise to memorize (the paper's causal story says it comes
from not memorizing the noise).

Pre-registered statistics (α = 0.05, one-sided, paired over seeds; Wilcoxon reported; "final" =
mean of the last 3 epochs). Each floor is tested as a floor (one-sided t against it):
  1. lrDecay fits less noise: H1 mean(final train acc on noise rows: constant η0/100 − lrDecay)
     > MIN_NOISE_GAP_PP.
  2. lrDecay learns complex patterns better: H1 mean(final complex test acc: lrDecay − constant
     η0/100) > MIN_COMPLEX_GAP_PP.
Simple-pattern test accuracy is reported (the paper shows little difference there).

v1 → v2 (2026-11-27, before any v2 run). v1 compared lrDecay with a constant η0/10, so lrDecay
ended at a 10× lower rate than its comparison, which favours statistic 2; the paper's small
constant LR is η0/100. v1 tested each floor as a point estimate beside a test against 0; v2 tests
the floor. Added: the no-noise control and η0/10 as reported rows; a gpu profile with the default
"point" noise beside the point6 one ("point6" was chosen after the default noise was not memorized
at CPU scale, so the default is reported too); five gpu seeds; report seeds never touched before.

Added 2026-11-27, after the fast v2 run and before any gpu v2 run (reported only): every arm's final
training loss per seed, so a comparison arm that has not finished training (the fast η0/100 arm fits
less of everything: see the fast reading) shows as such beside the statistics.
"""
from __future__ import annotations

from dataclasses import replace

from lrsci.claim import Claim, Profile
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig
from lrsci.criteria import PERCENT, criterion, floor_criterion, reported_t
from lrsci.curves import window_mean
from lrsci.stats import paired_t, wilcoxon

NOISE = {"noise_fraction": 0.1, "noise_kind": "point6"}
STAT1 = "1. lrDecay fits less noise than constant η0/100 (train acc on noise rows)"
STAT2 = "2. lrDecay learns complex patterns better than constant η0/100 (test acc)"

# Written before the final run; calibrated on development seeds 1000-1004 (--seed-offset 1000).
# (PS10's construction and noise kinds were explored while building the dataset with an MLP on
# run seeds 0-2; no threshold below was set from those runs.)
# Calibration record (v1, fast, 10-epoch stages): noise-row train accuracy lrDecay 46.8% vs constant
# 0.01 42.2% (gap −4.6 pp: statistic 1 fails); complex test accuracy 99.0% vs 88.9% (holds).
# Seed record (every range anyone looked at): v1 — dev 1000-1004, fast report 0-4, gpu report 0-2
# (H100), fast re-check 2000-2004 (same verdict); PS10 construction runs on seeds 0-2. v2 — dev
# 1000-1004 (fast: read once before the final run; see the v2 record below), report seeds 3000-3004
# (fast and gpu), which nothing had touched.
# v2 dev read (fast, seeds 1000-1004, before the final run): statistic 2 passed (complex +36.2 pp over
# η0/100); statistic 1 failed the other way round: lrDecay fits 46.4 % of the noise rows, the η0/100
# arm 25.7 % (it is undertrained: 62.7 % complex accuracy). The no-noise control kept 93 % of the
# complex advantage (+33.8 vs +36.2 pp). Nothing was changed after it.
# v2 final run (seeds 3000-3004, once): statistic 2 held, statistic 1 failed; declared below, after that
# run; nothing else was changed.
FAST = Profile(
    "fast", device="cpu", seeds=5, first_seed=3000, epoch_params=("stage_epochs",),   # counted in epochs: --set epochs moves it
    run=RunConfig(
        data=DataConfig("ps10", train_size=10_000, test_size=2_000, seed=0, options={"image_size": 4, **NOISE}),
        model=ModelConfig("mlp", hidden=256),
        optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=128),
        epochs=30),
    params={"stage_epochs": 10,         # lrDecay: η0, η0/10, η0/100 in three equal stages
            "small_lr": 0.001,          # the pre-registered constant arm: η0/100 (Fig. 9's small LR)
            "reported_lr": 0.01,        # v1's constant arm, η0/10: reported only
            "min_noise_gap_pp": 2.0,
            "min_complex_gap_pp": 1.0,
            "window": 3,                # "final" = mean of the last this many epochs
            "alpha": 0.05},
    expected_failures={STAT1: (
        "at CPU scale lrDecay memorizes more of the noise rows than the constant η0/100, not less (46.2 % vs 25.0 % "
        "train accuracy on them; −21.2 pp, 95 % CI [−23.5, −18.9]) — but the η0/100 arm is undertrained in 30 MLP "
        "epochs (62.6 % complex accuracy), so it fits less of everything. Against η0/10 (v1's arm) lrDecay also "
        "memorizes more (−3.8 pp). lrDecay's complex advantage (+36.2 pp) barely depends on the noise: 95 % of it "
        "remains without the noise rows (+34.4 pp), so at this scale it is not explained by not memorizing noise")})
# gpu v2: declared, not yet run (the v1 gpu report, 3 seeds 0-2 on an H100, stays until it is).
# Before its first run (2026-11-27) its train evaluation was cut to the noise rows — the only train
# number analysed or plotted — and dropped for the no-noise arms, which read none: a quarter of the
# profile's GPU work, no change to any number the claim reads (tests/test_train.py pins that).
GPU = FAST.extend(
    "gpu", device="cuda", seeds=5, stage_epochs=8,
    run=RunConfig(
        data=DataConfig("ps10", train_size=20_000, test_size=4_000, seed=0, options={"image_size": 32, **NOISE}),
        model=ModelConfig("wrn", depth=16, width=4),
        optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=128),
        epochs=24, precision="bf16", eval_train=("noise",)))
# The same with PS10's default "point" noise (a random point in the pattern channels only).
GPU_POINT_NOISE = GPU.extend("gpu-point-noise", run=GPU.run.with_(
    data=DataConfig("ps10", train_size=20_000, test_size=4_000, seed=0,
                    options={"image_size": 32, "noise_fraction": 0.1, "noise_kind": "point"})))

ARMS = {"decay": "lrDecay", "const": "const η0/100", "const10": "const η0/10",
        "decay_clean": "lrDecay, no noise", "const_clean": "const η0/100, no noise"}


def without_noise(run: RunConfig) -> RunConfig:
    """The same run on PS10 without its noise rows (a train evaluation cut to those rows goes too)."""
    options = {k: v for k, v in run.data.options.items() if k not in ("noise_fraction", "noise_kind")}
    eval_train = False if run.eval_train == ("noise",) else run.eval_train
    return run.with_(data=replace(run.data, options=options), eval_train=eval_train)


def train_arms(ctx, p: Profile) -> dict:
    """{seed: {arm: RunResult}} for the arms of ARMS."""
    s = p["stage_epochs"]
    decay = ScheduleConfig("step", milestones=(s, 2 * s), factor=0.1)

    def arms(seed):
        run = p.run.with_(seed=seed)
        clean = without_noise(run)
        return {"decay": run.with_(schedule=decay), "const": run.with_(**{"optim.lr": p["small_lr"]}),
                "const10": run.with_(**{"optim.lr": p["reported_lr"]}),
                "decay_clean": clean.with_(schedule=decay), "const_clean": clean.with_(**{"optim.lr": p["small_lr"]})}
    return ctx.run_arms(arms, labels=ARMS)


def final(run, key: str, p: Profile) -> float:
    return window_mean(run.curve(key), run.epochs_trained, p["window"])


def analyse(runs: dict, p: Profile) -> dict:
    seeds, alpha = list(runs), p["alpha"]
    keys = {"decay": ("train_acc@noise", "test_acc@complex", "test_acc@simple"),
            "const": ("train_acc@noise", "test_acc@complex", "test_acc@simple"),
            "const10": ("train_acc@noise", "test_acc@complex"),
            "decay_clean": ("test_acc@complex", "test_acc@simple"), "const_clean": ("test_acc@complex",)}
    v = {(arm, key): [final(runs[s][arm], key, p) for s in seeds] for arm, ks in keys.items() for key in ks}
    per_seed = {f"{ARMS[arm]}: {key}": dict(zip(seeds, x)) for (arm, key), x in v.items()}
    # how far each arm trained: an undertrained comparison arm fits less of everything, noise included
    per_seed.update({f"{ARMS[arm]}: final train loss": {s: final(runs[s][arm], "train_loss", p) for s in seeds}
                     for arm in keys})
    diff = lambda a, b: [x - y for x, y in zip(a, b)]  # noqa: E731
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    noise_gap = diff(v["const", "train_acc@noise"], v["decay", "train_acc@noise"])
    adv = diff(v["decay", "test_acc@complex"], v["const", "test_acc@complex"])
    adv_clean = diff(v["decay_clean", "test_acc@complex"], v["const_clean", "test_acc@complex"])
    rows = [
        floor_criterion(STAT1, v["const", "train_acc@noise"], v["decay", "train_acc@noise"],
                        p["min_noise_gap_pp"], alpha, unit=" pp"),
        criterion("1. (Wilcoxon, against 0)", wilcoxon(v["const", "train_acc@noise"], v["decay", "train_acc@noise"]),
                  "reported", None, alpha, reported_only=True),
        floor_criterion(STAT2, v["decay", "test_acc@complex"], v["const", "test_acc@complex"],
                        p["min_complex_gap_pp"], alpha, unit=" pp"),
        criterion("2. (Wilcoxon, against 0)", wilcoxon(v["decay", "test_acc@complex"], v["const", "test_acc@complex"]),
                  "reported", None, alpha, reported_only=True),
        reported_t("simple-pattern test acc: lrDecay > constant η0/100 (reported only)",
                   v["decay", "test_acc@simple"], v["const", "test_acc@simple"], alpha),
        reported_t("v1 comparison: noise fit constant η0/10 − lrDecay > 0 (reported only)",
                   v["const10", "train_acc@noise"], v["decay", "train_acc@noise"], alpha),
        reported_t("v1 comparison: complex acc lrDecay − constant η0/10 > 0 (reported only)",
                   v["decay", "test_acc@complex"], v["const10", "test_acc@complex"], alpha),
        criterion("no-noise control: complex acc lrDecay − constant η0/100 > 0 (reported only)",
                  paired_t(v["decay_clean", "test_acc@complex"], v["const_clean", "test_acc@complex"]), "reported",
                  adv_clean, alpha, reported_only=True),
        # adv and adv_clean are gains in pp of accuracies in %: rounding at a %'s size (PERCENT)
        criterion("the advantage is larger with noise than without (reported only)",
                  paired_t(adv, adv_clean, scale=PERCENT), "reported", diff(adv, adv_clean), alpha, reported_only=True),
    ]
    share = mean(adv_clean) / mean(adv) if mean(adv) else float("nan")
    return {"tests": rows, "per_seed": per_seed,
            "headline": (f"noise fit (const η0/100 − lrDecay) {mean(noise_gap):+.1f} pp, complex (lrDecay − const) "
                         f"{mean(adv):+.1f} pp with noise, {mean(adv_clean):+.1f} pp without"),
            "summary": (f"Final train accuracy on noise rows: lrDecay {mean(v['decay', 'train_acc@noise']):.1f}% vs "
                        f"constant η0/100 {mean(v['const', 'train_acc@noise']):.1f}% (η0/10: "
                        f"{mean(v['const10', 'train_acc@noise']):.1f}%); complex test accuracy: lrDecay "
                        f"{mean(v['decay', 'test_acc@complex']):.1f}% vs constant η0/100 "
                        f"{mean(v['const', 'test_acc@complex']):.1f}% (η0/10: "
                        f"{mean(v['const10', 'test_acc@complex']):.1f}%). Without the noise rows lrDecay's complex "
                        f"advantage over η0/100 is {mean(adv_clean):+.1f} pp against {mean(adv):+.1f} pp with them: "
                        f"{share:.0%} of it remains without noise to memorize.")}


def figure_spec(runs: dict, p: Profile) -> dict:
    seeds, s = list(runs), p["stage_epochs"]
    curves = lambda arm, clean=False: [  # noqa: E731
        {"label": label, "runs": [runs[seed][arm].series(key) for seed in seeds]}
        for label, key in (("simple (test)", "test_acc@simple"), ("complex (test)", "test_acc@complex"),
                           ("noise rows (train)", "train_acc@noise"))[:2 if clean else 3]]
    return {"title": f"PS10 with 10% noise: accuracy (%) per subset — {p.name} (cf. You et al. Fig. 10)",
            "ylabel": "accuracy (%)",
            "panels": [{"title": "lrDecay", "marks": [s, 2 * s], "curves": curves("decay")},
                       {"title": f"constant {p['small_lr']:g} (η0/100)", "marks": [], "curves": curves("const")},
                       {"title": f"constant {p['reported_lr']:g} (η0/10, reported)", "marks": [],
                        "curves": curves("const10")},
                       {"title": "no noise: lrDecay", "marks": [s, 2 * s], "curves": curves("decay_clean", True)},
                       {"title": f"no noise: constant {p['small_lr']:g}", "marks": [],
                        "curves": curves("const_clean", True)}]}


# Seeds 5000-5009 and, on data seed 7, seeds 6000-6009 (fast, n = 10 each, each run once on 2026-11-28 after
# the fast report; docs/replication.md): ranges no one had looked at, added to this claim's seed record.
# Seeds 8000-8004 (fast at three times the epochs, --set epochs=90 --set stage_epochs=30, run once on 2026-11-29:
# replication 5 of docs/replication.md, declared before it ran), untouched before and added to the seed record.
# Seeds 11000-11004 (fast at --set model.hidden=1024, run once on 2026-11-29: replication 6 of
# docs/replication.md, declared before it ran), untouched before and added to the seed record.
# Not a criterion: shown under the fast verdict with its reading.
FAST_REPLICATION = (
    "Replication on fresh seeds (docs/replication.md; this fast profile as declared, run once on seeds "
    "5000-5009, n = 10, 2026-11-28, after this report): every required criterion decides as here, with the "
    "same figures: noise fit (const η0/100 − lrDecay) −21.8 pp [−23.1, −20.5]; complex +36.5 pp [+35.0, "
    "+38.0] with noise and +34.3 pp without (94 % of it). "
    "On another draw of the data (data seed 7, seeds 6000-6009) every required criterion decides as here "
    "again: noise fit −21.0 pp, [−21.9, −20.1]; complex +39.0 pp, [+38.1, +40.0]. "
    "At three times the budget (90 epochs, stages of 30, seeds 8000-8004; docs/replication.md, replication 5) "
    "the η0/100 arm is no longer undertrained (90.8 % complex accuracy, 6.7 pp below η0/10 where it was 24.3), "
    "yet statistic 1 fails the same way and by more: lrDecay fits 87.2 % of the noise rows, η0/100 53.3 % "
    "(−34.0 pp, [−35.7, −32.3]). So undertraining does not explain that failure (the replication's rule: "
    "refuted): in this MLP lrDecay, which ends with 30 epochs at η0/100 after its two larger-rate stages, fits "
    "far more noise rows than 90 epochs at η0/100 alone. Statistic 2 holds with a smaller advantage (+9.2 pp; "
    "+7.9 without the noise rows). "
    "At four times the width (--set model.hidden=1024, seeds 11000-11004; docs/replication.md, replication 6) "
    "statistic 1 fails the same way: lrDecay fits 56.4 % of the noise rows, η0/100 43.3 % (−13.1 pp, [−14.7, "
    "−11.4]), with the η0/100 arm at 83.0 % complex accuracy (9.2 pp below η0/10); statistic 2 passes (+16.6 pp)."
)


CLAIM = Claim(
    id="large-lr-suppresses-noise",
    title="PS10 + noise: an initially large LR memorizes less and learns complex patterns better",
    source="You et al. 2019, §5.3, Fig. 10",
    statement="With 10% noisy data, lrDecay fits less of the noise and reaches higher complex-pattern accuracy "
              "than a constant small learning rate.",
    profiles=[FAST, GPU, GPU_POINT_NOISE],
    train=train_arms, analyse=analyse, figure=figure_spec,
    # Written after the fast v2 final run (from a review of the data; nothing in the protocol changed).
    readings={"fast": (
        "Two things about the data qualify the causal reading. The \"point6\" noise rows are told apart from "
        "every clean row by their input alone (all six channels non-zero; every clean row has one channel group "
        "exactly zero), so a network can memorize them in a region of input no clean pattern uses; that fits the "
        "no-noise control keeping 95 % of lrDecay's complex advantage. And this PS10 has 250 complex cells (the "
        "default clusters of 4) where ps10-decay-learns-complex uses 500 (clusters of 2): the paper's Fig. 9 and "
        "Fig. 10 share one dataset, these two claims do not. "
        # added 2026-11-27 after an independent read of the per-seed values (nothing re-run, no criterion changed)
        "Statistic 2's comparison arm is undertrained rather than a noise memorizer: after the same epochs the "
        "constant η0/100 model fits less of everything, 23-26 % of the noise rows (lrDecay 45-48 %: statistic 1's "
        "failure) and 62-63 % of the complex test patterns, so its +36.2 pp complex gap measures how far a 100× "
        "smaller constant rate gets in this budget, not patterns crowded out by memorized noise (the no-noise "
        "control's +34.4 pp says the same). "
        # added 2026-11-27 after a further independent read (nothing re-run)
        "The no-noise arms also train fewer steps: 10,000 rows, 79 steps per epoch, against the noise arms' "
        "11,000 and 86. For the undertrained η0/100 arm that works against the reported finding that the "
        "advantage is larger with noise than without (+1.74 pp); it is not corrected for." + " " + FAST_REPLICATION)},
)

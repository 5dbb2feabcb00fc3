"""sgd-post-decay-boost — You, Long, Wang, Jordan (2019), §4.2, Fig. 7.

Claim: with SGD, the best test accuracy after a learning-rate decay exceeds the best
before it by a noticeable margin; without decay, accuracy plateaus below.

Arms, paired by seed (same init, same data order): SGD at a constant LR η0 for E epochs
(the no-decay arm), and three decay arms that multiply the LR by 0.1 after ¼E, ½E, ¾E
epochs. Each decay arm forks from the no-decay run at its decay epoch, so the shared
prefix is trained once and "best before" is the same run's history.

Per seed and decay arm m:
  gain      = best test acc in epochs m+1..E  −  best test acc in epochs 1..m
  vs_const  = best test acc in epochs m+1..E  −  no-decay arm's best over epochs 1..E
Pass, for every decay arm (pre-registered, protocol v2; α = 0.05):
  (a) the gain is at least the floor MIN_GAIN_PP, tested as such: one-sided paired t-test of
      H1 mean(gain) > MIN_GAIN_PP, p < α;
  (b) one-sided paired t-test of best-after > no-decay best, p < α.
The Wilcoxon signed-rank test of best-after > best-before is reported beside (not part of the pass
rule: with 5 seeds its smallest one-sided p is 1/32).

v1 → v2 (2026-11-27, before any v2 run). v1's (a) was a t-test of gain > 0 with the mean gain
compared to the floor as a point estimate: data that cannot tell a gain from one below the floor
passed it. v2 tests the floor itself (lrsci.criteria.floor_criterion). The gpu profile has five
seeds (v1: three, whose t-tests had 2 degrees of freedom). The report seeds are a range no earlier
run touched (see the seed record below); arms, rates, floors and epochs are unchanged.
"""
from __future__ import annotations

from lrsci.arms import decay_points
from lrsci.claim import Claim, Profile
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from lrsci.criteria import criterion, floor_criterion
from lrsci.stats import paired_t, wilcoxon

# Protocol, written before the final run. Calibrated on development seeds 1000-1004
# (--seed-offset 1000).
# Seed record (every range anyone looked at): v1 — dev 1000-1004 (calibration), fast report 0-4,
# gpu report 0-2 (H100), fast re-check 2000-2004 (--seed-offset 2000, same verdict). v2 — dev
# 1000-1004 (fast: the v2 rows read once on them before the final run), report seeds 3000-3004
# (fast and gpu), which nothing had touched.
# v2 dev read (fast, seeds 1000-1004, before the final run): every row passed; gains +2.42 / +2.22 /
# +1.92 pp against the 1 pp floor (one-sided p ≤ 0.006). Nothing was changed after it.
# Calibration record (fast, dev seeds): at lr 0.1 the mean gain after the decay at epoch 12
# was +0.85 pp (below the 1.0 pp floor) — the pre-decay plateau was too high for a clear
# jump; at lr 0.3 the gains were +2.15 / +2.11 / +1.78 pp (decay at 4 / 8 / 12). lr 0.3 is fixed.
# (Checked 2026-11-27: the calibration commit's own code, 0970277, run again on dev seeds 1000-1004
# gives +2.42 / +2.22 / +1.92 pp, the v2 dev read's figures; no three of the five seeds give the
# record's numbers, so they came from a working state before that commit, not from committed code.
# lr 0.3 clears the 1 pp floor in both; nothing was changed.)
FAST = Profile(
    "fast", device="cpu", seeds=5, first_seed=3000,
    run=RunConfig(
        data=DataConfig("fashion-mnist", train_size=10_000, test_size=2_000, seed=0),
        model=ModelConfig("mlp", hidden=256),       # 784-256-256-10 with BatchNorm
        optim=OptimConfig(lr=0.3, momentum=0.9, weight_decay=5e-4, batch_size=128),
        epochs=16, eval_train=False),
    params={"decay_fractions": (0.25, 0.5, 0.75),  # decay after ¼E, ½E, ¾E
            "factor": 0.1,                         # LR multiplier at the decay
            "min_gain_pp": 1.0,                    # floor on mean(best after − best before), tested one-sided
            "alpha": 0.05})
# gpu v2 final run (seeds 3000-3004, once, H200, 2026-11-27; the first call was cut off at its time
# limit and the second resumed the stored runs): every row passed but (a) at decay@12, whose mean gain
# +2.18 pp could not be told from the 2 pp floor (p = 0.23). Declared below after that run, with its
# figures; the floor, seeds and arms were not changed.
GPU = FAST.extend(
    "gpu", device="cuda", seeds=5, min_gain_pp=2.0,
    run=RunConfig(
        data=DataConfig("fashion-mnist", seed=0),
        model=ModelConfig("wrn", depth=16, width=4),
        optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=128),
        epochs=16, precision="bf16", eval_train=False),
    expected_failures={"(a) decay@12: after − before > 2 pp": (
        "the WRN gains after the late decay on every seed (+1.36 to +2.62 pp; every decay arm also beats the "
        "no-decay best, +2.16 pp, p < 0.001), but the mean gain +2.18 pp (95 % CI [1.58, 2.78]) cannot be told "
        "from the 2 pp floor with five seeds (one-sided p = 0.23; 4/5 seeds above it): by epoch 12 the constant-LR "
        "run's best is already 91.5-92.5 %, so the jump has less room than after the earlier decays (+4.53, +2.45 pp)")})
# CIFAR-10, the paper's own data, when it is under the data root (it cannot be downloaded here).
GPU_CIFAR10 = GPU.extend("gpu-cifar10", run=GPU.run.with_(data=DataConfig("cifar10", seed=0)), optional_data=True)


def decay_epochs(p: Profile) -> list[int]:
    return decay_points(p)


def train_arms(ctx, p: Profile) -> dict:
    """{seed: {"none": RunResult, m: RunResult for each decay epoch m}}"""
    return ctx.run_decay_forks(lambda seed: p.run.with_(seed=seed), decay_epochs(p), p["factor"])


def analyse(runs: dict, p: Profile) -> dict:
    seeds, milestones, alpha = list(runs), decay_epochs(p), p["alpha"]
    best_const = [runs[s]["none"].best("test_acc") for s in seeds]
    rows, per_seed, gains = [], {"no-decay best": dict(zip(seeds, best_const))}, {}
    for m in milestones:
        before = [runs[s][m].best("test_acc", 1, m) for s in seeds]
        after = [runs[s][m].best("test_acc", m + 1) for s in seeds]
        gain = [a - b for a, b in zip(after, before)]
        gains[m] = sum(gain) / len(gain)
        per_seed[f"decay@{m} best before"] = dict(zip(seeds, before))
        per_seed[f"decay@{m} best after"] = dict(zip(seeds, after))
        rows += [
            floor_criterion(f"(a) decay@{m}: after − before > {p['min_gain_pp']:g} pp", after, before,
                            p["min_gain_pp"], alpha, unit=" pp"),
            criterion(f"(a) decay@{m}: after > before", wilcoxon(after, before), "reported", None, alpha,
                      reported_only=True),
            criterion(f"(b) decay@{m}: after > no-decay best", paired_t(after, best_const), f"p<{alpha}",
                      [a - c for a, c in zip(after, best_const)], alpha),
            criterion(f"(b) decay@{m}: after > no-decay best", wilcoxon(after, best_const), "reported", None,
                      alpha, reported_only=True),
        ]
    return {"tests": rows, "per_seed": per_seed,
            "headline": ", ".join(f"gain@{m} {g:+.2f} pp" for m, g in gains.items()),
            "summary": "Mean gain of best-after over best-before, per decay epoch: "
                       + ", ".join(f"epoch {m}: {g:+.2f} pp" for m, g in gains.items()) + "."}


def figure_spec(runs: dict, p: Profile) -> dict:
    seeds = list(runs)
    panels = [{"title": f"decay after epoch {m}", "marks": [m],
               "curves": [{"label": "test acc", "runs": [runs[s][m].series("test_acc") for s in seeds]}]}
              for m in decay_epochs(p)]
    panels.append({"title": "no decay", "marks": [],
                   "curves": [{"label": "test acc", "runs": [runs[s]["none"].series("test_acc") for s in seeds]}]})
    return {"title": f"SGD test accuracy (%) vs epoch — {p.name} (cf. You et al. Fig. 7)",
            "ylabel": "test accuracy (%)", "panels": panels}


# Seeds 5000-5009 and, on data seed 7, seeds 6000-6009 (fast, n = 10 each, each run once on 2026-11-28 after
# the fast report; docs/replication.md): ranges no one had looked at, added to this claim's seed record.
# Other scales, 2026-11-29, while --set was built and tried (no figure read for anything registered here):
# seeds 9000-9002 at hidden 32, 8 epochs, 2000 images (a full run, into /tmp); seeds 3000-3004 at hidden 1024,
# the README's example, stopped by Ctrl-C within its first epochs (no report).
# Seeds 11000-11004 (fast at --set model.hidden=1024, run once on 2026-11-29: replication 6 of
# docs/replication.md, declared before it ran), untouched before and added to the seed record.
# Seeds 12000-12009 (fast at --set model.hidden=1024, n = 10, run once on 2026-11-29: replication 7 of
# docs/replication.md, declared before it ran), untouched before and added to the seed record.
# Seeds 13000-13004 (fast at --set model.hidden=256, its own width, run once on 2026-11-29): NOT registered —
# replication 8's `-k "gd-"` (meant for the two GD claims) matched this claim too; untouched before, reported as
# found in docs/replication.md (replication 8) and added to the seed record.
# Seeds 9000-9001 (its own scale, 2026-11-29): the no-decay trunks' first 10 epochs, a check of Ctrl-C under
# `lrsci run` (stopped with a checkpoint); only the progress lines were seen, nothing analysed.
# Seeds 22000-22019 (fast, n = 20, run once on 2026-11-29: replication 14 of docs/replication.md, declared before
# it ran), untouched before and added to the seed record.
# Not a criterion: shown under the fast verdict with its reading.
FAST_REPLICATION = (
    "Replication on fresh seeds (docs/replication.md; this fast profile as declared, run once on seeds "
    "5000-5009, n = 10, 2026-11-28, after this report): every row passes again, with larger gains: decay@4 "
    "+2.77 pp [+2.22, +3.33], decay@8 +2.14 [+1.67, +2.61], decay@12 +1.98 [+1.75, +2.22], each tested "
    "against its 1 pp floor. "
    "On another draw of the data (data seed 7, seeds 6000-6009) every row passes again: +3.09, +2.33, +2.13 "
    "pp. "
    "At four times the width (--set model.hidden=1024, seeds 11000-11004; docs/replication.md, replication 6) the"
    " decays at epochs 4 and 8 pass (+3.13, +2.10 pp), but decay@12's gain, +1.18 pp [+0.46, +1.90] and positive "
    "on every seed, is not shown above the 1 pp floor (p = 0.26): the wider MLP is better before the decay (best "
    "85.5 % against 84.9 %) and ends about where the narrow one does (86.7 % against 86.4 %). "
    "At ten fresh seeds and 1024 units (seeds 12000-12009; docs/replication.md, replication 7) the same: decay@12 gains on every seed "
    "(+1.55 pp, [+0.86, +2.24]) but is not shown above 1 pp (p = 0.053); the other rows pass. "
    "On seeds 13000-13004 at its own width (an unregistered run: replication 8's -k filter matched this claim; "
    "docs/replication.md) every row passes again: +2.87, +2.66, +2.01 pp, each against its 1 pp floor. "
    "At twenty seeds (22000-22019; docs/replication.md, replication 14, registered before it ran) every row "
    "passes on every seed: gains +2.84, +2.36, +2.21 pp after the decays at epochs 4, 8 and 12, the intervals' near "
    "ends (+2.59, +2.05, +1.93) 0.9-1.6 pp above the 1 pp floor, and each decay above the no-decay best by +2.0 to +2.1 pp."
)


CLAIM = Claim(
    id="sgd-post-decay-boost",
    title="SGD: accuracy after a decay beats the best before it",
    source="You et al. 2019, §4.2, Fig. 7",
    statement="With SGD, the best test accuracy after a learning-rate decay exceeds the best before it by a "
              "noticeable margin; without decay, accuracy plateaus below.",
    profiles=[FAST, GPU, GPU_CIFAR10],
    train=train_arms, analyse=analyse, figure=figure_spec,
    derived=lambda p: {"decay_epochs": decay_epochs(p)},
    readings={"fast": FAST_REPLICATION},
)

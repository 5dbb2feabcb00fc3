"""ps10-decay-learns-complex — You, Long, Wang, Jordan (2019), §5.2, Fig. 9.

Claim: on PS10, a network trained with lrDecay learns simple patterns first; the gain after
each decay comes mostly from complex patterns; and a smaller constant LR learns more complex
patterns.

Arms, paired by seed: lrDecay with three equal stages at η0, η0/10, η0/100 (forked from the
constant-η0 run at the end of stage 1), and constant-LR runs at η0, η0/10, η0/100 for the same
total number of epochs. PS10 is lrsci.data.ps10 (its docstring fixes the construction).

Pre-registered statistics (α = 0.05, one-sided, paired over seeds; Wilcoxon reported beside):
  1. Simple first — under lrDecay, e_X = first epoch at which test accuracy on X reaches 90 %
     of its final value; H1: mean(e_complex − e_simple) > 0, and the mean ≥ MIN_LEAD epochs.
  2. Decay helps complex — for each decay d: gain_X = (mean test acc on X over the last 3 epochs
     of the stage after d) − (mean over the 3 epochs before d); H1: mean(gain_complex − gain_simple)
     > 0, and the mean ≥ MIN_EXCESS_PP.
  3. Smaller constant LR, more complex — final complex test accuracy (mean of the last 3 epochs)
     of the constant arms ordered η0 < η0/10 < η0/100: Page's trend test, p < α. Paired t-tests
     between neighbouring rates are reported.
"""
from __future__ import annotations

from lrsci.claim import Claim, Profile
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig
from lrsci.criteria import criterion
from lrsci.curves import first_epoch_reaching, stage_gain, window_mean
from lrsci.harness import Job
from lrsci.stats import paired_t, trend_test, wilcoxon

# Written before the final run; calibrated on development seeds 1000-1004 (--seed-offset 1000).
# Calibration record (fast): with PS10's default complex part (clusters of 4) and 15-epoch
# stages, complex accuracy reached 99% in stage 2, leaving the second decay nothing to gain
# (+0.3 pp excess); with clusters of 2 (a harder complex part) and 10-epoch stages (the CPU
# budget) the second decay's excess was +3.6 pp. The constant 0.001 arm is undertrained at
# either budget (75.5% / 37.8% complex accuracy), so statistic 3 is expected to fail here.
# (The PS10 construction itself was explored while building the dataset with an MLP on run
# seeds 0-2; no threshold below was set from those runs.)
STAT3 = "3. complex acc increases as the constant LR shrinks"
FAST = Profile(
    "fast", device="cpu", seeds=5,
    run=RunConfig(
        data=DataConfig("ps10", train_size=10_000, test_size=2_000, seed=0,
                        options={"image_size": 4, "complex_cluster_size": 2}),
        model=ModelConfig("mlp", hidden=256),               # 96-256-256-10, BatchNorm
        optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=128),
        epochs=30, eval_train=False),
    params={"stage_epochs": 10,        # three stages of lrDecay: 0.1, 0.01, 0.001
            "reach_fraction": 0.9,     # e_X = first epoch reaching this fraction of X's final accuracy
            "min_lead_epochs": 2.0,
            "min_excess_pp": 1.0,
            "window": 3,               # "final" / stage-end accuracy = mean of this many epochs
            "alpha": 0.05},
    expected_failures={STAT3: (
        "at CPU scale the smallest constant LR (0.001) is still far from converged after 30 MLP epochs, so it "
        "learns fewer complex patterns than the larger rates, not more (first seen on the dev seeds; see the "
        "calibration record)")})
GPU = FAST.extend(
    "gpu", device="cuda", seeds=3, stage_epochs=8,
    run=RunConfig(
        data=DataConfig("ps10", train_size=20_000, test_size=4_000, seed=0,
                        options={"image_size": 32, "complex_cluster_size": 2}),
        model=ModelConfig("wrn", depth=16, width=4),
        optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=128),
        epochs=24, precision="bf16", eval_train=False))

SUBSETS = ("simple", "complex")


def lrs(p: Profile) -> list[float]:
    return [round(p.run.optim.lr * f, 12) for f in (1.0, 0.1, 0.01)]


def decays(p: Profile) -> list[int]:
    return [p["stage_epochs"], 2 * p["stage_epochs"]]


def train_arms(ctx, p: Profile) -> dict:
    """{seed: {"decay": RunResult, lr: RunResult for each constant rate}}"""
    top, mid, low = lrs(p)
    jobs, keys = [], []
    for seed in ctx.seeds:
        base = p.run.with_(seed=seed)
        jobs.append(Job(base, f"const {top}", snapshots=(p["stage_epochs"],)))
        keys.append((seed, top))
        for lr in (mid, low):
            jobs.append(Job(base.with_(**{"optim.lr": lr}), f"const {lr}"))
            keys.append((seed, lr))
    runs: dict = {}
    for (seed, key), r in zip(keys, ctx.run_all(jobs)):
        runs.setdefault(seed, {})[key] = r
    forks = [Job(p.run.with_(seed=s, schedule=ScheduleConfig("step", milestones=tuple(decays(p)), factor=0.1)),
                 "lrDecay", fork=(p.run.with_(seed=s), p["stage_epochs"])) for s in ctx.seeds]
    for seed, r in zip(ctx.seeds, ctx.run_all(forks)):
        runs[seed]["decay"] = r
    return runs


def _acc(run, subset: str) -> list[float]:
    return run.curve(f"test_acc@{subset}")


def analyse(runs: dict, p: Profile) -> dict:
    seeds, alpha, k = list(runs), p["alpha"], p["window"]
    rows, per_seed = [], {}
    # 1. simple first
    reach = {s: [first_epoch_reaching(_acc(runs[seed]["decay"], s), p["reach_fraction"]) for seed in seeds]
             for s in SUBSETS}
    lead = [c - s for c, s in zip(reach["complex"], reach["simple"])]
    mean_lead = sum(lead) / len(lead)
    per_seed.update({f"lrDecay epoch to 90% ({s})": dict(zip(seeds, reach[s])) for s in SUBSETS})
    rows += [criterion("1. simple first: e_complex > e_simple", paired_t(reach["complex"], reach["simple"]),
                       f"p<{alpha} and mean lead ≥ {p['min_lead_epochs']} epochs (mean {mean_lead:.1f})",
                       lead, alpha, extra_pass=mean_lead >= p["min_lead_epochs"]),
             criterion("1. simple first", wilcoxon(reach["complex"], reach["simple"]), "reported", None, alpha,
                       reported_only=True)]
    # 2. each decay's gain is mostly complex
    ends = decays(p) + [p.run.epochs]
    excess_means = {}
    for d, nxt in zip(ends[:-1], ends[1:]):
        gain = {s: [stage_gain(_acc(runs[seed]["decay"], s), d, nxt, k) for seed in seeds] for s in SUBSETS}
        excess = [c - s for c, s in zip(gain["complex"], gain["simple"])]
        excess_means[d] = sum(excess) / len(excess)
        per_seed.update({f"gain@{d} ({s})": dict(zip(seeds, gain[s])) for s in SUBSETS})
        rows += [criterion(f"2. decay@{d}: complex gain > simple gain", paired_t(gain["complex"], gain["simple"]),
                           f"p<{alpha} and mean excess ≥ {p['min_excess_pp']} pp (mean {excess_means[d]:.2f})",
                           excess, alpha, extra_pass=excess_means[d] >= p["min_excess_pp"]),
                 criterion(f"2. decay@{d}", wilcoxon(gain["complex"], gain["simple"]), "reported", None, alpha,
                           reported_only=True)]
    # 3. smaller constant LR → more complex patterns
    E = p.run.epochs
    final = {lr: [window_mean(_acc(runs[seed][lr], "complex"), E, k) for seed in seeds] for lr in lrs(p)}
    per_seed.update({f"const {lr} final complex": dict(zip(seeds, v)) for lr, v in final.items()})
    matrix = [[final[lr][i] for lr in lrs(p)] for i in range(len(seeds))]
    rows.append(criterion(STAT3, trend_test(matrix, "increasing"),
                          f"Page p<{alpha}", None, alpha))
    top, mid, low = lrs(p)
    for hi, lo in ((top, mid), (mid, low)):
        rows.append(criterion(f"3. const {lo} > const {hi} (complex)", paired_t(final[lo], final[hi]), "reported",
                              [a - b for a, b in zip(final[lo], final[hi])], alpha, reported_only=True))
    means = {lr: sum(v) / len(v) for lr, v in final.items()}
    return {"tests": rows, "per_seed": per_seed,
            "headline": f"lead {mean_lead:.1f} ep; excess " + ", ".join(f"@{d} {v:+.1f} pp" for d, v in excess_means.items()),
            "summary": (f"Under lrDecay complex patterns reach 90% of their final accuracy {mean_lead:.1f} epochs after "
                        f"simple ones; complex-minus-simple gain per decay: "
                        + ", ".join(f"epoch {d}: {v:+.2f} pp" for d, v in excess_means.items())
                        + "; final complex accuracy of constant LRs: "
                        + ", ".join(f"{lr:g}: {m:.1f}%" for lr, m in means.items()) + ".")}


def figure_spec(runs: dict, p: Profile) -> dict:
    seeds = list(runs)
    arms = [("lrDecay", "decay", decays(p))] + [(f"constant {lr:g}", lr, []) for lr in lrs(p)]
    panels = [{"title": title, "marks": marks,
               "curves": [{"label": s, "runs": [_acc(runs[seed][key], s) for seed in seeds]} for s in SUBSETS]}
              for title, key, marks in arms]
    return {"title": f"PS10 test accuracy (%) on simple and complex patterns — {p.name} (cf. You et al. Fig. 9)",
            "ylabel": "test accuracy (%)", "panels": panels}


CLAIM = Claim(
    id="ps10-decay-learns-complex",
    title="PS10: decay improves learning of complex patterns",
    source="You et al. 2019, §5.2, Fig. 9",
    statement="The model first learns simple patterns; the gain after a learning-rate decay comes mostly from "
              "complex patterns; a smaller constant learning rate learns more complex patterns.",
    profiles=[FAST, GPU],
    train=train_arms, analyse=analyse, figure=figure_spec,
    derived=lambda p: {"lrs": lrs(p), "decay_epochs": decays(p)},
)

"""two-layer-learning-order — Li, Wei, Ma (NeurIPS 2019), the two-layer toy (as the reviews and
the abstract describe it).

Claim: on a distribution with a high-noise, easy-to-fit feature P (linearly separable with a small
margin plus Gaussian noise) and a low-noise, hard-to-fit feature Q (needs a nonlinearity), a small
fraction of examples carrying only P, a large fraction only Q and the rest both, a two-layer ReLU
network trained with a large LR and then annealed generalizes better on P-only examples than the
same network trained with a small LR from the start — because the order of learning differs: the
large LR learns P first and Q only after annealing; the small LR fits Q early, so it learns P from
the P-only examples alone.

Data: lrsci.data.toy (its docstring fixes the construction and states every constant). Model:
lrsci.models.two_layer — g(x) = a·relu(Wx + b) + c, 100 hidden units, logistic loss, ℓ2
regularization as weight decay on every parameter. Plain SGD (no momentum), batch 32.

Arms, paired by seed (same init, same data order): large LR η_L for m epochs then η_L·f; small
LR η_S = η_L·f from the start (the rate the large arm anneals to).

Per seed: P_X = mean test accuracy on P-only examples over the last W epochs of arm X.
Pre-registered test (α = 0.05): one-sided paired t, H1 mean(P_large − P_small) > 0. Wilcoxon
reported beside.
Learning order (reported, not part of the verdict): for each arm and feature F, e_F = the first
epoch at which training accuracy on F-only examples reaches 90 % (accuracy = the fraction of
those examples with a positive margin y·g(x); a run that never reaches it counts as E + 1).
Reported: the paired t-test of e_Q − e_P > 0 for the large arm (P first) and of e_P − e_Q > 0 for
the small arm (Q first), and test accuracy on Q-only and both-feature examples.
"""
from __future__ import annotations

from lrsci.arms import large_annealed_and_small
from lrsci.claim import Claim, Profile
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from lrsci.criteria import criterion, reported_t
from lrsci.curves import window_mean
from lrsci.stats import paired_t, wilcoxon

STAT1 = "1. P-only test accuracy: large LR + annealing > small LR"

# Protocol, written before the final run. Calibrated on development seeds 1000-1004
# (--seed-offset 1000, run store /tmp/li-runs); the committed report uses seeds 0-4 (offset 0).
# Calibration record (all on dev seeds 1000-1004, mostly 1000-1001; data seed 0 throughout):
#  * dim_p 100, gamma 1, sigma 0.5, z_norm 1, zeta_norm 0.3, p-only 10 %, q-only 60 % (the
#    first reading of the papers folder), LRs 0.5/2 vs 0.02/0.005, 40-60 epochs: every arm
#    learns P first (it is the strongest signal); the small LR learns Q slowly or never.
#  * Q scaled up (z_norm 2-10, zeta_norm 1-4) with P weaker (gamma 0.1-0.5, sigma gamma/2,
#    dim_p 200-1600): Q learned first by the small LR once z_norm ≥ 5; the large LR skips Q only
#    when zeta_norm is small relative to its noise (zeta 1 at z 5: yes; zeta 2: not reliably).
#  * small LR 0.02-0.05 (no momentum) is undertrained on P (train loss 0.59 after 30 epochs):
#    its low P-only accuracy was slowness, not learning order — rejected. LRs fixed at the
#    scale the network trains at: large 2.0 → ×0.1 → 0.2, small 0.2.
#  * z 5, zeta 1, gamma 0.1, sigma 0.05, dim_p 1600, p-only 5 %, q-only 55 %, 30 epochs, anneal
#    after 15, seeds 1000-1004: the large LR learns P first in 5/5 seeds (train P-only ≥ 90 % at
#    epoch 2-4, Q-only at 19-22, after the anneal); the small LR Q first or together (Q at 4-5, P
#    at 3-6). Final P-only test accuracy large − small: +1.0 pp on 4000 test rows (sd 1.3, one
#    seed negative; only 200 P-only test rows); on 20000 test rows +0.96 pp (sd 0.46, 5/5 > 0; first written "sd 0.42", an arithmetic slip corrected 2026-11-27).
# Fixed from that: the constants above, 20000 test rows, W = 5, no floor (the effect is ~1 pp).
FAST = Profile(
    "fast", device="cpu", seeds=5, epoch_params=("anneal_epoch",),   # counted in epochs: --set epochs moves it
    run=RunConfig(
        data=DataConfig("toy-pq", train_size=2000, test_size=20_000, seed=0,
                        options={"dim_p": 1600, "dim_q": 20, "gamma": 0.1, "sigma": 0.05, "z_norm": 5.0,
                                 "zeta_norm": 1.0, "frac_p_only": 0.05, "frac_q_only": 0.55}),
        model=ModelConfig("two_layer", hidden=100),
        optim=OptimConfig(lr=2.0, momentum=0.0, weight_decay=1e-3, batch_size=32),
        epochs=30, eval_train=True),
    params={"anneal_epoch": 15,      # m
            "anneal_factor": 0.1,    # large LR 2.0 -> 0.2
            "small_lr": 0.2,         # = the annealed large LR
            "final_window": 5,       # W
            "order_threshold": 90.0,  # e_F: first epoch with train accuracy on F-only rows >= this
            "alpha": 0.05},
    # Declared after the final run (seeds 0-4, offset 0), which failed this criterion; nothing else
    # in the protocol was changed. (Later, its wording only: "it reversed" overstated a mean of −1.04 pp whose
    # interval spans 0.) Dev seeds 1000-1004 trained again on 2026-11-27 with the committed code, to check the
    # calibration still describes it (see the reading); no other seeds were looked at.
    expected_failures={STAT1: (
        "the large LR shows the paper's order (P fitted by epoch ~3, Q only after the anneal) but the small "
        "LR fits P and Q about together rather than Q first, so it also learns P from the both-feature rows "
        "and is not worse on P-only examples; the +0.96 pp seen on dev seeds 1000-1004 did not hold on "
        "seeds 0-4 (−1.04 pp, 95 % CI [−3.26, 1.19]: no difference shown either way)")})
# gpu profile (protocol v1, written before its first run, 2026-11-27): the same toy on one GPU (the theory's
# model has no WideResNet counterpart), the same data and network, 10 seeds (final 0-9; no GPU dev seeds).
# Final run (seeds 0-9, once: device call 1 of 2026-11-27, one H200, commit b57eb87): criterion 1 failed, as
# at the fast profile; declared below after that run; nothing else was changed.
GPU = FAST.extend("gpu", device="cuda", seeds=10, expected_failures={STAT1: (
    "as at the fast profile, with 10 seeds: the large LR fits P 16 epochs before Q (e_Q − e_P = +16.1, 95 % CI "
    "[14.4, 17.8]) but the small LR fits P and Q together (e_P − e_Q = +0.6, CI [−0.3, 1.5]), so it learns P "
    "from the both-feature rows too and P-only test accuracy is the same (large − small −0.14 pp, CI [−1.21, 0.92])")})

ARMS = ("large", "small")


def arm_configs(p: Profile, seed: int) -> dict[str, RunConfig]:
    return large_annealed_and_small(p, seed)


def train_arms(ctx, p: Profile) -> dict:
    """{seed: {"large": RunResult, "small": RunResult}}"""
    return ctx.run_arms(lambda seed: arm_configs(p, seed), labels={arm: f"{arm} LR" for arm in ARMS})


def final(run, p: Profile, key: str) -> float:
    return window_mean(run.curve(key), run.epochs_trained, p["final_window"])


def first_epoch(run, key: str, p: Profile) -> int:
    series = run.curve(key)
    return next((i + 1 for i, v in enumerate(series) if v >= p["order_threshold"]), len(series) + 1)


def analyse(runs: dict, p: Profile) -> dict:
    seeds, alpha = list(runs), p["alpha"]
    fin = {(arm, k): [final(runs[s][arm], p, f"test_acc@{k}") for s in seeds]
           for arm in ARMS for k in ("p_only", "q_only", "both")}
    order = {(arm, k): [first_epoch(runs[s][arm], f"train_acc@{k}", p) for s in seeds]
             for arm in ARMS for k in ("p_only", "q_only")}
    diff = lambda a, b: [x - y for x, y in zip(a, b)]  # noqa: E731
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    gap = diff(fin["large", "p_only"], fin["small", "p_only"])
    rows = [
        criterion(STAT1,
                  paired_t(fin["large", "p_only"], fin["small", "p_only"]), f"p<{alpha}", gap, alpha),
        criterion("1. (Wilcoxon)", wilcoxon(fin["large", "p_only"], fin["small", "p_only"]), "reported", None,
                  alpha, reported_only=True),
        reported_t("order: large LR fits P before Q (e_Q − e_P > 0; reported only)",
                   order["large", "q_only"], order["large", "p_only"], alpha),
        reported_t("order: small LR fits Q before P (e_P − e_Q > 0; reported only)",
                   order["small", "p_only"], order["small", "q_only"], alpha),
        reported_t("Q-only test accuracy: large − small (reported only)",
                   fin["large", "q_only"], fin["small", "q_only"], alpha),
    ]
    per_seed = {f"{arm}: final test acc on {k}": dict(zip(seeds, fin[arm, k])) for arm, k in fin}
    per_seed.update({f"{arm}: first epoch train acc on {k} ≥ {p['order_threshold']:g}%": dict(zip(seeds, v))
                     for (arm, k), v in order.items()})
    lead = {arm: mean(diff(order[arm, "q_only"], order[arm, "p_only"])) for arm in ARMS}
    return {"tests": rows, "per_seed": per_seed,
            "headline": f"P-only test acc large − small {mean(gap):+.2f} pp; e_Q − e_P: large {lead['large']:+.1f}, "
                        f"small {lead['small']:+.1f} epochs",
            "summary": (f"Final P-only test accuracy (mean of the last {p['final_window']} epochs): large LR + "
                        f"annealing {mean(fin['large', 'p_only']):.2f}% vs small LR {mean(fin['small', 'p_only']):.2f}% "
                        f"({mean(gap):+.2f} pp). Learning order (first epoch with ≥ {p['order_threshold']:g}% train "
                        f"accuracy on P-only / Q-only rows): large LR P {mean(order['large', 'p_only']):.1f} / Q "
                        f"{mean(order['large', 'q_only']):.1f}; small LR P {mean(order['small', 'p_only']):.1f} / Q "
                        f"{mean(order['small', 'q_only']):.1f}.")}


def figure_spec(runs: dict, p: Profile) -> dict:
    seeds, m = list(runs), p["anneal_epoch"]
    labels = {"large": f"large LR ({p.run.optim.lr:g}, ×{p['anneal_factor']:g} after {m})",
              "small": f"small LR ({p['small_lr']:g})"}

    def panel(title, key, arm):
        return {"title": f"{labels[arm]}: {title}", "marks": [m] if arm == "large" else [], "curves": [
            {"label": name, "runs": [runs[s][arm].series(f"{key}@{k}") for s in seeds]}
            for name, k in (("P only", "p_only"), ("Q only", "q_only"), ("both", "both"))]}
    return {"title": f"Two-layer net on the P/Q toy: accuracy (%) per example kind — {p.name} (cf. Li et al. 2019)",
            "ylabel": "accuracy (%)",
            "panels": [panel("train", "train_acc", "large"), panel("test", "test_acc", "large"),
                       panel("train", "train_acc", "small"), panel("test", "test_acc", "small")]}


# Seeds 5000-5009 and, on data seed 7, seeds 6000-6009 (fast, n = 10 each, each run once on 2026-11-28 after
# the fast report; docs/replication.md): ranges no one had looked at, added to this claim's seed record.
# Seeds 11000-11004 (fast at --set model.hidden=1024, run once on 2026-11-29: replication 6 of
# docs/replication.md, declared before it ran), untouched before and added to the seed record.
# Seeds 21000-21019 (fast, n = 20, the protocol's data draw, run once on 2026-11-29: replication 13 of
# docs/replication.md, declared before it ran), untouched before and added to the seed record.
# Seeds 28000-28019 (fast, n = 20, run once on 2026-11-29: replication 20 of docs/replication.md, the order read off
# test accuracy, declared before it ran, tools/learning_order.py), untouched before and added to the seed record.
# Not a criterion: shown under the fast verdict with its reading.
FAST_REPLICATION = (
    "Replication on fresh seeds (docs/replication.md; this fast profile as declared, run once on seeds "
    "5000-5009, n = 10, 2026-11-28, after this report): criterion 1, declared failing on seeds 0-4 (−1.04 "
    "pp), passes on 5000-5009: large LR + annealing − small LR on P-only test accuracy +0.75 pp, 95 % CI "
    "[+0.25, +1.24], p = 0.004, 9 of 10 seeds positive — close to the dev seeds' +0.96 pp, so seeds 0-4 look "
    "like the unlucky range (seed 0: −3.48 pp). The order half of the declared reason still holds: the small "
    "LR fits P and Q together (e_P − e_Q 0.0 epochs, [−0.75, +0.75]) while the large LR fits P first (+14.8 "
    "epochs). At n = 10 the large LR's P-only advantage appears, but not by the route the paper names (the "
    "small LR fitting Q first). "
    "On another draw of P/Q (data seed 7, seeds 6000-6009) criterion 1 passes again: +1.09 pp, [+0.60, "
    "+1.58], p < 0.001. Both fresh ranges (5000-5009 on the protocol's draw of the data, 6000-6009 on another) agree with the dev seeds, "
    "which made the committed −1.04 pp on seeds 0-4 look like the outlier. The small LR fits P slightly before Q there (e_P − e_Q −1.0 "
    "epochs, [−1.75, −0.25]), not Q first. "
    "At twenty seeds on the protocol's draw (21000-21019; docs/replication.md, replication 13, registered before "
    "it ran) criterion 1 is not shown: +0.11 pp, [−0.71, +0.93], p = 0.39, 12 of 20 seeds positive (Wilcoxon "
    "p = 0.08). The per-seed differences are heavy-tailed (sd 1.75; −5.4, −2.4 and −1.5 pp at one end, +2.8 "
    "twice at the other), and 3 of 20 lie at or below the report seeds' −1.04 pp: under a normal model with this "
    "range's mean and sd, five seeds average that low about 7 % of the time. So seeds 0-4 were not a rare range, "
    "and 5000-5009 (sd 0.69) the quiet one: at this scale the large LR's P-only advantage, if any, is small beside "
    "the seed-to-seed spread. The order rows are as before: the large LR fits P first (+15.4 epochs, every seed), "
    "the small LR P and Q together (+0.3 epochs, [−0.3, +0.9]). "
    "At 1024 hidden units (10.24× this profile's 100; --set model.hidden=1024, seeds 11000-11004; "
    "docs/replication.md, replication 6) criterion 1 is not shown, as in this report and unlike the two ranges above (+0.63 pp, [−0.32, +1.57], "
    "p = 0.07); the reported-only "
    "\"small LR fits Q before P\" passes (+1.0 epochs, [+0.1, +1.9]). "
    "Read off test accuracy instead (seeds 28000-28019; docs/replication.md, replication 20, registered before it "
    "ran: e_F = the first epoch 90 % of the way from chance to the final F-only test accuracy) both arms show the "
    "paper's order: the large LR learns P first (+13.7 epochs, [+11.7, +15.7], every seed) and the small LR learns Q "
    "first, by about an epoch (+1.20, [+0.49, +1.91], p = 0.001; 13 of 20 seeds, 4 ties), where its training rows "
    "on the same runs show no order (+0.1, [−0.4, +0.6]). P-only test accuracy still does not differ (+0.33 pp, "
    "[−0.35, +1.00]): the order is there, the outcome the paper draws from it is not, at this scale."
)


# Written 2026-11-28 after an independent review (nothing re-run, no criterion changed).
ORDER_METRIC = (
    "The learning order (e_P, e_Q) is read off training accuracy, and the P-only training rows are few: 5 % of "
    "2 000, about 100 rows in 1 600 P dimensions, which a 100-unit network can fit whatever their labels. So "
    "'P fitted by epoch ~3' shows that those rows were fitted, not that the direction w was learned; the order "
    "half of the declared reason rests on that reading. P-only test accuracy over the epochs, or the alignment "
    "of the first layer with w, would tell the two apart; the verdict's criterion (P-only test accuracy at the "
    "end) is not affected. Replication 20 (docs/replication.md) reads the order off test accuracy: the small LR "
    "does learn Q first there, by about an epoch, so the declared reason's 'fits P and Q about together' describes "
    "the training rows, not what generalizes.")


CLAIM = Claim(
    id="two-layer-learning-order",
    title="Two-layer toy: large LR then annealing generalizes better on P-only examples",
    source="Li, Wei, Ma 2019, abstract and NeurIPS reviews (the P/Q toy distribution)",
    statement="In the P/Q toy distribution, a two-layer ReLU net trained with a large LR and then annealed "
              "generalizes better on P-only examples than the same net trained with a small LR, because the "
              "large LR learns P first and the small LR fits Q first.",
    profiles=[FAST, GPU],
    train=train_arms, analyse=analyse, figure=figure_spec,
    # written 2026-11-27 after an independent read of the stored curves (nothing re-run, no criterion changed)
    readings={
        "fast": ("The dev seeds' +0.96 pp (sd 0.46; this reading first said 0.42, an arithmetic slip) and the report seeds' −1.04 pp (sd 1.79) differ in spread as well "
                 "as in mean. To check that the calibration still describes this code, dev seeds 1000-1004 were "
                 "trained again on 2026-11-27 with the committed code: +0.96 pp again (per seed +0.38 to +1.54, "
                 "sd 0.46), so nothing changed between calibration and report; the report seeds spread wider "
                 "(seed 0: −3.48 pp). Five seeds cannot tell an effect of about 1 pp from none at that spread, and "
                 "the gpu profile's ten seeds do not show it either." + " " + FAST_REPLICATION + " " + ORDER_METRIC),
        "gpu": ("Seeds 0-4 of this profile are the fast report's seeds on the same data, network and arms (the gpu "
                "profile differs in device and seed count only), so their outcomes were known from the CPU before "
                "this run. CUDA arithmetic leaves the small-LR arm nearly as it was (P-only: 91.98, 92.28, 91.72 % on "
                "both) but moves the large-LR arm (P-only by −0.50 to +1.30 pp, Q-only by up to −1.68 pp, e_Q by "
                "up to 4 epochs; corrected 2026-11-27, the first version said both changed little), so seeds 0-4's "
                "mean gap moves from −1.04 to −0.79 pp, as large as the effect tested. Only seeds 5-9 are evidence the fast report had not shown: on them large − small is "
                "+0.50 pp (per seed −1.16 to +1.76, 95 % CI [−0.88, 1.89], one-sided p = 0.18), no effect shown. "
                + ORDER_METRIC),
    },
)

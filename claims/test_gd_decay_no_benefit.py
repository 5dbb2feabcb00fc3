"""gd-decay-no-benefit — You, Long, Wang, Jordan (2019), §4.1, Fig. 4.

Claim: with full-batch gradient descent (GD), decaying the learning rate brings negligible benefit
to optimization or generalization: "no matter when the learning rate is decayed, the final
performances are almost the same" (final training loss and test accuracy).

GD here is lrsci's ``OptimConfig(batch_size=None)``: one step per "epoch" on the exact gradient of
the mean training loss, plain GD (momentum 0) with weight decay 5e-4, so an epoch is a GD step and E
epochs are E steps. BatchNorm semantics: lrsci has no BatchNorm-free model (the MLP, the small CNN
and the WideResNet all normalise), and the models are not changed for this claim. The fast profile
sets ``gd_chunk`` = the training-set size, so the gradient is accumulated in ONE chunk and every
BatchNorm layer normalises with the statistics of the whole training set: each step is the exact
gradient of the full-batch BatchNorm objective (no ghost batches). The gpu profile accumulates over
chunks of 1024, so BatchNorm there normalises each chunk with its own statistics (ghost batches of
1024) and GD descends that objective exactly. Test accuracy is evaluated in eval mode (running
statistics, updated once per chunk per step).

Arms, paired by seed (same init, same full batch): GD at a constant rate η for E steps (no decay),
and three decay arms that multiply the rate by 0.1 after ¼E, ½E and ¾E steps. Each decay arm forks
from the no-decay run's snapshot at its decay step, so the shared prefix is trained once.

η is NOT tuned for this claim; it is fixed by a rule applied on development seeds before any final
run (shared with gd-larger-lr-diverges, which checks the other half of §4.1 at the same η):
  on the geometric grid 2^k (k = -2..5, i.e. 0.25 ... 32), train the profile's no-decay config on dev
  seeds 1000-1004 for its E steps; η_div = the smallest grid rate at which at least one dev seed
  diverges (engine status "diverged": the full-batch loss is non-finite or exceeds diverge_loss = 10,
  ≈ 4.3× the loss ln 10 ≈ 2.30 of a uniform prediction); η = η_div / 2.

"final" of a run = the mean over its last WINDOW = 10 GD steps (an edge-of-stability trunk oscillates
from step to step; the window reads its level without picking a step). Per seed and decay step m:
  rel_loss = (final train loss of decay@m − final train loss of no decay) / final train loss of no decay
  d_acc    =  final test acc of decay@m − final test acc of no decay            (percentage points)
Pass, for every decay arm (pre-registered; α = 0.05; paired over seeds):
  (0) every run of every arm finished (no divergence at η or after the decay) — final values exist;
  (1) equivalence of the final training loss: TOST on rel_loss with margin ±20 % (relative);
  (2) equivalence of the final test accuracy: TOST on d_acc with margin ±1.0 pp.
A failed difference test is not evidence of no difference, so the claim of "almost the same" is
tested as equivalence (TOST: both one-sided t-tests reject |mean| ≥ margin), never as p > α of a
difference test. Every row shows the mean difference and its 95 % t-interval over seeds.
The gpu profile's η comes from the same rule applied on GPU dev seeds (see its comment).
"""
from __future__ import annotations

import math

from lrsci import eta_rule
from lrsci.arms import decay_points
from lrsci.claim import Claim, Profile
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig
from lrsci.criteria import criterion
from lrsci.curves import window_mean
from lrsci.stats import StatResult, tost

STABLE = "(0) every run finished (no divergence)"
ETA_RULE = ("η = η_div / 2, η_div = the smallest rate on the grid 2^k (k = -2..5) at which GD on the profile's "
            "no-decay config diverges (status 'diverged', loss > diverge_loss) within its E steps on at least one "
            "of the dev seeds 1000-1004")

# Protocol, written before the final run (seeds 0-4, --seed-offset 0). Calibrated on development seeds
# 1000-1004 (--seed-offset 1000) only. Seed ranges looked at: 1000-1004 and 1000-1001, nothing else.
# Calibration record (fast):
#  - Exploration, dev seeds 1000-1004: MLP-64 on 1000 images, wd 0, E 300, rates 0.125-16. Rates ≤ 4
#    trained (loss < 1e-3); at 8 the loss spiked to 6-22 and then collapsed to chance (ln 10, 10-20 %
#    test accuracy), never above the engine's default diverge_loss 1e4; at 16, 2 of 5 passed 1e4. With
#    the default threshold the η rule would have picked a rate (8) at which GD collapses, so
#    diverge_loss = 10 was fixed, before the grid below, as the protocol's definition of divergence.
#  - Exploration, dev seeds 1000-1001, no decay only: hidden {32, 64} × {512, 1000} images ×
#    wd {0, 5e-4} × rates {1, 2, 4}, E 300. Without weight decay the loss keeps falling ~1/t; with
#    5e-4 it levels off at ~0.0015-0.002 after ~200 steps (a plateau before the decays, the regime of the
#    paper's long GD runs). Chosen: MLP-64 (BatchNorm), 512 images in one chunk, wd 5e-4, E = 800
#    (first decay at 200, after the plateau). The margins (±20 % relative loss, ±1 pp accuracy) and the
#    10-step window were fixed here, before any decay arm was trained.
#  - η rule grid (that protocol: E = 800, 2000 test images; dev seeds 1000-1004): rates 0.25-4 stable
#    on 5/5; 8 diverged on 3/5 (steps 2, 2, 270; the other two collapsed to chance); 16 and 32 diverged
#    on 5/5 within 2 steps. η_div = 8, so η = 4.0. At η = 4 the no-decay loss at step 800 was
#    0.0016-0.0019 on three seeds, 0.051 and 0.172 on two.
#  - First dev run of this claim (E = 800, dev seeds 1000-1004): all six equivalence rows failed
#    (relative loss differences −0.38 / +0.04 / +1.06, accuracy +2.3 / +1.7 / +2.3 pp, wide intervals):
#    the no-decay trunk at η = 4 spikes from 0.002 to 0.4-3.6 every few hundred steps (the BatchNorm
#    net's edge-of-stability instability; gd-larger-lr-diverges measures λ_max rising past 2/η before
#    a spike — later corrected: its snapshots are too sparse to show that, see the fast reading), and an arm whose last steps fall in a spike ends far worse. The run took 163 s against
#    a budget of ~90 s, so E was cut to 400 (decays at 100 / 200 / 300) and the test set to 1000
#    images, for time alone; margins, window and η unchanged. The η rule gives the same η at E = 400
#    (the first 400 steps of the grid runs are those runs; the divergences at 8 came at steps 2, 2, 270).
#  - Second dev run (this protocol, dev seeds 1000-1004, 75 s): all six equivalence rows failed again:
#    relative loss differences −0.17 / −0.55 / −0.58, accuracy +12.3 / +12.3 / +12.2 pp — the no-decay
#    trunk was inside a spike at step 400 on 3 of 5 seeds (loss 0.5-1.6, test accuracy 50-61 %), every
#    decay arm ended at 0.002-0.004. Nothing was changed after it: at this scale decay timing matters.
# Exploration after every report (2026-11-28, an independent review; not a criterion, nothing in the protocol
# changed): seeds 9000-9002, the fast no-decay trunk only, trained with the fresh_bn_eval measurement (training
# bit-identical without it) to size the eval-mode BatchNorm lag; figures in BN_LAG below.
# Final run (seeds 0-4, once, with the protocol above): row (0) held and all six equivalence rows failed.
# They are declared below as expected failures, after that run; η, margins, window and E were not changed.
DECAY_MATTERS = (
    "at CPU scale GD at η = 4 (the largest stable rate of the grid) keeps this BatchNorm MLP at the edge of "
    "stability: weight decay shrinks its scale-invariant weights until λ_max passes 2/η, and the loss spikes "
    "from its plateau every few hundred steps (see gd-larger-lr-diverges), while a decayed arm (η/10) stays on "
    "the plateau. On seeds whose no-decay run ends inside a spike every decay arm ends with a far lower loss and "
    "a higher test accuracy, so the differences are too wide for the margins — decay timing matters here (first "
    "seen on the dev seeds; see the calibration record)")
def loss_row(m: int) -> str:
    return f"(1) decay@{m}: final train loss ≡ no decay"


def acc_row(m: int) -> str:
    return f"(2) decay@{m}: final test acc ≡ no decay"


EQUIVALENCE_ROWS = [row(m) for m in (100, 200, 300) for row in (loss_row, acc_row)]
FAST = Profile(
    "fast", device="cpu", seeds=5,
    run=RunConfig(
        data=DataConfig("fashion-mnist", train_size=512, test_size=1_000, seed=0),
        model=ModelConfig("mlp", hidden=64),          # 784-64-64-10, BatchNorm after each hidden layer
        optim=OptimConfig(lr=4.0, momentum=0.0, weight_decay=5e-4, batch_size=None, gd_chunk=512),
        epochs=400, eval_train=False, diverge_loss=10.0),   # E = 400 GD steps
    params={"decay_fractions": (0.25, 0.5, 0.75),   # decay after ¼E, ½E, ¾E steps
            "factor": 0.1,                          # LR multiplier at the decay
            "window": 10,                           # "final" = mean of the last 10 steps
            "loss_margin_rel": 0.20,                # TOST margin on the relative final-loss difference
            "acc_margin_pp": 1.0,                   # TOST margin on the final test-accuracy difference
            "alpha": 0.05,
            "eta_rule": ETA_RULE},
    expected_failures={name: DECAY_MATTERS for name in EQUIVALENCE_ROWS})
# gpu profile (protocol v1 of this profile, written before its first run, 2026-11-27). WideResNet-16-4 on
# 2048 Fashion-MNIST training images (2000 test images), full-batch GD accumulated over ghost batches of
# 1024, bf16 autocast, E = 200 GD steps (decays after 50 / 100 / 150), five seeds. E and the data size
# are set by the device budget of one session (15 minutes for every gpu profile together), not by any
# result: the paper's GD runs are thousands of epochs long. Margins, window and the η rule are the fast
# profile's. η is NOT chosen here: tools/calibrate_gd_eta.py applies the η rule (lrsci.eta_rule) to this
# config on GPU dev seeds 1000-1002 before the final run and writes claims/calibration/gd-eta-gpu.json;
# both GD claims read η from it, and refuse to run on the GPU without it. Seed ranges: dev 1000-1002
# (calibration only), final 0-4.
#
# Calibration (device calls 1 and 2 of 2026-11-27, one H200; record: claims/calibration/gd-eta-gpu.json and
# gd-eta-gpu.earlier-attempt.json): rates 0.25, 0.5, 1 and 2 stable on dev seeds 1000-1002 for 200 steps, 4
# diverged at step 2 on all three, so η_div = 4 and η = 2. At η = 2 the dev runs' loss spiked to 8-9.6 in the
# first steps and ended at 0.46-0.68 after 200 steps (far from converged); nothing was changed after it.
# Final run (seeds 0-4, once, device call 2, commit 5858164): (0) held and (1) decay@150 passed (relative loss
# −11 %, within ±20 %); the other five equivalence rows failed. Declared below after that run; nothing changed.
GD_TOO_SHORT = (
    "200 GD steps at η = 2 leave the WRN far from converged (no-decay final loss 0.41-0.50), so an early decay "
    "costs training progress: decay@50 ends with a 48 % higher loss (95 % CI [36, 59] %), decay@100 14 % higher "
    "(CI [3, 24] %; TOST p = 0.09)")
GD_TEST_ACC_OSCILLATES = (
    "the no-decay network's test accuracy (eval-mode BatchNorm) swings by tens of points from step to step at "
    "η = 2 (see the figure), while a decayed arm settles: decay@100 and decay@150 end +4.9 and +7.6 pp above no "
    "decay (CIs [1.6, 8.1] and [5.2, 10.1]); decay@50 is +0.1 pp but with a CI of [−3.1, 3.3], too wide for ±1 pp")
GPU_CALIBRATION = eta_rule.calibrated("gpu")
GPU = FAST.extend(
    "gpu", device="cuda", seeds=5, eta_calibration=GPU_CALIBRATION,
    expected_failures={loss_row(50): GD_TOO_SHORT, loss_row(100): GD_TOO_SHORT,
                       acc_row(50): GD_TEST_ACC_OSCILLATES, acc_row(100): GD_TEST_ACC_OSCILLATES,
                       acc_row(150): GD_TEST_ACC_OSCILLATES},
    run=RunConfig(
        data=DataConfig("fashion-mnist", train_size=2048, test_size=2000, seed=0),
        model=ModelConfig("wrn", depth=16, width=4),
        optim=OptimConfig(lr=eta_rule.eta_of(GPU_CALIBRATION), momentum=0.0, weight_decay=5e-4, batch_size=None,
                          gd_chunk=1024),
        epochs=200, precision="bf16", eval_train=False, diverge_loss=10.0))


def decay_steps(p: Profile) -> list[int]:
    return decay_points(p, unit="step")


def train_arms(ctx, p: Profile) -> dict:
    """{seed: {"none": RunResult, m: RunResult for each decay step m}}"""
    eta_rule.require(p)
    return ctx.run_decay_forks(lambda seed: p.run.with_(seed=seed), decay_steps(p), p["factor"], label="GD ")


def finished(run) -> bool:
    return run.stop_reason != "diverged" and run.epochs_trained == len(run.history) > 0


def final(run, key: str, p: Profile) -> float | None:
    """Mean of ``key`` over the run's last ``window`` steps; None for a diverged run (it has no end)."""
    if not finished(run):
        return None
    return window_mean(run.curve(key), run.epochs_trained, p["window"])


def _count_row(name: str, bad: int, total: int, n_seeds: int, what: str) -> dict:
    """A required row that passes iff no run is bad (a count, not a test: one divergence decides it)."""
    result = StatResult("count", f"no run {what}", float(bad), math.nan, n_seeds, float(bad), 0.0)
    row = criterion(name, result, f"0 of {total} runs ({n_seeds} seeds × {total // n_seeds} arms) {what}")
    row.update(passed=bad == 0, alpha=None)
    return row


def _equivalence_row(name: str, a: list, b: list, margin: float, alpha: float, threshold: str) -> dict:
    """TOST of mean(a - b) within ±margin over the seeds where both values exist (n >= 2)."""
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    if len(pairs) < 2:  # divergence left nothing to compare: the row fails, saying why
        result = StatResult("TOST", f"{-margin:g} < mean(a - b) < {margin:g}", math.nan, math.nan, len(pairs),
                            math.nan, margin)
        return criterion(name, result, threshold + " (fewer than 2 seeds with both runs finished)", None, alpha)
    xa, xb = [x for x, _ in pairs], [y for _, y in pairs]
    return criterion(name, tost(xa, xb, margin), threshold, [x - y for x, y in pairs], alpha)


def analyse(runs: dict, p: Profile) -> dict:
    seeds, alpha, E = list(runs), p["alpha"], p.run.epochs
    arms = ["none", *decay_steps(p)]
    loss = {a: [final(runs[s][a], "train_loss", p) for s in seeds] for a in arms}
    acc = {a: [final(runs[s][a], "test_acc", p) for s in seeds] for a in arms}
    diverged = sum(not finished(runs[s][a]) for s in seeds for a in arms)
    rows = [_count_row(STABLE, diverged, len(seeds) * len(arms), len(seeds), "diverged")]
    per_seed = {"no decay: final train loss": dict(zip(seeds, loss["none"])),
                "no decay: final test acc": dict(zip(seeds, acc["none"]))}
    rel_means, acc_means = {}, {}
    m_loss, m_acc = p["loss_margin_rel"], p["acc_margin_pp"]
    for m in arms[1:]:
        # a seed whose no-decay loss is exactly 0 (float32 underflow of a perfect fit) has no relative difference:
        # it leaves the loss row as a diverged run does (None in the per-seed table), never a ZeroDivisionError
        rel = [None if a is None or not b else (a - b) / b for a, b in zip(loss[m], loss["none"])]
        d_acc = [None if a is None or b is None else a - b for a, b in zip(acc[m], acc["none"])]
        zeros = [0.0 if r is not None else None for r in rel]
        rows += [
            _equivalence_row(loss_row(m), rel, zeros, m_loss, alpha,
                             f"TOST p<{alpha}: relative difference within ±{m_loss:.0%}"),
            _equivalence_row(acc_row(m), acc[m], acc["none"], m_acc, alpha,
                             f"TOST p<{alpha}: difference within ±{m_acc:g} pp"),
        ]
        ok_rel = [r for r in rel if r is not None]
        ok_acc = [d for d in d_acc if d is not None]
        rel_means[m] = sum(ok_rel) / len(ok_rel) if ok_rel else math.nan
        acc_means[m] = sum(ok_acc) / len(ok_acc) if ok_acc else math.nan
        per_seed[f"decay@{m}: final train loss"] = dict(zip(seeds, loss[m]))
        per_seed[f"decay@{m}: rel. loss diff"] = dict(zip(seeds, rel))
        per_seed[f"decay@{m}: final test acc"] = dict(zip(seeds, acc[m]))
        per_seed[f"decay@{m}: acc diff (pp)"] = dict(zip(seeds, d_acc))
    # How the no-decay trunk behaves: its loss when each arm decays, and its largest loss in the last quarter
    # (edge-of-stability spikes show here).
    trunk = {}
    for m in arms[1:]:
        trunk[f"no-decay loss at step {m}"] = {
            s: (runs[s]["none"].history[m - 1]["train_loss"] if len(runs[s]["none"].history) >= m else None)
            for s in seeds}
    trunk[f"no-decay max loss, steps {3 * E // 4 + 1}-{E}"] = {
        s: (max(r["train_loss"] for r in runs[s]["none"].history[3 * E // 4:])
            if len(runs[s]["none"].history) > 3 * E // 4 else None) for s in seeds}
    trunk["runs diverged (all arms)"] = {s: sum(not finished(runs[s][a]) for a in arms) for s in seeds}
    text = ", ".join(f"decay@{m}: loss {rel_means[m]:+.0%}, acc {acc_means[m]:+.2f} pp" for m in arms[1:])
    return {"tests": rows, "per_seed": per_seed, "extra_tables": {"No-decay trunk": trunk},
            "headline": text,
            "summary": (f"GD at η = {p.run.optim.lr:g} for {E} steps; mean relative difference of the final training "
                        f"loss and mean difference of the final test accuracy, each decay arm minus no decay: {text} "
                        f"(equivalence margins ±{m_loss:.0%} and ±{m_acc:g} pp).")}


def figure_spec(runs: dict, p: Profile) -> dict:
    seeds = list(runs)
    arms = [(f"decay after step {m}", m, [m]) for m in decay_steps(p)] + [("no decay", "none", [])]
    panels = [{"title": f"{title}: train loss", "marks": marks, "logy": True, "ylabel": "training loss (log)",
               "curves": [{"label": "train loss", "runs": [runs[s][key].series("train_loss") for s in seeds]}]}
              for title, key, marks in arms]
    panels += [{"title": f"{title}: test acc", "marks": marks, "ylabel": "test accuracy (%)",
                "curves": [{"label": "test acc", "runs": [runs[s][key].series("test_acc") for s in seeds]}]}
               for title, key, marks in arms]
    return {"title": f"Full-batch GD at η = {p.run.optim.lr:g}, decay ×{p['factor']:g} at different steps — "
                     f"{p.name} (cf. You et al. Fig. 4)",
            "xlabel": "GD step (= epoch)", "sharey": False, "panels": panels}


# Seeds 5000-5009 and, on data seed 7, seeds 6000-6009 (fast, n = 10 each, each run once on 2026-11-28 after
# the fast report; docs/replication.md): ranges no one had looked at, added to this claim's seed record.
# At --set model.hidden=256 (replication 8 of docs/replication.md, declared before it ran, 2026-11-29): the η rule
# on dev seeds 1000-1004 at that width (claims/calibration/gd-eta-fast@model.hidden=256.json: η = 1), then report
# seeds 13000-13004, run once; both untouched at that width before, added to this claim's seed record.
# At 128 and 1024 units (replication 10, declared before it ran, 2026-11-29): the η rule on dev seeds 1000-1004 at
# each width (gd-eta-fast@model.hidden=128.json: η = 2; ...=1024.json: η = 0.25), then report seeds 15000-15004
# (128) and 16000-16004 (1024), run once; all untouched at those widths before, added to this claim's seed record.
# At four times the steps (replication 11, declared before it ran, 2026-11-29): the η rule on dev seeds 1000-1004 at
# --set epochs=1600 with model.hidden=256 and =128 (gd-eta-fast@epochs=1600,model.hidden=256.json: η = 1; ...=128:
# η = 2), then report seeds 17000-17004 (256) and 18000-18004 (128), run once; untouched before, added to this
# claim's seed record.
# The same two scales at ten seeds (replication 12, declared before it ran, 2026-11-29; this claim only, the same η
# records): seeds 19000-19009 (256) and 20000-20009 (128), run once; untouched before, added to this seed record.
# Not a criterion: shown under the fast verdict with its reading.
FAST_REPLICATION = (
    "Replication on fresh seeds (docs/replication.md; this fast profile as declared, run once on seeds "
    "5000-5009, n = 10, 2026-11-28, after this report): every required criterion decides as here (no run "
    "diverged; all six equivalence rows fail). Decay@300's loss row is dominated by seed 5006, whose decayed "
    "run ends 65 times above the no-decay run's loss (mean +600 %, CI [−860 %, +2060 %]); the test-accuracy "
    "rows are +4.2 to +4.8 pp with intervals from about −1.5 to +10.6 pp: decay timing still matters at this "
    "scale. "
    "On another draw of the data (data seed 7, seeds 6000-6009) every required criterion decides as here "
    "again: no run diverged, and all six equivalence rows fail (test accuracy +2.9 to +3.2 pp, intervals "
    "about −1.9 to +7.8). "
    "At four times the width (--set model.hidden=256, seeds 13000-13004, with η = 1 from the η rule applied at "
    "that width; docs/replication.md, replication 8) four of the six declared failures pass: λ_max stays below "
    "2/η after the first steps, no run spikes, every no-decay run ends on its plateau, and test accuracy is "
    "within ±1 pp of no decay at every decay point (+0.39, +0.18, +0.05 pp). The loss rows of decay@100 and "
    "decay@200 still fail, the other way: an early decay slows GD down to the plateau (+98 % and +23 % above "
    "no decay at step 400; decay@300 +4.7 %, passes). The declared reason is the narrow network's: width-"
    "dependent at this budget. "
    "At 128 and 1024 units (η = 2 and 0.25 by the rule; seeds 15000-15004 and 16000-16004; replication 10) the "
    "same: every test-accuracy row is equivalent within 1 pp at both widths, and no run spikes (η·λ_max/2 at "
    "step 400: 0.59 and 0.05). The loss rows fail where an early decay leaves GD short of its plateau, more so "
    "the smaller η: decay@100 +39 % at 128 units, +213 % at 1024; at 128 units decay@200 and decay@300 pass. Only "
    "the 64-unit network trains at the edge of stability within E = 400 steps. "
    "At four times the steps (--set epochs=1600, decays at 400 / 800 / 1200; η = 1 at 256 units and 2 at 128 by "
    "the rule at that E; seeds 17000-17004 and 18000-18004; replication 11) the wider networks get there too: "
    "λ_max keeps rising after step 400 and the no-decay loss spikes on every seed, from steps 472-576 at 128 "
    "units (a second episode around 1100-1350) and 1260-1502 at 256. The early decays' loss cost was the "
    "horizon's: at 128 units decay@400 ends within +0.8 % of no decay (passes). At 256 units the decayed runs "
    "end below no decay (−27 % and −18 % at ¼ and ½ E; fail), because the no-decay loss creeps up from its "
    "minimum (0.0009 at step ~450 to 0.0012 by step 1250) as weight decay shrinks the scale-invariant weights, "
    "while a decayed run stays at its minimum. Test accuracy is equivalent at 256 units (−0.12 to +0.03 pp) but "
    "not at 128 (+0.37 to +0.84 pp, intervals ±1.1-1.4 pp): the spikes leave each no-decay run at another "
    "solution. So the edge-of-stability account of the declared failures holds at every width up to 256 units, "
    "reached later the wider the network; the width replications above describe E = 400. "
    "At ten seeds (19000-19009 and 20000-20009; replication 12): at 256 units the decay at ¼ E lowers the final "
    "loss by more than the margin (−26 %, 95 % CI [−31, −21] %; every seed lower, by 18-38 %), ½ E is undecided "
    "(−16 %, [−22, −10] %), ¾ E is equivalent, and test accuracy is equivalent at all three (+0.4 to +0.5 pp). At "
    "128 units every row fails because one no-decay run ended inside a spike (seed 20007, final loss 0.43): its "
    "decayed runs end 99.7 % lower and 22-24 pp more accurate, while on the other nine seeds the early decays are "
    "within ±8 % in loss and −0.9 to +1.5 pp in accuracy — the 64-unit network's picture, once the edge is reached."
)


# Written 2026-11-28 after an independent review of the stored curves and the exploration seeds 9000-9002 above.
BN_LAG = (
    "The accuracy rows read eval-mode BatchNorm, whose running statistics average the last ~10 GD steps "
    "(momentum 0.1), while the loss rows read the objective GD descends. On a plateau the two agree: on "
    "exploration seeds 9000-9002 (the no-decay trunk only, with lrsci.measures' fresh_bn_eval: the same weights "
    "normalised with statistics taken afresh) eval mode was at most 0.4 and 1.1 pp below over steps 301-400 on the "
    "two seeds that stayed on the plateau. Inside a spike they do not: seed 9000's trunk spiked from step 397, "
    "and at step 400 eval mode gave 10.6 % test accuracy where fresh statistics give 56.4 %; its final 10-step mean is 62.9 % "
    "against 70.5 %. So where a no-decay run ends in a spike, the accuracy rows overstate what the spike costs in "
    "generalization. The verdict is the pre-registered one; a later protocol should read accuracy with "
    "fresh_bn_eval.")


CLAIM = Claim(
    id="gd-decay-no-benefit",
    title="Full-batch GD: decaying the LR at any step ends at the same loss and accuracy",
    source="You et al. 2019, §4.1, Fig. 4",
    statement="With full-batch gradient descent, decaying the learning rate brings negligible benefit: no matter "
              "when the learning rate is decayed, the final training loss and test accuracy are almost the same.",
    profiles=[FAST, GPU],
    train=train_arms, analyse=analyse, figure=figure_spec,
    derived=lambda p: {"decay_steps": decay_steps(p)},
    # Written after the fast final run (from its per-seed values; nothing in the protocol changed).
    readings={"fast": (
        "The declared reason (edge-of-stability spikes of the no-decay run) explains seeds 0, 3 and 4, where a "
        "decay ends 55-99 % below the no-decay loss. On seeds 1 and 2 the no-decay run converged (loss 0.0018) and "
        "an early decay ends above it (decay@100: +111 % and +62 %; decay@300: +4.1 % and +3.5 %): at losses this small an "
        "early decay slows convergence by more than the 20 % relative margin. Equivalence fails in both directions. "
        # added 2026-11-27 after a further independent read of gd-larger-lr-diverges' stored λ_max (nothing re-run)
        "The declared reason says gd-larger-lr-diverges measures λ_max rising past 2/η before a spike; its "
        "snapshots, 80 steps apart, neither show nor refute that: before each late spike the last λ_max is below "
        "2/η = 0.5 (seed 3: 0.44 at step 320, spike from step 327; seed 4: 0.33 at step 320, spike from 347), "
        "and λ_max exceeds 0.5 only at step 80 (early transient) and at step 400 inside a spike. The mechanism "
        "is consistent with the data, not measured by it." + " " + FAST_REPLICATION + " " + BN_LAG),
        # added 2026-11-27 (nothing re-run): records, not results
        "gpu": (
        "The protocol's eta_rule text names the dev seeds 1000-1004 (inherited from the fast profile); on the "
        "GPU the rule ran on dev seeds 1000-1002, as its record (claims/calibration/gd-eta-gpu.json, "
        "dev_seeds) and the module's calibration comment say. That record's 'rule' field stops after the "
        "paragraph introducing the rule (an earlier writer of it); the rule it applied is the indented one in "
        "lrsci/eta_rule.py's docstring, unchanged since. "
        # added 2026-11-28 after an independent review of the stored curves (nothing re-run)
        "The declared reason's swings of test accuracy are those of eval-mode BatchNorm at η = 2 (see the fast "
        "reading: its running statistics lag weights that move fast): seed 1's no-decay run, steps 187-191, reads "
        "77.1, 49.7, 28.2, 27.3 and 76.1 % while its training loss stays at 0.42-0.52. Part of the +4.9 and +7.6 pp "
        "by which decay@100 and decay@150 end above no decay may be that lag rather than generalization; fresh "
        "statistics (fresh_bn_eval) on the device would tell.")},
)

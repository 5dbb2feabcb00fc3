"""stage3-less-transferable — You, Long, Wang, Jordan (2019), §6, Fig. 11, Table 2.

Claim: the patterns a step-decay schedule adds in its later stages are more complex and so less
transferable: for every target dataset and both transfer modes ("fix" and "finetune"), the
transferability of what stage 3 adds is lower than that of what stage 2 adds (in the paper's
most dissimilar target, Sketch250, with "fix" it is even negative).

Transferability of stage i (i = 2, 3): T_i = (tacc_i − tacc_{i−1}) / (acc_i − acc_{i−1}), where
acc_i is the stage-i snapshot's source test accuracy and tacc_i its target test accuracy after
transfer (``lrsci.transfer.transferability``).

Source: one three-stage StepDecay run per seed (LR × 0.1 after the first and second stage), with a
snapshot at the end of each stage (``snap-<e>.pt`` in the run store). Source task: Fashion-MNIST
classes 0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat), relabelled 0-4.
Targets (``lrsci.data.transfer_targets``), both on the five held-out classes 5-9 (Sandal, Shirt,
Sneaker, Bag, Ankle boot), never seen by the source:
  near — the held-out classes as they are (a disjoint-class split, Yosinski et al. 2014);
  far  — the held-out classes as sketches: Sobel edge magnitude drawn as dark strokes on white
         (new classes *and* a new image domain; it echoes the paper's Sketch250).
Transfer (``lrsci.transfer``): "fix" = frozen snapshot (eval mode) as feature extractor, features
standardized, new linear classifier; "finetune" = new classifier, all layers trained. Each mode's
optimizer (SGD, momentum, weight decay, batch, cosine-annealed LR, epochs) is in the profile's
params. The transfer of a snapshot of seed s uses seed s (head init, batch order): the three
snapshots of a seed get the same head init and batches. Transfers are cached beside the source run.

Pairing: T2 and T3 of one seed come from the same source run and the same transfer seed.
Pre-registered tests (α = 0.05, one-sided):
  (0) the stages really add source accuracy (the denominators): paired t, acc_2 > acc_1 and
      acc_3 > acc_2;
  (1) for every target × mode: paired t over seeds of T3 < T2 (on d = T3 − T2, H1: mean(d) < 0).
Reported beside them, not deciding the verdict: the Wilcoxon signed-rank test of each (1) (with 5
seeds its smallest one-sided p is 1/32), the paper's side observation "far/fix: T3 < 0" (one-sample
t of T3 against 0), and how far "far" is (paired t: fix accuracy of the stage-3 snapshot, near > far).
A zero denominator in a seed (acc_3 = acc_2 exactly) leaves T undefined there: the (1) rows of
that stage then fail, saying so.
"""
from __future__ import annotations

from lrsci.claim import Claim, Profile
from lrsci.config import DataConfig, ModelConfig, OptimConfig, RunConfig, ScheduleConfig
from lrsci.criteria import criterion
from lrsci.harness import Job
from lrsci.stats import StatResult, paired_t, wilcoxon
from lrsci.transfer import TransferError, TransferSpec, transfer_snapshots, transferability

SOURCE_CLASSES = [0, 1, 2, 3, 4]      # T-shirt/top, Trouser, Pullover, Dress, Coat
HELD_OUT_CLASSES = [5, 6, 7, 8, 9]    # Sandal, Shirt, Sneaker, Bag, Ankle boot
TARGETS = {"near": {"classes": HELD_OUT_CLASSES, "render": "pixels"},
           "far": {"classes": HELD_OUT_CLASSES, "render": "sketch"}}
MODES = ("fix", "finetune")

# Protocol, written before the final run. Calibrated on development seeds only (--seed-offset 1000);
# the committed report runs on seeds 0-4 (offset 0), which nobody looked at before.
# Calibration record (fast profile; every seed looked at is a development seed, 1000-1004):
# 1. Claim run, seeds 1000-1004: MLP-256, lr 0.3, 10 000 source images, 15 epochs (decays after 5, 10);
#    fix lr 0.1 / 20 epochs; finetune lr 0.01 / 10 epochs. Stage 3 added no source accuracy (mean
#    acc3 − acc2 = −0.02 pp), so the T3 denominators were noise (per-seed T3 from −13 to +23).
# 2. Source-only runs, seeds 1000-1001, looking at the stage gains (acc2 − acc1, acc3 − acc2):
#    lr 0.5/1.0, batch 64/128, 10k/20k/30k images, hidden 128/256, 12 (4, 8) or 15 (5, 10) epochs.
#    lr 1.0 gave stage-3 gains of 0.7-2.1 pp but features that transfer badly (fix on near 60-75 %
#    vs 85-88 % at lr 0.3/0.5); lr 0.3 with 30k: 0.08-0.82 pp; lr 0.5, 30k, MLP-128, 12 epochs:
#    0.84-1.48 pp, about 6 CPU-seconds per run. Fixed: that source (the cheapest with a clear stage-3
#    gain that fits the 75 s budget).
# 3. Transfer settings on the snapshots of seeds 1000-1001: fix (linear probe) is converged at lr 0.1,
#    20 epochs (100 epochs or lr 0.5 within 0.2 pp). Finetune at lr 0.01 barely moves the early
#    snapshots (their weights have large norms after lr 0.5); at lr ≥ 0.1 or ≥ 20 epochs every
#    snapshot ends equal. Fixed by a rule, not by T: finetune lr = 0.1 × the source's initial lr
#    (0.05), 10 epochs. Both targets get 2 000 training images and all 5 000 test images.
# 4. Claim run, seeds 1000-1004, with this protocol: (0) passed (gains +3.11, +0.94 pp); (1) near/fix
#    p = 0.028, far/fix p = 0.17, far/finetune p = 0.058, near/finetune p = 0.62 (T2 0.38, T3 0.43).
# 5. A unit test showed the sketch rendering drew strokes along the image border (zero padding of
#    the Sobel filter); fixed to replicate padding (a bug, not a choice). Re-run on seeds 1000-1004:
#    (0) passed; (1) near/fix p = 0.028, far/fix p = 0.027, far/finetune p = 0.022 pass; near/finetune
#    p = 0.62 fails (T3 ≈ T2 ≈ 0.4: finetuning on the near target nearly saturates, 91-93 %).
# Nothing was changed after step 5. Thresholds as pre-registered: α = 0.05 for every test, no floors.
# Final run (seeds 0-4, offset 0, once): (0) passed; (1) far/finetune passed (p = 0.007); near/fix,
# near/finetune and far/fix failed. Those three are declared below as expected failures, with the
# reasons; nothing else was changed.
FAST = Profile(
    "fast", device="cpu", seeds=5,
    run=RunConfig(
        data=DataConfig("fashion-mnist-split", seed=0, options={"classes": SOURCE_CLASSES}),  # 30 000 train, 5 000 test
        model=ModelConfig("mlp", hidden=128),                 # 784-128-128-5 with BatchNorm
        optim=OptimConfig(lr=0.5, momentum=0.9, weight_decay=5e-4, batch_size=128),
        schedule=ScheduleConfig("step", milestones=(4, 8), factor=0.1),   # three stages of 4 epochs: 0.5, 0.05, 0.005
        epochs=12, eval_train=False),
    params={"targets": TARGETS,
            "target_train_size": 2000,   # per target, capped at the source's train size; test split: source's size
            "fix": {"lr": 0.1, "epochs": 20, "batch_size": 128, "momentum": 0.9, "weight_decay": 5e-4},
            "finetune": {"lr": 0.05, "epochs": 10, "batch_size": 128, "momentum": 0.9, "weight_decay": 5e-4},
            "alpha": 0.05},
    expected_failures={
        "(1) near/fix: T3 < T2": "at CPU scale stage 3 adds little source accuracy (+0.6 pp on average), so the "
                                 "per-seed T3 denominators are small and T3 is dominated by target-accuracy noise "
                                 "of a few tenths of a point (final run: T3 from −0.6 to +2.8; mean T3 0.57 vs T2 0.41)",
        "(1) near/finetune: T3 < T2": "finetuning on the near target nearly saturates (92.6-93.4 % from the stage-2 and "
                                      "stage-3 snapshots); T3 is lower than T2 on average (0.31 vs 0.45) but not "
                                      "distinguishable from it with 5 seeds",
        "(1) far/fix: T3 < T2": "as near/fix: small stage-3 denominators make T3 noisy (final run: −0.42 to +3.3; "
                                "mean T3 0.67 vs T2 0.37); the sketch target is far (fix accuracy 6.3 pp below "
                                "near), but the paper's negative T3 does not appear"})
# The declared reasons' figures were corrected on 2026-11-28 (words only): they had kept the first run's "fix"
# figures after the fix-probe fix moved them (see the fast reading). The earlier words stay in each report's
# provenance.earlier_declarations; the criteria, the declaration's rows and the verdict are unchanged.
# gpu profile (protocol v1, written before its first run, 2026-11-27; no GPU calibration): WideResNet-16-4 on
# all 30 000 source images, lr 0.1 (the gpu profiles' WRN rate), three stages of 6 epochs, bf16; fix as the
# fast profile; finetune lr = 0.1 × 0.1 by the fast profile's rule (source lr × 0.1), 10 epochs; 5 000
# target training images; five seeds. Sizes set by the one-session device budget. Seed ranges: final 0-4
# only (no GPU dev seeds).
# Final run (seeds 0-4, once: device call 2 of 2026-11-27, one H200, commit 5858164): stage 2 added source
# accuracy (p = 0.03); stage 3 did not, and all four T3 < T2 cells failed. Declared below after that run;
# nothing else was changed.
STAGE3_ADDS_NOTHING = (
    "WideResNet-16-4 on the 5-class source saturates after stage 2 (95.1-95.6 %): stage 3 changes source accuracy "
    "by −0.12 to +0.24 pp (a few of 5 000 test images; mean +0.06 pp, p = 0.21), so the T3 denominators are noise")
T3_UNDEFINED_IN_PRACTICE = (
    "with stage-3 source gains of −0.12 to +0.24 pp, T3 = Δtacc/Δacc swings from −8 to +8 between seeds and says "
    "nothing about transfer; T2 itself is negative or zero for fix transfer on every seed and both targets (the stage-1 snapshot's "
    "features transfer best: near fix 95.7 → 95.0 → 94.8 %), the paper's direction, but reached one stage early")
GPU = FAST.extend(
    "gpu", device="cuda", seeds=5, target_train_size=5000,
    expected_failures={"(0) stage 3 adds source accuracy: acc3 > acc2": STAGE3_ADDS_NOTHING,
                       **{f"(1) {t}/{m}: T3 < T2": T3_UNDEFINED_IN_PRACTICE
                          for t in ("near", "far") for m in ("fix", "finetune")}},
    finetune={"lr": 0.01, "epochs": 10, "batch_size": 128, "momentum": 0.9, "weight_decay": 5e-4},
    run=RunConfig(
        data=DataConfig("fashion-mnist-split", seed=0, options={"classes": SOURCE_CLASSES}),
        model=ModelConfig("wrn", depth=16, width=4),
        optim=OptimConfig(lr=0.1, momentum=0.9, weight_decay=5e-4, batch_size=128),
        schedule=ScheduleConfig("step", milestones=(6, 12), factor=0.1),
        epochs=18, precision="bf16", eval_train=False))


def stage_ends(p: Profile) -> list[int]:
    """The epochs after which each stage ends: the two decay epochs and the last epoch."""
    return [*p.run.schedule.milestones, p.run.epochs]


def target_data(p: Profile, target: str) -> DataConfig:
    """A target's data config: the source's data, other classes/rendering, its own train size."""
    src = p.run.data
    size = p["target_train_size"] if src.train_size is None else min(p["target_train_size"], src.train_size)
    return DataConfig(src.name, train_size=size, test_size=src.test_size, seed=src.seed,
                      options=dict(p["targets"][target]))


def transfer_spec(p: Profile, mode: str) -> TransferSpec:
    return TransferSpec(mode, **p[mode])


def cells(p: Profile) -> list[tuple[str, str]]:
    return [(t, m) for t in p["targets"] for m in MODES]


def train(ctx, p: Profile) -> dict:
    """{seed: {"source": RunResult, "tacc": {(target, mode): [tacc per stage]}}}"""
    ends = stage_ends(p)
    sources = ctx.run_all([Job(p.run.with_(seed=s), "3-stage step decay", snapshots=tuple(ends)) for s in ctx.seeds])
    out = {}
    for seed, run in zip(ctx.seeds, sources):
        trained = RunConfig.from_dict(run.config)  # the config as trained (on ctx.device)
        tacc = {(t, m): transfer_snapshots(ctx.store, trained, ends, target_data(p, t), transfer_spec(p, m),
                                           seed=seed, device=ctx.device)["tacc"] for t, m in cells(p)}
        out[seed] = {"source": run, "tacc": tacc}
    return out


def source_acc(run, p: Profile) -> list[float]:
    return [run.history[e - 1]["test_acc"] for e in stage_ends(p)]


def _undefined(name: str, why: str, n: int, alpha: float) -> dict:
    stat = StatResult("paired t (one-sided)", "mean(a - b) < 0", float("nan"), 1.0, n, float("nan"), 0.0)
    return criterion(name, stat, f"p<{alpha} — undefined: {why}", None, alpha)


def analyse(runs: dict, p: Profile) -> dict:
    seeds, alpha = list(runs), p["alpha"]
    acc = {s: source_acc(runs[s]["source"], p) for s in seeds}
    per_seed = {f"acc{i + 1}": {s: acc[s][i] for s in seeds} for i in range(3)}
    tacc_table, rows, means = {}, [], {}
    a1, a2, a3 = ([acc[s][i] for s in seeds] for i in range(3))
    rows += [criterion("(0) stage 2 adds source accuracy: acc2 > acc1", paired_t(a2, a1), f"p<{alpha}",
                       [y - x for x, y in zip(a1, a2)], alpha),
             criterion("(0) stage 3 adds source accuracy: acc3 > acc2", paired_t(a3, a2), f"p<{alpha}",
                       [y - x for x, y in zip(a2, a3)], alpha)]
    for t, m in cells(p):
        cell = f"{t}/{m}"
        for i in range(3):
            tacc_table[f"{cell} tacc{i + 1}"] = {s: runs[s]["tacc"][(t, m)][i] for s in seeds}
        name = f"(1) {cell}: T3 < T2"
        try:
            ts = {s: transferability(acc[s], runs[s]["tacc"][(t, m)]) for s in seeds}
        except TransferError as exc:
            rows.append(_undefined(name, str(exc), len(seeds), alpha))
            means[cell] = None
            continue
        t2, t3 = [ts[s][0] for s in seeds], [ts[s][1] for s in seeds]
        per_seed[f"{cell} T2"] = dict(zip(seeds, t2))
        per_seed[f"{cell} T3"] = dict(zip(seeds, t3))
        means[cell] = (sum(t2) / len(t2), sum(t3) / len(t3))
        rows += [criterion(name, paired_t(t3, t2, alternative="less"), f"p<{alpha}",
                           [b - a for a, b in zip(t2, t3)], alpha),
                 criterion(name, wilcoxon(t3, t2, alternative="less"), "reported", None, alpha, reported_only=True)]
        if cell == "far/fix" and "near" in p["targets"]:  # how far "far" is: its fix accuracy below near's
            near = [runs[s]["tacc"][("near", "fix")][2] for s in seeds]
            far = [runs[s]["tacc"][(t, m)][2] for s in seeds]
            rows.append(criterion("distance: fix acc near > far (stage-3 snapshot)", paired_t(near, far), "reported",
                                  [a - b for a, b in zip(near, far)], alpha, reported_only=True))
        if cell == "far/fix":
            rows.append(criterion("far/fix: T3 < 0 (paper: Sketch250 fix −0.06)",
                                  paired_t(t3, [0.0] * len(t3), alternative="less"), "reported", t3, alpha,
                                  reported_only=True))
    text = ", ".join(f"{c} T2 {v[0]:.2f} → T3 {v[1]:.2f}" if v else f"{c} undefined" for c, v in means.items())
    return {"tests": rows, "per_seed": per_seed,
            "extra_tables": {"Target test accuracy (%) after transfer, per seed and stage snapshot": tacc_table},
            "headline": text,
            "summary": (f"Mean source accuracy per stage {', '.join(f'{sum(a) / len(a):.2f}' for a in (a1, a2, a3))} %. "
                        f"Mean transferability per target/mode: {text} (T3 < T2 is the claim).")}


def figure_spec(runs: dict, p: Profile) -> dict:
    seeds = list(runs)
    acc = {s: source_acc(runs[s]["source"], p) for s in seeds}

    def t_curve(t, m):
        out = []
        for s in seeds:
            try:
                out.append([None, *transferability(acc[s], runs[s]["tacc"][(t, m)])])
            except TransferError:
                out.append([None, None, None])
        return out

    # Targets first in every panel, so each target keeps its colour throughout.
    panels = [{"title": f"transferability T_i, {m}", "ylabel": "transferability", "marks": [],
               "curves": [{"label": t, "runs": t_curve(t, m)} for t in p["targets"]]
               + [{"label": "source (= 1 by definition)", "runs": [[None, 1.0, 1.0]]}]} for m in MODES]
    panels += [{"title": f"target test acc (%) after {m}", "ylabel": "accuracy (%)", "marks": [],
                "curves": [{"label": t, "runs": [runs[s]["tacc"][(t, m)] for s in seeds]} for t in p["targets"]]}
               for m in MODES]
    panels += [{"title": "source test acc (%) of the snapshot", "ylabel": "accuracy (%)", "marks": [],
                "curves": [{"label": "source", "runs": [acc[s] for s in seeds]}]}]
    return {"title": f"Transferability of what each stage adds — {p.name} (cf. You et al. Fig. 11, Table 2)",
            "xlabel": "stage (snapshot at its end)", "ylabel": "", "sharey": False, "panels": panels}


# Seeds 5000-5009 and, on data seed 7, seeds 6000-6009 (fast, n = 10 each, each run once on 2026-11-28 after
# the fast report; docs/replication.md): ranges no one had looked at, added to this claim's seed record.
# Seeds 7000-7019 (fast, n = 20, run once on 2026-11-28 on another CPU: replication 4 of docs/replication.md,
# declared before it ran), likewise untouched before and added to the seed record.
# Seeds 11000-11004 (fast at --set model.hidden=1024, run once on 2026-11-29: replication 6 of
# docs/replication.md, declared before it ran), untouched before and added to the seed record.
# Seeds 27000-27019 (fast, n = 20, run once on 2026-11-29: replication 19 of docs/replication.md, pooled ratios with a
# bootstrap over seeds, declared before it ran, tools/pooled_transfer.py), untouched before and added to the seed record.
# Not a criterion: shown under the fast verdict with its reading.
FAST_REPLICATION = (
    "Replication on fresh seeds (docs/replication.md; this fast profile as declared, run once on seeds "
    "5000-5009, n = 10, 2026-11-28, after this report): far/finetune T3 < T2, the one transfer row that "
    "passed on seeds 0-4 (−0.19, [−0.31, −0.06], p = 0.007), does not hold on 5000-5009 (−0.08, [−0.76, "
    "+0.61], p = 0.40), and the three declared rows fail again. So on fresh seeds none of the four transfer "
    "rows supports T3 < T2 at this scale; stage 3 still adds little source accuracy (+0.72 pp, [+0.27, "
    "+1.16]). "
    "On another draw of the targets (data seed 7, seeds 6000-6009; the source split does not depend on it) "
    "far/finetune passes again (−0.15, [−0.28, −0.02]), the three declared rows fail, and all four T3 − T2 "
    "means are negative (−0.15 to −0.62). Across three ranges far/finetune passed twice and failed once: a "
    "small effect at this scale, at the edge of what ten seeds resolve. "
    # added 2026-11-28 after an independent review of the stored per-seed values (nothing re-run)
    "On seed 5006 stage 3 lost source accuracy (acc3 − acc2 = −0.10 pp), so its T3 divides by a negative gain "
    "and its sign reads backwards (far/fix T3 = −8.2); criterion (0) tests the mean gain only and each seed's T3 "
    "is taken as it is. That seed pulls far/fix's mean T3 − T2 to −0.95; without it the mean is −0.16 (p = 0.45): "
    "the row fails either way. No seed of the fast report or of data seed 7 had a negative gain; the gpu report "
    "had two (seeds 0 and 3), within the noise its declared reason describes. "
    # added 2026-11-28 after replication 4 (docs/replication.md)
    "At twenty seeds (7000-7019, on another CPU; replication 4), with every seed's stage-3 gain positive (+0.12 "
    "to +1.36 pp), all four T3 − T2 means are negative and two rows pass: far/finetune again (−0.24, [−0.53, "
    "+0.04], p = 0.045; 14 of 20 seeds) and near/fix, declared failing (−0.75, [−1.22, −0.28], p = 0.002; 15 of "
    "20 seeds). near/finetune (−0.10, p = 0.34) and far/fix (−0.88, [−2.43, +0.68], p = 0.13; its Wilcoxon "
    "p = 0.03) fail. So with twenty seeds the claim's direction shows in every row and is resolved in two; at "
    "five or ten the per-seed ratios leave it to chance which rows pass. "
    "At width 1024 (8× this profile's 128; --set model.hidden=1024, seeds 11000-11004; docs/replication.md, "
    "replication 6) the two rows nearest their threshold traded places: near/fix passes (−0.34, [−0.59, −0.08], "
    "every seed) and far/finetune fails (−0.10, [−0.31, +0.11]). "
    "With transferability as a pooled ratio (the transfer change summed over seeds over the source gain summed over "
    "seeds, a paired bootstrap over them; seeds 27000-27019, replication 19, registered before it ran) one row of "
    "four passes, far/finetune: T3 0.184 against T2 0.355, D −0.171 [−0.299, −0.056], p = 0.001. near/finetune "
    "misses at the line (−0.173, p = 0.0501); near/fix (+0.138) and far/fix (−0.470, [−1.37, +0.38]) are not shown. "
    "On the same seeds the per-seed test of far/finetune fails (p = 0.056): seeds 27000 and 27002, whose stage 3 "
    "added least (+0.16 pp), have its largest T3 (0.75, 1.25), which the per-seed mean counts in full and the pooled "
    "ratio by their small gain."
)


CLAIM = Claim(
    id="stage3-less-transferable",
    title="What stage 3 of a step decay adds transfers less than what stage 2 adds",
    source="You et al. 2019, §6, Fig. 11, Table 2",
    statement="Patterns learned in later stages of learning-rate decay are more complex and so less transferable: "
              "for every target and both fix and finetune transfer, the transferability of the patterns stage 3 "
              "adds is below that of stage 2's.",
    profiles=[FAST, GPU],
    train=train, analyse=analyse, figure=figure_spec,
    derived=lambda p: {"stage_ends": stage_ends(p),
                       "targets": {t: target_data(p, t).__dict__ for t in p["targets"]},
                       "transfer_seed": "the source run's seed"},
    # Written 2026-11-27 after a bug fix in the "fix" probe (lrsci.transfer, TRANSFER_VERSION 2: a feature
    # constant on the target's train set was divided by 1e-6, so a dead ReLU decided the test rows where it
    # was not). Nothing in the protocol changed.
    readings={
        "fast": ("Re-run on its report seeds 0-4 after the fix of the \"fix\" probe (a feature constant on the "
                 "target's training set was divided by 1e-6; lrsci.transfer, TRANSFER_VERSION 2: the runs unchanged, "
                 "every transfer recomputed): "
                 "the same three criteria fail, as declared. The fix moved the \"fix\" rows — near/fix T2 0.42 → "
                 "0.41, T3 0.54 → 0.57; far/fix T3 0.57 → 0.67, its T3 range −0.55 to +3.2 → −0.42 to +3.31, and the "
                 "far target's fix-accuracy distance 6.4 → 6.30 pp below near; near/fix's range (−0.6 to +2.8) "
                 "still holds; \"finetune\" is unchanged. The declared reasons quoted the first run's figures until "
                 "2026-11-28, when their words were corrected to these (the earlier words are kept in the report's "
                 "provenance)." + " " + FAST_REPLICATION),
        "gpu": ("Its \"fix\" rows were computed before the fix of the \"fix\" probe (a feature dead on the target's "
                "train set was divided by 1e-6), which moved the fast profile's fix-mode T3 by up to 0.1; they have "
                "not been recomputed (no device since). Its \"finetune\" rows are unaffected."),
    },
)

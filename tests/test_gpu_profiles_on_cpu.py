"""Every gpu profile's code path, run on the CPU at tiny size, so device time goes to science.

Each CUDA profile of every declared claim is shrunk — a tiny WideResNet (depth 10, width 1), 32 training
and 16 test images (PS10: 2000 of each at 4×4 pixels), two seeds, short schedules (PS10's stages of 2
epochs, Li et al.'s anneal after 2 of 4, 8 epochs for the SGD decay forks, 2-epoch transfers, 8 GD steps)
— and checked end to end through the one driver on the CPU: training (trunks, forks, every arm),
analysis, judging, figure and report. Its verdict means nothing at this size; what is checked is that
the code runs and reports.
"""
from dataclasses import replace
from pathlib import Path

import pytest

from lrsci import driver
from lrsci.catalog import load_claims
from lrsci.config import ModelConfig
from lrsci.harness import ClaimContext
from lrsci.runs import RunStore

from tests.test_vision import make_cifar_arrays, write_cifar

ROOT = Path(__file__).resolve().parents[1]


def same_code_path(a, b) -> bool:
    """Profiles of one claim that differ only in their data's options (e.g. another PS10 noise kind) run the
    same code: one CPU check covers both (each option is unit-tested with its dataset)."""
    strip = lambda p: (p.params, p.run.with_(data=replace(p.run.data, options={})))  # noqa: E731
    return strip(a) == strip(b)


GPU_PROFILES = []
for claim, _ in load_claims(ROOT).values():
    for p in claim.profiles:
        if p.device == "cuda" and not any(c is claim and same_code_path(p, q) for c, q in GPU_PROFILES):
            GPU_PROFILES.append((claim, p))


def tiny_data(data):
    if data.name == "ps10":  # PS10 needs multiples of 2000 so every pattern is equally represented
        return replace(data, train_size=2000, test_size=2000, options={**data.options, "image_size": 4})
    if data.name.startswith("patch-"):  # Li et al.'s patch: 3 evaluation sets, so each a third of the usual size
        return replace(data, train_size=32, test_size=16, options={**data.options, "patch_only_eval": 16})
    return replace(data, train_size=32, test_size=16)


def tiny(profile):
    keep = profile.run.model.name == "two_layer"  # a vector model on vector data (Li et al.'s toy) stays as it is
    model = profile.run.model if keep else ModelConfig("wrn", depth=10, width=1)
    run = profile.run.with_(device="cpu", model=model, data=tiny_data(profile.run.data))
    params = dict(profile.params)
    if "stage_epochs" in params and run.epochs == 3 * params["stage_epochs"]:  # PS10's three equal stages, shortened
        params["stage_epochs"], run = 2, run.with_(epochs=6)
    if "anneal_epoch" in params and model is not profile.run.model:  # Li et al.'s arms: anneal after 2 of 4 epochs
        params.update(anneal_epoch=2, final_window=2)
        run = run.with_(epochs=4)
    if "decay_fractions" in params:  # decays after ¼, ½, ¾ of E: 8 epochs still give three forks
        run = run.with_(epochs=8)
    for mode in ("fix", "finetune"):  # the transfer protocol's own training, two epochs each
        if mode in params:
            params[mode] = {**params[mode], "epochs": 2}
    if run.optim.batch_size is None:  # full-batch GD: decays and Hessian steps are fractions of E, so 8 steps do
        run = run.with_(epochs=8)
        if "hessian" in params:
            # k = 3 over 4 images in chunks of 2: the same eigensolver and chunking path (k = 10 over 64 took 96 s)
            params["hessian"] = {**params["hessian"], "k": 3, "examples": 4, "chunk": 2,
                                 "every": 4 if params["hessian"].get("every") else None}
    return replace(profile, device="cpu", seeds=2, run=run, params=params)


@pytest.mark.slow
@pytest.mark.parametrize("claim, profile", GPU_PROFILES, ids=[f"{c.id}[{p.name}]" for c, p in GPU_PROFILES])
def test_gpu_profile_code_path_runs_on_cpu(claim, profile, tmp_path):
    data_root = None
    if profile.run.data.name in ("cifar10", "patch-cifar10"):  # a fixture in CIFAR-10's on-disk format
        write_cifar(tmp_path / "data", make_cifar_arrays(per_batch=60, n_test=96))
        data_root = str(tmp_path / "data")
    small = tiny(profile)
    ctx = ClaimContext(profile=small.name, store=RunStore(tmp_path / "runs", data_root=data_root),
                       report_root=tmp_path / "reports", n_seeds=2, device="cpu", workers=1)
    outcome = driver.check(claim, small, ctx)
    section = outcome.section
    assert section["verdict"] in ("replicated", "not replicated")
    assert section["tests"] and all(row["n"] == 2 for row in section["tests"] if row.get("n"))
    assert (tmp_path / "reports" / claim.id / f"fig-{small.name}.png").exists()

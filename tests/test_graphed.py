"""The captured training step (lrsci.graphed): on the CPU it runs eagerly through the same static
buffers, tensor learning rate and device-side loss accumulator, so it must give the ordinary loop's
numbers exactly; on a GPU, the captured step must stay within bf16 tolerance of the eager one."""
import pytest
import torch

from lrsci.config import ModelConfig, ScheduleConfig
from lrsci.data.base import ArrayData
from lrsci.graphed import WARMUP
from lrsci.train import Trainer
from tests.helpers import blobs, tiny_config


def same_run(a: Trainer, b: Trainer) -> None:
    assert a.history == b.history and a.step == b.step
    for p, q in zip(a.model.state_dict().values(), b.model.state_dict().values()):
        assert torch.equal(p, q)


def test_static_step_gives_the_ordinary_loops_numbers_with_a_partial_batch_and_a_decay():
    data = blobs(n_train=250, n_test=64)   # 250 = 7 batches of 32 + one of 26
    cfg = tiny_config(epochs=5, schedule=ScheduleConfig("step", milestones=(2, 4), factor=0.1),
                      **{"optim.momentum": 0.9, "optim.nesterov": True, "optim.weight_decay": 5e-4})
    eager, static = Trainer(cfg, data), Trainer(cfg, data, step_graph=True)
    eager.run(), static.run()
    same_run(eager, static)
    assert [r["lr"] for r in static.history] == pytest.approx([0.05, 0.05, 0.005, 0.005, 0.0005])
    assert static.result().extra == {"step": "static step, eager"} and eager.result().extra == {}


def test_static_step_resumes_and_redrawn_inputs_are_copied_into_its_buffer():
    from lrsci.data.patch import make_patch_data
    from tests.test_patch import fake_base

    data = make_patch_data(fake_base(n=300, size=12, n_test=50), seed=3)   # new inputs every epoch
    cfg = tiny_config(epochs=3, model=ModelConfig("mlp", hidden=16), **{"optim.momentum": 0.9})
    eager = Trainer(cfg, data)
    eager.run()
    first = Trainer(cfg, data, step_graph=True)
    first.run(until_epoch=1)
    resumed = Trainer(cfg, data, step_graph=True)
    resumed.load_state_dict(first.state_dict())
    resumed.run()
    same_run(eager, resumed)


def test_runs_the_step_cannot_capture_are_refused_when_asked_and_left_eager_by_default():
    data = blobs()
    for why, cfg in (("full-batch", tiny_config(**{"optim.batch_size": None})),
                     ("activation noise", tiny_config(model=ModelConfig("mlp", hidden=16, act_noise_std=0.1)))):
        with pytest.raises(ValueError, match=why):
            Trainer(cfg, data, step_graph=True)
        assert not Trainer(cfg, data).graphed


@pytest.mark.gpu
def test_on_the_gpu_the_captured_step_stays_within_bf16_tolerance_of_the_eager_one():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4096 + 1024, 1, 28, 28, generator=g)
    y = (x[:, 0, :14].mean((1, 2)) > 0).long() + 2 * (x[:, 0, :, :14].mean((1, 2)) > 0).long()
    data = ArrayData("img", x[:4096], y[:4096], x[4096:], y[4096:], 4).to(torch.device("cuda"))
    cfg = tiny_config(epochs=2, device="cuda", precision="bf16", model=ModelConfig("wrn", depth=16, width=4),
                      schedule=ScheduleConfig("step", milestones=(1,), factor=0.1),
                      **{"optim.lr": 0.1, "optim.batch_size": 100, "optim.momentum": 0.9})  # 4096 = 40×100 + 96
    eager, graphed = Trainer(cfg, data, step_graph=False), Trainer(cfg, data, step_graph=True)
    eager.run(), graphed.run()
    assert graphed.step_kind == "cuda graph" and graphed.step == eager.step > WARMUP
    for a, b in zip(eager.history, graphed.history):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=0.05)
        assert abs(b["test_acc"] - a["test_acc"]) <= 3.0

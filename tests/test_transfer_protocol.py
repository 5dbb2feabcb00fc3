"""lrsci/transfer.py: the fix/finetune protocol and the transfer cache's key (pinned by a mutation audit, 2026-11-27)."""
import math

import pytest
import torch

from lrsci import runs as runs_mod
from lrsci import transfer as tr
from lrsci.config import DataConfig, ScheduleConfig
from lrsci.models import build_model
from lrsci.runs import RunStore
from lrsci.transfer import TransferSpec, transfer_accuracy, transfer_snapshots
from tests.helpers import blobs, tiny_config


def _trained_net(dropout=0.0):
    """The MLP (Linear-BN-ReLU blocks) with non-trivial running statistics, as a source snapshot has."""
    torch.manual_seed(0)
    model = build_model(tiny_config(**{"model.dropout": dropout}).model, (1, 1, 8), 2)
    with torch.no_grad():
        model.train()
        for _ in range(3):
            model(blobs(seed=9).x_train * 3 + 1)     # running stats far from the target's batch stats
    return model


def _modes(module):
    return [m.training for m in module.modules()]


def test_fix_trains_its_head_on_eval_mode_features_standardised_by_target_train_statistics(monkeypatch):
    model, target = _trained_net(), blobs(seed=3)
    seen = {}
    real_train, real_acc = tr._sgd_train, tr._accuracy

    def spy_train(params, forward, x, y, spec, seed):
        seen["x"] = x.clone()
        return real_train(params, forward, x, y, spec, seed)

    def spy_acc(fn, x, y):
        seen["test_x"] = x.clone()
        return real_acc(fn, x, y)
    monkeypatch.setattr(tr, "_sgd_train", spy_train)
    monkeypatch.setattr(tr, "_accuracy", spy_acc)
    transfer_accuracy(model, target, TransferSpec("fix", lr=0.05, epochs=1, batch_size=32), seed=0)
    body = build_model(tiny_config().model, (1, 1, 8), 2)
    body.load_state_dict(model.state_dict())
    body.net[-1] = torch.nn.Identity()
    body.eval()                                 # the source's BatchNorm running statistics
    with torch.no_grad():
        f_train, f_test = body(target.x_train), body(target.x_test)
    mean, std = f_train.mean(0, keepdim=True), f_train.std(0, keepdim=True)
    std = torch.where(std < 1e-6, torch.ones_like(std), std)
    torch.testing.assert_close(seen["x"], (f_train - mean) / std)
    torch.testing.assert_close(seen["test_x"], (f_test - mean) / std)


def test_finetune_trains_every_layer_in_train_mode_and_evaluates_in_eval_mode(monkeypatch):
    model, target = _trained_net(), blobs(seed=3)
    modes = {}
    real_train, real_acc = tr._sgd_train, tr._accuracy

    def spy_train(params, forward, x, y, spec, seed):
        modes["train"] = _modes(forward)
        return real_train(params, forward, x, y, spec, seed)

    def spy_acc(fn, x, y):
        modes["eval"] = _modes(fn)
        return real_acc(fn, x, y)
    monkeypatch.setattr(tr, "_sgd_train", spy_train)
    monkeypatch.setattr(tr, "_accuracy", spy_acc)
    transfer_accuracy(model, target, TransferSpec("finetune", lr=0.05, epochs=1, batch_size=32), seed=0)
    assert all(modes["train"]) and not any(modes["eval"])


def test_transfer_sgd_anneals_the_rate_per_step_by_a_cosine_and_reshuffles_each_epoch(monkeypatch):
    lrs, batches = [], []

    class Recording(torch.optim.SGD):
        def step(self, closure=None):
            lrs.append(self.param_groups[0]["lr"])
            return super().step(closure)
    monkeypatch.setattr(tr.torch.optim, "SGD", Recording)
    head = torch.nn.Linear(3, 2)
    x, y = torch.randn(70, 3), torch.randint(0, 2, (70,))

    def forward(rows):
        batches.append(rows.clone())
        return head(rows)
    spec = TransferSpec("fix", lr=0.4, epochs=2, batch_size=32)   # 32 + 32 + 6 rows: 3 steps an epoch
    tr._sgd_train(head.parameters(), forward, x, y, spec, seed=5)
    total = 2 * 3
    assert lrs == pytest.approx([0.5 * 0.4 * (1 + math.cos(math.pi * s / total)) for s in range(total)])
    for epoch in range(2):
        order = torch.randperm(70, generator=torch.Generator().manual_seed(5 * 1_000_003 + epoch))
        assert torch.equal(torch.cat(batches[3 * epoch:3 * epoch + 3]), x[order])


def test_finetune_dropout_is_drawn_from_the_seed_not_from_the_callers_rng(monkeypatch):
    model, target = _trained_net(dropout=0.5), blobs(seed=3)
    logits = []
    real_apply = tr._apply
    monkeypatch.setattr(tr, "_accuracy", lambda fn, x, y: (logits.append(real_apply(fn, x)), 0.0)[1])
    spec = TransferSpec("finetune", lr=0.05, epochs=1, batch_size=32)
    for caller_seed in (1, 2):
        torch.manual_seed(caller_seed)
        transfer_accuracy(model, target, spec, seed=0)
    assert torch.equal(logits[0], logits[1])


@pytest.fixture
def store(tmp_path, monkeypatch):
    target = {"sha": "t1"}

    def load_target(cfg, root=None):
        d = blobs(seed=5)
        d.info["content_sha256"] = target["sha"]
        return d
    monkeypatch.setattr(runs_mod, "load_data", lambda cfg, root=None: blobs())
    monkeypatch.setattr(tr, "load_data", load_target)
    s = RunStore(tmp_path / "runs")
    s.target = target
    return s


def test_the_transfer_cache_is_keyed_by_the_snapshot_epochs_and_the_targets_content(store, monkeypatch):
    cfg = tiny_config(epochs=6, schedule=ScheduleConfig("step", milestones=(2, 4)))
    store.run(cfg, snapshots=(2, 4, 6))
    spec, target = TransferSpec("fix", lr=0.1, epochs=1, batch_size=32), DataConfig("ps10")
    three = transfer_snapshots(store, cfg, [2, 4, 6], target, spec, seed=0)
    two = transfer_snapshots(store, cfg, [2, 6], target, spec, seed=0)
    assert len(three["tacc"]) == 3 and len(two["tacc"]) == 2
    calls = []
    real = tr.transfer_accuracy
    monkeypatch.setattr(tr, "transfer_accuracy", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    store.target["sha"] = "t2"     # the target's bytes changed: its cached transfers are not reused
    transfer_snapshots(store, cfg, [2, 4, 6], target, spec, seed=0)
    assert len(calls) == 3

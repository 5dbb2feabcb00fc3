"""Speed of the training engine, as a ratio against a plain PyTorch loop in the same process.

No timed assertion: pytest-benchmark records both timings and the ratio goes into
extra_info (see --benchmark-json). What is asserted is that both loops do the same work.
"""
import torch
import torch.nn.functional as F

from lrsci.models import build_model
from lrsci.train import Trainer
from tests.helpers import blobs, tiny_config

CFG = tiny_config(epochs=1, eval_train=False, **{"model.hidden": 64, "optim.batch_size": 64})
DATA = blobs(n_train=4096, n_test=64, dim=64)


def plain_epoch():
    """The loop a user would write: same model, optimizer, batches (no eval, no bookkeeping)."""
    torch.manual_seed(0)
    model = build_model(CFG.model, DATA.input_shape, DATA.num_classes)
    opt = torch.optim.SGD(model.parameters(), lr=CFG.optim.lr, momentum=CFG.optim.momentum,
                          weight_decay=CFG.optim.weight_decay)
    order = torch.randperm(DATA.x_train.shape[0], generator=torch.Generator().manual_seed(0))
    for start in range(0, order.numel(), CFG.optim.batch_size):
        idx = order[start:start + CFG.optim.batch_size]
        loss = F.cross_entropy(model(DATA.x_train[idx]), DATA.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return order.numel() // CFG.optim.batch_size


def engine_epoch():
    t = Trainer(CFG, DATA)
    t.train_epoch()
    return t.step


def mean_seconds(fn, rounds: int = 3) -> float:
    import time

    fn()  # warm-up: first calls pay for kernel selection
    timings = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - t0)
    return sum(timings) / len(timings)


def test_engine_epoch_vs_plain_loop(benchmark):
    plain_seconds = mean_seconds(plain_epoch)
    steps = benchmark.pedantic(engine_epoch, rounds=3, iterations=1, warmup_rounds=1)
    assert steps == plain_epoch()
    # pytest-benchmark switches itself off under pytest-xdist (the smoke suite's -n 2): then the
    # engine is timed here, the same way as the plain loop, so the ratio is always recorded.
    stats = benchmark.stats
    engine_seconds = stats.stats.mean if stats is not None else mean_seconds(engine_epoch)
    benchmark.extra_info.update(plain_epoch_seconds=plain_seconds, engine_epoch_seconds=engine_seconds,
                                engine_over_plain=engine_seconds / plain_seconds)

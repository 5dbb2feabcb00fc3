"""AutoDecay in an ordinary PyTorch training loop: the whole of what a user writes, runnable as it is.

    python examples/autodecay_drop_in.py            # a few seconds on a CPU, no dataset needed

A small MLP learns a noisy ten-class problem drawn here (so the example needs no files) with plain SGD.
After every epoch the scheduler sees the epoch's mean training loss. It divides the learning rate by
ten when the smoothed loss has levelled off (it moved less than the tolerance over a window of epochs)
after a significant drop since the stage began, and it says stop when a stage levelled off without one.
A stage is judged against the smoothed value it started from, which lags above the loss, so a late
stage whose loss barely moves can still count as a drop (lrsci/autodecay.py explains this). Swap in your own model, data and optimizer: only the three AutoDecay lines matter.
"""
from __future__ import annotations

import argparse
import math

import torch
import torch.nn.functional as F

from lrsci.autodecay import AutoDecay


def make_data(n: int = 2048, dim: int = 20, classes: int = 10, seed: int = 0):
    """Gaussian class centres with heavy overlap: the loss keeps falling for a while, then plateaus."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    x = centres[y] + 1.5 * torch.randn(n, dim, generator=g)
    return x, y


def train_one_epoch(model, optimizer, x, y, batch_size: int, generator) -> float:
    """One pass over (x, y) in a fresh random order; the epoch's mean training loss."""
    model.train()
    total = 0.0
    for idx in torch.randperm(len(y), generator=generator).split(batch_size):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(y)


def main(max_epochs: int = 100, lr: float = 0.1, seed: int = 0, quiet: bool = False) -> list[dict]:
    """Train until AutoDecay stops or ``max_epochs``; one row per epoch (loss, the lr it trained at, action)."""
    torch.manual_seed(seed)
    x, y = make_data(seed=seed)
    # 16 hidden units: too few to memorize the overlapping classes, so the loss levels off clearly. With 64
    # it creeps down for the whole budget and whether the rule sees a plateau hung on float rounding: the
    # same seed decayed at epoch 29 on one CPU and never on another (AVX2 vs AVX512, 1 or 2 threads).
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    scheduler = AutoDecay(optimizer, max_epochs=max_epochs)          # 1. build it on the optimizer
    order = torch.Generator().manual_seed(seed)
    rows = []
    for epoch in range(1, max_epochs + 1):
        trained_at = optimizer.param_groups[0]["lr"]
        loss = train_one_epoch(model, optimizer, x, y, batch_size=64, generator=order)
        action = scheduler.step(loss)                                # 2. show it the epoch's loss
        rows.append({"epoch": epoch, "loss": loss, "lr": trained_at, "action": action})
        if not quiet:
            print(f"epoch {epoch:3d}  loss {loss:.4f}  lr {trained_at:.0e}  {action}", flush=True)
        if scheduler.should_stop:                                    # 3. stop when it says so
            break
    if not quiet:
        print(f"stopped after {len(rows)} epochs ({scheduler.stop_reason or 'epochs spent'}); "
              f"decays after epochs {scheduler.decay_steps}")
    return rows


def _number(kind, allowed: str, ok):
    """An argparse type: a bad value is named by argparse with what is allowed (exit 2), not a traceback from
    deep in AutoDecay or torch after the data is drawn."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed: {allowed}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed: {allowed}")
        return value
    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", default=100, help="epoch budget (default 100)",
                        type=_number(int, "an integer >= 1", lambda v: v >= 1))
    parser.add_argument("--lr", default=0.1, help="initial learning rate (default 0.1)",
                        type=_number(float, "a finite number > 0", lambda v: math.isfinite(v) and v > 0))
    parser.add_argument("--seed", default=0, help="data, init and order seed (default 0)",   # torch.manual_seed's range
                        type=_number(int, "an integer from -2**63 to 2**64 - 1", lambda v: -2**63 <= v < 2**64))
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    main(args.max_epochs, args.lr, args.seed)

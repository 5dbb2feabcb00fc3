"""Training throughput, measured side by side: the baseline issue #13's speed work is judged against.

Five numbers for one run config, each in training images per second (training steps only, no data
loading, the device synchronised before the clock stops; :func:`concurrent_engines` times whole
epochs over the wall span, so its small evaluation is inside it):

* :func:`plain_loop` — the loop a user would write: the same model, optimizer, batches, precision
  and memory format as the engine, nothing else;
* :func:`graphed_loop` (CUDA only) — the plain loop's step captured as one CUDA graph and replayed;
* :func:`engine` (also with ``step_graph=True``, CUDA) — lrsci's :class:`~lrsci.train.Trainer` on the same work;
* :func:`concurrent_engines` — K engine processes started together (today's way to train several
  runs at once: one worker process per run), aggregate images/s over the span from the first start
  to the last finish after a shared barrier, so process start-up and warm-up are not counted;
* :func:`batched_engine` — K runs (seeds config.seed + i) as one batched model in this process
  (:class:`lrsci.batched.BatchedTrainer`), aggregate images/s of its training steps.

On CUDA, :func:`flops_per_image` (a FlopCounterMode count of one training step) and
:func:`bf16_peak` (a timed 8192³ bf16 matrix product, the card's practical peak) turn images/s into
FLOP/s and a fraction of the peak. No number here is asserted anywhere: the benchmarks record them.
"""
from __future__ import annotations

import math
import multiprocessing as mp
import queue
import time
import torch
import torch.nn.functional as F

from .config import RunConfig
from .data.base import ArrayData
from .models import build_model
from .train import Trainer, resolve_device


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _user_setup(config: RunConfig, data: ArrayData):
    """What a user's own loop would set up: model, data on the device (channels_last on CUDA), default SGD."""
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    model = build_model(config.model, data.input_shape, data.num_classes).to(device)
    x, y = data.x_train.to(device), data.y_train.to(device)
    if device.type == "cuda" and x.dim() == 4:
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    o = config.optim
    opt = torch.optim.SGD(model.parameters(), lr=o.lr, momentum=o.momentum, nesterov=o.nesterov,
                          weight_decay=o.weight_decay)
    return device, model, x, y, opt, config.precision == "bf16" and device.type == "cuda"


def plain_loop(config: RunConfig, data: ArrayData, epochs: int = 1, warmup_steps: int = 5) -> float:
    """Images/s of a plain eager loop doing the engine's training work for ``epochs`` epochs."""
    device, model, x, y, opt, bf16 = _user_setup(config, data)
    o = config.optim

    def step(idx):
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    n, bs = x.shape[0], o.batch_size
    model.train()
    for i in range(warmup_steps):
        step(torch.arange(i * bs, (i + 1) * bs, device=device) % n)
    _sync(device)
    t0 = time.perf_counter()
    for e in range(epochs):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(e)).to(device)
        for start in range(0, n, bs):
            step(order[start:start + bs])
    _sync(device)
    return epochs * n / (time.perf_counter() - t0)


def graphed_loop(config: RunConfig, data: ArrayData, epochs: int = 1, warmup_steps: int = 5) -> float:
    """Images/s of the plain loop's step captured once as a CUDA graph and replayed (CUDA only).

    What #13's "capture the whole step" would buy: the same kernels as :func:`plain_loop`, launched as
    one graph per step. Shapes must be static, so a last partial batch is left out of the count."""
    if resolve_device(config.device).type != "cuda":
        raise ValueError(f"graphed_loop needs a CUDA device, not {config.device}")
    device, model, x, y, opt, bf16 = _user_setup(config, data)
    n, bs = x.shape[0], config.optim.batch_size
    idx = torch.arange(bs, device=device)   # the graph's static input: which rows form the batch

    def step():
        # cache_enabled=False: autocast's weight cache must not outlive one capture
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16, cache_enabled=False):
            loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()

    model.train()
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):  # warm-up on a side stream, as capture requires
        for _ in range(warmup_steps):
            opt.zero_grad(set_to_none=True)
            step()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)  # grads allocated inside the graph: each replay writes them afresh
    with torch.cuda.graph(graph):
        step()
    _sync(device)
    t0, images = time.perf_counter(), 0
    for e in range(epochs):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(e)).to(device)
        for start in range(0, n - bs + 1, bs):
            idx.copy_(order[start:start + bs])
            graph.replay()
            images += bs
    _sync(device)
    return images / (time.perf_counter() - t0)


def engine(config: RunConfig, data: ArrayData, epochs: int = 1, step_graph: bool | None = None) -> float:
    """Images/s of the engine's training steps (``Trainer.train_seconds``), after one warm-up epoch
    (``step_graph=True``: each step one captured CUDA graph, lrsci.graphed)."""
    trainer = Trainer(config.with_(epochs=epochs + 1), data, step_graph=step_graph)
    trainer.train_epoch()  # warm-up: first calls pay for kernel selection and allocation
    seconds, images = trainer.train_seconds, trainer.images
    for _ in range(epochs):
        trainer.train_epoch()
    return (trainer.images - images) / (trainer.train_seconds - seconds)


BARRIER_S = 600   # seconds a worker waits at the shared start for its siblings' warm-up epochs


def _engine_worker(config_dict: dict, data: ArrayData, epochs: int, barrier, out, step_graph=None) -> None:
    torch.set_num_threads(1)  # as lrsci's CPU workers: one thread each
    config = RunConfig.from_dict(config_dict)
    trainer = Trainer(config.with_(epochs=epochs + 1), data, step_graph=step_graph)
    trainer.train_epoch()  # warm-up before the shared start
    barrier.wait(timeout=BARRIER_S)   # a sibling that failed never arrives: give up rather than hang
    t0 = time.time()
    for _ in range(epochs):
        trainer.train_epoch()
    out.put((t0, time.time(), epochs * data.x_train.shape[0]))


def concurrent_engines(config: RunConfig, data: ArrayData, k: int, epochs: int = 1,
                       step_graph: bool | None = None) -> float:
    """Aggregate images/s of ``k`` engine processes (seeds config.seed + i) training at once.

    Each trains one warm-up epoch, waits at a barrier, then ``epochs`` timed epochs (with its
    evaluation, as a run does). Aggregate = all timed images / (last finish − first start)."""
    if k < 1:
        raise ValueError(f"k={k} must be >= 1")
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(k), ctx.Queue()
    procs = [ctx.Process(target=_engine_worker, args=(config.with_(seed=config.seed + i).to_dict(), data, epochs,
                                                      barrier, out, step_graph)) for i in range(k)]
    for p in procs:
        p.start()
    try:
        spans = _spans(procs, out)
    finally:   # one worker failed (or Ctrl-C): the others would wait at the barrier or train on
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
    start, end = min(s[0] for s in spans), max(s[1] for s in spans)
    return sum(s[2] for s in spans) / (end - start)


def _spans(procs, out, poll_s: float = 1.0) -> list:
    """Every worker's (start, end, images), or an error as soon as one worker has exited without
    reporting (its siblings then never pass the barrier: waiting on the queue alone would hang)."""
    spans = []
    while len(spans) < len(procs):
        try:
            spans.append(out.get(timeout=poll_s))
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a throughput worker exited with code {dead[0]}") from None
    return spans


def batched_engine(config: RunConfig, data: ArrayData, k: int, epochs: int = 1, step_graph: bool | None = None) -> float:
    """Aggregate images/s of K runs trained as one batched model, after one warm-up epoch (which, with
    ``step_graph``, also captures the batched step)."""
    from .batched import BatchedTrainer

    trainer = BatchedTrainer([config.with_(seed=config.seed + i, epochs=epochs + 1) for i in range(k)], data,
                             step_graph=step_graph)
    trainer.train_epoch()  # warm-up
    seconds = trainer.train_seconds
    for _ in range(epochs):
        trainer.train_epoch()
    return k * epochs * data.x_train.shape[0] / (trainer.train_seconds - seconds)


def flops_per_image(config: RunConfig, data: ArrayData) -> float:
    """FLOPs of one training step (forward + backward) per image, counted by FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    device = resolve_device(config.device)
    model = build_model(config.model, data.input_shape, data.num_classes).to(device)
    bs = config.optim.batch_size
    x, y = data.x_train[:bs].to(device), data.y_train[:bs].to(device)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), y).backward()
    return counter.get_total_flops() / x.shape[0]


def bf16_peak(device: str = "cuda", n: int = 8192, reps: int = 10) -> float:
    """FLOP/s of an n×n×n bf16 matrix product on random data (mean of ``reps`` after 3 warm-ups)."""
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    _sync(torch.device(device))
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    _sync(torch.device(device))
    return 2 * n ** 3 * reps / (time.perf_counter() - t0)


def _attempt(errors: dict, name: str, fn, log=None):
    """fn()'s number, or None with the error recorded: on a lent GPU one failing measurement (an
    untried kernel path, say) must not lose the others, which took the same device time. ``log(name,
    value)`` hears each number as soon as it exists (a session cut off mid-report keeps those)."""
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 -- recorded, and the test checks what it needs
        errors[name] = f"{type(exc).__name__}: {exc}"
        value = None
    if log is not None:
        log(name, value if value is not None else errors[name])
    return value


def report(config: RunConfig, data: ArrayData, ks=(1, 3, 5, 8), epochs: int = 1, log=None) -> dict:
    """Every number above for one config, as a dict (what the benchmark records); a measurement that
    failed is None, and its error is under ``errors``. ``log``: see :func:`_attempt`."""
    errors: dict[str, str] = {}
    cuda = resolve_device(config.device).type == "cuda"
    plain = plain_loop(config, data, epochs)   # the reference: without it no ratio means anything
    if log is not None:
        log("plain_loop", plain)
    measure = lambda name, fn: _attempt(errors, name, fn, log)  # noqa: E731
    rates = {"engine": measure("engine", lambda: engine(config, data, epochs))}
    if cuda:
        rates["graphed_loop"] = measure("graphed_loop", lambda: graphed_loop(config, data, epochs))
        rates["engine_graphed"] = measure("engine_graphed", lambda: engine(config, data, epochs, step_graph=True))
        k = max(ks)
        if rates["engine_graphed"] is None:   # K processes would fail the same way, after K start-ups
            rates[f"k{k}_processes_graphed"] = None
            errors[f"k{k}_processes_graphed"] = "not measured: the captured step failed in one process (engine_graphed)"
        else:
            rates[f"k{k}_processes_graphed"] = measure(
                f"k{k}_processes_graphed", lambda: concurrent_engines(config, data, k, epochs, step_graph=True))
        rates[f"k{k}_batched_graphed"] = measure(
            f"k{k}_batched_graphed", lambda: batched_engine(config, data, k, epochs, step_graph=True))
    processes = {k: measure(f"k{k}_processes", lambda k=k: concurrent_engines(config, data, k, epochs)) for k in ks}
    batched = {k: measure(f"k{k}_batched", lambda k=k: batched_engine(config, data, k, epochs)) for k in ks}
    ratio = lambda v: None if v is None else v / plain  # noqa: E731
    out = {"device": str(resolve_device(config.device)), "images_per_epoch": data.x_train.shape[0],
           "plain_loop_images_per_s": plain, "engine_images_per_s": rates["engine"],
           "engine_over_plain": ratio(rates["engine"]),
           "concurrent_engines_images_per_s": processes, "batched_engine_images_per_s": batched}
    out.update({f"k{k}_processes_over_plain": ratio(v) for k, v in processes.items()})
    out.update({f"k{k}_batched_over_plain": ratio(v) for k, v in batched.items()})
    if cuda:
        out.update(graphed_loop_images_per_s=rates["graphed_loop"], graphed_over_plain=ratio(rates["graphed_loop"]),
                   engine_graphed_images_per_s=rates["engine_graphed"],
                   engine_graphed_over_plain=ratio(rates["engine_graphed"]),
                   processes_graphed_k=max(ks),
                   processes_graphed_images_per_s=rates[f"k{max(ks)}_processes_graphed"],
                   processes_graphed_over_plain=ratio(rates[f"k{max(ks)}_processes_graphed"]),
                   batched_graphed_images_per_s=rates[f"k{max(ks)}_batched_graphed"],
                   batched_graphed_over_plain=ratio(rates[f"k{max(ks)}_batched_graphed"]))
        fpi, peak = flops_per_image(config, data), bf16_peak()
        measured = [v for v in (plain, *rates.values(), *processes.values(), *batched.values()) if v is not None]
        out.update(flops_per_image=fpi, bf16_peak_flops=peak, plain_fraction_of_peak=plain * fpi / peak,
                   best_fraction_of_peak=max(measured) * fpi / peak)
    out["errors"] = errors
    out["note"] = "no timed assertion; ratios within one process and one machine"
    return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in out.items()}

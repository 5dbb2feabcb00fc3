"""One SGD training step captured as a CUDA graph and replayed (issue #13).

At batch 128 a WideResNet step is a few hundred small kernels, and the GPU waits on Python launching
them (a plain loop uses ~5 % of an H200's bf16 peak). A CUDA graph records the whole step once —
forward, backward, the fused optimizer update and the loss accumulator — and replays it with one
launch. Nothing about the arithmetic changes: the same kernels run on the same buffers.

What makes a step replayable: every tensor it reads or writes keeps its address. So the batch is
chosen through a static index tensor (``idx.copy_(order[...])``), the inputs are gathered from one
static tensor (a dataset that redraws its inputs each epoch is copied into it), the learning rate is
a device tensor the fused SGD kernel reads (``lr.fill_(rate)`` between epochs), and the gradients are
allocated inside the capture (``zero_grad(set_to_none=True)`` just before it), so each replay writes
them afresh. The first :data:`WARMUP` steps run eagerly on a side stream (capture needs the
libraries' workspaces allocated first); they are real training steps, as in the ordinary loop.

On a CPU, :class:`StepGraph` never captures: every step runs eagerly through the same static buffers,
so the tests can check this plumbing (same numbers as the ordinary loop) without a GPU.
"""
from __future__ import annotations

from typing import Callable

import torch

WARMUP = 3


def graph_unsupported(config) -> str | None:
    """Why a run cannot train through a captured step, or None if it can."""
    if config.optim.full_batch:
        return "full-batch GD (a few chunked passes per step: nothing to gain)"
    if config.model.act_noise_std:
        return "activation noise (random draws inside the step; untested under capture)"
    return None


def step_kind(graphed: bool, state: dict | None) -> str:
    """How a trainer's SGD steps ran: "eager", or through its static step (``state["graph"]``, a
    :class:`StepGraph`): "cuda graph" once captured, else "static step, eager" (a CPU)."""
    if not graphed:
        return "eager"
    return "cuda graph" if state is not None and state["graph"].captured else "static step, eager"


class StepGraph:
    """``run()`` = one training step on the batch in the static ``idx``; returns the step's loss tensor.

    ``step(eager)`` does forward, backward and the optimizer update and returns the loss; when
    ``eager`` it first clears the gradients (the captured step must not: its gradients are written,
    not accumulated)."""

    def __init__(self, step: Callable[[bool], torch.Tensor], zero_grad: Callable[[], None], device: torch.device):
        self.step, self.zero_grad, self.device = step, zero_grad, device
        self._side = torch.cuda.Stream(device) if device.type == "cuda" else None  # the warm-up steps' stream
        self.eager_steps = 0
        self.graph: torch.cuda.CUDAGraph | None = None
        self.loss: torch.Tensor | None = None

    @property
    def captured(self) -> bool:
        return self.graph is not None

    def run(self) -> torch.Tensor:
        if self.graph is not None:
            self.graph.replay()
        elif self.device.type != "cuda" or self.eager_steps < WARMUP:
            self.loss = self._eager()
        else:
            self._capture()
            self.graph.replay()   # capturing records the step; this replay performs it
        return self.loss

    def _eager(self) -> torch.Tensor:
        if self._side is None:
            loss = self.step(True)
        else:   # warm-up on a side stream, ordered with the default one on both sides
            self._side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(self._side):
                loss = self.step(True)
            torch.cuda.current_stream(self.device).wait_stream(self._side)
        self.eager_steps += 1
        return loss

    def _capture(self) -> None:
        self.zero_grad()   # set to None: the captured backward allocates them in the graph's pool
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.loss = self.step(False)
        self.graph = graph

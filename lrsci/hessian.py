"""Top-k Hessian eigenvalues of a training loss, from Hessian-vector products.

What is computed: the k algebraically largest eigenvalues of the Hessian of the MEAN
loss ``loss_fn(model(x), y)`` over the whole of (x, y), with respect to every parameter
that has ``requires_grad``. ``loss_fn`` must itself be a mean over its rows (as
``F.cross_entropy``'s default): chunks are weighted by their share of the rows, which
is right only for a mean. An optimizer's weight decay is not part of ``loss_fn``: it
adds ``wd`` to every eigenvalue (lrsci's GD claims leave it out and say so). The eigensolver is scipy's ARPACK Lanczos
(``scipy.sparse.linalg.eigsh``, ``which="LA"``) on a ``LinearOperator`` whose matvec is
a Hessian-vector product (HVP) by double backward; nothing is hand-rolled.

Precision: the model runs in its own dtype (float32 or float64; half/bf16 is refused)
with autocast disabled; vectors live in float64 on the numpy side for the solver. On CUDA,
float32 convolutions run in TF32 where torch allows it (``torch.backends.cudnn.allow_tf32``,
on by default: ~1e-3 relative error per product; provenance records the setting); CUDA
reductions with atomics also make repeated HVPs differ in their last bits there.

Chunking: ``chunk`` examples go through each forward pass (None = all at once). The
mean-loss HVP is the sum over chunks of ``(chunk_size / N) * HVP(chunk mean loss)``,
which is exactly the full-data mean loss's Hessian for a model without BatchNorm.

Training mode: the whole model is put in TRAINING mode, whatever its flags (they are restored
after): BatchNorm uses batch statistics and Dropout drops, with masks frozen by ``seed`` (see
Determinism). There is no eval-mode Hessian here.

BatchNorm: in training mode (batch statistics) - the objective that
lrsci's full-batch GD (``Trainer._gd_epoch``) descends - so each chunk is normalised
with its own statistics ("ghost batches" of size ``chunk``). The result therefore
depends on ``chunk`` when the model has BatchNorm, exactly as GD's loss does on
``gd_chunk``. Running statistics and every other buffer are restored bit-for-bit after
each matvec, as are the train/eval flags of every submodule.

Determinism: the Lanczos start vector comes from ``numpy.random.default_rng(seed)``.
All torch randomness (dropout, ``ActivationNoise``) runs inside ``torch.random.fork_rng``
so the global RNG is never touched; inside it, every matvec replays the same generator
state (derived from ``seed``), so the noise masks are frozen and the operator is one
fixed symmetric matrix - the Hessian for that noise draw - rather than a random one.

Parameters and their ``.grad`` are never modified (``torch.autograd.grad`` only).

Cost: each matvec is one forward + backward(create_graph) + double backward per chunk,
with the activation memory of one chunk's double-backward graph; eigsh needs tens to
a few hundred matvecs for k ~ 10 (a WRN-10-1 at tol 1e-6: 111; more for tight ``tol`` or
clustered eigenvalues). Lanczos can also miss a copy of a repeated top eigenvalue when the spectrum has
a large negative tail (ARPACK's behaviour, not lrsci's): ``tol=0`` makes that less likely.

Inputs: ``y`` of an integer dtype other than int64 is cast to int64 (what torch's classification losses
take); ``k``, ``chunk`` and ``seed`` may be any integer type (numpy's too). ``loss_fn`` is called once on the
first chunk before the solver starts, so a loss that is not a scalar tensor is refused by name.
A loss whose Hessian is zero (linear in the parameters) gives k zeros.
"""
from __future__ import annotations

import contextlib
from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh
from torch import nn

_OK_DTYPES = (torch.float32, torch.float64)


def _is_int(v) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


def _trainable(model: nn.Module) -> list[torch.Tensor]:
    return [p for p in model.parameters() if p.requires_grad]


def parameter_count(model: nn.Module) -> int:
    """Number of scalar trainable parameters: the Hessian's dimension."""
    return sum(p.numel() for p in _trainable(model))


def _validate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk, loss_fn, seed) -> None:
    """Every bad argument is refused here by name, before any solver iteration."""
    bad = {p.dtype for p in model.parameters() if p.is_floating_point()} - set(_OK_DTYPES)
    if bad:
        name = ", ".join(sorted(str(d) for d in bad))
        raise ValueError(f"model parameters are {name}; convert the model to float32 first")
    if not _trainable(model):
        raise ValueError("model has no trainable parameters (none with requires_grad)")
    for name, t in (("x", x), ("y", y)):
        if not torch.is_tensor(t) or t.dim() == 0:
            raise ValueError(f"{name} must be a torch.Tensor with one row per example, got "
                             f"{type(t).__name__ if not torch.is_tensor(t) else 'a 0-d tensor'}")
    if x.shape[0] == 0:
        raise ValueError("x is an empty batch (x.shape[0] == 0)")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but y has {y.shape[0]}")
    dtypes = {p.dtype for p in _trainable(model)}
    if len(dtypes) > 1:
        raise ValueError(f"model parameters mix {', '.join(sorted(map(str, dtypes)))}: convert the model to one dtype")
    dtype = _trainable(model)[0].dtype
    if x.is_floating_point() and x.dtype != dtype:
        raise ValueError(f"x is {x.dtype} but the model's parameters are {dtype}: pass x.to({dtype})")
    if chunk is not None and (not _is_int(chunk) or chunk < 1):
        raise ValueError(f"chunk={chunk!r} must be an integer >= 1 (or None for the whole batch)")
    step = x.shape[0] if chunk is None else min(chunk, x.shape[0])
    if 1 in (step, x.shape[0] % step) and any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                                                          for m in model.modules()):
        raise ValueError(f"chunk={chunk!r} leaves a chunk of one example ({x.shape[0]} rows), which "
                         "BatchNorm in training mode cannot normalise: pick a chunk that leaves none of size 1")
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be a callable loss_fn(logits, y) giving the MEAN loss, got {loss_fn!r}")
    if not _is_int(seed) or not 0 <= seed < 2 ** 63:
        raise ValueError(f"seed={seed!r} must be an integer in [0, 2**63)")


@contextlib.contextmanager
def _frozen_model(model: nn.Module, device: torch.device, seed: int):
    """Train mode, fixed private RNG, no autocast; buffers/modes/global RNG restored after."""
    modes = [(m, m.training) for m in model.modules()]
    saved = [(b, b.detach().clone()) for b in model.buffers()]
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=cuda):
            # Seed via private Generators, not torch.manual_seed, which would also reseed
            # every other CUDA device (fork_rng restores only the ones listed).
            torch.set_rng_state(torch.Generator().manual_seed(seed).get_state())
            for d in cuda:
                g = torch.Generator(device=f"cuda:{d}").manual_seed(seed)
                torch.cuda.set_rng_state(g.get_state(), d)
            model.train()  # batch statistics: the objective full-batch GD descends
            with torch.autocast(device.type, enabled=False):
                yield
    finally:
        with torch.no_grad():
            for b, copy in saved:
                b.copy_(copy)  # in place: buffer identity (and any views) preserved
        for m, flag in modes:
            m.training = flag


def _hvp(model, params, x, y, loss_fn, chunk, v):
    """Hessian of the mean loss over (x, y) times v (a list shaped like params)."""
    n = x.shape[0]
    step = n if chunk is None else chunk
    out = [torch.zeros_like(p) for p in params]
    for start in range(0, n, step):
        xc, yc = x[start:start + step], y[start:start + step]
        # Chunk mean weighted by its share of N = sum-reduced loss / N.
        loss = loss_fn(model(xc), yc) * (xc.shape[0] / n)
        grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
        dot = sum((g * u).sum() for g, u in zip(grads, v) if g is not None)
        if not torch.is_tensor(dot) or not dot.requires_grad:
            continue  # loss is (at most) linear in the parameters: zero curvature
        hv = torch.autograd.grad(dot, params, allow_unused=True)
        for acc, h in zip(out, hv):
            if h is not None:
                acc += h.detach()
    return out


def _check_loss(model, x, y, loss_fn, chunk, device, seed) -> None:
    """Call ``loss_fn`` once on the first chunk (buffers, modes and RNG restored): it must give a scalar tensor
    that depends on the parameters, or the HVPs fail inside the solver with torch's words instead of these."""
    step = x.shape[0] if chunk is None else chunk
    with _frozen_model(model, device, seed), torch.enable_grad():
        loss = loss_fn(model(x[:step]), y[:step])
    if not torch.is_tensor(loss) or loss.numel() != 1:
        got = f"a tensor of shape {tuple(loss.shape)}" if torch.is_tensor(loss) else f"a {type(loss).__name__}"
        raise ValueError(f"loss_fn must return the MEAN loss as a one-element tensor (reduction='mean'); it "
                         f"returned {got}")


def hvp_operator(model, x, y, loss_fn=F.cross_entropy, chunk=None, seed=0) -> LinearOperator:
    """float64 ``LinearOperator`` v -> H v for the mean loss (see the module docstring).

    Each matvec is self-contained (modes, buffers and global RNG restored), so the
    operator can be reused with any scipy solver. ``seed`` fixes dropout/noise draws.
    """
    _validate(model, x, y, chunk, loss_fn, seed)
    chunk, seed = None if chunk is None else int(chunk), int(seed)
    if not y.is_floating_point() and y.dtype not in (torch.int64, torch.bool):
        y = y.long()   # int32/int16 class labels: torch's classification losses take int64
    params = _trainable(model)
    sizes = [p.numel() for p in params]
    device = params[0].device
    _check_loss(model, x, y, loss_fn, chunk, device, seed)

    def matvec(v: np.ndarray) -> np.ndarray:
        flat = torch.from_numpy(np.asarray(v, dtype=np.float64).ravel()).to(device)
        vs = [c.view_as(p).to(p.dtype) for c, p in zip(flat.split(sizes), params)]
        with _frozen_model(model, device, seed), torch.enable_grad():   # also under a caller's no_grad
            hv = _hvp(model, params, x, y, loss_fn, chunk, vs)
        return torch.cat([h.reshape(-1).double() for h in hv]).cpu().numpy()

    n = sum(sizes)
    return LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=np.float64)


def top_eigenvalues(model, x, y, k=10, loss_fn=F.cross_entropy, chunk=None, seed=0,
                    tol=1e-6, maxiter=None) -> list[float]:
    """The k largest (algebraic) Hessian eigenvalues of the MEAN loss ``loss_fn(model(x), y)`` over (x, y),
    descending, for the model in training mode (module docstring). ``loss_fn`` must be a mean over its rows
    (``reduction='mean'``): a sum would give numbers that depend on ``chunk``. ``k`` must be smaller than the
    number of trainable parameters (ARPACK's limit; a model that small wants a dense eigendecomposition).
    Works also when called under ``torch.no_grad()``: the HVPs need autograd, so it is switched on here."""
    if not _is_int(k) or k < 1:
        raise ValueError(f"k={k!r} must be an integer >= 1")
    if not (isinstance(tol, (int, float)) and tol >= 0):   # eigsh: 0 means machine precision
        raise ValueError(f"tol={tol!r} must be a number >= 0 (0: to machine precision)")
    op = hvp_operator(model, x, y, loss_fn=loss_fn, chunk=chunk, seed=seed)
    n = op.shape[0]
    if k >= n:  # ARPACK needs k < n
        raise ValueError(f"k={k} must be < the number of parameters ({n})")
    v0 = np.random.default_rng(int(seed)).standard_normal(n)  # private RNG: deterministic
    with torch.enable_grad():   # (the matvec switches it on too; kept for solvers that call it elsewhere)
        try:
            vals = eigsh(op, k=int(k), which="LA", v0=v0, tol=tol, maxiter=maxiter, return_eigenvectors=False)
        except ArpackError:
            if np.any(op.matvec(v0)):
                raise
            return [0.0] * int(k)   # a zero Hessian (the loss is linear in the parameters): ARPACK cannot start
    return sorted((float(e) for e in vals), reverse=True)

"""Ctrl-C and SIGTERM during training: stop at the end of the epoch in progress, with a checkpoint.

A run takes its resume checkpoints on a clock (lrsci.checkpoints), so a process killed outright loses up to
``LRSCI_CHECKPOINT_SECONDS`` of training. A stop that is asked for loses nothing: while a run trains in a
process's main thread, the first SIGINT (Ctrl-C) or SIGTERM asks it to stop at the end of the epoch in progress.
The run store then writes a checkpoint and raises :class:`StopRequested` (a ``KeyboardInterrupt``), and running
again resumes from that epoch with the numbers of an uninterrupted run.

- A second Ctrl-C, a second or more after the first, stops at once, as Ctrl-C always did: the epoch in progress
  is lost, and the last checkpoint stays.
- A SIGTERM after the first request, or a Ctrl-C within a second of it, is the same request again. A Ctrl-C
  sent to a process group reaches every process in it, and a parent passes the stop on as well: the worker
  pool's parent to its workers (SIGTERM), and ``lrsci run`` to its pytest when it is not in a terminal's
  foreground (a signal sent to its group by a script: it cannot tell who else got it).
- Handlers are installed only in the main thread and only over Python's defaults. So a program that handles
  these signals itself keeps its own handling: an application that embeds lrsci, Ray's workers, and a process
  that has called ``ray.init`` (which sets a SIGTERM handler and leaves it after ``ray.shutdown``).
- A Ray task is not stopped by a signal but by a stop file its driver writes into the shared run store on
  Ctrl-C (``RunStore.run(stop_file=...)``, checked after every epoch; :meth:`StopRequest.ask`).
- The handlers are in place only while a run trains, and while the worker pool's parent waits on its workers
  (:func:`waiter_stop`). Elsewhere Ctrl-C raises at once and SIGTERM ends the process, as Python's defaults do.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

# The defaults these handlers may replace. SIGINT's raises KeyboardInterrupt; SIGTERM's ends the process.
DEFAULTS = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
# A Ctrl-C this soon after the first request is the same request: a SIGINT sent to a process group and passed on
# by a parent arrive within a fraction of a second (`lrsci run` waits 0.25 s, subprocess.Popen.wait's grace, before
# it passes one on); a person's second Ctrl-C comes later.
SAME_REQUEST_SECONDS = 1.0


class StopRequested(KeyboardInterrupt):
    """A run stopped at the end of an epoch, as asked, with its checkpoint written."""


class _Request:
    """The first SIGINT or SIGTERM is a request (:meth:`first`). After it, a SIGTERM, or a SIGINT within
    SAME_REQUEST_SECONDS, is the same request again and is ignored; a later SIGINT raises KeyboardInterrupt."""

    clock = staticmethod(time.monotonic)   # a test may give an instance its own

    def __init__(self):
        self.signal: str | None = None
        self.at = 0.0

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def __call__(self, signum, frame) -> None:
        if self._record(signal.Signals(signum).name):
            self.first()
        elif signum == signal.SIGINT and self.clock() - self.at >= SAME_REQUEST_SECONDS:
            raise KeyboardInterrupt   # a second Ctrl-C: now

    def _record(self, name: str) -> bool:
        """Note the request ``name`` if it is the first; whether it was."""
        if self.signal is not None:
            return False
        self.signal, self.at = name, self.clock()
        return True

    def first(self) -> None:
        raise NotImplementedError


class StopRequest(_Request):
    """A request to stop at the end of the epoch in progress; ``what`` names the run in its message."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def first(self) -> None:
        # os.write, not print: a handler that prints while the interrupted code prints raises (reentrant call).
        # On a terminal, a line of its own: a progress bar may be drawn in place on the current one.
        line = (f"lrsci: {self.signal}: {self.what} stops at the end of its epoch, with a checkpoint "
                "(Ctrl-C again stops at once)\n")
        try:
            os.write(2, (("\n" if os.isatty(2) else "") + line).encode())
        except OSError:   # no stderr (closed, a full pipe): the stop goes on without its line
            pass

    def ask(self, why: str) -> None:
        """A request that comes from elsewhere than a signal (a Ray driver's stop file): ``why`` names it."""
        if self._record(why):
            self.first()

    def stopped(self, how: str) -> StopRequested:
        """The exception to raise once the run has stopped; ``how`` ends the sentence that names the run."""
        return StopRequested(f"{self.signal}: {self.what} {how}")


class WaiterStop(_Request):
    """For a process that waits on others (the worker pool's parent): the first SIGINT or SIGTERM raises
    KeyboardInterrupt, so that it stops them as Ctrl-C does; :meth:`begin` when a stop begins for another reason."""

    def first(self) -> None:
        raise KeyboardInterrupt(self.signal)

    def begin(self) -> None:
        self._record("stop")


@contextlib.contextmanager
def stop_at_epoch_end(what: str):
    """Within it, a SIGINT or SIGTERM sets the yielded :class:`StopRequest`; the caller polls ``requested`` after
    each epoch. ``what`` names the run in the message, e.g. "run 3f2a9c1e0b (seed 4)"."""
    request = StopRequest(what)
    with _handling(request):
        yield request


@contextlib.contextmanager
def waiter_stop():
    """Within it, SIGINT and SIGTERM are handled by the yielded :class:`WaiterStop` (where they have Python's
    defaults, in the main thread)."""
    handler = WaiterStop()
    with _handling(handler):
        yield handler


@contextlib.contextmanager
def _handling(handler):
    """``handler`` for SIGINT and SIGTERM while within, where they have Python's defaults; the main thread only
    (nowhere else can set one): elsewhere, and for a signal a program handles itself, nothing changes."""
    replaced = {}
    if threading.current_thread() is threading.main_thread():
        for sig, default in DEFAULTS.items():
            if signal.getsignal(sig) is default:
                replaced[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in replaced.items():
            signal.signal(sig, old)

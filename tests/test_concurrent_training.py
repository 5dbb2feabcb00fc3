"""Two processes asking for the same runs at the same moment: each run is trained once, by one of them,
and the other reads it back. Real processes (spawned, as the local executor's workers are) racing on
real file locks, started together at a barrier; every epoch is slowed down so that the two really
overlap instead of one finishing before the other has started."""
from __future__ import annotations

import multiprocessing as mp
import time

from lrsci.harness import Job
from lrsci.runs import RunStore
from tests.helpers import blobs, tiny_config

EPOCH_S = 0.3   # long enough for the second process to arrive while the first holds the locks


def _tiny_data(setattr_=setattr) -> None:
    """Every run here reads this tiny data. A spawned child has none of the parent's monkeypatches, so
    it installs the data for its whole (short) life; the test process itself passes ``monkeypatch.setattr``,
    so that the tests after it in this process read their own data again."""
    import lrsci.data.registry
    import lrsci.runs
    data = blobs(n_train=64, n_test=32, dim=8)
    for module in (lrsci.runs, lrsci.data.registry):
        setattr_(module, "load_data", lambda cfg, root=None: data)


def _slow(method):
    def slowed(self, *args, **kw):
        time.sleep(EPOCH_S)
        return method(self, *args, **kw)
    return slowed


def _run_one(root, config, barrier, out):
    """Child: ask the store for one run (the local executor's path)."""
    _tiny_data()
    from lrsci.train import Trainer
    Trainer.run = _slow(Trainer.run)
    store = RunStore(root)
    barrier.wait()
    result = store.run(config)
    out.put((config.key() in store.trained, result.history))


def _run_batch(root, seeds, barrier, out):
    """Child: train a batch of these seeds (the batched executor's path)."""
    _tiny_data()
    from lrsci import executors
    from lrsci.batched import BatchedTrainer
    BatchedTrainer.train_epoch = _slow(BatchedTrainer.train_epoch)
    store = RunStore(root, engine="batched")
    barrier.wait()
    out.put((tuple(seeds), executors.train_batch(store, [Job(tiny_config(seed=s, epochs=3), "run") for s in seeds],
                                                 progress=False)))


def _race(target, args_per_child):
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(len(args_per_child)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, out)) for args in args_per_child]
    for p in procs:
        p.start()
    try:
        answers = [out.get(timeout=60) for _ in procs]   # a deadlock ends here (queue.Empty), not in a hang
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0
        return answers
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()


def test_two_processes_asking_for_one_run_train_it_once_and_read_the_same_numbers(tmp_path, monkeypatch):
    config = tiny_config(epochs=3)
    answers = _race(_run_one, [(str(tmp_path), config)] * 2)
    assert sorted(trained for trained, _ in answers) == [False, True]   # one trained, the other waited and read
    assert answers[0][1] == answers[1][1]
    _tiny_data(monkeypatch.setattr)
    assert RunStore(tmp_path).load(config).history == answers[0][1]


def test_two_overlapping_batches_never_train_a_run_twice_nor_deadlock(tmp_path, monkeypatch):
    """Batches {0,1,2} and {3,2,1} (asked for in that order) share two runs. Each takes its runs' locks in one global order, so
    neither can hold one while waiting for another the other holds; whichever comes second finds the
    shared runs stored and trains only what is left (one run left: a batch of one)."""
    answers = dict(_race(_run_batch, [(str(tmp_path), (0, 1, 2)), (str(tmp_path), (3, 2, 1))]))
    configs = {tiny_config(seed=s, epochs=3).key(): tiny_config(seed=s, epochs=3) for s in range(4)}
    keys = answers[(0, 1, 2)] + answers[(3, 2, 1)]
    assert len(keys) == len(set(keys)) == 4   # every run trained, and none twice
    _tiny_data(monkeypatch.setattr)
    store = RunStore(tmp_path, engine="batched")
    assert all(store.load(configs[k]) is not None for k in keys)

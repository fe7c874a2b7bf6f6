"""The local worker pool: one BLAS thread per worker, results as they complete, equal bit for
bit to the same runs in this process, and cancel() ending every worker at once."""

import os
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.blas_threads import BLAS_THREAD_VARIABLES
from core.recipe import ToyRecipe
from core.spec import mlp_spec
from core.sweep.pool import LocalPool
from core.sweep.task import RunTask, run_task
from core.training.config import TrainConfig

RECIPE = ToyRecipe("spiral", n_samples=60, seed=1)
METRICS = ("epoch", "step", "lr", "train_loss", "train_acc", "test_loss", "test_acc")


def task(index, epochs, lr=0.05, recipe=RECIPE):
    config = TrainConfig(optimizer="adam", lr=lr, batch_size=10, epochs=epochs, seed=index)
    return RunTask(recipe, mlp_spec(2, [6], 2), config, index, f"run {index}")


def assert_same_run(a, b):
    for name in METRICS:
        np.testing.assert_array_equal(a.history[name], b.history[name])
    for name in ("test_loss", "train_acc", "epochs", "params"):
        assert getattr(a, name) == getattr(b, name)


def test_results_arrive_as_they_complete_and_equal_runs_in_this_process():
    tasks = [task(0, 1000), task(1, 2), task(2, 3, lr=0.2), task(3, 2)]
    seen = []
    with LocalPool(workers=2) as pool:
        assert len(list(pool.run([task(8, 1), task(9, 1)]))) == 2  # both workers up
        results = list(pool.run(tasks, on_progress=seen.append))
    order = [r.index for r in results]
    assert sorted(order) == [0, 1, 2, 3]
    assert order[-1] == 0  # the long run finishes last although it started first
    long_run = [p.epoch for p in seen if p.index == 0]
    assert long_run == sorted(long_run) and long_run[-1] > 0 and seen[0].epochs in (1000, 2, 3)
    for result in results:
        assert_same_run(result, run_task(tasks[result.index]))


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_workers_run_one_blas_thread_and_this_process_keeps_its_environment(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    pool = LocalPool(workers=2)
    try:
        assert len(list(pool.run([task(0, 1), task(1, 1)]))) == 2  # both workers up
        for process in pool.processes:
            env = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
            for name in BLAS_THREAD_VARIABLES:
                assert f"{name}=1".encode() in env
    finally:
        pool.close()
    assert os.environ["OMP_NUM_THREADS"] == "7" and "OPENBLAS_NUM_THREADS" not in os.environ


def test_cancel_ends_every_worker_at_once():
    pool = LocalPool(workers=2)
    started = threading.Event()
    results = []

    def iterate():
        results.extend(pool.run([task(i, 10**6) for i in range(4)], lambda p: started.set()))

    runner = threading.Thread(target=iterate)
    runner.start()
    assert started.wait(30), "no run started"
    pids = [p.pid for p in pool.processes]
    t0 = time.monotonic()
    pool.cancel()
    runner.join(10)
    assert not runner.is_alive() and results == []
    assert time.monotonic() - t0 < 10
    assert all(not p.is_alive() and p.exitcode is not None for p in pool.processes)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert list(pool.run([task(0, 1)])) == []  # a cancelled pool runs nothing


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_worker_that_dies_fails_its_run_and_is_replaced():
    pool = LocalPool(workers=1)
    killed = []

    def kill_once(progress):
        if not killed:
            killed.append(pool.processes[0].pid)
            os.kill(killed[0], signal.SIGKILL)

    with pool:
        results = list(pool.run([task(0, 10**6), task(1, 2)], kill_once))
    assert [r.index for r in results] == [0, 1]
    assert results[0].reason.startswith("failed: the worker process ended unexpectedly")
    assert_same_run(results[1], run_task(task(1, 2)))
    assert pool.processes[0].pid != killed[0]


def test_arrays_travel_and_a_run_that_cannot_train_fails_alone():
    data = RECIPE.build()
    bad = replace(task(1, 2), spec=mlp_spec(3, [6], 2))  # 3 inputs for 2 features
    with LocalPool(workers=1) as pool:
        results = sorted(pool.run([task(0, 2, recipe=data), bad]), key=lambda r: r.index)
    assert_same_run(results[0], run_task(task(0, 2)))
    assert results[1].reason.startswith("failed: x_train: shape (30, 2)")


def test_leaving_the_iteration_early_ends_the_workers():
    pool = LocalPool(workers=2)
    for result in pool.run([task(0, 1), task(1, 10**6), task(2, 10**6)]):
        assert result.index == 0
        break
    assert pool.cancelled and not any(p.is_alive() for p in pool.processes)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_worker_that_died_while_idle_is_replaced_when_sent_the_next_run():
    with LocalPool(workers=2) as pool:
        assert len(list(pool.run([task(i, 1) for i in range(4)]))) == 4
        dead = pool.processes[0]
        os.kill(dead.pid, signal.SIGKILL)
        dead.join()
        results = sorted(pool.run([task(i, 2) for i in range(4)]), key=lambda r: r.index)
        assert [r.index for r in results] == [0, 1, 2, 3]
        for result in results:
            assert_same_run(result, run_task(task(result.index, 2)))
        assert pool.processes[0] is not dead and pool.processes[0].is_alive()


class NotedLock:
    """A lock that sets ``tried`` when a thread other than its creator's asks for it."""

    def __init__(self, tried):
        self.lock, self.tried, self.owner = threading.Lock(), tried, threading.get_ident()

    def __enter__(self):
        if threading.get_ident() != self.owner:
            self.tried.set()
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_cancel_while_a_worker_is_replaced_stops_the_new_worker_too(monkeypatch):
    pool = LocalPool(workers=1)
    assert len(list(pool.run([task(0, 1)]))) == 1
    os.kill(pool.processes[0].pid, signal.SIGKILL)
    pool.processes[0].join()
    reached = threading.Event()  # the cancel ran, or waits for the worker being started
    monkeypatch.setattr(pool, "_lock", NotedLock(reached), raising=False)
    start = pool._start_worker
    canceller = threading.Thread(target=lambda: (pool.cancel(), reached.set()))

    def start_during_a_cancel(slot=None):
        canceller.start()  # another thread cancels just as the new worker starts
        assert reached.wait(30)
        start(slot)

    monkeypatch.setattr(pool, "_start_worker", start_during_a_cancel)
    results = list(pool.run([task(1, 10**6)]))
    canceller.join(30)
    assert not canceller.is_alive() and results == []
    assert pool.cancelled and not any(p.is_alive() for p in pool.processes)

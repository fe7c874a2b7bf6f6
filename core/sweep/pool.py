"""A local pool of worker processes for sweeps: started once, one BLAS thread each, results
delivered as they complete with live progress, and :meth:`LocalPool.cancel` ending every worker
at once.

Each worker is a fresh ("spawn") Python process whose environment sets OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS and MKL_NUM_THREADS to 1 before NumPy loads there: several small networks
training side by side go faster one BLAS thread each than fighting over the cores (and a BLAS
thread pool per worker stalls when another process holds a core). A worker keeps the data of
its last recipe, so the runs of a sweep on the same data build or receive it once.

Usage (from a GUI, iterate in a thread and call ``cancel()`` from another)::

    with LocalPool(workers=2) as pool:
        for result in pool.run(tasks, on_progress=print):
            ...
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from multiprocessing.connection import Connection, wait

from core.blas_threads import one_blas_thread
from core.sweep.task import RunProgress, RunResult, RunTask, failed_result, run_task

#: Most worker processes a pool may start.
MAX_WORKERS = 256
#: Seconds a terminated worker gets before it is killed.
TERMINATE_GRACE = 2.0


def default_workers(spare: int = 1) -> int:
    """Worker processes by default: the cores this process may use less ``spare`` (one by
    default, to keep the app's window responsive; the command line spares none), at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - spare)


def check_workers(workers: int | None, spare: int = 1) -> int:
    """``workers``, or :func:`default_workers` with ``spare`` for None; ValueError naming
    --workers otherwise."""
    if workers is None:
        return default_workers(spare)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"--workers: {workers!r}; allowed: a whole number from 1 to {MAX_WORKERS}")
    return workers


class LocalPool:
    """``workers`` processes (default :func:`default_workers`) started at once and kept until
    :meth:`close` or :meth:`cancel`; :meth:`run` may be called again for more tasks."""

    def __init__(self, workers: int | None = None) -> None:
        self.size = check_workers(workers)
        self.cancelled = False
        self._context = multiprocessing.get_context("spawn")
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self._conns: list[Connection] = []
        self._data_keys: list[int | None] = []
        self._next_key = 0
        self._lock = threading.Lock()  # cancel() against a worker being started
        with one_blas_thread():
            for _ in range(self.size):
                self._start_worker()

    def _start_worker(self, slot: int | None = None) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child,), daemon=True)
        process.start()
        child.close()  # the worker's end lives in the worker only: its death reads as EOF here
        if slot is None:
            self.processes.append(process)
            self._conns.append(parent)
            self._data_keys.append(None)
        else:
            self.processes[slot], self._conns[slot], self._data_keys[slot] = process, parent, None

    def _restart(self, slot: int) -> None:
        """A new worker in place of the (dead) one of ``slot``, unless the pool is cancelled."""
        old = self.processes[slot]
        old.join(TERMINATE_GRACE)
        self._conns[slot].close()
        with self._lock:  # a cancel() now either stops the new worker or comes before it
            if self.cancelled:
                return
            with one_blas_thread():
                self._start_worker(slot)

    def run(
        self,
        tasks: Iterable[RunTask],
        on_progress: Callable[[RunProgress], None] | None = None,
    ) -> Iterator[RunResult]:
        """Run ``tasks`` on the workers and yield each result as it completes (not in task
        order; ``result.index`` tells which). ``on_progress`` is called in the iterating thread
        with each running task's :class:`RunProgress` (about four a second per worker). A task
        that cannot run, or whose worker dies, gives a result whose reason is ``"failed: ..."``.
        After :meth:`cancel` the iteration ends without further results; leaving the iteration
        before it ends (``break``, an exception) cancels the pool too."""
        if self.cancelled:
            return
        pending = deque(tasks)
        keys: dict[int, tuple[int, object]] = {}  # id(recipe) -> (key, recipe kept alive)
        idle = list(range(self.size))
        busy: dict[int, RunTask] = {}
        try:
            while (pending or busy) and not self.cancelled:
                while idle and pending and not self.cancelled:
                    slot, task = idle.pop(0), pending.popleft()
                    if id(task.recipe) not in keys:
                        keys[id(task.recipe)] = (self._next_key, task.recipe)
                        self._next_key += 1
                    key = keys[id(task.recipe)][0]
                    busy[slot] = task
                    self._send(slot, task, key)
                if self.cancelled:
                    return
                ready = wait(self._conns_of(busy) + self._sentinels_of(busy))
                for slot in list(busy):
                    message = self._receive(slot, ready)
                    if message is None:
                        continue
                    kind, payload = message
                    if kind == "progress" and on_progress is not None:
                        on_progress(payload)
                    elif kind in ("result", "gone"):
                        task = busy.pop(slot)
                        idle.append(slot)
                        if self.cancelled:
                            return
                        yield payload if kind == "result" else failed_result(task, payload)
        except (OSError, EOFError):
            if not self.cancelled:
                raise
        finally:
            if busy and not self.cancelled:
                self.cancel()  # left early: the workers' runs would answer the next run()

    def _send(self, slot: int, task: RunTask, key: int) -> None:
        """The task to the worker of ``slot``, its recipe first unless that worker has it; a
        worker that died while idle is replaced first (once: a second failure is raised)."""
        for attempt in range(2):
            conn = self._conns[slot]
            try:
                if not self.processes[slot].is_alive():
                    raise BrokenPipeError(f"the worker process of slot {slot} ended")
                if self._data_keys[slot] != key:
                    conn.send(("data", key, task.recipe))
                    self._data_keys[slot] = key
                conn.send(("run", key, replace(task, recipe=None)))
                return
            except OSError:
                if attempt or self.cancelled:
                    raise
                self._restart(slot)
                if self.cancelled:
                    return

    def _conns_of(self, busy: dict[int, RunTask]) -> list[Connection]:
        return [self._conns[slot] for slot in busy]

    def _sentinels_of(self, busy: dict[int, RunTask]) -> list[int]:
        return [self.processes[slot].sentinel for slot in busy]

    def _receive(self, slot: int, ready: list) -> tuple[str, object] | None:
        """The next message of the worker of ``slot`` if one is ready; ``("gone", reason)``
        when the worker died (a new one takes its place)."""
        conn, process = self._conns[slot], self.processes[slot]
        if conn in ready:
            try:
                return conn.recv()
            except (EOFError, OSError):
                pass
        elif process.sentinel not in ready:
            return None
        if self.cancelled:
            return ("gone", "cancelled")
        self._restart(slot)
        return ("gone", f"the worker process ended unexpectedly (exit code {process.exitcode})")

    def cancel(self) -> None:
        """Stop every worker at once (terminated, killed if still there after
        :data:`TERMINATE_GRACE` seconds): running tasks are abandoned, :meth:`run` ends.
        Safe to call from another thread; the pool cannot run tasks afterwards."""
        with self._lock:  # no worker is being started: every one is in self.processes
            self.cancelled = True
            processes = list(self.processes)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(TERMINATE_GRACE)
            if process.is_alive():
                process.kill()
                process.join()

    def close(self) -> None:
        """Let the workers finish and exit (terminated if they do not within a few seconds)."""
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.send(("stop", None, None))
        for process in self.processes:
            process.join(TERMINATE_GRACE)
        self.cancel()
        for conn in self._conns:
            conn.close()

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.cancel()


def _worker_main(conn: Connection) -> None:
    """A worker: run the tasks it is sent, reporting progress and results, until told to stop
    or its pool is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the pool's to handle
    recipe = data = None
    key = None
    while True:
        try:
            kind, message_key, payload = conn.recv()
        except (EOFError, OSError):
            return
        if kind == "stop":
            return
        if kind == "data":
            key, recipe, data = message_key, payload, None
            continue
        task = replace(payload, recipe=recipe)
        try:
            if data is None or message_key != key:
                data = recipe.build()
            result = run_task(task, lambda p: conn.send(("progress", p)), data)
        except Exception as exc:  # noqa: BLE001 - reported as the run's failure, the worker goes on
            data = None
            result = failed_result(task, str(exc) or type(exc).__name__)
        conn.send(("result", result))

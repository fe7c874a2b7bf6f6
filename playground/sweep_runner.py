"""The GUI's handle on a sweep: its runs train on a :class:`core.sweep.pool.LocalPool` driven
from a background thread, and everything they report arrives as signals on the GUI thread.

The thread builds the tasks (when given a function: reading images takes a while; it is
passed :meth:`SweepRunner.is_cancelled` to ask between runs), starts the worker processes
(none once cancelled), and iterates the pool; it touches no widget and emits private signals
only, which reach this object's slots queued on the GUI thread, where the public signals are
emitted. :meth:`SweepRunner.cancel` terminates every worker at once (from the GUI thread: a
signal to each process and a wait of milliseconds), and the thread ends with ``done(True)``.
Whatever goes wrong in the thread (any exception) ends it with ``failed``: a sweep is never
left running.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal, Slot

from core.sweep.pool import LocalPool, default_workers
from core.sweep.task import RunProgress, RunResult, RunTask
from playground.sweep_plan import SweepCancelled

#: The tasks, or a function of the cancel check (``is_cancelled``) that builds them.
Tasks = Sequence[RunTask] | Callable[[Callable[[], bool]], Sequence[RunTask]]


class SweepRunner(QObject):
    """Runs one sweep at a time: :meth:`start`, then ``started``, ``progress`` and ``finished``
    for each run, and ``done`` at the end; ``failed`` instead when the tasks could not be built,
    the workers could not start or the sweep stopped on an error (after ``started``: runs
    that finished before it keep their ``finished``)."""

    started = Signal(int, int)  # runs, worker processes
    progress = Signal(int, object)  # run index, RunProgress
    finished = Signal(int, object)  # run index, RunResult
    runFinished = Signal(object)  # RunResult (for a list of runs)
    done = Signal(bool)  # cancelled
    failed = Signal(str)  # why the sweep could not start or go on, in the app's words

    _started = Signal(int, int)
    _progress = Signal(object)
    _result = Signal(object)
    _ended = Signal(bool, str)

    def __init__(self, parent: QObject | None = None, workers: int | None = None) -> None:
        super().__init__(parent)
        #: most worker processes (default: the cores less one, for the GUI)
        self.workers = workers or default_workers()
        self.pids: list[int] = []  # the worker processes of the sweep (tests, benchmarks)
        self._lock = threading.Lock()
        self._pool: LocalPool | None = None
        self._cancelled = False
        self._thread: threading.Thread | None = None
        self._at_once = self.workers
        self._started.connect(self._on_started)
        self._progress.connect(self._on_progress)
        self._result.connect(self._on_result)
        self._ended.connect(self._on_ended)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def live_workers(self) -> list[int]:
        """The PIDs of the sweep's worker processes still there (none after ``done``)."""
        alive = []
        for pid in self.pids:
            try:
                os.kill(pid, 0)  # asks only whether the process exists
            except ProcessLookupError:
                continue
            alive.append(pid)
        return alive

    def start(self, tasks: Tasks, workers: int | None = None) -> None:
        """Train ``tasks`` (or the tasks a function of :meth:`is_cancelled` returns, called on
        the background thread; its ValueError, say, becomes ``failed``) on at most ``workers``
        processes (default :attr:`workers`). One sweep at a time."""
        if self.running:
            raise RuntimeError("a sweep is running: cancel it or wait for done")
        self._pool, self._cancelled, self.pids = None, False, []
        self._at_once = max(1, workers or self.workers)
        self._thread = threading.Thread(target=self._work, args=(tasks,), daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Stop every run at once: the worker processes are ended (those not started yet never
        run a task); ``done(True)`` follows."""
        with self._lock:
            self._cancelled = True
            pool = self._pool
        if pool is not None:
            pool.cancel()

    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` was called for this sweep (asked from any thread)."""
        with self._lock:
            return self._cancelled

    def _work(self, tasks: Tasks) -> None:
        """Thread body: touches no widget, reports only through the private signals, and
        always ends with ``_ended`` (whatever was raised: the dialog must not wait on)."""
        try:
            cancelled = self._sweep(tasks)
        except SweepCancelled:
            cancelled = True
        except (OSError, EOFError) as exc:
            self._send("_ended", False, f"the worker processes stopped ({exc})")
            return
        except MemoryError:
            self._send("_ended", False, "out of memory")
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self._send("_ended", False, str(exc) or type(exc).__name__)
            return
        self._send("_ended", cancelled, "")

    def _sweep(self, tasks: Tasks) -> bool:
        """Build the tasks, start the workers (unless cancelled by then), run; whether the
        sweep was cancelled."""
        runs = list(tasks(self.is_cancelled) if callable(tasks) else tasks)
        if self.is_cancelled():
            return True
        pool = LocalPool(max(1, min(self._at_once, len(runs))))
        with self._lock:
            self._pool = pool
            cancelled = self._cancelled
        if cancelled:
            pool.cancel()
        self.pids = [p.pid for p in pool.processes]
        self._send("_started", len(runs), pool.size)
        with pool:
            for result in pool.run(runs, lambda p: self._send("_progress", p)):
                self._send("_result", result)
        return self.is_cancelled()  # (the pool says cancelled once closed: it ends its workers)

    def _send(self, signal: str, *args: object) -> None:
        """Emit from the thread; nothing when this object is gone (its window closed while the
        last runs ended)."""
        try:
            getattr(self, signal).emit(*args)
        except RuntimeError:  # "Signal source has been deleted"
            pass

    @Slot(int, int)
    def _on_started(self, runs: int, workers: int) -> None:
        self.started.emit(runs, workers)

    @Slot(object)
    def _on_progress(self, progress: RunProgress) -> None:
        self.progress.emit(progress.index, progress)

    @Slot(object)
    def _on_result(self, result: RunResult) -> None:
        self.finished.emit(result.index, result)
        self.runFinished.emit(result)

    @Slot(bool, str)
    def _on_ended(self, cancelled: bool, message: str) -> None:
        if self._thread is not None:
            self._thread.join()  # it has emitted its last signal: a matter of microseconds
        self._thread = self._pool = None
        if message:
            self.failed.emit(message)
        else:
            self.done.emit(cancelled)

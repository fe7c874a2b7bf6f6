"""Work off the GUI thread: a :class:`Job` runs one function on a worker thread and delivers its
outcome as signals on the GUI thread, with Cancel.

Shaped like superqt's ``thread_worker`` (``yielded``/``returned``/``errored``/``aborted``): the
function is plain Python that knows nothing of Qt. It runs inside :func:`core.cancel.cancel_on`,
so the core's readers stop at their next check once :meth:`Job.cancel` is called; a function
that returns a generator reports each value it yields as ``progress`` and may also stop between
two yields (or it calls :meth:`Job.report`). The thread touches no widget: it emits private
signals of the job (a QObject of the GUI thread), so Qt queues them there, and the job re-emits
them as its public signals.

While any job runs, Python's automatic garbage collection is off and it is turned back on from
the GUI thread when the last job ends (pyqtgraph's ``GarbageCollector`` does the same for the
same reason): a collection started by the worker thread could delete a Qt object from it.
"""

from __future__ import annotations

import gc
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from core.cancel import Cancelled, cancel_on

#: Jobs whose thread is running (the garbage collector is off while there are any).
_running: set[Job] = set()
_gc_was_enabled = True


class Job(QObject):
    """``work()`` on a worker thread once :meth:`start` is called; ``title`` says what it does
    (the busy indicator shows it). Exactly one of ``succeeded(result)``, ``failed(exception)``
    and ``cancelled()`` follows, then ``ended()``, all on the GUI thread; ``progress(value)``
    for each value a generator ``work`` yields. A job runs once."""

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    ended = Signal()

    _yielded = Signal(object)  # emitted by the worker thread
    _outcome = Signal(str, object)  # "succeeded" | "failed" | "cancelled", result or exception

    def __init__(self, title: str, work: Callable[[], Any], parent: QObject) -> None:
        super().__init__(parent)  # owned by its parent: never deleted by the worker thread
        self.title = title
        self.running = False
        self._work = work
        self._flag = threading.Event()
        self._thread: threading.Thread | None = None
        self._yielded.connect(self._on_yielded)
        self._outcome.connect(self._on_outcome)

    def start(self) -> Job:
        global _gc_was_enabled
        if self._thread is not None:
            raise RuntimeError("a job runs once")
        if not _running:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _running.add(self)
        self.running = True
        self._thread = threading.Thread(target=self._run, name=f"job: {self.title}", daemon=True)
        self._thread.start()
        return self

    def report(self, value: Any) -> None:
        """From the work (its thread): emit ``progress(value)`` on the GUI thread."""
        self._yielded.emit(value)

    def cancel(self) -> None:
        """Ask the work to stop (at the core's next check, or its next yield); ``cancelled``
        follows, and never ``succeeded``, even if the work had just finished."""
        self._flag.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread has ended (signals may still be queued); True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    # -- the worker thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            with cancel_on(self._flag):
                result = self._work()
                if inspect.isgenerator(result):
                    result = self._drain(result)
                if self._flag.is_set():
                    raise Cancelled("cancelled")
        except Cancelled:
            self._outcome.emit("cancelled", None)
        except Exception as exc:  # every failure reaches the GUI thread, or it would wait forever
            self._outcome.emit("failed", exc)
        else:
            self._outcome.emit("succeeded", result)

    def _drain(self, steps: Iterator[Any]) -> Any:
        while True:
            if self._flag.is_set():
                steps.close()
                raise Cancelled("cancelled")
            try:
                value = next(steps)
            except StopIteration as stop:
                return stop.value
            self._yielded.emit(value)

    # -- the GUI thread ----------------------------------------------------------------------
    @Slot(object)
    def _on_yielded(self, value: Any) -> None:
        if self.running:
            self.progress.emit(value)

    @Slot(str, object)
    def _on_outcome(self, outcome: str, value: Any) -> None:
        self._thread.join()  # it has just emitted its last signal
        if self not in _running:  # stopped with its owner (stop_jobs): nobody listens
            return
        self.running = False
        _running.discard(self)
        if not _running and _gc_was_enabled:
            gc.enable()
        if self._flag.is_set():  # cancelled before its result was delivered: it never is
            outcome = "cancelled"
        if outcome == "cancelled":
            self.cancelled.emit()
        else:
            getattr(self, outcome).emit(value)
        self.ended.emit()


def stop_jobs(owner: QObject, timeout: float = 3.0) -> bool:
    """Cancel the running jobs of ``owner`` and of its children (a window closing) and wait for
    their threads; True if all ended in time. Their signals are dropped with them."""
    jobs = [job for job in list(_running) if _belongs(job, owner)]
    for job in jobs:
        job.cancel()
    ended = all(job.wait(timeout) for job in jobs)
    for job in jobs:
        job.running = False
        _running.discard(job)
    if not _running and _gc_was_enabled:
        gc.enable()
    return ended


def _belongs(obj: QObject | None, owner: QObject) -> bool:
    while obj is not None:
        if obj is owner:
            return True
        obj = obj.parent()
    return False

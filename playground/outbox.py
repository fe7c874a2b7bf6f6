"""The engine's outbox: messages to the GUI, sent in order by a thread of their own, snapshots
flow-controlled by the GUI's acks.

A snapshot is hundreds of kilobytes, more than a pipe holds, and training must not wait while the
GUI is busy painting. After sending a snapshot the outbox sends no other until the GUI acks it,
keeping only the newest, so a busy GUI never has a backlog and training never blocks on it.
An ack says how many history rows of the run the GUI holds: a snapshot leaves with only the rows
after those (:mod:`playground.history_rows`), so its size does not grow with the run.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable

from core.training.snapshot import Snapshot
from playground.history_rows import rows_from


class Outbox:
    """Messages to the GUI, in order, sent by a daemon thread so that the training loop never
    waits on the pipe.

    Snapshots wait in a single slot (the newest replaces an unsent one) and leave only once the
    GUI has acknowledged the previous one. Any other message first releases the waiting
    snapshot, so the GUI sees a run's newest picture before it hears the run paused or ended.
    """

    def __init__(self, send: Callable[[tuple], None]) -> None:
        self._send = send
        self._ready = threading.Condition()
        self._queue: deque[tuple] = deque()
        self._snapshot: tuple | None = None
        self._awaiting_ack = False
        self._acked: tuple[int | None, int] = (None, 0)  # (run id, history rows) the GUI holds
        self._sending = False
        threading.Thread(target=self._run, name="outbox", daemon=True).start()

    def snapshot(self, run_id: int, snap: Snapshot) -> None:
        with self._ready:
            self._snapshot = ("snapshot", run_id, snap)
            self._ready.notify()

    def message(self, message: tuple) -> None:
        with self._ready:
            if self._snapshot is not None:
                self._queue.append(self._snapshot)
                self._snapshot = None
            self._queue.append(message)
            self._ready.notify()

    def ack(self, run_id: int | None = None, rows: int = 0) -> None:
        """The GUI has shown a snapshot and holds ``rows`` history rows of run ``run_id``."""
        with self._ready:
            self._awaiting_ack = False
            self._acked = (run_id, rows)
            self._ready.notify()

    def drop_snapshot(self) -> None:
        """Forget an unsent snapshot (of a run that was replaced); the next run's first
        snapshot carries its whole history."""
        with self._ready:
            self._snapshot = None
            self._acked = (None, 0)

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until everything sendable has been sent; False on timeout."""
        with self._ready:
            return self._ready.wait_for(
                lambda: (
                    not self._sending
                    and not self._queue
                    and (self._snapshot is None or self._awaiting_ack)
                ),
                timeout,
            )

    def _next(self) -> tuple:
        with self._ready:
            self._sending = False
            self._ready.notify_all()  # for drain()
            while True:
                if self._queue:
                    message = self._queue.popleft()
                    break
                if self._snapshot is not None and not self._awaiting_ack:
                    message, self._snapshot = self._snapshot, None
                    break
                self._ready.wait()
            if message[0] == "snapshot":
                self._awaiting_ack = True
                message = self._new_rows(*message[1:])
            self._sending = True
            return message

    def _new_rows(self, run_id: int, snap: Snapshot) -> tuple:
        """The message of ``snap`` with the history rows the GUI does not hold yet:
        ("snapshot", run_id, snap with rows from ``start`` on, start)."""
        acked_run, rows = self._acked
        total = len(snap.history["epoch"])
        start = rows if acked_run == run_id and rows <= total else 0
        return ("snapshot", run_id, rows_from(snap, start), start)

    def _run(self) -> None:
        try:
            while True:
                self._send(self._next())
        except (BrokenPipeError, EOFError, OSError):
            os._exit(0)  # the app has gone

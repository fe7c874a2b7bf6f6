"""Where a workspace's run list is written and set aside: a thread that writes the newest list
handed over (never on the GUI thread), and the damaged file moved out of the way, never over an
earlier one."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.runs import RunRecord
from core.runs_archive import save_runs


class RunsSaver(QObject):
    """Writes run lists in a thread of its own, one at a time: a list handed over while one
    is written replaces any still waiting (the newest wins). ``saved`` follows each write;
    ``error`` is why the last one failed ("" if it did not)."""

    saved = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.error = ""
        self._lock = threading.Lock()
        self._pending: tuple[Path, list[RunRecord]] | None = None
        self._thread: threading.Thread | None = None

    def save(self, path: Path, records: list[RunRecord]) -> None:
        with self._lock:
            self._pending = path, records
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name="runs-save", daemon=True)
                self._thread.start()

    def _drain(self) -> None:
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None:
                    self._thread = None
                    return
            try:
                save_runs(*job)
                error = ""
            except (OSError, ValueError) as exc:
                error = str(exc)
            with self._lock:
                self.error = error
            self.saved.emit()

    def busy(self) -> bool:
        with self._lock:
            return self._thread is not None

    def wait(self, timeout: float) -> None:
        """Until every list handed over is written, or ``timeout`` seconds."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)


def set_aside(path: Path) -> Path | None:
    """Move a runs file that could not be read (all of it or some runs) to
    ``<mode>.damaged.npz``, or ``<mode>.damaged-2.npz``, ``-3``… if that exists (an earlier one
    is never overwritten); the name it has now, or None if it could not be moved."""
    stem = path.name.removesuffix(".npz")
    for k in range(1, 1000):
        aside = path.with_name(f"{stem}.damaged{'' if k == 1 else f'-{k}'}.npz")
        if not aside.exists():
            try:
                os.rename(path, aside)
            except OSError:
                return None
            return aside
    return None

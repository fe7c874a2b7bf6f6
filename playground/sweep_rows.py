"""A sweep's runs in their mode's Runs tab, live: a "waiting" row per run when the sweep
starts, its epochs and metrics as its progress arrives (at most every
:data:`playground.run_list.UPDATE_INTERVAL` ms, all runs at once), its final record when it
finishes. When the sweep ends early (Cancel, an error), the runs that trained an epoch stay
with what they reached; the others leave the list, as do runs that failed or trained no epoch.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QObject, QTimer

from core.runs import COLUMNS, kept_columns
from core.sweep.task import RunProgress, RunResult
from core.training.history import History
from playground.run_list import UPDATE_INTERVAL


def progress_row(progress: RunProgress) -> list[float]:
    """A history row (:data:`core.runs.COLUMNS`) of what a progress report says."""
    values = {
        "epoch": progress.epoch,
        "step": progress.step,
        "time": progress.seconds,
        "train_loss": progress.train_loss,
        "train_acc": progress.train_acc,
        "test_loss": progress.test_loss,
        "test_acc": progress.test_acc,
    }
    return [math.nan if values.get(c) is None else float(values[c]) for c in COLUMNS]


class SweepRows(QObject):
    """The rows of one sweep in ``runs`` (a :class:`playground.run_list.RunList`)."""

    def __init__(self, runs: Any, sessions: list[tuple[str, Any]], parent: QObject) -> None:
        """``sessions``: (name, the session the run trains) per run, in task order."""
        super().__init__(parent)
        self.runs = runs
        self.ids = runs.add_sweep_rows(sessions)
        self._rows: dict[int, History] = {}  # run index -> its rows so far
        self._last: dict[int, RunProgress] = {}  # run index -> its newest progress, not shown
        self._finished: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(UPDATE_INTERVAL)
        self._timer.timeout.connect(self.flush)

    def progress(self, progress: RunProgress) -> None:
        """A run's progress: kept, shown with the next update."""
        index = progress.index
        if index in self._finished:
            return
        rows = self._rows.setdefault(index, History())
        # every epoch since the last report when it says them, else what it says now
        new = [progress_row(progress)] if progress.rows is None else progress.rows.tolist()
        for row in new:
            fresh = not rows or (row[0] > rows.last("epoch") and row[1] > rows.last("step"))
            if row[0] >= 1 and row[1] >= 1 and fresh:
                rows.append(*row)
        self._last[index] = progress
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Show every run's newest progress now."""
        self._timer.stop()
        for index, progress in self._last.items():
            rows = kept_columns(self._rows[index].view())
            self.runs.update_sweep_row(
                self.ids[index], rows, progress.epoch, progress.step, progress.seconds
            )
        self._last.clear()

    def finished(self, result: RunResult, session: Any) -> None:
        """A run ended: its final record (or, trained no epoch, its row leaves)."""
        self._finished.add(result.index)
        self._last.pop(result.index, None)
        self.runs.add_sweep_run(result, session, self.ids[result.index])

    def ended(self) -> None:
        """The sweep ended: runs stopped before their end keep what they reached if they
        trained an epoch, the others leave."""
        self.flush()
        gone = [
            run_id
            for index, run_id in enumerate(self.ids)
            if index not in self._finished and not self._rows.get(index)
        ]
        self.runs.drop_sweep_rows(gone)

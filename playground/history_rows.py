"""History as new rows: a snapshot crosses the pipe with only the history rows the GUI has not
acknowledged, and the GUI puts the whole history back together.

A long run's history is megabytes (64 bytes an epoch: 2.6 MB at 40,000 epochs); sent whole with
every snapshot, 25 times a second, it made snapshots slower to send, read and show as the run
went on. Within a run rows are only ever appended, so the engine sends the rows from the count
the GUI last acknowledged (``("ack", run_id, rows)``) and the GUI appends those it lacks. A new
run (a resumed one too) starts from none: its first snapshot carries its whole history once.

This module imports no Qt: both processes use it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.training.history import History
from core.training.snapshot import Snapshot


def rows_from(snap: Snapshot, start: int) -> Snapshot:
    """``snap`` with only its history rows from ``start`` on (what the engine sends)."""
    return replace(snap, history={name: column[start:] for name, column in snap.history.items()})


class HistoryRows:
    """The GUI's copy of the current run's history, put together from the rows each snapshot
    brings; snapshots of the run come out whole again (:meth:`whole`)."""

    def __init__(self) -> None:
        self.run_id: int | None = None
        self.history = History()

    def rows(self, run_id: int) -> int:
        """The rows held of run ``run_id`` (what the GUI acknowledges)."""
        return len(self.history) if run_id == self.run_id else 0

    def whole(self, run_id: int, snap: Snapshot, start: int) -> Snapshot | None:
        """``snap`` of run ``run_id``, sent with its history rows from ``start`` on, with the
        run's whole history (read-only views that later rows never change). None if rows
        before ``start`` are missing here: the engine sends them again after the next ack."""
        new = np.column_stack([snap.history[name] for name in History.COLUMNS])
        if start == 0:  # the whole history: a new run, or the same one sent afresh
            self.run_id, self.history = run_id, History.from_rows(new)
        elif run_id != self.run_id or not start <= len(self.history) <= start + len(new):
            return None
        else:
            self.history.extend(new[len(self.history) - start :])
        return replace(snap, history=self.history.view())

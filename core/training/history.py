"""A run's metric history: one row of metrics per completed epoch.

Rows are only ever appended, into preallocated columns that double when full (into new arrays:
the old ones are left as they were). So a read-only view of the first ``size`` rows never
changes afterwards, and a snapshot can hold such views instead of copying the whole history each
time: taking a snapshot costs the same at epoch 10 and at epoch 100,000.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

#: Rows a new history has room for before it first grows.
INITIAL_CAPACITY = 64


class History:
    """Per-epoch records in growable NumPy columns."""

    COLUMNS = ("epoch", "step", "time", "lr", "train_loss", "train_acc", "test_loss", "test_acc")

    def __init__(self, capacity: int = INITIAL_CAPACITY) -> None:
        # One row per column, so each column's view is contiguous.
        self._data = np.full((len(self.COLUMNS), max(1, capacity)), np.nan)
        self.size = 0

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> History:
        """A history holding ``rows``, ``(epochs, len(COLUMNS))`` (as :meth:`rows` gives)."""
        history = cls(max(INITIAL_CAPACITY, len(rows)))
        history.extend(rows)
        return history

    def __len__(self) -> int:
        return self.size

    def append(self, *row: float | None) -> None:
        """Add one epoch's values, in :attr:`COLUMNS` order (None where not applicable)."""
        if len(row) != len(self.COLUMNS):
            raise ValueError(f"history: {len(row)} values for the columns {self.COLUMNS}")
        self._make_room(1)
        self._data[:, self.size] = [np.nan if value is None else value for value in row]
        self.size += 1

    def extend(self, rows: np.ndarray) -> None:
        """Add several epochs' rows, ``(n, len(COLUMNS))`` (nan where not applicable)."""
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(self.COLUMNS):
            width = len(self.COLUMNS)
            raise ValueError(f"history: rows of shape {rows.shape}; expected (n, {width})")
        self._make_room(len(rows))
        self._data[:, self.size : self.size + len(rows)] = rows.T
        self.size += len(rows)

    def _make_room(self, n: int) -> None:
        capacity = self._data.shape[1]
        if self.size + n <= capacity:
            return
        while capacity < self.size + n:
            capacity *= 2
        grown = np.full((len(self.COLUMNS), capacity), np.nan)
        grown[:, : self.size] = self._data[:, : self.size]
        self._data = grown  # the old array stays as it is for the views into it

    def rows(self, start: int = 0) -> np.ndarray:
        """A copy of the rows from ``start`` on, ``(epochs - start, len(COLUMNS))`` float64."""
        return self._data[:, start : self.size].T.copy()

    def columns(self) -> dict[str, np.ndarray]:
        """A copy of every column, ``(epochs,)`` float64 each (nan where not applicable)."""
        return {name: self._data[i, : self.size].copy() for i, name in enumerate(self.COLUMNS)}

    def view(self) -> dict[str, np.ndarray]:
        """Every column ``(epochs,)`` as a read-only view that later epochs never change."""
        return {name: self.column(name) for name in self.COLUMNS}

    def column(self, name: str) -> np.ndarray:
        """One column ``(epochs,)`` as a read-only view that later epochs never change."""
        view = self._data[self.COLUMNS.index(name), : self.size]
        view.flags.writeable = False
        return view

    def last(self, name: str) -> float | None:
        if not self.size:
            return None
        value = float(self._data[self.COLUMNS.index(name), self.size - 1])
        return None if math.isnan(value) else value


def history_rows(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """The rows ``(epochs, len(History.COLUMNS))`` float64 of a history given as columns (a
    snapshot's or a run result's ``history``)."""
    return np.column_stack([np.asarray(columns[c], np.float64) for c in History.COLUMNS]).reshape(
        -1, len(History.COLUMNS)
    )

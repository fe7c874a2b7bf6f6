"""A run's metric history: one row of metrics per completed epoch."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


class History:
    """Per-epoch records in growable NumPy columns (cheap to copy into a snapshot)."""

    COLUMNS = ("epoch", "step", "time", "lr", "train_loss", "train_acc", "test_loss", "test_acc")

    def __init__(self) -> None:
        self._data = np.full((64, len(self.COLUMNS)), np.nan)
        self.size = 0

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> History:
        """A history holding ``rows``, ``(epochs, len(COLUMNS))`` (as :meth:`rows` gives)."""
        history = cls()
        history._data = np.full((max(64, len(rows)), len(cls.COLUMNS)), np.nan)
        history._data[: len(rows)] = rows
        history.size = len(rows)
        return history

    def append(self, *row: float | None) -> None:
        """Add one epoch's values, in :attr:`COLUMNS` order (None where not applicable)."""
        if len(row) != len(self.COLUMNS):
            raise ValueError(f"history: {len(row)} values for the columns {self.COLUMNS}")
        if self.size == len(self._data):
            self._data = np.concatenate([self._data, np.full_like(self._data, np.nan)])
        self._data[self.size] = [np.nan if value is None else value for value in row]
        self.size += 1

    def rows(self) -> np.ndarray:
        """A copy of every row, ``(epochs, len(COLUMNS))`` float64."""
        return self._data[: self.size].copy()

    def columns(self) -> dict[str, np.ndarray]:
        """A copy of every column, ``(epochs,)`` float64 each (nan where not applicable)."""
        data = self._data[: self.size]
        return {name: data[:, i].copy() for i, name in enumerate(self.COLUMNS)}

    def column(self, name: str) -> np.ndarray:
        """One column ``(epochs,)`` as a read-only view (valid until the next append)."""
        view = self._data[: self.size, self.COLUMNS.index(name)]
        view.flags.writeable = False
        return view

    def last(self, name: str) -> float | None:
        if not self.size:
            return None
        value = float(self._data[self.size - 1, self.COLUMNS.index(name)])
        return None if math.isnan(value) else value


def history_rows(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """The rows ``(epochs, len(History.COLUMNS))`` float64 of a history given as columns (a
    snapshot's or a run result's ``history``)."""
    return np.column_stack([np.asarray(columns[c], np.float64) for c in History.COLUMNS]).reshape(
        -1, len(History.COLUMNS)
    )

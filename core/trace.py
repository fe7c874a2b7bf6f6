"""A bounded record of every mini-batch loss of a run, for the per-step loss curve.

A run may take millions of steps; keeping them all would make every snapshot bigger. The trace
keeps at most ``capacity`` points: each point is the mean loss of ``width`` consecutive steps,
and when the trace fills up, neighbouring points are merged pairwise and ``width`` doubles. So
the whole run stays visible at a resolution that coarsens as it grows, and recording a step
costs two additions.
"""

from __future__ import annotations

import numpy as np


class LossTrace:
    def __init__(self, capacity: int = 2048) -> None:
        if capacity < 2 or capacity % 2:
            raise ValueError(f"capacity: {capacity}; allowed: an even number >= 2")
        self.capacity = capacity
        self.width = 1  # steps per point
        self._steps = np.zeros(capacity, np.int64)  # the last step each point covers
        self._loss = np.zeros(capacity)
        self.size = 0
        self._sum = 0.0
        self._count = 0

    def add(self, step: int, loss: float) -> None:
        """Record the loss of ``step`` (steps are added in order)."""
        self._sum += loss
        self._count += 1
        if self._count < self.width:
            return
        self._steps[self.size] = step
        self._loss[self.size] = self._sum / self._count
        self.size += 1
        self._sum, self._count = 0.0, 0
        if self.size == self.capacity:  # merge now, so every point covers the same width
            half = self.capacity // 2
            self._loss[:half] = self._loss.reshape(half, 2).mean(axis=1)
            self._steps[:half] = self._steps[1::2]
            self.size, self.width = half, self.width * 2

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (steps, mean losses), one entry per point."""
        return self._steps[: self.size].copy(), self._loss[: self.size].copy()

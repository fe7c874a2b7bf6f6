"""A bounded record of every mini-batch loss of a run, for the per-step loss curve.

A run may take millions of steps; keeping them all would make every snapshot bigger. The trace
keeps at most ``capacity`` points: each point is the mean loss of ``width`` consecutive steps,
and when the trace fills up, neighbouring points are merged pairwise and ``width`` doubles. So
the whole run stays visible at a resolution that coarsens as it grows, and recording a step
costs two additions.
"""

from __future__ import annotations

import math
from typing import Any

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

    def state(self) -> dict[str, Any]:
        """What continues this trace exactly: ``steps`` ``(size,)`` int64 and ``loss``
        ``(size,)`` float64 (its points), ``width`` (steps per point), and the point being
        filled: the ``sum`` of its ``count`` losses so far."""
        steps, loss = self.arrays()
        return {
            "steps": steps,
            "loss": loss,
            "width": self.width,
            "sum": self._sum,
            "count": self._count,
        }

    @classmethod
    def from_state(cls, state: Any, capacity: int = 2048) -> LossTrace:
        """A trace continuing from :meth:`state`; ValueError naming the field for anything no
        trace of ``capacity`` points holds."""
        if not isinstance(state, dict) or set(state) != {"steps", "loss", "width", "sum", "count"}:
            raise ValueError("trace: expected steps, loss, width, sum and count")
        steps, loss = np.asarray(state["steps"]), np.asarray(state["loss"])
        width, count, total = state["width"], state["count"], state["sum"]
        if steps.ndim != 1 or steps.shape != loss.shape or len(steps) >= capacity:
            raise ValueError(
                f"trace: {steps.shape} steps and {loss.shape} losses; allowed: "
                f"as many of each, fewer than {capacity}"
            )
        if steps.dtype.kind not in "iu" or loss.dtype.kind != "f":
            raise ValueError("trace: steps must be whole numbers and losses numbers")
        if len(steps) and (steps[0] < 1 or np.any(np.diff(steps) <= 0)):
            raise ValueError("trace: its steps do not grow from 1")
        if not np.all(np.isfinite(loss)):
            raise ValueError("trace: a loss is not finite")
        if type(width) is not int or width < 1 or width & (width - 1) or width > 2**62:
            raise ValueError(f"trace: width {width!r}; allowed: a power of two")
        if type(count) is not int or not 0 <= count < width:
            raise ValueError(f"trace: count {count!r}; allowed: 0 to {width - 1}")
        if (
            isinstance(total, bool)
            or not isinstance(total, (int, float))
            or not math.isfinite(total)
        ):
            raise ValueError(f"trace: sum {total!r} is not a finite number")
        trace = cls(capacity)
        trace.size = len(steps)
        trace._steps[: trace.size] = steps
        trace._loss[: trace.size] = loss
        trace.width, trace._sum, trace._count = width, float(total), count
        return trace

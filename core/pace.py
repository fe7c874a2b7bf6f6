"""Training speed: a chosen pace (:class:`Speed`, steps or epochs per second, or as fast as
possible) and a limiter (:class:`Pace`) that says how long to wait before the next piece of
work so that the work goes at that pace. The clock is injected, so tests are exact.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

UNITS = ("step", "epoch")
_LABEL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(step|epoch)s?\s*/\s*s\s*$")


@dataclass(frozen=True)
class Speed:
    """``rate`` training steps or epochs (``unit``) per second; ``rate`` None: as fast as
    possible. Written and read as its :attr:`label`, e.g. ``"1 step/s"``, ``"20 epochs/s"``,
    ``"max"``."""

    rate: float | None = None
    unit: str = "epoch"

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"speed unit: {self.unit!r}; allowed: {', '.join(UNITS)}")
        if self.rate is not None and not (math.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f"speed: {self.rate!r} per second; allowed: a positive number")

    @property
    def label(self) -> str:
        if self.rate is None:
            return "max"
        plural = "" if self.rate == 1 else "s"
        return f"{self.rate:g} {self.unit}{plural}/s"

    def steps_per_second(self, steps_per_epoch: int) -> float | None:
        """The pace in training steps per second for a run of ``steps_per_epoch`` (None: no
        limit)."""
        if self.rate is None:
            return None
        return self.rate * (steps_per_epoch if self.unit == "epoch" else 1)

    @classmethod
    def parse(cls, text: str) -> Speed:
        """The speed a :attr:`label` names; ValueError saying what is allowed otherwise."""
        if isinstance(text, str) and text.strip().lower() == "max":
            return cls()
        match = _LABEL.match(text.lower()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(
                f'speed: {text!r}; allowed: "max", "N steps/s" or "N epochs/s" (e.g. "10 epochs/s")'
            )
        return cls(float(match[1]), match[2])


#: As fast as the engine goes.
MAX = Speed()


class Pace:
    """A limiter for work done in pieces at ``rate`` units per second (None: no limit).

    Call :meth:`delay` before a piece (wait that many seconds first) and :meth:`done` after
    it with the units it did. The next piece is due ``units / rate`` seconds after the previous
    one was due, so waits that end a little late do not slow the pace down. A piece that took
    longer than its share is made up for by the next pieces going without a wait, but for at
    most ``catch_up`` seconds: a hiccup does not lower the pace, and a long slow stretch is not
    followed by a burst."""

    def __init__(
        self,
        rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        catch_up: float = 0.1,
    ) -> None:
        self._clock = clock
        self.catch_up = catch_up
        self.rate: float | None = None
        self._due = 0.0
        self.set_rate(rate)

    def set_rate(self, rate: float | None) -> None:
        """Change the pace; the next piece is due at once."""
        if rate is not None and not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate: {rate!r}; allowed: a positive number or None")
        self.rate = rate
        self.restart()

    def restart(self) -> None:
        """Start afresh (e.g. after a pause): the next piece is due now, with no credit."""
        if self.rate is not None:
            self._due = self._clock()

    def done(self, units: float) -> None:
        """A piece of ``units`` (steps, say) has been done."""
        if self.rate is not None and units > 0:
            self._due = max(self._due + units / self.rate, self._clock() - self.catch_up)

    def delay(self) -> float:
        """Seconds to wait before the next piece (0.0: go on)."""
        if self.rate is None:
            return 0.0
        return max(0.0, self._due - self._clock())

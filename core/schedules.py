"""Learning-rate schedules as multipliers of the base learning rate.

A schedule maps training progress ``t`` (in epochs, a float: ``step / steps_per_epoch``) to a
factor; the trainer sets ``optimizer.lr = base_lr * schedule.factor(t)`` before every step.
Because the schedule only supplies a multiplier, a person can change the base learning rate
live and the schedule keeps applying to the new value.

Main schedules (``t`` measured from the end of warm-up, see below):

- ``constant``:    ``1``
- ``step``:        ``gamma ** floor(t / step_size)``          (``torch.optim.lr_scheduler.StepLR``)
- ``exponential``: ``gamma ** t``                              (``ExponentialLR``)
- ``cosine``:      ``m + (1 - m) * (1 + cos(pi * min(t, T) / T)) / 2`` with ``m = min_factor``,
  ``T = total_epochs``: the closed form of ``CosineAnnealingLR(T_max=T, eta_min=m * base_lr)``,
  held at ``m`` after ``T`` (PyTorch's would rise again).

Warm-up (any schedule, ``warmup = w >= 0`` epochs, 0 = none)::

    factor(t) = (t + 1) / (w + 1)       for 0 <= t < w
    factor(t) = main(t - w)             for t >= w

The ramp equals ``LinearLR(start_factor=1 / (w + 1), total_iters=w)`` at integer epochs
(1/(w+1), 2/(w+1), ..., then 1) and starts above zero, so the very first step already learns.
The main schedule starts at the end of warm-up, like ``SequentialLR([LinearLR, main],
milestones=[w])``; every main schedule starts at 1, so the factor is continuous at ``t = w``.
Note that ``total_epochs`` and ``step_size`` therefore count epochs *after* the warm-up.

Schedules are described by JSON-able specs, e.g.
``{"name": "cosine", "total_epochs": 100, "min_factor": 0.0, "warmup": 5}``;
:func:`make_schedule` builds one and :meth:`Schedule.to_spec` gives it back.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "SCHEDULES",
    "Constant",
    "Cosine",
    "Exponential",
    "Schedule",
    "StepDecay",
    "make_schedule",
]


def _number(field: str, value: Any, allowed: str) -> float | int:
    """Return ``value`` as a finite int or float (ints stay ints) or raise ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{field} must be a number {allowed}, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{field} must be a finite number {allowed}, got {value!r}")
    return result


def _gamma(value: Any) -> float:
    x = float(_number("gamma", value, "in (0, 1]"))
    if not 0.0 < x <= 1.0:
        raise ValueError(f"gamma must be in (0, 1], got {value!r}")
    return x


class Schedule:
    """Base class: ``factor(t)`` multiplies the base learning rate at progress ``t`` epochs.

    Subclasses set ``name`` and implement :meth:`_main` (the schedule after warm-up, with
    ``_main(0) == 1``) and :meth:`_params` (their spec entries other than name and warm-up).
    """

    name: ClassVar[str] = ""

    def __init__(self, warmup: float = 0) -> None:
        """Args: warmup: linear warm-up length in epochs, finite and >= 0 (0 = none)."""
        w = _number("warmup", warmup, ">= 0")
        if w < 0:
            raise ValueError(f"warmup must be >= 0 epochs, got {warmup!r}")
        self.warmup = w

    def factor(self, t: float) -> float:
        """Learning-rate multiplier at training progress ``t`` (epochs, finite and >= 0)."""
        if not 0.0 <= t < math.inf:
            raise ValueError(f"t (training progress in epochs) must be finite and >= 0, got {t!r}")
        w = self.warmup
        if t < w:
            return (t + 1.0) / (w + 1.0)
        return self._main(t - w)

    @property
    def flat(self) -> bool:
        """Whether ``factor(t)`` is 1 at every ``t`` (a trainer then skips computing it)."""
        return False

    def _main(self, t: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        return {}

    def to_spec(self) -> dict[str, Any]:
        """JSON-able description; ``make_schedule(s.to_spec()) == s``."""
        return {"name": self.name, **self._params(), "warmup": self.warmup}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and self.to_spec() == other.to_spec()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_spec().items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_spec().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """Factor 1 (after the optional warm-up)."""

    name = "constant"

    @property
    def flat(self) -> bool:
        return not self.warmup

    def _main(self, t: float) -> float:
        return 1.0


class StepDecay(Schedule):
    """``gamma ** floor(t / step_size)``: multiply by ``gamma`` every ``step_size`` epochs.

    Matches ``torch.optim.lr_scheduler.StepLR(step_size, gamma)`` at integer epochs.
    """

    name = "step"

    def __init__(self, step_size: int = 10, gamma: float = 0.5, warmup: float = 0) -> None:
        """Args: step_size: integer >= 1 (epochs); gamma: in (0, 1]; warmup: epochs >= 0."""
        if isinstance(step_size, (bool, np.bool_)) or not isinstance(step_size, (int, np.integer)):
            raise ValueError(f"step_size must be an integer >= 1 (epochs), got {step_size!r}")
        if step_size < 1:
            raise ValueError(f"step_size must be an integer >= 1 (epochs), got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = _gamma(gamma)
        super().__init__(warmup)

    def _main(self, t: float) -> float:
        return self.gamma ** math.floor(t / self.step_size)

    def _params(self) -> dict[str, Any]:
        return {"step_size": self.step_size, "gamma": self.gamma}


class Exponential(Schedule):
    """``gamma ** t``; matches ``torch.optim.lr_scheduler.ExponentialLR`` at integer epochs."""

    name = "exponential"

    def __init__(self, gamma: float = 0.95, warmup: float = 0) -> None:
        """Args: gamma: in (0, 1]; warmup: epochs >= 0."""
        self.gamma = _gamma(gamma)
        super().__init__(warmup)

    def _main(self, t: float) -> float:
        return self.gamma**t

    def _params(self) -> dict[str, Any]:
        return {"gamma": self.gamma}


class Cosine(Schedule):
    """Cosine annealing from 1 to ``min_factor`` over ``total_epochs``, then held there.

    ``factor = m + (1 - m) * (1 + cos(pi * min(t, T) / T)) / 2``, the closed form of
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=T, eta_min=m * base_lr)``.
    """

    name = "cosine"

    def __init__(
        self, total_epochs: float = 100, min_factor: float = 0.0, warmup: float = 0
    ) -> None:
        """Args: total_epochs: finite, > 0; min_factor: in [0, 1); warmup: epochs >= 0."""
        total = _number("total_epochs", total_epochs, "> 0")
        if total <= 0:
            raise ValueError(f"total_epochs must be > 0, got {total_epochs!r}")
        m = float(_number("min_factor", min_factor, "in [0, 1)"))
        if not 0.0 <= m < 1.0:
            raise ValueError(f"min_factor must be in [0, 1), got {min_factor!r}")
        self.total_epochs = total
        self.min_factor = m
        super().__init__(warmup)

    def _main(self, t: float) -> float:
        total = self.total_epochs
        if t >= total:
            return self.min_factor
        m = self.min_factor
        return m + (1.0 - m) * (1.0 + math.cos(math.pi * t / total)) / 2.0

    def _params(self) -> dict[str, Any]:
        return {"total_epochs": self.total_epochs, "min_factor": self.min_factor}


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, StepDecay, Exponential, Cosine)
}


def make_schedule(spec: Mapping[str, Any] | str | Schedule | None) -> Schedule:
    """Build a schedule from a spec.

    Args:
        spec: ``None`` or ``"constant"`` -> :class:`Constant`; a name from :data:`SCHEDULES`
            -> that schedule with default settings (step: step_size=10, gamma=0.5;
            exponential: gamma=0.95; cosine: total_epochs=100, min_factor=0); a mapping with
            ``"name"`` and that schedule's settings (plus optional ``"warmup"``), as returned by
            :meth:`Schedule.to_spec`; or a :class:`Schedule`, returned as is.

    Raises:
        ValueError: unknown name, unknown setting, or a setting out of range.
    """
    if spec is None:
        return Constant()
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping):
        raise ValueError(
            f"schedule spec must be None, a name or a dict with 'name', got {type(spec).__name__}"
        )
    settings = dict(spec)
    name = settings.pop("name", None)
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in SCHEDULES:
        raise ValueError(f"schedule name must be one of {sorted(SCHEDULES)}, got {name!r}")
    cls = SCHEDULES[key]
    allowed = list(inspect.signature(cls).parameters)
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown setting {unknown[0]!r} for schedule {key!r}; allowed: {', '.join(allowed)}"
        )
    return cls(**settings)

"""Checks for user-facing values: each failure raises ValueError naming the field, the value and
what is allowed, so a GUI can show the message as it is."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def check_number(
    field: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
    low_open: bool = False,
) -> float | int:
    """Return ``value`` if it is a finite number in ``[low, high]`` (``(low, high]`` with
    ``low_open``), and an integer when ``integer``; raise ValueError otherwise."""
    allowed = _describe(low, high, integer, low_open)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        and not hasattr(value, "__float__")
    ):
        raise ValueError(f"{field}: {value!r} is not a number; allowed: {allowed}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{field}: {value!r} is not finite; allowed: {allowed}")
    if integer:
        if number != int(number):
            raise ValueError(f"{field}: {value!r} is not a whole number; allowed: {allowed}")
        number = int(number)
    too_low = low is not None and (number <= low if low_open else number < low)
    if too_low or (high is not None and number > high):
        raise ValueError(f"{field}: {value!r} is out of range; allowed: {allowed}")
    return number


def check_choice(field: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; raise ValueError listing them otherwise."""
    options = list(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{field}: {value!r} is not known; allowed: {', '.join(options)}")
    return value


def _describe(low: float | None, high: float | None, integer: bool, low_open: bool) -> str:
    kind = "a whole number" if integer else "a number"
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}]"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{kind} <= {high:g}"
    return kind

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
    high_open: bool = False,
) -> float | int:
    """Return ``value`` if it is a finite number in ``[low, high]`` (an open end with
    ``low_open``/``high_open``), and an integer when ``integer``; raise ValueError otherwise.
    The message says what is wrong: not a number, not finite, not whole, or out of range
    (a finite number too large for a float, e.g. ``10**400``, is out of range)."""
    allowed = _describe(low, high, integer, low_open, high_open)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        and not hasattr(value, "__float__")
    ):
        raise ValueError(f"{field}: {value!r} is not a number; allowed: {allowed}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        raise ValueError(f"{field}: {value!r} is out of range; allowed: {allowed}") from None
    if not math.isfinite(number):
        raise ValueError(f"{field}: {value!r} is not finite; allowed: {allowed}")
    if integer:
        if number != int(number):
            raise ValueError(f"{field}: {value!r} is not a whole number; allowed: {allowed}")
        number = int(value) if isinstance(value, int) else int(number)  # exact for big ints
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        raise ValueError(f"{field}: {value!r} is out of range; allowed: {allowed}")
    return number


def check_choice(field: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; raise ValueError listing them otherwise."""
    options = list(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{field}: {value!r} is not known; allowed: {', '.join(options)}")
    return value


def _describe(
    low: float | None, high: float | None, integer: bool, low_open: bool, high_open: bool
) -> str:
    kind = "a whole number" if integer else "a number"
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high:g}"
    return kind


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (ending in "...") for a message naming it."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

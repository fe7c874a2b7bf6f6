"""Sweep settings: ``--sweep key=v1,v2,...`` parsed and checked, the runs as the cartesian
product of every swept setting (in a stable order), and each run's short name.

A run's settings map canonical keys (:data:`SWEEP_KEYS`) to values in the command line's own
form (``{"lr": 0.01, "layers": "16,16", "optimizer": "adam"}``), so applying them is setting the
options of the same names; :func:`run_name` turns them into "adam lr 0.01 · 16-16 relu".
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.activations import ACTIVATIONS
from core.activations import ALIASES as ACTIVATION_ALIASES
from core.data.toy2d import MAX_NOISE
from core.init import NAMES as INIT_NAMES
from core.layers import MAX_DROPOUT
from core.optimizer import MAX_LR
from core.optimizers import OPTIMIZERS
from core.training.config import MAX_EPOCHS, MAX_REGULARIZATION
from core.validation import check_choice, check_number

#: Most runs one sweep may ask for (the product of its value counts).
MAX_RUNS = 10_000

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")
_WHOLE = re.compile(r"\d+\Z")


@dataclass(frozen=True)
class SweepKey:
    """A setting that can be swept: ``parse(field, text)`` gives the option's value (ValueError
    naming ``field`` and the allowed values otherwise), ``label(value)`` its part of a run's
    name; ``group`` orders the parts (0 training, 1 network, 2 run)."""

    key: str
    parse: Callable[[str, str], Any]
    label: Callable[[Any], str]
    group: int
    allowed: str


def _number(low: float, high: float, *, low_open: bool = False, integer: bool = False):
    def parse(field: str, text: str) -> float | int:
        pattern = _WHOLE if integer else _NUMBER
        if not pattern.match(text):
            kind = "a whole number" if integer else "a number"
            raise ValueError(
                f"{field}: {text!r} is not {kind}; allowed: {_range(low, high, low_open, integer)}"
            )
        value = int(text) if integer else float(text)
        return check_number(field, value, low=low, high=high, low_open=low_open, integer=integer)

    return parse


def _range(low: float, high: float, low_open: bool, integer: bool) -> str:
    kind = "whole numbers" if integer else "numbers"
    return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}]"


def _choice(names: Sequence[str]):
    def parse(field: str, text: str) -> str:
        return check_choice(field, text, names)

    return parse


def _layers(field: str, text: str) -> str:
    """``"16-16"`` -> ``"16,16"`` (the --layers form); ``"none"`` -> ``""`` (no hidden layer)."""
    if text == "none":
        return ""
    sizes = text.split("-")
    if not all(_WHOLE.match(s) and int(s) >= 1 for s in sizes):
        raise ValueError(
            f"{field}: {text!r} is not a list of layer sizes; allowed: whole numbers >= 1 joined "
            "by '-' (16-16 is two hidden layers of 16), or none"
        )
    return ",".join(str(int(s)) for s in sizes)


def _switch(field: str, text: str) -> bool:
    words = {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False}
    if text.lower() not in words:
        raise ValueError(f"{field}: {text!r} is not on or off; allowed: on, off")
    return words[text.lower()]


def _g(prefix: str) -> Callable[[Any], str]:
    return lambda value: f"{prefix} {value:g}"


SWEEP_KEYS: dict[str, SweepKey] = {
    k.key: k
    for k in (
        SweepKey("optimizer", _choice(list(OPTIMIZERS)), str, 0, "one of " + ", ".join(OPTIMIZERS)),
        SweepKey(
            "lr", _number(0.0, MAX_LR, low_open=True), _g("lr"), 0, _range(0, MAX_LR, True, False)
        ),
        SweepKey(
            "batch_size",
            _number(1, 10**9, integer=True),
            lambda v: f"batch {v}",
            0,
            "whole numbers >= 1",
        ),
        SweepKey(
            "epochs",
            _number(1, MAX_EPOCHS, integer=True),
            lambda v: f"{v} epochs",
            0,
            _range(1, MAX_EPOCHS, False, True),
        ),
        SweepKey("l1", _number(0.0, MAX_REGULARIZATION), _g("l1"), 0, _range(0, 10, False, False)),
        SweepKey("l2", _number(0.0, MAX_REGULARIZATION), _g("l2"), 0, _range(0, 10, False, False)),
        SweepKey(
            "layers",
            _layers,
            lambda v: v.replace(",", "-") if v else "no hidden layer",
            1,
            "layer sizes joined by '-', e.g. 8,16-16 (or none)",
        ),
        SweepKey(
            "activation",
            _choice([*ACTIVATIONS, *ACTIVATION_ALIASES]),
            str,
            1,
            "one of " + ", ".join(ACTIVATIONS),
        ),
        SweepKey(
            "dropout",
            _number(0.0, MAX_DROPOUT),
            _g("dropout"),
            1,
            _range(0, MAX_DROPOUT, False, False),
        ),
        SweepKey("batchnorm", _switch, lambda v: "bn" if v else "no bn", 1, "on, off"),
        SweepKey("init", _choice(INIT_NAMES), lambda v: f"init {v}", 1, ", ".join(INIT_NAMES)),
        SweepKey("noise", _number(0.0, MAX_NOISE), _g("noise"), 2, _range(0, MAX_NOISE, 0, 0)),
        SweepKey(
            "seed",
            _number(0, 2**63 - 1, integer=True),
            lambda v: f"seed {v}",
            2,
            "whole numbers >= 0",
        ),
    )
}
#: Other spellings of the keys.
KEY_ALIASES = {
    "learning_rate": "lr",
    "batch": "batch_size",
    "hidden": "layers",
    "act": "activation",
    "bn": "batchnorm",
}


def sweep_key(text: str) -> str:
    """The canonical key for ``text`` (``batch-size`` -> ``batch_size``); ValueError otherwise."""
    key = text.strip().lower().replace("-", "_")
    key = KEY_ALIASES.get(key, key)
    if key not in SWEEP_KEYS:
        raise ValueError(
            f"--sweep: {text.strip()!r} is not a setting that can be swept; allowed: "
            + ", ".join(SWEEP_KEYS)
        )
    return key


def parse_sweep(text: str) -> tuple[str, tuple[Any, ...]]:
    """``"lr=0.003,0.01"`` -> ``("lr", (0.003, 0.01))``: the key and its values, in order.
    ValueError naming the option, the key and what is allowed for a bad or repeated value."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(
            f"--sweep: {text!r} is not KEY=VALUES; allowed: a setting and its values, e.g. "
            "--sweep lr=0.003,0.01,0.03"
        )
    key = sweep_key(name)
    spec = SWEEP_KEYS[key]
    field = f"--sweep {key}"
    items = [item.strip() for item in values.split(",")]
    if not any(items) or "" in items:
        raise ValueError(f"{field}: an empty value in {values!r}; allowed: {spec.allowed}")
    parsed: list[Any] = []
    for item in items:
        value = spec.parse(field, item)
        if value in parsed:
            raise ValueError(f"{field}: {item!r} is listed twice; allowed: each value once")
        parsed.append(value)
    return key, tuple(parsed)


def parse_sweeps(texts: Sequence[str]) -> list[tuple[str, tuple[Any, ...]]]:
    """Every ``--sweep`` option parsed (see :func:`parse_sweep`), in the order given; a key may
    be swept once, and the runs may number at most :data:`MAX_RUNS`."""
    sweeps: list[tuple[str, tuple[Any, ...]]] = []
    for text in texts:
        key, values = parse_sweep(text)
        if any(key == k for k, _ in sweeps):
            raise ValueError(
                f"--sweep {key}: given twice; allowed: each setting in one --sweep, with all "
                "its values"
            )
        sweeps.append((key, values))
    total = math.prod(len(values) for _, values in sweeps)
    if total > MAX_RUNS:
        raise ValueError(f"--sweep: {total:,} runs; allowed: at most {MAX_RUNS:,} (fewer values)")
    return sweeps


def combinations(sweeps: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
    """The runs' settings: the cartesian product of the swept values, the first setting
    varying slowest and each in the order given (so the same options give the same order)."""
    keys = [key for key, _ in sweeps]
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(values for _, values in sweeps))
    ]


def sweep_value(key: str, value: Any) -> Any:
    """A run's setting as ``--sweep`` spells it (for tables and results files): layers
    ``"16,16"`` -> ``"16-16"``, ``""`` -> ``"none"``; a switch ``"on"``/``"off"``; other values
    as they are."""
    if key == "layers" and isinstance(value, str):
        return value.replace(",", "-") if value else "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return value


def run_name(settings: dict[str, Any]) -> str:
    """A short name from the settings that differ between runs, training first, then the
    network, then the rest: ``{"optimizer": "adam", "lr": 0.03, "layers": "16,16",
    "activation": "relu"}`` -> ``"adam lr 0.03 · 16-16 relu"``. Unknown keys show as
    ``key value``."""
    groups: dict[int, list[str]] = {}
    order = list(SWEEP_KEYS)
    for key in sorted(settings, key=lambda k: order.index(k) if k in order else len(order)):
        spec = SWEEP_KEYS.get(key)
        value = settings[key]
        part = spec.label(value) if spec else f"{key} {value}"
        groups.setdefault(spec.group if spec else 2, []).append(part)
    return " · ".join(" ".join(parts) for _, parts in sorted(groups.items()))

"""Weight initializers. Each fills an array in place from a ``np.random.Generator``.

``fan_in`` / ``fan_out`` are the numbers of inputs and outputs of one unit (for a convolution,
``channels * kh * kw`` and ``filters * kh * kw``), as in Glorot & Bengio (2010) and
He et al. (2015).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from core.validation import check_choice


def glorot_uniform(shape, fan_in, fan_out, rng):
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, shape)


def glorot_normal(shape, fan_in, fan_out, rng):
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), shape)


def he_uniform(shape, fan_in, fan_out, rng):
    a = math.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a, shape)


def he_normal(shape, fan_in, fan_out, rng):
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), shape)


def lecun_normal(shape, fan_in, fan_out, rng):
    return rng.normal(0.0, math.sqrt(1.0 / fan_in), shape)


def lecun_uniform(shape, fan_in, fan_out, rng):
    a = math.sqrt(3.0 / fan_in)
    return rng.uniform(-a, a, shape)


def uniform(shape, fan_in, fan_out, rng, scale: float = 0.5):
    """Uniform in ``[-scale, scale]`` (the browser playground's choice), whatever the fan."""
    return rng.uniform(-scale, scale, shape)


def zeros(shape, fan_in, fan_out, rng):
    return np.zeros(shape)


INITIALIZERS: dict[str, Callable[..., np.ndarray]] = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "uniform": uniform,
    "zeros": zeros,
}
ALIASES = {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal"}
#: "auto" picks He when a layer's output reaches a ReLU-like activation (also through batch norm,
#: dropout or pooling) and Glorot otherwise (decided by the model builder).
NAMES = ("auto", *INITIALIZERS, *ALIASES)


def check_name(name: str) -> str:
    """Validate an initializer name; return its canonical form."""
    check_choice("init", name, NAMES)
    return ALIASES.get(name, name)


def fill(name: str, out: np.ndarray, fan_in: int, fan_out: int, rng: np.random.Generator) -> None:
    """Fill ``out`` in place with initializer ``name`` (not "auto": resolve that first)."""
    if name == "auto":
        raise ValueError("init: 'auto' must be resolved by the model builder before filling")
    out[...] = INITIALIZERS[check_name(name)](out.shape, fan_in, fan_out, rng)

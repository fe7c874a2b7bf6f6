"""Activation curves: each activation of the engine and its derivative over a range of inputs,
both computed by the engine's own layer (forward, then backward with ``dy = 1``), and the
saturation regions, where the derivative is so small that the gradient flowing back nearly stops.

Softmax is not element-wise: it maps a vector of logits to probabilities. It is drawn as one
output, the probability of a logit ``x`` among :data:`SOFTMAX_CLASSES` logits whose others are 0,
``softmax(x, 0, …, 0)[0] = eˣ / (eˣ + K − 1)``, and its derivative d(that probability)/dx: the
backward pass is seeded with ``dy = 1`` on that output only (``dy = 1`` on every output would
give 0, since the probabilities always sum to 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.activations import ACTIVATIONS, Activation

#: |f'(x)| below this marks x as saturated.
SATURATION = 0.05
#: Softmax is drawn as one logit's probability among this many classes (the others' logits 0).
SOFTMAX_CLASSES = 10
#: Activations with a coefficient ``alpha`` (an argument of their constructor).
WITH_ALPHA = ("leaky_relu", "elu")


@dataclass(frozen=True)
class ActivationCurve:
    """One activation over ``x`` ``(n,)``: its values ``y`` ``(n,)``, derivative ``dy`` ``(n,)``
    and saturated intervals ``[(start, end), ...]`` (sample positions, in increasing order)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray
    saturated: list[tuple[float, float]]


def activation_layer(name: str, alpha: float | None = None) -> Activation:
    """The engine's activation ``name`` (a key of ACTIVATIONS); ``alpha`` for leaky ReLU and
    ELU (their default when None). ValueError for an unknown name or an alpha out of range."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: {name!r} is unknown; allowed: {', '.join(ACTIVATIONS)}")
    cls = ACTIVATIONS[name]
    if name in WITH_ALPHA and alpha is not None:
        return cls(alpha)
    return cls()


def values_and_slopes(
    name: str, x: np.ndarray, alpha: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``f(x)`` and ``f'(x)`` ``(n,)`` for ``x`` ``(n,)``, from the engine's forward and
    backward in float64 (softmax as described in the module docstring)."""
    layer = activation_layer(name, alpha)
    x = np.asarray(x, dtype=np.float64)
    if name == "softmax":
        logits = np.zeros((len(x), SOFTMAX_CLASSES))
        logits[:, 0] = x
        seed = np.zeros_like(logits)
        seed[:, 0] = 1.0
        y = layer.forward(logits)[:, 0]
        return y.copy(), layer.backward(seed)[:, 0].copy()
    y = np.array(layer.forward(x[:, None]), dtype=np.float64)[:, 0]
    return y, np.array(layer.backward(np.ones((len(x), 1))), dtype=np.float64)[:, 0]


def saturated_intervals(
    x: np.ndarray, dy: np.ndarray, threshold: float = SATURATION
) -> list[tuple[float, float]]:
    """The runs of consecutive samples where ``|dy| < threshold``, as ``(first x, last x)``
    pairs; ``x`` ``(n,)`` increasing, ``dy`` ``(n,)``."""
    flat = np.concatenate([[False], np.abs(dy) < threshold, [False]])
    edges = np.flatnonzero(np.diff(flat.astype(np.int8)))
    starts, stops = edges[0::2], edges[1::2] - 1
    return [(float(x[a]), float(x[b])) for a, b in zip(starts, stops, strict=True)]


def activation_curve(
    name: str,
    x_range: tuple[float, float] = (-6.0, 6.0),
    points: int = 601,
    alpha: float | None = None,
) -> ActivationCurve:
    """``name``'s curve on ``points`` evenly spaced inputs over ``x_range``."""
    lo, hi = (float(v) for v in x_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"x range: {x_range!r} must be two finite numbers, the first smaller")
    x = np.linspace(lo, hi, int(points))
    y, dy = values_and_slopes(name, x, alpha)
    return ActivationCurve(name, x, y, dy, saturated_intervals(x, dy))

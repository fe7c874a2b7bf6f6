"""Activations: one small class each, usable as a layer of its own after any layer.

All are element-wise and shape-preserving, except Softmax (over the last axis). Each forward keeps
what its backward needs (the input or the output, whichever makes the derivative cheaper).
Identity, sigmoid, tanh and ReLU also take ``out``, the array to write their result into (see
:mod:`core.layers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from core.layers import Layer
from core.validation import check_number


class Activation(Layer):
    """Base for parameter-free element-wise activations."""

    #: ReLU-like activations get He initialization for the layer before them.
    relu_like = False

    def __init__(self) -> None:
        super().__init__()
        self._y: np.ndarray | None = None
        self._x: np.ndarray | None = None


class Identity(Activation):
    """``y = x`` (a linear unit)."""

    kind = "identity"
    takes_out = True  # and returns what it was given

    def forward(self, x, training=False, out=None):
        return x

    def backward(self, dy, out=None):
        return dy


class Sigmoid(Activation):
    """``y = 1 / (1 + exp(-x))`` (see :func:`sigmoid`); ``dy/dx = y (1 - y)``."""

    kind = "sigmoid"
    takes_out = True

    def forward(self, x, training=False, out=None):
        self._y = y = sigmoid(x, out)
        return y

    def backward(self, dy, out=None):
        y = self._y
        g = np.multiply(dy, y, out)
        g *= np.subtract(ONE[y.dtype], y)
        return g


class Tanh(Activation):
    """``y = tanh(x)``; ``dy/dx = 1 - y²``."""

    kind = "tanh"
    takes_out = True

    def forward(self, x, training=False, out=None):
        self._y = y = np.tanh(x, out)
        return y

    def backward(self, dy, out=None):
        y = self._y
        g = np.multiply(y, y, out)
        np.subtract(ONE[g.dtype], g, g)
        g *= dy
        return g


class ReLU(Activation):
    """``y = max(x, 0)``; ``dy/dx = 1 if x > 0 else 0``."""

    kind = "relu"
    relu_like = True
    takes_out = True

    def forward(self, x, training=False, out=None):
        self._y = y = np.maximum(x, ZERO[x.dtype], out=out)
        return y

    def backward(self, dy, out=None):
        y = self._y
        return np.multiply(dy, y > ZERO[y.dtype], out)


class _WithAlpha(Activation):
    """An activation with one coefficient ``alpha`` in ``[0, max_alpha]``, kept in its config."""

    max_alpha: ClassVar[float]

    def __init__(self, alpha: float) -> None:
        super().__init__()
        self.alpha = float(check_number("alpha", alpha, low=0.0, high=self.max_alpha))

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, "alpha": self.alpha}


class LeakyReLU(_WithAlpha):
    """``y = x if x > 0 else alpha·x`` (alpha 0.01 by default, at most 1);
    ``dy/dx = 1 or alpha``."""

    kind = "leaky_relu"
    relu_like = True
    max_alpha = 1.0

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__(alpha)

    def forward(self, x, training=False):
        self._x = x
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dy):
        return np.where(self._x > 0, dy, self.alpha * dy)


class ELU(_WithAlpha):
    """``y = x if x > 0 else alpha·(exp(x) - 1)`` (alpha 1 by default, at most 10);
    ``dy/dx = 1 or y + alpha``."""

    kind = "elu"
    relu_like = True
    max_alpha = 10.0

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha)

    def forward(self, x, training=False):
        self._x = x
        self._y = y = np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0.0)))
        return y

    def backward(self, dy):
        return np.where(self._x > 0, dy, dy * (self._y + self.alpha))


_GELU_C = math.sqrt(2.0 / math.pi)


class GELU(Activation):
    """Gaussian error linear unit, tanh form (PyTorch ``GELU(approximate="tanh")``):
    ``y = x/2 · (1 + tanh(c (x + 0.044715 x³)))`` with ``c = sqrt(2/π)``."""

    kind = "gelu"
    relu_like = True

    def forward(self, x, training=False):
        self._x = x
        self._t = t = np.tanh(_GELU_C * (x + 0.044715 * x**3))
        return 0.5 * x * (1.0 + t)

    def backward(self, dy):
        x, t = self._x, self._t
        dt = (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * x * x)
        return dy * (0.5 * (1.0 + t) + 0.5 * x * dt)


class SiLU(Activation):
    """SiLU / swish: ``y = x·σ(x)``; ``dy/dx = σ(x)·(1 + x (1 - σ(x)))``."""

    kind = "silu"
    relu_like = True

    def forward(self, x, training=False):
        self._x = x
        self._s = s = sigmoid(x)
        return x * s

    def backward(self, dy):
        x, s = self._x, self._s
        return dy * s * (1.0 + x * (1.0 - s))


class Softplus(Activation):
    """``y = log(1 + exp(x))``, computed stably as ``max(x, 0) + log1p(exp(-|x|))``;
    ``dy/dx = σ(x)``."""

    kind = "softplus"

    def forward(self, x, training=False):
        self._x = x
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    def backward(self, dy):
        return dy * sigmoid(self._x)


class Sine(Activation):
    """``y = sin(x)``; ``dy/dx = cos(x)`` (periodic units, as in SIREN)."""

    kind = "sine"

    def forward(self, x, training=False):
        self._x = x
        return np.sin(x)

    def backward(self, dy):
        return dy * np.cos(self._x)


class Softmax(Activation):
    """Softmax over the last axis, ``y_i = exp(x_i) / Σ_j exp(x_j)`` (max-shifted, no overflow).

    Backward is the Jacobian-vector product ``y ⊙ (dy - Σ dy ⊙ y)``. For classification training
    prefer the fused softmax cross-entropy loss, which never forms this product.
    """

    kind = "softmax"

    def forward(self, x, training=False):
        self._y = y = softmax(x)
        return y

    def backward(self, dy):
        y = self._y
        return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Element-wise ``1 / (1 + exp(-x))`` of a float32 or float64 array, in its dtype (written
    into ``out`` when given).

    Computed as ``t / (1 + t)`` with ``t = exp(x)``: within 2 ulps on both sides (σ(-40) ≈
    4.2e-18, where ``0.5 (1 + tanh(x/2))`` cancels to 0), underflowing gradually to 0 far left.
    ``x`` is capped at 88 (float32) / 709 (float64), where σ already rounds to 1, so ``exp``
    never overflows (no warning).
    """
    t = np.minimum(x, EXP_CAP[x.dtype], out=out)  # (a positional out is deprecated here)
    np.exp(t, t)
    return np.divide(t, t + ONE[t.dtype], t)


class Constant(dict):
    """A number as 0-d arrays by dtype (``ONE[x.dtype]``), each made on first use. As an
    operand of a NumPy function it costs about 0.3 µs less than a Python number: a step of a
    small network makes some 40 such calls. ``value`` may depend on the dtype."""

    def __init__(self, value: float | Callable[[np.dtype], float]) -> None:
        super().__init__()
        self.value = value

    def __missing__(self, dtype: np.dtype) -> np.ndarray:
        value = self.value(dtype) if callable(self.value) else self.value
        self[dtype] = array = np.full((), value, dtype)
        return array


ZERO, ONE = Constant(0.0), Constant(1.0)
#: Where ``exp`` stops short of overflowing: 88 (float32), 709 (float64).
EXP_CAP = Constant(lambda dtype: 88.0 if dtype == np.float32 else 709.0)


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(batch, classes)`` logits, shifted by the row maximum."""
    e = x - x.max(axis=-1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.kind: cls
    for cls in (
        Identity,
        Sigmoid,
        Tanh,
        ReLU,
        LeakyReLU,
        ELU,
        GELU,
        SiLU,
        Softplus,
        Sine,
        Softmax,
    )
}
#: Other names people use for the same functions.
ALIASES = {"linear": "identity", "swish": "silu", "lrelu": "leaky_relu", "sin": "sine"}

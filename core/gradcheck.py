"""Numerical gradients by central differences, ``(f(x + h) - f(x - h)) / 2h``, and a checker that
compares them with a layer's, a loss's or a whole model's analytic backward pass. Use float64."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.layers import Layer
from core.losses import Loss
from core.model import Sequential


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f / d x for a scalar function ``f`` of the array ``x`` (which it reads in place),
    one element at a time; ``x`` is restored afterwards. Returns an array shaped like ``x``."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``‖a - b‖ / max(‖a‖, ‖b‖)``: the error relative to the gradient's size (0 if both are 0).

    Norm-wise rather than element-wise, so tiny entries whose absolute error is at round-off
    level do not dominate."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def check_layer(
    layer: Layer, x: np.ndarray, *, training: bool = True, seed: int = 0, h: float = 1e-6
) -> dict[str, float]:
    """Compare a built layer's backward with numerical gradients of ``sum(forward(x) * w)`` for a
    fixed random ``w``. Returns the relative error for the input (``"x"``) and each parameter."""
    w = np.random.default_rng(seed).standard_normal(layer.forward(x, training).shape)

    def f() -> float:
        return float(np.sum(layer.forward(x, training) * w))

    layer.forward(x, training)
    analytic_x = layer.backward(w.copy())
    analytic = {name: g.copy() for name, g in layer.grads.items()}
    errors = {"x": relative_error(analytic_x, numerical_gradient(f, x, h))}
    for name, p in layer.params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(f, p, h))
    return errors


def check_loss(loss: Loss, out: np.ndarray, target: np.ndarray, h: float = 1e-6) -> float:
    """Relative error between a loss's fused backward and the numerical gradient w.r.t. ``out``."""
    loss.forward(out, target)
    analytic = loss.backward().copy()
    numeric = numerical_gradient(lambda: loss.forward(out, target), out, h)
    return relative_error(analytic, numeric)


def check_model(
    model: Sequential, x: np.ndarray, y: np.ndarray, h: float = 1e-6
) -> dict[str, float]:
    """Compare a model's backpropagated gradient of its loss on the batch ``x``, ``y`` with
    numerical gradients, one parameter array at a time (use a float64 model). Returns the
    relative error per parameter, by the name of :meth:`Sequential.named_params` ("0.W"...)."""
    model.loss_and_grad(x, y)
    analytic = {
        f"{i}.{name}": g.copy()
        for i, layer in enumerate(model.layers)
        for name, g in layer.grads.items()
    }

    def f() -> float:
        return model.loss.forward(model.forward(x, True), y)

    return {
        name: relative_error(analytic[name], numerical_gradient(f, p, h))
        for name, p in model.named_params()
    }

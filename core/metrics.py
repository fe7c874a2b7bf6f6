"""Metrics: accuracy, confusion matrix, and per-layer statistics for the live views."""

from __future__ import annotations

import numpy as np

from core.activations import Activation
from core.model import Sequential


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of equal entries of two ``(n,)`` label arrays (nan for n = 0)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"accuracy: shapes {y_true.shape} and {y_pred.shape} differ")
    # count_nonzero / n: np.mean's value (an exact count over n) at a sixth of its overhead
    return float(np.count_nonzero(y_true == y_pred) / y_true.size) if y_true.size else float("nan")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n_classes, n_classes)`` int64 counts; row = true class, column = predicted class."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: shapes {y_true.shape} and {y_pred.shape} differ")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"confusion_matrix: {name} has labels outside 0..{n_classes - 1}")
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def layer_norms(model: Sequential, arrays: str = "params") -> dict[int, float]:
    """L2 norm of each trainable layer's parameters (``arrays="params"``) or of their current
    gradients (``"grads"``), by layer index."""
    norms = {}
    for i, layer in enumerate(model.layers):
        source = layer.params if arrays == "params" else layer.grads
        if source:
            norms[i] = float(np.sqrt(sum(float(np.vdot(a, a)) for a in source.values())))
    return norms


def dead_fractions(model: Sequential, outputs: list[np.ndarray]) -> dict[int, float]:
    """For each hidden activation layer, the fraction of its units whose output is exactly zero
    on every sample (dead ReLUs). ``outputs`` is :meth:`Sequential.forward_collect` of a batch."""
    fractions = {}
    for i in hidden_unit_layers(model):
        out = outputs[i]
        if out.size:
            alive = np.any(out.reshape(out.shape[0], out.shape[1], -1) != 0, axis=(0, 2))
            fractions[i] = float(1.0 - alive.mean())
    return fractions


def hidden_unit_layers(model: Sequential) -> list[int]:
    """Indices of the layers whose outputs are the network's hidden units (its activation
    layers, except a final one): what per-neuron views show."""
    last = len(model.layers) - 1
    return [i for i, layer in enumerate(model.layers) if isinstance(layer, Activation) and i < last]

"""Losses over a batch, each with a fused, numerically stable backward.

Every loss takes the network's raw output (logits for classification) of shape ``(batch, outputs)``
and targets, returns the mean loss over the batch (PyTorch's ``reduction="mean"``), and its
``backward`` returns d(loss)/d(output) of the same shape as the output (written into ``out`` when
given, except by softmax cross-entropy, which returns an array of its own forward pass).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from core.activations import ZERO, sigmoid, softmax


class Loss:
    """Base: ``forward(output, target) -> float`` then ``backward() -> d loss / d output``."""

    name: ClassVar[str] = ""
    #: "classification" or "regression": the kind of target this loss expects.
    task: ClassVar[str] = "classification"

    def forward(self, out: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def targets(self, target: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """``target`` as :meth:`forward` computes with it for outputs of ``dtype`` (the same
        values; a trainer converts a whole epoch's targets once, not every batch)."""
        return target

    def output(self, out: np.ndarray) -> np.ndarray:
        """Map raw outputs to what the model predicts: class probabilities ``(batch, classes)``
        for classification, values ``(batch, outputs)`` for regression."""
        return out

    def check_outputs(self, n_outputs: int, n_classes: int | None) -> None:
        """Raise ValueError if a network with ``n_outputs`` outputs can't be trained with this
        loss on ``n_classes`` classes (None for regression)."""


class SoftmaxCrossEntropy(Loss):
    """Softmax then negative log-likelihood: ``-mean(log softmax(z)[y])`` for integer class
    targets ``y`` of shape ``(batch,)``. Backward is the fused ``(softmax(z) - onehot(y)) / batch``
    (PyTorch's ``CrossEntropyLoss``)."""

    name = "softmax_ce"

    def forward(self, out, target):
        n = out.shape[0]
        rows = np.arange(n)
        top = np.maximum.reduce(out, axis=1)
        picked = out[rows, target] - top
        e = out - top[:, None]
        np.exp(e, out=e)
        total = np.add.reduce(e, axis=1)
        e /= total[:, None]
        self._p, self._rows, self._target = e, rows, target
        # loss_i = log Σ exp(z - max) - (z_y - max)
        return float(np.add.reduce(np.log(total) - picked)) / n

    def backward(self, out=None):
        g = self._p
        g[self._rows, self._target] -= 1.0
        g /= g.shape[0]
        return g

    def output(self, out):
        return softmax(out)

    def check_outputs(self, n_outputs, n_classes):
        if n_classes is None:
            raise ValueError("loss: softmax_ce needs class labels; use mse for regression")
        if n_outputs != n_classes:
            raise ValueError(
                f"loss: softmax_ce needs one output per class; the network has {n_outputs} "
                f"outputs for {n_classes} classes"
            )


class SigmoidBinaryCrossEntropy(Loss):
    """Sigmoid then binary cross-entropy for one output and targets in {0, 1} of shape
    ``(batch,)``: ``mean(max(z,0) - z·y + log(1 + exp(-|z|)))`` (PyTorch's
    ``BCEWithLogitsLoss``). Backward is the fused ``(σ(z) - y) / batch``."""

    name = "sigmoid_bce"

    def forward(self, out, target):
        z = out[:, 0]
        y = target.astype(out.dtype, copy=False)
        self._z, self._y = z, y
        # softplus(z) - z·y, with softplus(z) = log(1 + e^z) = logaddexp(0, z) (stable)
        terms = np.logaddexp(ZERO[z.dtype], z)
        terms -= z * y
        return float(np.add.reduce(terms)) / len(z)

    def backward(self, out=None):
        z = self._z
        g = sigmoid(z, None if out is None else out[:, 0])
        g -= self._y
        g /= len(z)
        return g[:, None]

    def targets(self, target, dtype):
        return target.astype(dtype)

    def output(self, out):
        p1 = sigmoid(out[:, :1])
        return np.concatenate([1.0 - p1, p1], axis=1)

    def check_outputs(self, n_outputs, n_classes):
        if n_classes is None:
            raise ValueError("loss: sigmoid_bce needs class labels; use mse for regression")
        if n_classes != 2 or n_outputs != 1:
            raise ValueError(
                f"loss: sigmoid_bce is for 2 classes with 1 output; got {n_classes} classes "
                f"and {n_outputs} outputs (use softmax_ce with one output per class)"
            )


class MeanSquaredError(Loss):
    """``mean((out - target)²)`` over every element (PyTorch's ``MSELoss``); targets of shape
    ``(batch,)`` (one output) or ``(batch, outputs)``. Backward ``2 (out - target) / size``."""

    name = "mse"
    task = "regression"

    def forward(self, out, target):
        t = target.reshape(out.shape).astype(out.dtype, copy=False)
        self._d = d = out - t
        return float(np.vdot(d, d)) / d.size

    def backward(self, out=None):
        d = self._d
        return np.multiply(d, 2.0 / d.size, out=out)

    def check_outputs(self, n_outputs, n_classes):
        if n_classes is not None:
            raise ValueError("loss: mse is for regression targets; use softmax_ce for classes")


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls for cls in (SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy, MeanSquaredError)
}

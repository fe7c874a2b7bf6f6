"""Convolution as one matrix product (the Lab's page "Convolution and im2col").

One grayscale image ``(H, W)`` through one kernel ``(k, k)``, computed the way the engine's
:class:`core.conv.Conv2D` does it: :func:`core.im2col.im2col` copies every kernel window into a
column of ``X_col (k·k, oh·ow)`` (rows = kernel offsets, columns = output positions), and the
feature map is the row of kernel values times that matrix, ``W_row (1, k·k) @ X_col + b``,
reshaped to ``(oh, ow)``. :func:`dot_at` spells out one column of that product as numbers.

The second part trains a tiny CNN with the engine's own trainer (:func:`train_tiny_cnn`, a
generator that yields its progress) and shows its first layer's filters and their feature maps
on one image (:func:`feature_maps`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.conv import Conv2D
from core.im2col import im2col
from core.spec import parse_arch
from core.training.config import TrainConfig
from core.training.trainer import Trainer, build_trainer

_S = 1 / 16  # the 3×3 Gaussian's weights are whole sixteenths
_G5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0

#: The classic filters (name -> kernel), 3×3 and 5×5.
KERNELS: dict[str, np.ndarray] = {
    "Sobel x (vertical edges)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float),
    "Sobel y (horizontal edges)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float),
    "Laplacian (outline)": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float),
    "Sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
    "Box blur 3×3": np.full((3, 3), 1 / 9),
    "Gaussian 3×3": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) * _S,
    "Box blur 5×5": np.full((5, 5), 1 / 25),
    "Gaussian 5×5": _G5,
    "Laplacian of Gaussian 5×5": np.array(
        [
            [0, 0, -1, 0, 0],
            [0, -1, -2, -1, 0],
            [-1, -2, 16, -2, -1],
            [0, -1, -2, -1, 0],
            [0, 0, -1, 0, 0],
        ],
        float,
    ),
}

#: The tiny CNN of the second part: 8 filters 5×5, then ReLU, pooling and 10 classes.
TINY_CNN = "conv:8x5,relu,maxpool:2,flatten,dense:10"


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Positions of a ``kernel``-wide window along ``size`` pixels (``padding`` zeros each
    side, moved by ``stride``): ``(size + 2·padding − kernel) // stride + 1``."""
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(f"kernel: {kernel}×{kernel} does not fit a {size}-pixel side")
    return span // stride + 1


def padded(image: np.ndarray, padding: int) -> np.ndarray:
    """``image (H, W)`` as float64 with ``padding`` rows/columns of zeros on each side."""
    return np.pad(np.asarray(image, np.float64), padding)


def columns(image: np.ndarray, kernel: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The im2col matrix ``X_col (kernel², oh·ow)`` of ``image (H, W)``, by the engine's
    :func:`core.im2col.im2col`: row ``u·kernel + v`` holds ``x[i·s + u, j·s + v]`` (padded
    image) for every output position, column ``i·ow + j`` is the window at ``(i, j)``."""
    xp = padded(image, padding)
    oh = output_size(image.shape[0], kernel, stride, padding)
    ow = output_size(image.shape[1], kernel, stride, padding)
    cols = np.empty((kernel * kernel, oh * ow))
    im2col(xp.reshape(1, *xp.shape, 1), cols, (kernel, kernel), (stride, stride), ow)
    return cols


@dataclass(frozen=True)
class Convolution:
    """One image through one kernel: the im2col matrix and the product.

    ``cols (k·k, oh·ow)``; ``feature_map (oh, ow)`` = ``(kernel.ravel() @ cols + bias)``
    reshaped."""

    image: np.ndarray  # (H, W)
    kernel: np.ndarray  # (k, k)
    bias: float
    stride: int
    padding: int
    cols: np.ndarray
    feature_map: np.ndarray

    def column(self, i: int, j: int) -> int:
        """The column of ``cols`` that holds the window of output position ``(i, j)``."""
        return i * self.feature_map.shape[1] + j


def convolve(
    image: np.ndarray, kernel: np.ndarray, bias: float = 0.0, stride: int = 1, padding: int = 0
) -> Convolution:
    """``image (H, W)`` through ``kernel (k, k)`` as im2col and one matrix product."""
    kernel = np.asarray(kernel, np.float64)
    k = kernel.shape[0]
    if kernel.shape != (k, k):
        raise ValueError(f"kernel: shape {kernel.shape}; allowed: a square k×k kernel")
    cols = columns(image, k, stride, padding)
    oh = output_size(image.shape[0], k, stride, padding)
    fmap = (kernel.reshape(1, -1) @ cols + bias).reshape(oh, -1)
    return Convolution(np.asarray(image), kernel, float(bias), stride, padding, cols, fmap)


def engine_layer(
    w: np.ndarray, b: np.ndarray, image_shape: tuple[int, int], stride: int = 1, padding: int = 0
) -> Conv2D:
    """A standalone engine layer :class:`core.conv.Conv2D` holding the filters
    ``w (filters, 1, k, k)`` and biases ``b (filters,)``, built for one-channel images of
    ``image_shape``, in float64."""
    f, _, k, _ = np.shape(w)
    layer = Conv2D(f, k, stride=stride, padding=padding)
    layer.dtype = np.dtype(np.float64)
    layer.build((1, *image_shape))
    layer.params = {"W": np.array(w, np.float64), "b": np.array(b, np.float64)}
    return layer


def engine_map(
    image: np.ndarray, kernel: np.ndarray, bias: float = 0.0, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """The same feature map ``(oh, ow)`` from the engine's layer :class:`core.conv.Conv2D`
    (one filter, these weights), float64."""
    k = np.shape(kernel)[0]
    w = np.reshape(kernel, (1, 1, k, k))
    layer = engine_layer(w, np.array([bias]), np.shape(image), stride, padding)
    return layer.forward(np.asarray(image, np.float64)[None, None])[0, 0]


@dataclass(frozen=True)
class DotProduct:
    """The output at one position as numbers: ``Σ patch·kernel + bias = value``.

    ``top, left``: the window's corner in the (unpadded) image, negative inside the padding."""

    patch: np.ndarray  # (k, k): the window of the padded image
    kernel: np.ndarray  # (k, k)
    products: np.ndarray  # (k, k): patch · kernel
    bias: float
    value: float
    top: int
    left: int


def dot_at(conv: Convolution, i: int, j: int) -> DotProduct:
    """The dot product behind ``conv.feature_map[i, j]``, read from its im2col column."""
    k = conv.kernel.shape[0]
    patch = conv.cols[:, conv.column(i, j)].reshape(k, k)
    products = patch * conv.kernel
    value = float(products.sum() + conv.bias)
    s, p = conv.stride, conv.padding
    return DotProduct(patch, conv.kernel, products, conv.bias, value, i * s - p, j * s - p)


def position_under(conv: Convolution, row: int, col: int) -> tuple[int, int]:
    """The output position whose window is centred nearest the image pixel ``(row, col)``."""
    k = conv.kernel.shape[0]
    oh, ow = conv.feature_map.shape
    shift = conv.padding - (k - 1) // 2
    i = round((row + shift) / conv.stride)
    j = round((col + shift) / conv.stride)
    return int(np.clip(i, 0, oh - 1)), int(np.clip(j, 0, ow - 1))


# -- the trained filters of a tiny CNN -----------------------------------------------------------
def tiny_cnn_trainer(x: np.ndarray, y: np.ndarray, seed: int = 0) -> Trainer:
    """The engine's trainer for :data:`TINY_CNN` (Adam 0.003, batches of 32) on images
    ``x (n, 28, 28)`` in [0, 1] with labels ``y (n,)``."""
    spec = {"input_shape": [1, 28, 28], "layers": parse_arch(TINY_CNN), "loss": "softmax_ce"}
    config = TrainConfig(optimizer="adam", lr=3e-3, batch_size=32, seed=seed)
    images = np.asarray(x, np.float32).reshape(-1, 1, 28, 28)
    return build_trainer(spec, config, images, np.asarray(y, np.int64))


@dataclass(frozen=True)
class Progress:
    """Where the training of the tiny CNN is: steps taken, the batch loss (moving average), a
    copy of the first layer's filters ``W (filters, 1, k, k)`` and biases ``b (filters,)``, and
    at the end the accuracy on the held-out images (None before)."""

    steps: int
    loss: float
    W: np.ndarray
    b: np.ndarray
    accuracy: float | None = None


def train_tiny_cnn(
    x: np.ndarray,
    y: np.ndarray,
    seconds: float,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    seed: int = 0,
    max_steps: int = 100_000,
) -> Iterator[Progress]:
    """Train :data:`TINY_CNN` on ``x, y`` for about ``seconds`` (or ``max_steps`` steps),
    yielding its :class:`Progress` every 20 steps and at the end (with the accuracy on
    ``x_test, y_test`` when given); the caller may stop between yields."""
    trainer = tiny_cnn_trainer(x, y, seed)
    start = time.perf_counter()
    steps = 0
    while steps < max_steps and time.perf_counter() - start < seconds:
        trainer.step()
        steps += 1
        if steps % 20 == 0:
            yield _progress(trainer, steps)
    accuracy = None
    if x_test is not None and y_test is not None and len(x_test):
        pred = trainer.model.predict(np.asarray(x_test, np.float32).reshape(-1, 1, 28, 28))
        accuracy = float(np.mean(pred == np.asarray(y_test)))
    yield _progress(trainer, steps, accuracy)


def _progress(trainer: Trainer, steps: int, accuracy: float | None = None) -> Progress:
    layer = trainer.model.layers[0]
    w, b = layer.params["W"].copy(), layer.params["b"].copy()
    return Progress(steps, float(trainer.batch_loss or 0.0), w, b, accuracy)


def feature_maps(w: np.ndarray, b: np.ndarray, image: np.ndarray) -> np.ndarray:
    """The feature maps ``(filters, oh, ow)`` of filters ``w (filters, 1, k, k)`` with biases
    ``b (filters,)`` on ``image (H, W)`` (before the activation), by a fresh engine layer (the
    trained one belongs to the training thread)."""
    layer = engine_layer(w, b, np.shape(image))
    return layer.forward(np.asarray(image, np.float64)[None, None])[0]

"""The pictures of the convolution page: MNIST test digits when MNIST is in the user's data folder,
and always the built-in sample drawings (a 0, a 1, a 7) rendered to 28×28 the way a drawn digit
is, so the page works offline. No widgets here: the trained-filters thread calls these too."""

from __future__ import annotations

import numpy as np

from core.data.digits import preprocess_digit
from core.data.idx import MnistError
from core.data.image_dataset import ImageDataset
from core.data.loading import DatasetNotFound, load
from playground.views.canvas import DEFAULT_BRUSH, stamp_segment
from playground.views.sample_drawings import SAMPLE_STROKES

#: Side of the canvas the sample strokes are drawn on, in pixels.
SIDE = 280


def drawn_digit(name: str, pen: float = 1.0) -> np.ndarray:
    """The sample drawing ``name`` (a key of SAMPLE_STROKES) as an MNIST-style ``(28, 28)``
    float32 image in [0, 1]; ``pen`` scales the brush."""
    ink = np.zeros((SIDE, SIDE), np.float32)
    radius = DEFAULT_BRUSH / 2 * pen
    for stroke in SAMPLE_STROKES[name]:
        points = [(x * SIDE, y * SIDE) for x, y in stroke]
        for a, b in zip(points, points[1:], strict=False):
            stamp_segment(ink, a, b, radius)
    image = preprocess_digit(ink, background="dark").image
    return np.asarray(image, np.float32)


def sample_images() -> dict[str, np.ndarray]:
    """Display name -> ``(28, 28)`` image of each built-in sample drawing."""
    return {f"Drawn {name}": drawn_digit(name) for name in SAMPLE_STROKES}


def sample_training_set(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` varied copies of the sample drawings (pen width, a shift by up to 2 pixels),
    ``x (n, 28, 28)`` in [0, 1] and the digits as labels ``y (n,)``: what the tiny CNN learns
    from when MNIST is not on this computer."""
    names = list(SAMPLE_STROKES)
    y = rng.integers(0, len(names), n)
    x = np.empty((n, 28, 28), np.float32)
    for k, label in enumerate(y):
        x[k] = drawn_digit(names[label], rng.uniform(0.6, 1.6))
        x[k] = np.roll(x[k], tuple(rng.integers(-2, 3, 2)), axis=(0, 1))
    return x, np.array([int(names[i]) for i in y])


def local_mnist() -> ImageDataset | None:
    """MNIST from the user's data folder (checked), or None when it is not there or damaged."""
    try:
        return load("mnist")
    except (DatasetNotFound, MnistError, OSError):
        return None


def mnist_choices(data: ImageDataset) -> dict[str, np.ndarray]:
    """Display name -> image of the first test image of each digit."""
    choices = {}
    for digit in range(10):
        index = int(np.flatnonzero(data.y_test == digit)[0])
        choices[f"MNIST test image {index} (a {digit})"] = data.x_test[index] / np.float32(255)
    return choices

"""Preparing images for a model: [0, 1] floats, a layout, subsets, a split, mini-batches.

:func:`prepare` turns an :class:`ImageDataset` into float32 arrays in ``[0, 1]`` shaped
``(n, 784)`` (``layout="flat"``, for MLPs) or ``(n, 1, 28, 28)`` (``layout="image"``, for
CNNs), with an optional seeded subset (first N, or N per class), a seeded stratified
validation split, and :func:`batches` for seeded mini-batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.cancel import check as check_cancel
from core.data.image_dataset import ImageDataset
from core.validation import check_choice, check_number

LAYOUTS = ("flat", "image")
#: Pixels converted between two checks for a Cancel (:mod:`core.cancel`): a few milliseconds.
NORMALIZE_PIECE = 4 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Model-ready arrays made by :func:`prepare`.

    Attributes
    ----------
    x_train, x_val, x_test : np.ndarray
        float32 in ``[0, 1]``, ``(n, H*W)`` for ``layout="flat"`` or ``(n, 1, H, W)`` for
        ``layout="image"``; ``x_val`` has 0 rows without a validation split.
    y_train, y_val, y_test : np.ndarray
        ``(n,)`` int64 labels.
    class_names : tuple of str
    layout : str
        ``"flat"`` or ``"image"``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    layout: str

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample: ``(H*W,)`` or ``(1, H, W)`` (a spec's ``input_shape``)."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def normalize(x: np.ndarray) -> np.ndarray:
    """Pixels as float32 intensities in ``[0, 1]``.

    Parameters
    ----------
    x : np.ndarray
        uint8 pixels ``(n, H, W)`` (0..255, divided by 255), or float32 intensities (assumed
        already in ``[0, 1]``; returned unchanged).

    Returns
    -------
    np.ndarray
        float32, same shape.
    """
    x = np.asarray(x)
    if x.dtype == np.uint8:
        out = np.empty(x.shape, np.float32)
        pixels, values = x.reshape(-1), out.reshape(-1)
        for start in range(0, pixels.size, NORMALIZE_PIECE):  # a Cancel acts between pieces
            check_cancel()
            piece = slice(start, start + NORMALIZE_PIECE)
            np.divide(pixels[piece], np.float32(255.0), out=values[piece])
        return out
    if x.dtype == np.float32:
        return x
    raise ValueError(f"x: dtype {x.dtype}; allowed: uint8 pixels or float32 intensities")


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """Reshape images ``(n, H, W)`` to ``(n, H*W)`` (``"flat"``) or ``(n, 1, H, W)``
    (``"image"``); a view when possible."""
    check_choice("layout", layout, LAYOUTS)
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x: shape {x.shape}; allowed: (n, height, width)")
    n, h, w = x.shape
    return x.reshape(n, h * w) if layout == "flat" else x.reshape(n, 1, h, w)


def _check_xy(x: np.ndarray, y: np.ndarray) -> None:
    if y.ndim != 1 or x.shape[:1] != y.shape:
        raise ValueError(f"y: shape {y.shape}; allowed: ({x.shape[0]},) to match x")


def check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: {rng!r}; allowed: a numpy.random.Generator")
    return rng


def subset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    first: int | None = None,
    per_class: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the first ``first`` samples, or ``per_class`` random samples of every class.

    Parameters
    ----------
    x : np.ndarray
        ``(n, ...)`` samples.
    y : np.ndarray
        ``(n,)`` integer labels.
    first : int, optional
        Keep ``x[:first]`` (at most ``n``).
    per_class : int, optional
        Keep ``per_class`` samples of each class present, drawn with ``rng`` (required), in
        their original order. Every class must have that many.
    rng : np.random.Generator, optional
        Needed for ``per_class``.

    Returns
    -------
    tuple of np.ndarray
        ``(x_subset, y_subset)``; with neither option, ``(x, y)`` unchanged.
    """
    x, y = np.asarray(x), np.asarray(y)
    _check_xy(x, y)
    if first is not None and per_class is not None:
        raise ValueError("first, per_class: both given; allowed: at most one of them")
    if first is not None:
        k = int(check_number("first", first, low=1, integer=True))
        return x[:k], y[:k]
    if per_class is None:
        return x, y
    k = int(check_number("per_class", per_class, low=1, integer=True))
    rng = check_rng(rng)
    picks = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if idx.size < k:
            raise ValueError(f"per_class: {k}, but class {c} has only {idx.size} samples")
        picks.append(rng.choice(idx, size=k, replace=False))
    keep = np.sort(np.concatenate(picks))
    return x[keep], y[keep]


def split_validation(
    x: np.ndarray, y: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out about ``fraction`` of every class (seeded) as a validation set.

    Parameters
    ----------
    x, y : np.ndarray
        ``(n, ...)`` samples and their ``(n,)`` integer labels.
    fraction : float
        In ``[0, 0.9]``; each class gives ``round(count * fraction)`` samples (leaving at least
        one in training).
    rng : np.random.Generator

    Returns
    -------
    tuple of np.ndarray
        ``(x_train, y_train, x_val, y_val)``; both parts keep the original order.
    """
    x, y = np.asarray(x), np.asarray(y)
    _check_xy(x, y)
    fraction = float(check_number("val_fraction", fraction, low=0.0, high=0.9))
    rng = check_rng(rng)
    val = np.zeros(len(y), dtype=bool)
    if fraction > 0:
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            k = min(round(idx.size * fraction), idx.size - 1)
            val[rng.choice(idx, size=k, replace=False)] = True
    return x[~val], y[~val], x[val], y[val]


def shuffle(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The same random permutation applied to ``x (n, ...)`` and ``y (n,)`` (copies)."""
    x, y = np.asarray(x), np.asarray(y)
    _check_xy(x, y)
    order = check_rng(rng).permutation(len(y))
    return x[order], y[order]


def batches(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | None = None,
    *,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches covering ``x (n, ...)`` and ``y (n,)`` once (one epoch).

    Parameters
    ----------
    batch_size : int
        ``>= 1``; the last batch may be smaller unless ``drop_last``.
    rng : np.random.Generator, optional
        Shuffles the order (a fresh permutation per call); None keeps the stored order.
    drop_last : bool
        Skip a final batch smaller than ``batch_size``.

    Yields
    ------
    tuple of np.ndarray
        ``(x_batch (b, ...), y_batch (b,))``.
    """
    x, y = np.asarray(x), np.asarray(y)
    _check_xy(x, y)
    size = int(check_number("batch_size", batch_size, low=1, integer=True))
    n = len(y)
    order = None if rng is None else check_rng(rng).permutation(n)
    stop = n - n % size if drop_last else n
    for start in range(0, stop, size):
        if order is None:
            yield x[start : start + size], y[start : start + size]
        else:
            idx = order[start : start + size]
            yield x[idx], y[idx]


def prepare(
    dataset: ImageDataset,
    *,
    layout: str = "flat",
    n_train: int | None = None,
    per_class: int | None = None,
    val_fraction: float = 0.0,
    n_test: int | None = None,
    seed: int = 0,
) -> PreparedData:
    """Make model-ready arrays from an :class:`ImageDataset`.

    Steps: optional training subset (the first ``n_train`` images, or ``per_class`` random
    images of each class), optional stratified validation split of the remaining training
    images, the first ``n_test`` test images, normalization to float32 ``[0, 1]``, and the
    layout.

    Parameters
    ----------
    dataset : ImageDataset
    layout : str
        ``"flat"``: ``(n, H*W)`` for MLPs; ``"image"``: ``(n, 1, H, W)`` for CNNs.
    n_train, per_class : int, optional
        Training subset (at most one of them); see :func:`subset`.
    val_fraction : float
        Share of (the subset of) the training images held out for validation, in ``[0, 0.9]``.
    n_test : int, optional
        Keep only the first ``n_test`` test images.
    seed : int
        Seed (``>= 0``) of the subset and split; the same arguments give identical arrays.

    Returns
    -------
    PreparedData
    """
    if not isinstance(dataset, ImageDataset):
        raise TypeError(f"dataset: {type(dataset).__name__}; allowed: an ImageDataset")
    check_choice("layout", layout, LAYOUTS)
    seed = int(check_number("seed", seed, low=0, integer=True))
    rng = np.random.default_rng(seed)
    x, y = subset(dataset.x_train, dataset.y_train, first=n_train, per_class=per_class, rng=rng)
    x_tr, y_tr, x_val, y_val = split_validation(x, y, val_fraction, rng)
    x_te, y_te = dataset.x_test, dataset.y_test
    if n_test is not None:
        k = int(check_number("n_test", n_test, low=0, integer=True))
        x_te, y_te = x_te[:k], y_te[:k]

    def ready(a: np.ndarray) -> np.ndarray:
        return to_layout(np.ascontiguousarray(normalize(a)), layout)

    return PreparedData(
        ready(x_tr),
        np.array(y_tr, dtype=np.int64),
        ready(x_val),
        np.array(y_val, dtype=np.int64),
        ready(x_te),
        np.array(y_te, dtype=np.int64),
        dataset.class_names,
        layout,
    )

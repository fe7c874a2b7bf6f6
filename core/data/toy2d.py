"""Two-dimensional toy data sets in the spirit of the browser TensorFlow playground.

Every set lives in the square ``[-DOMAIN, DOMAIN]^2`` (``DOMAIN = 6``), the view the app draws.
Classification sets have balanced classes (counts differ by at most one); their labels are class
indices ``0..K-1``. Regression sets have float targets of about ``[-1, 1]``.

``noise`` is a float in ``[0, 0.5]`` (the browser's 0-50 %), scaled per set so that 0.5 is hard
but still learnable:

========== ======================================================================================
xor        points in the four quadrants, 0.3 away from the axes; class 1 where ``x1 * x2 >= 0``.
           Noise is label noise as in the browser: the label is taken at the point moved by
           ``U(-5, 5) * noise`` in each coordinate (at 0.5 about 17 % of labels flip).
circle     class 1 in the inner disc (radius < 2.5), class 0 in the ring 3.5..5. Label noise as
           for xor, with a shift of ``U(-5, 5) * noise``.
gauss      two Gaussian blobs at (2, 2) (class 1) and (-2, -2) (class 0) with variance
           ``0.5 + 7 * noise`` (0.5 to 4, as in the browser). Tails may leave the square.
spiral     K arms (``n_classes``, 2 by default) out to radius 5, of ``1.75 * sqrt(2 / K)``
           turns (1.75 for two arms, as in the browser; fewer for more arms so that arms stay
           apart); each point is moved by ``U(-1, 1) * 1.5 * noise * sqrt(2 / K)`` per
           coordinate (the gap between arms shrinks by the same factor).
moons      two interleaving half moons (scikit-learn's shape), scaled by 3 and centred; Gaussian
           position noise with standard deviation ``2 * noise``. Tails may leave the square.
checkerboard
           4 x 4 cells of width 3 over the square, 0.15 away from the cell edges; label noise
           with a shift of ``U(-1.5, 1.5) * noise``.
plane      regression, target ``(x1 + x2) / 12`` in ``[-1, 1]``, taken at the point moved by
           ``U(-6, 6) * noise`` per coordinate (as in the browser).
bumps      regression, six signed Gaussian-like bumps on a 3 x 2 grid (the browser's
           "gaussian" regression set), target in ``[-1, 1]``; noise as for ``plane``.
========== ======================================================================================

Points are generated from one ``np.random.Generator`` made from ``seed``; the same arguments give
bit-identical arrays; they are split into train and test parts by
:func:`core.data.dataset.split_dataset`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.data.dataset import (
    MIN_SAMPLES,
    TASKS,
    Dataset,
    check_ratio,
    check_seed,
    split_dataset,
)
from core.validation import check_choice, check_number

DOMAIN = 6.0
"""Half-width of the square ``[-DOMAIN, DOMAIN]^2`` the data sets live in."""

MAX_SAMPLES = 1_000_000
MAX_NOISE = 0.5
MIN_CLASSES = 2
MAX_CLASSES = 10

GeneratorFn = Callable[..., tuple[np.ndarray, np.ndarray]]


# --------------------------------------------------------------------------------------------
# Generators. Each takes (n_samples, noise, rng) and returns x (n, 2) float64 and y (n,) —
# int64 class indices for classification (ordered by class), float64 targets for regression.


def _check_args(n_samples: object, noise: object, rng: object, n_classes: object = 2) -> None:
    """Validate the common generator arguments (``make_dataset`` checks tighter limits)."""
    for key, value in (("n_samples", n_samples), ("n_classes", n_classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{key}: {value!r} is not an integer; allowed: an integer")
    check_number("n_samples", n_samples, low=1, high=MAX_SAMPLES, integer=True)
    check_number("n_classes", n_classes, low=MIN_CLASSES, high=MAX_CLASSES, integer=True)
    check_number("noise", noise, low=0.0, high=MAX_NOISE)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: {rng!r} is not a numpy Generator; allowed: np.random.Generator")


def _class_counts(n_samples: int, n_classes: int) -> np.ndarray:
    """``(n_classes,)`` int64 counts summing to ``n_samples`` that differ by at most one."""
    counts = np.full(n_classes, n_samples // n_classes, dtype=np.int64)
    counts[: n_samples % n_classes] += 1
    return counts


def _labels_for(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def _fill_by_label(
    sample: Callable[[int], tuple[np.ndarray, np.ndarray]],
    counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw batches from ``sample(m) -> (x (m, 2), labels (m,))`` and keep the first
    ``counts[k]`` points of each class k, so classes stay balanced when noise flips labels."""
    need = counts.copy()
    kept: list[list[np.ndarray]] = [[] for _ in counts]
    for _ in range(10_000):
        if not need.any():
            break
        x, labels = sample(max(64, int(need.sum()) * 2))
        for k in range(len(counts)):
            if need[k]:
                chosen = x[labels == k][: need[k]]
                kept[k].append(chosen)
                need[k] -= len(chosen)
    else:  # pragma: no cover - each class has probability > 0.1 per draw
        raise RuntimeError("could not draw balanced classes")
    xs = [np.concatenate(parts, axis=0) if parts else np.empty((0, 2)) for parts in kept]
    return np.concatenate(xs, axis=0), _labels_for(counts)


def xor(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrants; class 1 where ``x1 * x2 >= 0``. Returns ``x (n, 2)``, ``y (n,)``."""
    _check_args(n_samples, noise, rng)

    def sample(m: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-5.0, 5.0, (m, 2))
        x += np.where(x > 0, 0.3, -0.3)
        moved = x + rng.uniform(-5.0, 5.0, (m, 2)) * noise
        return x, (moved[:, 0] * moved[:, 1] >= 0).astype(np.int64)

    return _fill_by_label(sample, _class_counts(n_samples, 2))


def circle(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 inside radius 2.5, class 0 in the ring 3.5..5. Returns ``x (n, 2)``, ``y (n,)``."""
    _check_args(n_samples, noise, rng)
    radius = 5.0

    def sample(m: int) -> tuple[np.ndarray, np.ndarray]:
        inner = rng.random(m) < 0.5
        r = np.where(inner, rng.uniform(0.0, radius * 0.5, m), rng.uniform(radius * 0.7, radius, m))
        angle = rng.uniform(0.0, 2.0 * math.pi, m)
        x = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
        moved = x + rng.uniform(-radius, radius, (m, 2)) * noise
        return x, (np.hypot(moved[:, 0], moved[:, 1]) < radius * 0.5).astype(np.int64)

    return _fill_by_label(sample, _class_counts(n_samples, 2))


def gauss(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Blobs at (-2, -2) (class 0) and (2, 2) (class 1). Returns ``x (n, 2)``, ``y (n,)``."""
    _check_args(n_samples, noise, rng)
    counts = _class_counts(n_samples, 2)
    std = math.sqrt(0.5 + 7.0 * noise)
    centres = np.array([[-2.0, -2.0], [2.0, 2.0]])
    y = _labels_for(counts)
    return centres[y] + rng.normal(0.0, std, (n_samples, 2)), y


def spiral(
    n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms; arm k is class k. Returns ``x (n, 2)``, ``y (n,)``."""
    _check_args(n_samples, noise, rng, n_classes)
    counts = _class_counts(n_samples, n_classes)
    y = _labels_for(counts)
    shrink = math.sqrt(2.0 / n_classes)
    u = rng.random(n_samples)
    r = 5.0 * u
    t = 1.75 * shrink * 2.0 * math.pi * u + 2.0 * math.pi * y / n_classes
    x = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    x += rng.uniform(-1.0, 1.0, (n_samples, 2)) * (1.5 * noise * shrink)
    return x, y


def moons(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half moons (upper: class 0). Returns ``x (n, 2)``, ``y (n,)``."""
    _check_args(n_samples, noise, rng)
    counts = _class_counts(n_samples, 2)
    y = _labels_for(counts)
    t = rng.uniform(0.0, math.pi, n_samples)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    x = np.where((y == 0)[:, None], upper, lower)
    x = (x - np.array([0.5, 0.25])) * 3.0
    return x + rng.normal(0.0, 2.0 * noise, (n_samples, 2)), y


def checkerboard(
    n_samples: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """4 x 4 cells of width 3; class ``(cell_i + cell_j) % 2``. Returns ``x (n, 2)``, ``y (n,)``."""
    _check_args(n_samples, noise, rng)
    cells, width, pad = 4, 2.0 * DOMAIN / 4, 0.15

    def label(x: np.ndarray) -> np.ndarray:
        idx = np.floor((x + DOMAIN) / width).astype(np.int64)
        return (idx[:, 0] + idx[:, 1]) % 2

    def sample(m: int) -> tuple[np.ndarray, np.ndarray]:
        idx = rng.integers(0, cells, (m, 2))
        x = -DOMAIN + idx * width + pad + rng.random((m, 2)) * (width - 2 * pad)
        moved = x + rng.uniform(-1.0, 1.0, (m, 2)) * (width / 2) * noise
        return x, label(moved)

    return _fill_by_label(sample, _class_counts(n_samples, 2))


def plane(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Regression target ``(x1 + x2) / 12``. Returns ``x (n, 2)``, ``y (n,)`` float."""
    _check_args(n_samples, noise, rng)
    x = rng.uniform(-DOMAIN, DOMAIN, (n_samples, 2))
    moved = x + rng.uniform(-DOMAIN, DOMAIN, (n_samples, 2)) * noise
    return x, (moved[:, 0] + moved[:, 1]) / (2.0 * DOMAIN)


# Bump centres (x1, x2) and signs.
_BUMPS = np.array(
    [
        [-4.0, 2.5, 1.0],
        [0.0, 2.5, -1.0],
        [4.0, 2.5, 1.0],
        [-4.0, -2.5, -1.0],
        [0.0, -2.5, 1.0],
        [4.0, -2.5, -1.0],
    ]
)


def bumps_target(x: np.ndarray) -> np.ndarray:
    """The noise-free ``bumps`` target at ``x (n, 2)``: ``(n,)`` in ``[-1, 1]``.

    Each bump is ``sign * clip(1 - distance / 2, 0, 1)``; the value is the bump largest in
    absolute value (the browser playground's "gaussian" regression set).
    """
    x = np.asarray(x, dtype=np.float64)
    dist = np.hypot(x[:, None, 0] - _BUMPS[None, :, 0], x[:, None, 1] - _BUMPS[None, :, 1])
    values = _BUMPS[None, :, 2] * np.clip(1.0 - dist / 2.0, 0.0, 1.0)
    pick = np.argmax(np.abs(values), axis=1)
    return values[np.arange(len(x)), pick]


def bumps(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Regression on six signed bumps. Returns ``x (n, 2)``, ``y (n,)`` float in ``[-1, 1]``."""
    _check_args(n_samples, noise, rng)
    x = rng.uniform(-DOMAIN, DOMAIN, (n_samples, 2))
    moved = x + rng.uniform(-DOMAIN, DOMAIN, (n_samples, 2)) * noise
    return x, bumps_target(moved)


# --------------------------------------------------------------------------------------------
# Registry


@dataclass(frozen=True)
class DatasetInfo:
    """One entry of :data:`DATASETS`.

    ``multiclass`` is True when the set accepts ``n_classes`` other than 2 (only ``spiral``).
    """

    name: str
    task: str
    description: str
    generator: GeneratorFn
    multiclass: bool = False


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("xor", "classification", "Exclusive or: opposite quadrants share a class", xor),
        DatasetInfo(
            "spiral",
            "classification",
            "Interleaved spiral arms (2-10 classes)",
            spiral,
            multiclass=True,
        ),
        DatasetInfo("circle", "classification", "Inner disc against an outer ring", circle),
        DatasetInfo("gauss", "classification", "Two Gaussian blobs", gauss),
        DatasetInfo("moons", "classification", "Two interleaving half moons", moons),
        DatasetInfo("checkerboard", "classification", "4 x 4 checkerboard", checkerboard),
        DatasetInfo("plane", "regression", "Linear ramp (x1 + x2) / 12", plane),
        DatasetInfo("bumps", "regression", "Six signed bumps", bumps),
    )
}


def dataset_names(task: str | None = None) -> tuple[str, ...]:
    """Names in :data:`DATASETS`, all or only those of ``task`` (classification/regression)."""
    if task is not None:
        check_choice("task", task, TASKS)
    return tuple(name for name, info in DATASETS.items() if task is None or info.task == task)


def make_dataset(
    name: str,
    n_samples: int = 500,
    noise: float = 0.0,
    test_ratio: float = 0.5,
    seed: int = 0,
    n_classes: int = 2,
) -> Dataset:
    """Generate one of :data:`DATASETS` and split it into train and test parts.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    n_samples : int
        Total number of points (train + test), in ``[4, 1_000_000]``.
    noise : float
        In ``[0, 0.5]``; how each set uses it is described in the module docstring.
    test_ratio : float
        Share of points held out for testing, in ``[0, 0.9]`` (0: empty test part).
    seed : int
        Seed (``>= 0``); the same arguments give bit-identical arrays.
    n_classes : int
        Number of spiral arms, in ``[2, 10]``. Other sets have 2 classes (regression: 1) and
        only accept the default 2.

    Returns
    -------
    Dataset
        ``x_*`` float32 ``(n, 2)``; ``y_*`` int64 class indices (classification) or float32
        targets (regression). Classes are balanced (counts differ by at most one).
    """
    info = DATASETS[check_choice("name", name, DATASETS)]
    n = int(check_number("n_samples", n_samples, low=MIN_SAMPLES, high=MAX_SAMPLES, integer=True))
    noise = float(check_number("noise", noise, low=0.0, high=MAX_NOISE))
    ratio = check_ratio(test_ratio)
    seed = check_seed(seed)
    k = int(check_number("n_classes", n_classes, low=MIN_CLASSES, high=MAX_CLASSES, integer=True))
    if k != 2 and not info.multiclass:
        multi = ", ".join(key for key, item in DATASETS.items() if item.multiclass)
        raise ValueError(
            f"n_classes: {n_classes!r} is not supported by {name!r}; allowed: 2 "
            f"(more classes only for: {multi})"
        )
    rng = np.random.default_rng(seed)
    if info.multiclass:
        x, y = info.generator(n, noise, rng, n_classes=k)
    else:
        x, y = info.generator(n, noise, rng)
    if info.task == "classification":
        names = tuple(str(c) for c in range(k))
        return split_dataset(name, info.task, x.astype(np.float32), y, ratio, seed, names)
    return split_dataset(name, info.task, x.astype(np.float32), y.astype(np.float32), ratio, seed)

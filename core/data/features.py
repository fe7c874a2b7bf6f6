"""Input feature maps for 2-D points (the browser playground's feature checkboxes) and the grid
of points a decision-boundary image is computed on.

Grid layout
-----------
:func:`grid_axes` returns ``axis``, the ``resolution`` centres of equal cells that tile
``[-domain, domain]``: ``axis[k] = -domain + (k + 0.5) * 2 * domain / resolution``, ascending.
:func:`grid_points` returns ``(resolution * resolution, 2)`` points in row-major order, where the
row index ``i`` walks ``x2`` and the column index ``j`` walks ``x1``::

    points[i * resolution + j] == (axis[j], axis[i])

so per-point values ``(resolution * resolution,)`` become an image with
``image = values.reshape(resolution, resolution)`` and ``image[i, j]`` is the value at
``(x1=axis[j], x2=axis[i])``. Row 0 is the bottom (``x2 = -domain``), so a row-major image drawn
with y pointing up over the rectangle ``(-domain, -domain, 2 * domain, 2 * domain)`` lines each
pixel up with its point exactly. (pyqtgraph's ``ImageItem`` indexes ``[x, y]`` by default: use
``image.T`` or ``axisOrder="row-major"``.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from core.validation import check_number

#: Feature key -> display label, in display order.
FEATURES: dict[str, str] = {
    "x1": "x₁",
    "x2": "x₂",
    "x1sq": "x₁²",
    "x2sq": "x₂²",
    "x1x2": "x₁·x₂",
    "sinx1": "sin(x₁)",
    "sinx2": "sin(x₂)",
}

_MAPS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1sq": lambda a, b: a * a,
    "x2sq": lambda a, b: b * b,
    "x1x2": lambda a, b: a * b,
    "sinx1": lambda a, b: np.sin(a),
    "sinx2": lambda a, b: np.sin(b),
}

MAX_RESOLUTION = 1000


def check_features(features: Sequence[str]) -> tuple[str, ...]:
    """Return ``features`` as a tuple if it is a non-empty sequence of distinct keys of
    :data:`FEATURES`; raise ValueError/TypeError naming the bad entry otherwise."""
    allowed = ", ".join(FEATURES)
    if isinstance(features, (str, bytes)) or not isinstance(features, Sequence):
        raise TypeError(
            f"features: {features!r} is not a sequence of feature keys; "
            f"allowed: a list such as ['x1', 'x2'] of {allowed}"
        )
    keys = tuple(features)
    if not keys:
        raise ValueError(f"features: {list(keys)!r} is empty; allowed: one or more of {allowed}")
    for key in keys:
        if not isinstance(key, str) or key not in FEATURES:
            raise ValueError(f"features: {key!r} is not known; allowed: {allowed}")
    if len(set(keys)) != len(keys):
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(
            f"features: {list(keys)!r} repeats {', '.join(repeated)}; allowed: each key once"
        )
    return keys


def feature_map(x: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """Map 2-D points to the chosen input features.

    Parameters
    ----------
    x : np.ndarray
        ``(n, 2)`` points ``(x1, x2)``; ``n`` may be 0.
    features : sequence of str
        Distinct keys of :data:`FEATURES`, e.g. ``["x1", "x2", "x1x2"]``.

    Returns
    -------
    np.ndarray
        ``(n, len(features))`` float32, columns in the order of ``features``.
    """
    keys = check_features(features)
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"x: shape {arr.shape}; allowed: (n, 2)")
    if not (
        np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.complexfloating)
    ):
        raise TypeError(f"x: dtype {arr.dtype}; allowed: real numbers")
    # float64 for the sines, then one cast: the float32 output rounds once.
    a = arr[:, 0].astype(np.float64)
    b = arr[:, 1].astype(np.float64)
    out = np.empty((arr.shape[0], len(keys)), dtype=np.float32)
    for col, key in enumerate(keys):
        out[:, col] = _MAPS[key](a, b)
    return out


def _check_grid(resolution: int, domain: float) -> tuple[int, float]:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)):
        raise TypeError(
            f"resolution: {resolution!r} is not an integer; allowed: 2..{MAX_RESOLUTION}"
        )
    res = int(check_number("resolution", resolution, low=2, high=MAX_RESOLUTION, integer=True))
    dom = float(check_number("domain", domain, low=0.0, low_open=True))
    return res, dom


def grid_axes(resolution: int = 100, domain: float = 6.0) -> np.ndarray:
    """Cell-centre coordinates along one axis of the grid.

    Parameters
    ----------
    resolution : int
        Number of cells per axis, in ``[2, 1000]``.
    domain : float
        Half-width of the square, ``> 0``.

    Returns
    -------
    np.ndarray
        ``(resolution,)`` float32, ascending, ``-domain + (k + 0.5) * 2 * domain / resolution``.
    """
    res, dom = _check_grid(resolution, domain)
    step = 2.0 * dom / res
    return (-dom + (np.arange(res, dtype=np.float64) + 0.5) * step).astype(np.float32)


def grid_points(resolution: int = 100, domain: float = 6.0) -> np.ndarray:
    """Points of a ``resolution x resolution`` grid over ``[-domain, domain]^2`` (``resolution``
    and ``domain`` as for :func:`grid_axes`).

    Returns
    -------
    np.ndarray
        ``(resolution * resolution, 2)`` float32 ``(x1, x2)`` in row-major order:
        ``points[i * resolution + j] == (axis[j], axis[i])`` with ``axis = grid_axes(...)``.
        ``values.reshape(resolution, resolution)[i, j]`` is the value at
        ``(x1=axis[j], x2=axis[i])`` (see the module docstring).
    """
    axis = grid_axes(resolution, domain)
    x1, x2 = np.meshgrid(axis, axis)  # x1[i, j] = axis[j], x2[i, j] = axis[i]
    return np.stack([x1.ravel(), x2.ravel()], axis=1)

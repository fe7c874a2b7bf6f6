"""Gradient descent on a surface: two-variable functions f(x, y) with their gradients, and the
path each of the engine's optimizers takes on them from a start point.

Each path is stepped by the engine's own classes (:func:`core.optimizers.make_optimizer`) on a
2-parameter float64 vector ``theta = (x, y)``, exactly as they step a network's parameters; only
the gradient comes from the formula instead of backpropagation. Example::

    surface = SURFACES["elongated"]
    path, reached = trajectory(surface, "sgd", 0.95, (-7.0, 2.0), 30)   # path: (31, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from core.optimizers import make_optimizer

__all__ = [
    "OPTIMIZER_NAMES",
    "SURFACES",
    "TOLERANCE",
    "Surface",
    "Trajectory",
    "clipped_path",
    "height_map",
    "isolines",
    "trajectory",
]

#: The race's optimizers, in the order of the page's rows (keys of core.optimizers.OPTIMIZERS).
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
#: A run has reached the minimum once |f - f*| < TOLERANCE.
TOLERANCE = 1e-3
#: A run stops once |x| or |y| exceeds this (it diverged), unless its surface says less.
DIVERGED = 1e6

Grid = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Surface:
    """One function of two variables and how the page shows it.

    ``f(x, y)`` and ``grad(x, y) -> (df/dx, df/dy)`` work element-wise on arrays of any one
    shape (a grid for the contour map, or two scalars for a step).
    """

    name: str
    f: Grid
    grad: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    #: the minimum value f*, or None when f has none (the saddle)
    minimum: float | None
    #: the points where f = f* (several for Himmelblau)
    minima: tuple[tuple[float, float], ...]
    #: the plotted region (x_min, x_max, y_min, y_max)
    box: tuple[float, float, float, float]
    start: tuple[float, float]
    steps: int
    #: default learning rate per optimizer name
    rates: dict[str, float] = field(default_factory=dict)
    #: a run stops when it leaves the box (True), or only when it diverges (|x| or |y| > DIVERGED)
    stop_outside: bool = False

    def value(self, point: np.ndarray) -> float:
        """f at ``point``, shape ``(2,)``."""
        return float(self.f(point[0], point[1]))

    def inside(self, point) -> bool:
        """Whether ``point`` (x, y) lies in the plotted box."""
        x0, x1, y0, y1 = self.box
        return bool(x0 <= point[0] <= x1 and y0 <= point[1] <= y1)


class Trajectory(NamedTuple):
    """One optimizer's run: the points ``(k + 1, 2)`` from the start (k <= the steps asked,
    fewer when the run left the box or diverged), and the first step with |f - f*| < TOLERANCE
    (None if never, or if f has no minimum)."""

    path: np.ndarray
    reached: int | None


def trajectory(
    surface: Surface, optimizer: str, lr: float, start: tuple[float, float], steps: int
) -> Trajectory:
    """Run ``steps`` updates of the engine's optimizer ``optimizer`` (a name of
    :data:`OPTIMIZER_NAMES`, its default hyper-parameters) at learning rate ``lr`` from
    ``start`` on ``surface``; stop early when the point leaves the box of a surface that says so,
    or is no longer finite, or exceeds :data:`DIVERGED`.

    Raises:
        ValueError: unknown optimizer, ``lr`` out of (0, 100], or ``steps`` < 0.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    opt = make_optimizer(optimizer, lr)
    theta = np.array(start, dtype=np.float64)
    grad = np.empty(2)
    path = np.empty((steps + 1, 2))
    path[0] = theta
    done = 0
    point = theta.tolist()  # Python floats: cheaper arithmetic than NumPy scalars
    for done in range(1, steps + 1):  # noqa: B007 (``done`` counts the steps taken)
        grad[:] = surface.grad(*point)
        opt.step(theta, grad)
        path[done] = theta
        point = theta.tolist()
        if _stops(surface, point):
            break
    path = path[: done + 1]
    return Trajectory(path, steps_to_tolerance(surface, path))


def _stops(surface: Surface, point: list[float]) -> bool:
    if not all(abs(v) <= DIVERGED for v in point):  # also true for NaN
        return True
    return surface.stop_outside and not surface.inside(point)


def steps_to_tolerance(surface: Surface, path: np.ndarray) -> int | None:
    """The first index k of ``path`` ``(n, 2)`` with |f(path[k]) - f*| < TOLERANCE, or None."""
    if surface.minimum is None:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        gap = np.abs(surface.f(path[:, 0], path[:, 1]) - surface.minimum)
    hits = np.flatnonzero(gap < TOLERANCE)
    return int(hits[0]) if hits.size else None


def clipped_path(
    path: np.ndarray, box: tuple[float, float, float, float], margin: float = 10.0
) -> np.ndarray:
    """``path`` ``(n, 2)`` (its first point in ``box``) up to where it first leaves ``box``
    grown by ``margin`` times its size on each side, the last segment shortened to end on that
    border (a diverging run's points run into the millions, and a drawing library may drop a
    whole line with such coordinates). ``(k, 2)``, k <= n; the whole path if it stays in."""
    x0, x1, y0, y1 = box
    grow = margin * np.array([x1 - x0, y1 - y0])
    lo, hi = np.array([x0, y0]) - grow, np.array([x1, y1]) + grow
    inside = np.all((path >= lo) & (path <= hi), axis=1)  # NaN is outside
    if inside.all():
        return path
    k = int(np.argmin(inside))
    a, b = path[k - 1], path[k]
    if not np.all(np.isfinite(b)):
        return path[:k]
    d = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(d > 0, (hi - a) / d, np.where(d < 0, (lo - a) / d, np.inf))
    return np.vstack([path[:k], a + min(1.0, float(reach.min())) * d])


def height_map(surface: Surface, resolution: int) -> np.ndarray:
    """What the contour map shows, ``(resolution, resolution)`` indexed ``[ix, iy]`` at the
    centres of a grid over the box: log10(f - f* + 1e-3), which spreads the levels near the
    minimum as evenly as those far up the walls; f itself for a surface without a minimum."""
    x0, x1, y0, y1 = surface.box
    centres = (np.arange(resolution) + 0.5) / resolution
    x, y = np.meshgrid(x0 + (x1 - x0) * centres, y0 + (y1 - y0) * centres, indexing="ij")
    values = surface.f(x, y)
    if surface.minimum is None:
        return values
    return np.log10(np.maximum(values - surface.minimum, 0.0) + TOLERANCE)


def isolines(
    values: np.ndarray, box: tuple[float, float, float, float], levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The iso-lines of ``values`` ``(n, n)`` (as :func:`height_map` gives them, on a grid over
    ``box``) at each of ``levels`` ``(k,)``, by marching squares: x and y ``(2 m,)`` of m
    segments, each two consecutive points (to draw with ``connect="pairs"``).

    A cell whose four edges all cross a level (a saddle cell) gets two segments, pairing its
    crossings in edge order; the ambiguity costs at most a cell's width of drawing.
    """
    n = values.shape[0]
    x0, x1, y0, y1 = box
    above = values[..., None] > levels  # (n, n, k)
    corners = (above[:-1, :-1], above[1:, :-1], above[1:, 1:], above[:-1, 1:])
    # Only the cells whose corners are not all on one side of a level hold a piece of line.
    mixed = (corners[0] | corners[1] | corners[2] | corners[3]) & ~(
        corners[0] & corners[1] & corners[2] & corners[3]
    )
    i, j, k = np.nonzero(mixed)
    level = levels[k]
    a, b, c, d = values[i, j], values[i + 1, j], values[i + 1, j + 1], values[i, j + 1]
    ends = ((a, b), (b, c), (d, c), (a, d))  # the cell's edges: bottom, right, top, left
    with np.errstate(divide="ignore", invalid="ignore"):  # edges not crossed: unused
        ts = [(level - e0) / (e1 - e0) for e0, e1 in ends]
    crosses = np.stack([(e0 > level) != (e1 > level) for e0, e1 in ends], axis=1)
    ones = np.ones_like(level)
    points = np.stack(  # (cells, edge, 2): (index along x, index along y) of each crossing
        [
            np.stack([i + ts[0], j * ones], axis=1),
            np.stack([i + ones, j + ts[1]], axis=1),
            np.stack([i + ts[2], j + ones], axis=1),
            np.stack([i * ones, j + ts[3]], axis=1),
        ],
        axis=1,
    )
    order = np.argsort(~crosses, axis=1, kind="stable")  # crossed edges first, in edge order
    points = np.take_along_axis(points, order[..., None], axis=1)
    count = crosses.sum(axis=1)
    segments = np.concatenate([points[:, :2], points[count == 4, 2:]]).reshape(-1, 2)
    x = x0 + (x1 - x0) * (segments[:, 0] + 0.5) / n
    y = y0 + (y1 - y0) * (segments[:, 1] + 0.5) / n
    return x, y


# --------------------------------------------------------------------------- the functions


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _rosenbrock_grad(x, y):
    return -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


def _beale(x, y):
    y2 = y * y
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y2) ** 2 + (2.625 - x + x * y2 * y) ** 2


def _beale_grad(x, y):
    """Written out term by term: the race calls it once a step, on Python floats."""
    y2 = y * y
    y3 = y2 * y
    r1, r2, r3 = 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y3
    dx = 2 * (r1 * (y - 1) + r2 * (y2 - 1) + r3 * (y3 - 1))
    dy = 2 * x * (r1 + 2 * r2 * y + 3 * r3 * y2)
    return dx, dy


def _himmelblau(x, y):
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def _himmelblau_grad(x, y):
    a, b = x * x + y - 11, x + y * y - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


def _rates(*values: float) -> dict[str, float]:
    return dict(zip(OPTIMIZER_NAMES, values, strict=True))


#: The page's functions by key, each with its default start, step count and learning rates.
SURFACES: dict[str, Surface] = {
    "bowl": Surface(
        "Bowl  x² + y²",
        lambda x, y: x * x + y * y,
        lambda x, y: (2 * x, 2 * y),
        0.0,
        ((0.0, 0.0),),
        (-5.0, 5.0, -5.0, 5.0),
        (-4.0, 3.0),
        100,
        _rates(0.1, 0.05, 0.05, 1.5, 0.1, 0.3, 0.3),
    ),
    "elongated": Surface(
        "Elongated bowl  x²/20 + y²",
        lambda x, y: x * x / 20 + y * y,
        lambda x, y: (x / 10, 2 * y),
        0.0,
        ((0.0, 0.0),),
        (-10.0, 10.0, -5.0, 5.0),
        (-7.0, 2.0),
        60,
        _rates(0.95, 0.1, 0.1, 1.5, 0.1, 0.3, 0.3),
    ),
    "rosenbrock": Surface(
        "Rosenbrock  (1 − x)² + 100 (y − x²)²",
        _rosenbrock,
        _rosenbrock_grad,
        0.0,
        ((1.0, 1.0),),
        (-2.0, 2.0, -1.0, 3.0),
        (-1.2, 1.0),
        600,
        _rates(0.0015, 0.0004, 0.0004, 0.5, 0.005, 0.15, 0.15),
    ),
    "beale": Surface(
        "Beale  (minimum at (3, 0.5))",
        _beale,
        _beale_grad,
        0.0,
        ((3.0, 0.5),),
        (-4.5, 4.5, -4.5, 4.5),
        (1.0, 1.5),
        500,
        _rates(0.01, 0.001, 0.001, 0.5, 0.01, 0.1, 0.1),
    ),
    "himmelblau": Surface(
        "Himmelblau  (four minima)",
        _himmelblau,
        _himmelblau_grad,
        0.0,
        ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
        (-5.0, 5.0, -5.0, 5.0),
        (-1.0, -0.5),
        200,
        _rates(0.01, 0.002, 0.002, 1.0, 0.05, 0.2, 0.2),
    ),
    "saddle": Surface(
        "Saddle  x² − y²  (no minimum)",
        lambda x, y: x * x - y * y,
        lambda x, y: (2 * x, -2 * y),
        None,
        (),
        (-2.0, 2.0, -2.0, 2.0),
        (-1.8, 0.01),
        200,
        _rates(0.05, 0.01, 0.01, 0.1, 0.01, 0.05, 0.05),
        stop_outside=True,
    ),
}

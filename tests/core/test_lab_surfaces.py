"""The optimizer race's surfaces and paths, with numbers: exact gradients, the classic pictures
(SGD's zigzag and Momentum's overshoot on x²/20 + y²), Adam reaching the bowl's minimum."""

import numpy as np
import pytest

from core.lab.surfaces import (
    OPTIMIZER_NAMES,
    SURFACES,
    TOLERANCE,
    clipped_path,
    height_map,
    isolines,
    trajectory,
)
from core.optimizers import make_optimizer

ELONGATED = SURFACES["elongated"]


def central_difference(surface, x, y, h=1e-6):
    fx = (surface.f(x + h, y) - surface.f(x - h, y)) / (2 * h)
    fy = (surface.f(x, y + h) - surface.f(x, y - h)) / (2 * h)
    return np.array([fx, fy])


@pytest.mark.parametrize("key", sorted(SURFACES))
def test_gradients_equal_central_differences(key):
    surface = SURFACES[key]
    x0, x1, y0, y1 = surface.box
    rng = np.random.default_rng(0)
    for x, y in zip(rng.uniform(x0, x1, 20), rng.uniform(y0, y1, 20), strict=True):
        exact = np.array(surface.grad(x, y), dtype=np.float64)
        numeric = central_difference(surface, x, y)
        scale = np.abs(exact).max() + 1.0
        np.testing.assert_allclose(numeric, exact, rtol=1e-6, atol=1e-6 * scale)


def test_known_gradients_and_minima():
    np.testing.assert_allclose(SURFACES["rosenbrock"].grad(0.0, 0.0), (-2.0, 0.0))
    np.testing.assert_allclose(SURFACES["rosenbrock"].grad(1.0, 2.0), (-400.0, 200.0))
    # Beale at (0, 0): residuals 1.5, 2.25, 2.625 with d/dx = -1 each and d/dy = 0
    np.testing.assert_allclose(SURFACES["beale"].grad(0.0, 0.0), (-12.75, 0.0))
    np.testing.assert_allclose(SURFACES["himmelblau"].grad(0.0, 0.0), (-14.0, -22.0))
    for surface in SURFACES.values():
        for point in surface.minima:
            assert abs(surface.value(np.array(point)) - surface.minimum) < 1e-9
            np.testing.assert_allclose(surface.grad(*point), (0.0, 0.0), atol=2e-4)
    assert len(SURFACES["himmelblau"].minima) == 4
    assert SURFACES["saddle"].minimum is None


def test_paths_are_the_engines_own_optimizer_steps():
    path, _ = trajectory(ELONGATED, "adam", 0.3, (-7.0, 2.0), 5)
    theta = np.array([-7.0, 2.0])
    opt = make_optimizer("adam", 0.3)
    for k in range(1, 6):
        opt.step(theta, np.array([theta[0] / 10, 2 * theta[1]]))
        np.testing.assert_allclose(path[k], theta, rtol=1e-12)
    # SGD's first step by hand: theta - lr * grad
    path, _ = trajectory(ELONGATED, "sgd", 0.95, (-7.0, 2.0), 1)
    np.testing.assert_allclose(path, [[-7.0, 2.0], [-7.0 + 0.95 * 0.7, 2.0 - 0.95 * 4.0]])


def sign_changes(values):
    return int(np.count_nonzero(np.diff(np.sign(values)) != 0))


def test_sgd_zigzags_across_the_steep_direction():
    path, _ = trajectory(ELONGATED, "sgd", 0.95, (-7.0, 2.0), 30)
    assert path.shape == (31, 2)
    # y is multiplied by 1 - 0.95 * 2 = -0.9 each step: it changes sign at every step
    assert sign_changes(path[:, 1]) == 30
    np.testing.assert_allclose(path[:, 1], 2.0 * (-0.9) ** np.arange(31), rtol=1e-12)
    # while x creeps along the shallow direction without ever passing 0
    assert np.all(path[:, 0] < 0) and np.all(np.diff(path[:, 0]) > 0)


def test_momentum_overshoots_the_minimum():
    path, _ = trajectory(ELONGATED, "momentum", 0.1, (-7.0, 2.0), 60)
    # x passes beyond the minimum at 0, well into positive values, then swings back
    assert path[:, 0].max() > 1.0
    assert sign_changes(path[:, 0]) >= 2


def test_adam_reaches_the_bowl_minimum():
    bowl = SURFACES["bowl"]
    path, reached = trajectory(bowl, "adam", bowl.rates["adam"], bowl.start, bowl.steps)
    assert reached is not None and reached < bowl.steps
    assert abs(bowl.value(path[reached])) < TOLERANCE
    assert all(abs(bowl.value(p)) >= TOLERANCE for p in path[:reached])


def test_saddle_runs_stop_when_they_leave_the_plot():
    saddle = SURFACES["saddle"]
    for name in OPTIMIZER_NAMES:
        path, reached = trajectory(saddle, name, saddle.rates[name], saddle.start, 1000)
        assert reached is None  # no minimum to reach
        assert len(path) < 1001
        assert not saddle.inside(path[-1])
        assert all(saddle.inside(p) for p in path[:-1])


def test_divergence_stops_the_run():
    rosenbrock = SURFACES["rosenbrock"]
    path, reached = trajectory(rosenbrock, "sgd", 0.1, (-1.5, 2.5), 500)
    assert len(path) < 501 and reached is None
    assert np.all(np.isfinite(path[:-1]))


def test_every_default_is_a_valid_run():
    for surface in SURFACES.values():
        assert surface.inside(np.array(surface.start))
        assert set(surface.rates) == set(OPTIMIZER_NAMES)
        for name in OPTIMIZER_NAMES:
            path, _ = trajectory(surface, name, surface.rates[name], surface.start, 20)
            assert np.all(np.isfinite(path))


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="steps"):
        trajectory(ELONGATED, "sgd", 0.1, (0.0, 0.0), -1)
    with pytest.raises(ValueError, match="optimizer name"):
        trajectory(ELONGATED, "lbfgs", 0.1, (0.0, 0.0), 1)
    with pytest.raises(ValueError, match="lr"):
        trajectory(ELONGATED, "sgd", 0.0, (0.0, 0.0), 1)


def test_isolines_lie_on_their_level():
    bowl = SURFACES["bowl"]
    values = height_map(bowl, 100)
    x, y = isolines(values, bowl.box, np.log10(np.array([1.0, 4.0]) + TOLERANCE))
    assert len(x) == len(y) and len(x) % 2 == 0  # segments: pairs of points
    radius = np.hypot(x, y)
    inner, outer = radius < 1.5, radius >= 1.5
    np.testing.assert_allclose(radius[inner], 1.0, rtol=2e-3)
    np.testing.assert_allclose(radius[outer], 2.0, rtol=2e-3)
    # A closed curve has one segment per cell it enters, i.e. per grid line it crosses: a
    # circle of radius r crosses 2r / h lines of spacing h = 0.1 each way, twice, in x and y.
    assert inner.sum() == 2 * (4 * 2 * 1.0 / 0.1)
    assert outer.sum() == 2 * (4 * 2 * 2.0 / 0.1)


def test_height_map_is_the_log_gap_to_the_minimum():
    surface = SURFACES["elongated"]
    values = height_map(surface, 4)  # centres at x = -7.5, -2.5, 2.5, 7.5 and y = ±3.75, ±1.25
    assert values.shape == (4, 4)
    np.testing.assert_allclose(values[0, 1], np.log10(7.5**2 / 20 + 1.25**2 + TOLERANCE))
    np.testing.assert_allclose(height_map(SURFACES["saddle"], 2), [[0.0, 0.0], [0.0, 0.0]])


def test_a_diverging_path_is_cut_where_it_leaves_the_drawing():
    box = (-1.0, 1.0, -1.0, 1.0)  # grown by 10 sizes: [-21, 21] each way
    path = np.array([[0.0, 0.0], [10.0, 5.0], [40.0, 20.0], [1e9, 1e8], [np.nan, np.nan]])
    np.testing.assert_allclose(clipped_path(path, box), [[0, 0], [10, 5], [21, 10.5]])
    np.testing.assert_allclose(clipped_path(path[:2], box), path[:2])  # stays in: untouched
    assert clipped_path(np.array([[0.0, 0.0], [np.inf, 0.0]]), box).shape == (1, 2)
    rosenbrock = SURFACES["rosenbrock"]
    path, _ = trajectory(rosenbrock, "sgd", 0.5, (-1.2, 1.0), 100)
    drawn = clipped_path(path, rosenbrock.box)
    assert len(drawn) == 2 and drawn[-1, 0] == 42.0  # x1 + 10 * 4: the grown border

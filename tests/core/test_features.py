"""Input feature maps and the boundary grid layout."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.features import FEATURES, check_features, feature_map, grid_axes, grid_points


def test_feature_keys_labels_and_order() -> None:
    assert list(FEATURES.items()) == [
        ("x1", "x₁"),
        ("x2", "x₂"),
        ("x1sq", "x₁²"),
        ("x2sq", "x₂²"),
        ("x1x2", "x₁·x₂"),
        ("sinx1", "sin(x₁)"),
        ("sinx2", "sin(x₂)"),
    ]


def test_feature_values_match_formulas() -> None:
    x = np.array([[1.0, -2.0], [0.5, 3.0], [0.0, 0.0]])
    out = feature_map(x, list(FEATURES))
    assert out.shape == (3, 7) and out.dtype == np.float32
    a, b = x[:, 0], x[:, 1]
    expected = np.stack([a, b, a * a, b * b, a * b, np.sin(a), np.sin(b)], axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_columns_follow_the_given_order() -> None:
    x = np.array([[2.0, 3.0]], dtype=np.float32)
    np.testing.assert_array_equal(feature_map(x, ("x1x2", "x2", "x1")), [[6.0, 3.0, 2.0]])
    np.testing.assert_array_equal(feature_map(x, ["x2sq"]), [[9.0]])


def test_raw_features_are_identity_and_empty_input_works() -> None:
    x = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    np.testing.assert_array_equal(feature_map(x, ["x1", "x2"]), x)
    assert feature_map(np.zeros((0, 2)), ["x1", "sinx2"]).shape == (0, 2)


@pytest.mark.parametrize(
    ("features", "error", "text"),
    [
        ([], ValueError, "empty"),
        (["x1", "x3"], ValueError, "'x3'"),
        (["x1", "x1"], ValueError, "repeats x1"),
        ([1], ValueError, "1"),
        ("x1", TypeError, "'x1'"),
        (None, TypeError, "None"),
    ],
)
def test_bad_features_are_rejected(features, error: type, text: str) -> None:
    with pytest.raises(error, match="features") as info:
        feature_map(np.zeros((2, 2)), features)
    assert text in str(info.value)
    if error is ValueError and features:
        assert "x1x2" in str(info.value) or "once" in str(info.value)  # says what is allowed


def test_check_features_returns_tuple() -> None:
    assert check_features(["sinx1", "x1"]) == ("sinx1", "x1")


@pytest.mark.parametrize("shape", [(3,), (3, 3), (2, 1, 2)])
def test_bad_x_shape_is_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"x: shape"):
        feature_map(np.zeros(shape), ["x1"])


def test_non_numeric_x_is_rejected() -> None:
    with pytest.raises(TypeError, match="x: dtype"):
        feature_map(np.array([["a", "b"]]), ["x1"])


# ------------------------------------------------------------------------------------ grid


def test_grid_axes_are_cell_centres() -> None:
    axis = grid_axes(4, 6.0)
    np.testing.assert_allclose(axis, [-4.5, -1.5, 1.5, 4.5])
    assert axis.dtype == np.float32
    axis = grid_axes(100)
    assert axis.shape == (100,) and np.all(np.diff(axis) > 0)
    np.testing.assert_allclose(axis[0] + axis[-1], 0.0, atol=1e-6)
    np.testing.assert_allclose(np.diff(axis), 0.12, rtol=1e-5)
    assert -6.0 < axis[0] < axis[-1] < 6.0


def test_grid_points_layout() -> None:
    res = 5
    axis = grid_axes(res, 2.0)
    pts = grid_points(res, 2.0)
    assert pts.shape == (res * res, 2) and pts.dtype == np.float32
    for i in range(res):
        for j in range(res):
            np.testing.assert_array_equal(pts[i * res + j], [axis[j], axis[i]])
    # A per-point value reshaped to an image: [i, j] is (x1=axis[j], x2=axis[i]).
    image = (pts[:, 0] * 10 + pts[:, 1]).reshape(res, res)
    assert image[1, 3] == np.float32(axis[3] * 10 + axis[1])
    # Row 0 is the lowest x2; x1 grows along a row.
    assert np.all(pts.reshape(res, res, 2)[0, :, 1] == axis[0])
    assert np.all(np.diff(pts.reshape(res, res, 2)[0, :, 0]) > 0)


def test_grid_default_and_feature_map_compose() -> None:
    pts = grid_points()
    assert pts.shape == (10_000, 2)
    assert feature_map(pts, ["x1", "x2", "x1x2"]).shape == (10_000, 3)


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"resolution": 1}, ValueError, "resolution"),
        ({"resolution": 1001}, ValueError, "resolution"),
        ({"resolution": 10.0}, TypeError, "resolution"),
        ({"resolution": True}, TypeError, "resolution"),
        ({"domain": 0.0}, ValueError, "domain"),
        ({"domain": -1.0}, ValueError, "domain"),
        ({"domain": float("inf")}, ValueError, "domain"),
    ],
)
def test_bad_grid_arguments_are_rejected(kwargs: dict, error: type, field: str) -> None:
    for fn in (grid_points, grid_axes):
        with pytest.raises(error, match=field):
            fn(**kwargs)

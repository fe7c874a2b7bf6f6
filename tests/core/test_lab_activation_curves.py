"""The Activations page's numbers: each activation's values and derivative, computed by the
engine's forward and backward, equal the closed forms; saturation lies where the math puts it."""

import math

import numpy as np
import pytest

from core.activations import ACTIVATIONS
from core.lab.activation_curves import (
    SATURATION,
    SOFTMAX_CLASSES,
    activation_curve,
    saturated_intervals,
    values_and_slopes,
)

#: Points away from kinks (ReLU-like activations have none of their own at these).
POINTS = np.array([-4.0, -1.3, -0.2, 0.3, 1.7, 3.5])


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _gelu(x):
    c = math.sqrt(2.0 / math.pi)
    return 0.5 * x * (1.0 + np.tanh(c * (x + 0.044715 * x**3)))


# name -> (f, f'), written from the textbook formulas (alpha as given in ALPHAS).
CLOSED_FORMS = {
    "identity": (lambda x: x, lambda x: np.ones_like(x)),
    "sigmoid": (_sig, lambda x: _sig(x) * (1 - _sig(x))),
    "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2),
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.2 * x), lambda x: np.where(x > 0, 1, 0.2)),
    "elu": (
        lambda x: np.where(x > 0, x, 1.5 * (np.exp(x) - 1)),
        lambda x: np.where(x > 0, 1, 1.5 * np.exp(x)),
    ),
    # the derivative by central differences of the closed form (h small, float64)
    "gelu": (_gelu, lambda x: (_gelu(x + 1e-6) - _gelu(x - 1e-6)) / 2e-6),
    "silu": (lambda x: x * _sig(x), lambda x: _sig(x) + x * _sig(x) * (1 - _sig(x))),
    "softplus": (lambda x: np.log1p(np.exp(x)), _sig),
    "sine": (np.sin, np.cos),
    "softmax": (
        lambda x: np.exp(x) / (np.exp(x) + SOFTMAX_CLASSES - 1),
        lambda x: (
            _sig(x - math.log(SOFTMAX_CLASSES - 1)) * (1 - _sig(x - math.log(SOFTMAX_CLASSES - 1)))
        ),
    ),
}
ALPHAS = {"leaky_relu": 0.2, "elu": 1.5}


def test_every_engine_activation_has_a_closed_form_here():
    assert set(CLOSED_FORMS) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_values_and_derivatives_equal_the_closed_forms(name):
    f, df = CLOSED_FORMS[name]
    y, dy = values_and_slopes(name, POINTS, ALPHAS.get(name))
    np.testing.assert_allclose(y, f(POINTS), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dy, df(POINTS), rtol=1e-7, atol=1e-12)


def test_alpha_changes_the_negative_side_only():
    small = activation_curve("leaky_relu", alpha=0.01)
    large = activation_curve("leaky_relu", alpha=0.3)
    left, right = small.x < 0, small.x > 0
    np.testing.assert_allclose(large.y[left], 30 * small.y[left], rtol=1e-12)
    np.testing.assert_array_equal(large.y[right], small.y[right])
    # ELU's alpha is where the curve levels off on the left
    assert activation_curve("elu", (-20, 0), alpha=2.5).y[0] == pytest.approx(-2.5, rel=1e-6)


def test_sigmoid_and_tanh_saturate_beyond_their_thresholds():
    # σ(1-σ) < 0.05  <=>  |x| > ln(p / (1 - p)) with p = (1 + sqrt(1 - 4·0.05)) / 2
    p = (1 + math.sqrt(1 - 4 * SATURATION)) / 2
    edge = {"sigmoid": math.log(p / (1 - p)), "tanh": math.atanh(math.sqrt(1 - SATURATION))}
    assert edge["sigmoid"] == pytest.approx(2.887, abs=1e-3)
    assert edge["tanh"] == pytest.approx(2.178, abs=1e-3)
    for name, e in edge.items():
        curve = activation_curve(name, (-6, 6), points=1201)  # spacing 0.01
        (a0, a1), (b0, b1) = curve.saturated
        assert a0 == -6 and b1 == 6
        assert a1 == pytest.approx(-e, abs=0.01) and b0 == pytest.approx(e, abs=0.01)


def test_relu_saturates_on_the_left_only():
    curve = activation_curve("relu", (-5, 5), points=101)
    assert curve.saturated == [(-5.0, 0.0)]  # f'(0) = 0: the engine passes no gradient at 0
    assert not activation_curve("relu", (0.01, 8)).saturated
    assert not activation_curve("identity").saturated


def test_softmax_of_one_logit_saturates_like_a_shifted_sigmoid():
    curve = activation_curve("softmax", (-10, 10), points=2001)
    assert curve.y.min() > 0 and curve.y.max() < 1
    # half way where e^x = K - 1 (the other logits together)
    half = curve.x[np.argmin(np.abs(curve.y - 0.5))]
    assert half == pytest.approx(math.log(SOFTMAX_CLASSES - 1), abs=0.01)
    assert len(curve.saturated) == 2


def test_saturated_intervals_of_runs():
    x = np.arange(8.0)
    dy = np.array([0.0, 0.01, 1, 1, 0.02, 1, 0.0, 0.0])
    assert saturated_intervals(x, dy) == [(0.0, 1.0), (4.0, 4.0), (6.0, 7.0)]
    assert saturated_intervals(x, np.ones(8)) == []


def test_bad_choices_name_the_field():
    with pytest.raises(ValueError, match="activation: 'swish2' is unknown"):
        activation_curve("swish2")
    with pytest.raises(ValueError, match="alpha"):
        activation_curve("elu", alpha=50)
    with pytest.raises(ValueError, match="x range"):
        activation_curve("relu", (3, -3))


def test_curves_come_from_the_engines_own_layers(monkeypatch):
    # a change to the engine's layer shows in the curve: no separate formula here
    relu = ACTIVATIONS["relu"]
    monkeypatch.setattr(relu, "backward", lambda self, dy: 3.0 * dy * (self._y > 0))
    curve = activation_curve("relu", (-1, 1), points=5)
    np.testing.assert_array_equal(curve.dy, [0, 0, 0, 3, 3])

"""The Activations page as a learner sees it: the chosen activation and its derivative drawn from
the engine's numbers, a second one overlaid, saturated regions shaded where the slope is flat."""

import numpy as np
import pytest
from lab_pages import choose, open_page

from core.lab.activation_curves import activation_curve
from playground.lab.activations import ActivationsPage


@pytest.fixture
def page(qtbot):
    return open_page(qtbot, ActivationsPage)


def _drawn(item):
    x, y = item.getData()
    return np.asarray(x), np.asarray(y)


def assert_drawn(page, name, alpha=None):
    expected = activation_curve(name, (-6, 6), 601, alpha)
    for item, values in ((page.value_curve, expected.y), (page.slope_curve, expected.dy)):
        x, y = _drawn(item)
        np.testing.assert_array_equal(x, expected.x)
        np.testing.assert_allclose(y, values, rtol=1e-12, atol=1e-15)


def test_choosing_an_activation_redraws_both_curves_from_the_engine(qtbot, page):
    assert_drawn(page, "sigmoid")
    for name in ("tanh", "gelu", "softmax"):
        choose(qtbot, page, page.activation, name)
        assert_drawn(page, name)
    assert "Softmax" in page.key.text()


def test_alpha_reshapes_leaky_relu_and_elu(qtbot, page):
    assert not page.alphas["elu"].isEnabled()
    choose(qtbot, page, page.activation, "elu")
    assert page.alphas["elu"].isEnabled() and not page.alphas["leaky_relu"].isEnabled()
    with qtbot.waitSignal(page.redrawn, timeout=1000):
        page.alphas["elu"].setValue(2.5)
    assert_drawn(page, "elu", 2.5)
    assert _drawn(page.value_curve)[1][0] == pytest.approx(-2.5, rel=0.01)  # levels off at −α
    choose(qtbot, page, page.activation, "leaky_relu")
    with qtbot.waitSignal(page.redrawn, timeout=1000):
        page.alphas["leaky_relu"].setValue(0.3)
    assert_drawn(page, "leaky_relu", 0.3)


def test_overlay_shows_a_second_activation(qtbot, page):
    choose(qtbot, page, page.overlay, "relu")
    assert page.overlay_value.isVisible() and page.overlay_slope.isVisible()
    relu = activation_curve("relu", (-6, 6), 601)
    np.testing.assert_array_equal(_drawn(page.overlay_value)[1], relu.y)
    np.testing.assert_array_equal(_drawn(page.overlay_slope)[1], relu.dy)
    assert_drawn(page, "sigmoid")  # the first stays
    assert "Sigmoid" in page.key.text() and "ReLU" in page.key.text()
    choose(qtbot, page, page.overlay, "none")
    assert not page.overlay_value.isVisible() and not page.overlay_slope.isVisible()


def test_sigmoid_has_saturated_regions_and_relu_none_for_positive_x(qtbot, page):
    (a0, a1), (b0, b1) = page.shaded()
    assert a0 == -6 and a1 == pytest.approx(-2.89, abs=0.02)
    assert b0 == pytest.approx(2.89, abs=0.02) and b1 == 6
    assert "x ≤ −2.90" in page.saturation_note.text()
    choose(qtbot, page, page.activation, "relu")
    assert page.shaded() == [(-6.0, 0.0)]  # only the left half: none for x > 0
    choose(qtbot, page, page.activation, "identity")
    assert page.shaded() == []
    assert "nowhere" in page.saturation_note.text()


def test_x_range_follows_the_control(qtbot, page):
    with qtbot.waitSignal(page.redrawn, timeout=1000):
        page.span.setValue(12)
    x, _ = _drawn(page.value_curve)
    assert (x[0], x[-1]) == (-12, 12)
    assert page.shaded()[0][0] == -12

"""Each view runs on its own; the colour maps encode what they claim."""

import numpy as np
import pytest
from PySide6.QtGui import QImage

from playground.views import demo
from playground.views.colors import CLASS_COLORS, NEGATIVE, POSITIVE, diverging, output_image


@pytest.mark.parametrize("view", demo.VIEWS)
def test_view_runs_alone_and_renders(view, tmp_path, qapp):
    out = tmp_path / f"{view}.png"
    assert demo.main([view, "--epochs", "3", "--screenshot", str(out)]) == 0
    image = QImage(str(out))
    colors = {
        image.pixel(x, y) for x in range(0, image.width(), 8) for y in range(0, image.height(), 8)
    }
    assert len(colors) > 20


def test_diverging_map_ends_and_middle():
    rgba = diverging(np.array([-1.0, 0.0, 1.0, 5.0]))
    assert np.array_equal(rgba[0, :3], NEGATIVE.astype(np.uint8))
    assert np.array_equal(rgba[2, :3], POSITIVE.astype(np.uint8))
    assert np.array_equal(rgba[3], rgba[2])  # clipped
    assert rgba[1, :3].min() > 230 and (rgba[:, 3] == 255).all()


def test_output_image_for_two_and_three_classes():
    two = np.zeros((2, 2, 2), np.float32)
    two[0, 0] = (1, 0)
    two[0, 1] = (0, 1)
    two[1, :] = (0.5, 0.5)
    img = output_image(two, classification=True)
    assert np.array_equal(img[0, 0, :3], NEGATIVE.astype(np.uint8))
    assert np.array_equal(img[0, 1, :3], POSITIVE.astype(np.uint8))
    three = np.full((1, 2, 3), 1 / 3, np.float32)
    three[0, 0] = (0, 0, 1)
    img = output_image(three, classification=True)
    sure, unsure = img[0, 0, :3].astype(int), img[0, 1, :3].astype(int)
    assert np.abs(sure - CLASS_COLORS[2]).max() < 40  # confident: the class colour
    assert unsure.min() > 230  # undecided: pale
    discrete = output_image(three, classification=True, discretize=True)
    assert discrete[0, 1, :3].min() < 230  # discretized: a class colour even when unsure


def test_per_step_loss_is_a_trailing_moving_average():
    from playground.views.curves_view import smoothed

    values = np.arange(200, dtype=float)
    out = smoothed(values, fraction=0.02)  # 4 points
    assert out[0] == 0 and out[2] == 1.0  # the start averages what exists so far
    np.testing.assert_allclose(out[3:], values[3:] - 1.5)  # mean of itself and 3 before
    np.testing.assert_array_equal(smoothed(values[:10]), values[:10])  # too short to smooth


def test_curves_show_the_per_step_loss_in_epochs(qapp):
    from playground.views.curves_view import CurvesView

    session, data, spec, snap = demo.trained_snapshot("xor", 3)
    view = CurvesView()
    view.show_snapshot(snap)
    x, y = view.step_loss.getData()
    assert len(x) == 3 * snap.steps_per_epoch
    assert x[-1] == pytest.approx(3.0) and np.all(np.isfinite(y))


def test_a_long_history_is_drawn_at_about_one_point_per_pixel(qapp):
    from dataclasses import replace

    from core.training.history import History
    from playground.views.curves_view import CurvesView

    snap = demo.trained_snapshot("xor", 1)[3]
    epochs = np.arange(1, 40_001, dtype=np.float64)
    rows = np.column_stack([epochs, 4 * epochs, epochs / 100] + [1 / epochs] * 5)
    view = CurvesView()
    view.resize(800, 300)
    view.show()
    view.show_snapshot(replace(snap, history=History.from_rows(rows).view()))
    qapp.processEvents()
    for curve in (view.train_loss, view.test_acc):
        x, y = curve.getData()  # what is drawn: means of neighbouring epochs
        assert len(x) <= view.loss_plot.width() and x[0] < 100 and x[-1] > 39_900
        np.testing.assert_allclose(y[4:], 1 / x[4:], rtol=0.01)  # the curve keeps its shape


def test_thinning_takes_means_of_neighbouring_points():
    from playground.views.curves_view import thinned

    x = np.arange(10.0)
    tx, ty = thinned(x, 2 * x, 4)  # 3 points a mean, the last mean of one
    np.testing.assert_array_equal(tx, [1, 4, 7, 9])
    np.testing.assert_array_equal(ty, 2 * tx)
    assert thinned(x, x, 10)[0] is x  # short enough: as it is

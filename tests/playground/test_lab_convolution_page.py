"""The Lab's convolution page as a learner sees it: a digit through a kernel, the map redrawn
when the kernel changes, one position's dot product as numbers, and a tiny CNN's filters."""

import numpy as np
import pytest
from dev_data import DEV_MNIST
from PySide6.QtCore import QPointF, Qt

from core.lab.convolution import KERNELS, convolve, engine_map, feature_maps, position_under
from playground.lab.convolution import ConvolutionPage, number
from playground.lab.trained_filters import TrainedFilters
from playground.views.colors import diverging


@pytest.fixture
def make_page(qtbot, qapp, monkeypatch, tmp_path):
    monkeypatch.setattr(TrainedFilters, "SECONDS", 0.3)
    monkeypatch.setattr(TrainedFilters, "N_DRAWN", 60)
    pages = []

    def make(data_root=tmp_path):
        monkeypatch.setenv("NN_PLAYGROUND_DATA", str(data_root))
        page = ConvolutionPage()
        qtbot.addWidget(page)
        page.resize(1100, 700)
        page.show()
        qtbot.waitExposed(page)
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.hidden()


@pytest.fixture
def page(make_page):
    return make_page()


def pixel_point(view, row: float, col: float):
    """The viewport point over pixel ``(row, col)`` of a page picture."""
    scene = view.image.mapToScene(QPointF(col + 0.5, row + 0.5))
    return view.mapFromScene(scene)


def shown_map(page) -> np.ndarray:
    return page.map_view.image.image


def test_the_page_opens_with_a_digit_a_filter_and_the_engines_map(page):
    assert page.image_combo.currentText() == "Drawn 7"
    assert page.filter_combo.currentText() == "Sobel x (vertical edges)"
    image = page.image()
    assert image.shape == (28, 28) and image.max() == 1.0
    np.testing.assert_array_equal(page.input_view.image.image, image)
    sobel = KERNELS["Sobel x (vertical edges)"]
    np.testing.assert_array_equal(page.kernel(), sobel)
    expected = engine_map(image, sobel)
    np.testing.assert_allclose(page.conv.feature_map, expected, rtol=1e-9, atol=1e-9)
    limit = np.abs(expected).max()
    np.testing.assert_array_equal(shown_map(page), diverging(page.conv.feature_map, limit))
    assert page.conv.cols.shape == (9, 26 * 26)
    np.testing.assert_array_equal(page.cols_view.image.image, page.conv.cols)


def test_changing_the_kernel_redraws_the_map(page):
    before = shown_map(page).copy()
    page.spins[1][1].setValue(3.0)  # the Sobel kernel's centre, typed in
    kernel = KERNELS["Sobel x (vertical edges)"].copy()
    kernel[1, 1] = 3.0
    np.testing.assert_allclose(
        page.conv.feature_map, engine_map(page.image(), kernel), rtol=1e-9, atol=1e-9
    )
    assert not np.array_equal(shown_map(page), before)

    page.filter_combo.setCurrentText("Gaussian 5×5")
    assert sum(s.isVisible() for row in page.spins for s in row) == 25
    assert page.spins[0][1].text() == "0.016"  # 4/256, shown to 3 decimals, used exactly
    page.padding.setValue(2)
    page.bias.setValue(-0.5)
    expected = engine_map(page.image(), KERNELS["Gaussian 5×5"], -0.5, 1, 2)
    assert expected.shape == (28, 28)
    np.testing.assert_allclose(page.conv.feature_map, expected, rtol=1e-9, atol=1e-9)
    assert page.input_view.image.image.shape == (32, 32)  # the padded image
    assert page.conv.cols.shape == (25, 28 * 28)


def check_dot_shown(page, i: int, j: int) -> None:
    """The marked position is (i, j); its terms, sum and value are shown and equal the map."""
    assert page.position == (i, j)
    dot, value = page.dot, page.conv.feature_map[i, j]
    assert dot.value == pytest.approx(value, rel=1e-12, abs=1e-12)
    text = page.dot_label.text()
    assert f"y[{i}, {j}] = {number(value, 3)}" in text
    for x, w in zip(dot.patch.ravel(), dot.kernel.ravel(), strict=True):
        assert f"{number(x)}<br><b>×{number(w, 3)}</b>" in text
    k = dot.kernel.shape[0]
    rect = page.input_view.marker.rect()
    p = page.padding.value()
    assert (rect.top(), rect.left(), rect.height()) == (dot.top + p, dot.left + p, k)
    assert page.cols_view.marker.rect().left() == page.conv.column(i, j)


def test_clicking_and_hovering_the_image_show_that_windows_dot_product(page, qtbot):
    view = page.input_view
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pixel_point(view, 10, 15))
    assert position_under(page.conv, 10, 15) == (9, 14)
    check_dot_shown(page, 9, 14)
    np.testing.assert_array_equal(page.dot.patch, page.image()[9:12, 14:17])

    qtbot.mouseMove(view.viewport(), pixel_point(view, 20, 6))
    qtbot.waitUntil(lambda: page.position == (19, 5))
    check_dot_shown(page, 19, 5)


def test_clicking_the_map_or_a_column_of_the_matrix_picks_that_position(page, qtbot):
    page.filter_combo.setCurrentText("Laplacian of Gaussian 5×5")
    page.padding.setValue(1)
    page.stride.setValue(2)
    view = page.map_view
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pixel_point(view, 6, 3))
    check_dot_shown(page, 6, 3)
    cols = page.cols_view
    ow = page.conv.feature_map.shape[1]
    column = 4 * ow + 8
    qtbot.mouseClick(cols.viewport(), Qt.MouseButton.LeftButton, pos=pixel_point(cols, 3, column))
    check_dot_shown(page, 4, 8)
    assert page.dot.top == 4 * 2 - 1


def test_a_tiny_cnn_trains_and_its_filters_can_be_studied_step_by_step(page, qtbot):
    page.shown()
    trained = page.trained
    qtbot.waitUntil(lambda: trained.finished, timeout=30_000)
    assert "varied copies of the built-in drawings" in trained.status.text()
    assert "held-out images correctly" in trained.status.text()
    w, b = trained.weights.W, trained.weights.b
    assert w.shape == (8, 1, 5, 5)
    np.testing.assert_allclose(trained.maps, feature_maps(w, b, page.image()), rtol=1e-9)

    qtbot.mouseClick(
        trained.plot.viewport(),
        Qt.MouseButton.LeftButton,
        pos=trained.plot.mapFromScene(trained.filter_items[2].mapToScene(QPointF(2.5, 2.5))),
    )
    assert page.tabs.currentIndex() == 0
    assert page.filter_combo.currentText() == "Trained filter 3"
    np.testing.assert_array_equal(page.kernel(), w[2, 0])
    expected = convolve(page.image(), page.kernel(), page.bias.value()).feature_map
    np.testing.assert_allclose(page.conv.feature_map, expected, rtol=1e-12)
    assert page.bias.value() == pytest.approx(float(b[2]), abs=0.005)


def test_mnist_in_the_data_folder_adds_its_test_digits(make_page, qtbot):
    page = make_page(DEV_MNIST.parent)
    page.shown()
    qtbot.waitUntil(lambda: page.image_combo.count() == 13, timeout=30_000)
    assert page.image_combo.currentText() == "MNIST test image 3 (a 0)"
    assert "MNIST" in page.image_combo.itemText(3)
    np.testing.assert_allclose(
        page.conv.feature_map,
        convolve(page.image(), KERNELS["Sobel x (vertical edges)"]).feature_map,
        rtol=1e-12,
    )
    thread = page.trained.thread_
    page.hidden()
    assert thread.isFinished()
    page.shown()  # on screen again: trains afresh, and MNIST's digits are listed once
    qtbot.waitUntil(lambda: page.trained.finished, timeout=30_000)
    assert "3,000 MNIST training images" in page.trained.status.text()
    assert page.image_combo.count() == 13

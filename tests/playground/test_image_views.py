"""The image-mode views: first-layer weights, confusion matrix and the test-image grid."""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication, QToolTip

from core.data.locations import status
from playground.theme import apply_theme
from playground.views import demo
from playground.views.colors import NEGATIVE, POSITIVE
from playground.views.confusion_view import ConfusionView
from playground.views.filters_view import FiltersView
from playground.views.image_grid_view import ImageGridView

NAMES = ["T-shirt/top", "Trouser", "Ankle boot"]


def show(qtbot, widget, width=640, height=480):
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def children(widget) -> int:
    return len(widget.findChildren(QObject))


def tooltip_at(widget, pos: QPointF) -> str:
    """What the widget's tooltip says at ``pos`` (the event Qt sends after the mouse rests)."""
    QToolTip.hideText()
    point = pos.toPoint()
    event = QHelpEvent(QEvent.Type.ToolTip, point, widget.mapToGlobal(point))
    widget.event(event)
    return QToolTip.text() if QToolTip.isVisible() else ""


# -- filters ---------------------------------------------------------------------------------------
def test_dense_weights_tile_the_first_64_units_as_28x28_images(qtbot, qapp):
    apply_theme(qapp)
    view = show(qtbot, FiltersView())
    w = np.zeros((784, 100), np.float32)
    w[:, ::2] = 0.5  # even units positive, odd units negative
    w[:, 1::2] = -0.2
    view.set_weights(w, "dense")
    assert view.tile_count() == 64 and view.tile_shape() == (28, 28)
    assert view.caption.text() == "First 64 of 100 units"
    image = view.rgba()
    for k in (0, 1, 37, 63):
        rect = view.tile_rect(k)
        centre = rect.center()
        assert view.tile_at(centre.x(), centre.y()) == k
        rgb = image[int(centre.y()), int(centre.x()), :3]
        expected = POSITIVE if k % 2 == 0 else NEGATIVE  # each tile scaled to its own max |w|
        assert np.abs(rgb.astype(int) - expected).max() <= 1
    gap = view.tile_rect(1).left() - view.tile_rect(0).right()
    assert view.tile_at(view.tile_rect(0).right() + gap / 2, 10) is None
    assert "unit 38 of 100" in view.describe_tile(37) and "-0.200" in view.describe_tile(37)


def test_shared_scale_colours_every_tile_by_the_largest_weight(qtbot, qapp):
    view = show(qtbot, FiltersView())
    w = np.full((784, 2), 0.1, np.float32)
    w[:, 1] = 1.0
    view.set_weights(w, "dense")
    centre = view.tile_rect(0).center()

    def pale_unit():
        return view.rgba()[int(centre.y()), int(centre.x()), :3]

    assert np.abs(pale_unit().astype(int) - POSITIVE).max() <= 1
    view.shared_scale.setChecked(True)
    assert pale_unit().min() > 200  # a tenth of the shared scale: near white


def test_conv_filters_are_tiles_of_kernel_size_enlarged(qtbot, qapp):
    view = show(qtbot, FiltersView())
    w = np.random.default_rng(0).normal(size=(8, 1, 5, 5)).astype(np.float32)
    view.set_weights(w, "conv")
    assert view.tile_count() == 8 and view.tile_shape() == (5, 5)
    assert view.caption.text() == "All 8 filters, 5×5"
    rect = view.tile_rect(3)
    assert rect.width() == rect.height() >= 40  # square pixels, nearest-enlarged
    top, left, side = int(rect.top()), int(rect.left()), int(rect.width()) // 5
    image = view.rgba()
    block = image[top : top + side, left : left + side].reshape(-1, 4)
    assert (block == block[0]).all()  # one weight: a block of equal pixels
    assert (image[top, left + side] != block[0]).any()  # the next weight
    with pytest.raises(ValueError, match="w: shape"):
        view.set_weights(w[0], "conv")
    with pytest.raises(ValueError, match="784"):
        view.set_weights(np.zeros((100, 4)), "dense")


def test_hovering_a_tile_names_the_unit_and_its_range(qtbot, qapp):
    view = show(qtbot, FiltersView())
    w = np.linspace(-1, 1, 784 * 10, dtype=np.float32).reshape(784, 10)
    view.set_weights(w, "dense")
    viewport = view.plot.viewport()
    # image pixels are the view box's coordinates
    pos = QPointF(view.plot.mapFromScene(view.box.mapViewToScene(view.tile_rect(4).center())))
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        pos,
        viewport.mapToGlobal(pos),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, move)
    qtbot.waitUntil(lambda: view.image.toolTip() != "", timeout=1000)
    assert view.image.toolTip() == view.describe_tile(4)
    assert view.image.toolTip().startswith("unit 5 of 10")


def test_filters_update_reuses_its_items(qtbot, qapp):
    view = show(qtbot, FiltersView())
    rng = np.random.default_rng(1)
    view.set_weights(rng.normal(size=(784, 32)), "dense")
    items, objects, image = list(view.box.addedItems), children(view), view.image
    view.set_weights(rng.normal(size=(784, 32)), "dense")
    assert view.box.addedItems == items and children(view) == objects and view.image is image


# -- confusion matrix ------------------------------------------------------------------------------
M = np.array([[8, 1, 1], [0, 10, 0], [2, 3, 5]])


def test_confusion_matrix_shows_accuracy_counts_and_hover_text(qtbot, qapp):
    apply_theme(qapp)
    view = show(qtbot, ConfusionView())
    view.set_matrix(M, NAMES)
    assert view.accuracy.text() == "accuracy 76.7% (23 of 30)"
    canvas = view.matrix
    assert canvas.cell_text(2, 1) == "true Ankle boot, predicted Trouser: 3 (30.0% of Ankle boot)"
    assert tooltip_at(canvas, view.cell_rect(0, 2).center()) == (
        "true T-shirt/top, predicted Ankle boot: 1 (10.0% of T-shirt/top)"
    )
    image = canvas.grab().toImage()

    def colors(t, p):
        r = view.cell_rect(t, p).adjusted(2, 2, -3, -3).toRect()
        return {
            QColor(image.pixel(x, y)).getRgb()[:3]
            for x in range(r.left(), r.right())
            for y in range(r.top(), r.bottom())
        }

    full = colors(1, 1)  # 100% of its row: deep blue with light digits drawn on it
    assert (8, 119, 189) in full
    assert any(min(c) > 200 for c in full)
    empty = colors(1, 0)  # no samples: the base colour with a muted 0
    assert len(empty) > 1


def test_clicking_a_cell_emits_true_and_predicted_class(qtbot, qapp):
    view = show(qtbot, ConfusionView())
    view.set_matrix(M, NAMES)
    for t, p in ((2, 1), (0, 0), (1, 2)):
        with qtbot.waitSignal(view.cellClicked, timeout=1000) as blocker:
            qtbot.mouseClick(
                view.matrix, Qt.MouseButton.LeftButton, pos=view.cell_rect(t, p).center().toPoint()
            )
        assert blocker.args == [t, p]
    with qtbot.assertNotEmitted(view.cellClicked):
        qtbot.mouseClick(view.matrix, Qt.MouseButton.LeftButton, pos=QPoint(1, 1))


def test_confusion_update_reuses_widgets_and_rejects_bad_input(qtbot, qapp):
    view = show(qtbot, ConfusionView())
    view.set_matrix(M, NAMES)
    objects = children(view)
    view.set_matrix(M * 2, NAMES)
    assert children(view) == objects
    assert view.accuracy.text() == "accuracy 76.7% (46 of 60)"
    with pytest.raises(ValueError, match="class_names"):
        view.set_matrix(M, NAMES[:2])
    with pytest.raises(ValueError, match="m: shape"):
        view.set_matrix(M[:2], NAMES)


# -- image grid ------------------------------------------------------------------------------------
def grid_data(n=12):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.arange(n) % 3
    predicted = labels.copy()
    wrong = np.array([1, 4, 10])
    predicted[wrong] = (labels[wrong] + 1) % 3
    return images, labels, predicted, np.linspace(0.4, 1.0, n), wrong


def framed_red(view: ImageGridView, image, k: int) -> bool:
    rect = view.canvas.tile_rect(k)
    x, y = int(rect.left()) - 1, int(rect.center().y())
    r, g, b, _ = QColor(image.pixel(x, y)).getRgb()
    return r > 150 and g < 80 and b < 80


def test_image_grid_frames_exactly_the_mistakes(qtbot, qapp):
    apply_theme(qapp)
    view = show(qtbot, ImageGridView())
    images, labels, predicted, confidence, wrong = grid_data()
    view.set_images(images, labels, predicted, confidence, NAMES)
    assert list(view.shown_indices()) == list(range(12)) and view.canvas.visible_count() == 12
    image = view.canvas.grab().toImage()
    assert [k for k in range(12) if framed_red(view, image, k)] == list(wrong)
    assert view.summary.text() == "3 mistakes in 12 images"
    assert view.canvas.tile_text(1) == (
        "image 1: predicted Ankle boot (45%)\ntrue class Trouser (wrong)"
    )


def test_mistakes_only_shows_just_the_mistakes(qtbot, qapp):
    view = show(qtbot, ImageGridView())
    images, labels, predicted, confidence, wrong = grid_data()
    view.set_images(images.astype(np.float32) / 255, labels, predicted, confidence, NAMES)
    view.mistakes_only.setChecked(True)
    assert list(view.shown_indices()) == list(wrong)
    assert view.canvas.visible_count() == 3
    image = view.canvas.grab().toImage()
    assert all(framed_red(view, image, k) for k in range(3))
    view.mistakes_only.setChecked(False)
    assert len(view.shown_indices()) == 12


def test_image_grid_caps_the_count_and_reuses_widgets(qtbot, qapp):
    view = show(qtbot, ImageGridView(max_images=8))
    view.set_title("Examples of true Trouser predicted Ankle boot")
    assert view.title.text() == "Examples of true Trouser predicted Ankle boot"
    images, labels, predicted, confidence, _ = grid_data()
    view.set_images(images, labels, predicted, confidence, NAMES)
    objects = children(view)
    view.set_images(images[::-1], labels[::-1], predicted[::-1], confidence, NAMES)
    assert children(view) == objects
    assert len(view.shown_indices()) == 8
    assert view.summary.text() == "3 mistakes in 12 images · first 8 shown"
    with pytest.raises(ValueError, match="predicted"):
        view.set_images(images, labels, predicted[:3], confidence, NAMES)


def test_too_small_a_grid_shows_fewer_legible_tiles(qtbot, qapp):
    view = show(qtbot, ImageGridView(), 300, 220)
    images, labels, predicted, confidence, _ = grid_data()
    view.set_images(images, labels, predicted, confidence, NAMES)
    shown = view.canvas.visible_count()
    assert 0 < shown < 12
    assert view.canvas.tile_rect(0).width() >= 60
    assert view.summary.text().endswith(f"first {shown} shown (enlarge the view for more)")


# -- demo ------------------------------------------------------------------------------------------
@pytest.mark.skipif(status("fashion-mnist") is None, reason="Fashion-MNIST not installed")
@pytest.mark.parametrize("view", demo.IMAGE_VIEWS)
def test_image_view_demo_renders(view, tmp_path, qapp):
    out = tmp_path / f"{view}.png"
    assert demo.main([view, "--epochs", "1", "--screenshot", str(out)]) == 0
    image = QImage(str(out))
    colors = {image.pixel(x, y) for x in range(0, image.width(), 8) for y in range(0, 200, 8)}
    assert len(colors) > 20

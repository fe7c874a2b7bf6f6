"""The window's layout holds still: widths that don't follow counters, presets or clicks; views
that start over with each run; everything fitting at the smallest supported size."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from waiting import exported

from core.pace import MAX
from playground.main_window import MainWindow


def choose_preset(qtbot, window: MainWindow, name: str) -> None:
    """Pick ``name`` in the toolbar's Preset box as a user does."""
    box = window.toolbar.preset_box
    with qtbot.waitSignal(window.runReset):
        box.setCurrentIndex(box.findData(name))
        box.activated.emit(box.currentIndex())
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=5000)
    window.toolbar.speed_control.set_speed(MAX)  # presets bring a watchable pace; these tests train


def train_epochs(qtbot, window: MainWindow, epochs: int) -> None:
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(
        lambda: (
            window.workspace.last_snapshot is not None
            and window.workspace.last_snapshot.epoch >= epochs
        ),
        timeout=20000,
    )
    with qtbot.waitSignal(window.controller.stateChanged, timeout=5000):
        window.toolbar.play_action.trigger()
    window.flush_views()


def test_accuracy_plot_width_after_regression_then_classification(make_window, qtbot):
    window = make_window("bumps")
    train_epochs(qtbot, window, 3)
    choose_preset(qtbot, window, "spiral")
    train_epochs(qtbot, window, 3)
    qtbot.wait(50)
    curves = window.plane.curves_view
    assert curves.acc_plot.isVisible()
    print(curves.acc_plot.width(), curves.loss_plot.width())
    assert curves.acc_plot.width() == pytest.approx(curves.loss_plot.width(), abs=2)


def test_curves_start_over_at_reset(make_window, qtbot):
    window = make_window("xor")
    train_epochs(qtbot, window, 300)
    with qtbot.waitSignal(window.runReset):
        window.toolbar.reset_action.trigger()
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=5000)
    window.flush_views()
    for plot in (window.plane.curves_view.loss_plot, window.plane.curves_view.acc_plot):
        assert plot.viewRange()[0][1] < 5  # not the previous run's 300 epochs
    choose_preset(qtbot, window, "spiral")
    train_epochs(qtbot, window, 3)
    qtbot.waitUntil(lambda: window.plane.curves_view.loss_plot.viewRange()[0][1] < 50)


def test_toolbar_and_plots_stay_put_across_presets_and_growing_counters(make_window, qtbot):
    window = make_window("bumps")
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024)

    def geometry():
        return [
            w.geometry().getRect() for w in (window.toolbar.mode_box, window.toolbar.preset_box)
        ]

    def plots():
        views = (
            window.plane.curves_view.loss_plot,
            window.plane.output_view,
            window.plane.network_view,
        )
        return [view.width() for view in views]

    start, shown = geometry(), {}
    for name in ("bumps", "spiral", "xor"):
        choose_preset(qtbot, window, name)
        train_epochs(qtbot, window, 50)  # the counters grow by digits
        qtbot.wait(20)
        assert geometry() == start, name
        shown[name] = plots()
    assert shown["spiral"] == shown["xor"]
    assert shown["bumps"][1:] == shown["spiral"][1:]  # regression: the loss plot alone, wider
    window.toolbar.epoch_label.setText("  Epoch 9,999,999   Step 99,999,999  ")
    assert geometry() == start


def test_preset_box_marks_changed_settings(make_window, qtbot, tmp_path):
    window = make_window("xor")
    assert window.toolbar.preset_box.currentText() == "xor"
    with qtbot.waitSignal(window.runReset):
        window.plane.network_panel.add.click()
    assert window.toolbar.preset_box.currentText() == "xor (changed)"
    assert "changed" in window.toolbar.preset_box.toolTip()
    choose_preset(qtbot, window, "xor")
    assert window.toolbar.preset_box.currentText() == "xor"
    with qtbot.waitSignal(window.runReset):  # a click that adds a point is a change
        window.plane.data_panel.add_edit(["add", 0.5, 0.5, 1])
    assert window.toolbar.preset_box.currentText() == "xor (changed)"
    choose_preset(qtbot, window, "gauss")
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2,label\n" + "".join(f"{i / 10},{-i / 10},{i % 2}\n" for i in range(20)))
    with qtbot.waitSignal(window.runReset):  # and so is an imported CSV file
        window.plane.import_csv(str(csv))
    assert window.toolbar.preset_box.currentText() == "gauss (changed)"
    choose_preset(qtbot, window, "fashion-deep")
    assert window.toolbar.preset_box.currentText() == "fashion-deep"
    with qtbot.waitSignal(window.runReset):  # back in the plane: its own preset, changed
        window.toolbar.mode_box.setCurrentIndex(window.toolbar.mode_box.findData("plane"))
        window.toolbar.mode_box.activated.emit(window.toolbar.mode_box.currentIndex())
    assert window.toolbar.preset_box.currentText() == "gauss (changed)"


def test_clicking_a_neuron_keeps_the_columns_widths(window, qtbot):
    qtbot.waitUntil(lambda: window.plane.network_view._columns != [])
    before = (window.plane.output_view.width(), window.plane.network_view.width())
    rect = window.plane.network_view.node_rect(1, 0)
    point = window.plane.network_view.mapFromScene(rect.center())
    qtbot.mouseClick(window.plane.network_view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: window.plane.output_view.title.text().startswith("Neuron"))
    qtbot.wait(20)
    assert (window.plane.output_view.width(), window.plane.network_view.width()) == before
    assert len(window.plane.output_view.title.text()) < 30


def test_point_outlines_have_a_legend(window):
    view = window.plane.output_view

    def near(color, rgb):
        return max(abs(color.red() - rgb[0]), abs(color.green() - rgb[1])) < 60

    train = view.show_train.icon().pixmap(16, 16).toImage()
    test = view.show_test.icon().pixmap(16, 16).toImage()
    # Above the centre: the outline (5 px from the centre), then the training point's ring.
    assert near(train.pixelColor(8, 3), (255, 255, 255)) and near(
        test.pixelColor(8, 3), (30, 30, 30)
    )
    assert near(train.pixelColor(8, 1), (30, 30, 30))  # the dark ring around a training point
    assert not near(test.pixelColor(8, 1), (30, 30, 30))  # test points have none
    assert "white ring inside a dark one" in view.show_test.toolTip()


def test_curves_svg_holds_only_the_plots_and_keys_sit_above_them(window, qtbot, tmp_path):
    train_epochs(qtbot, window, 5)
    path = tmp_path / "curves.svg"
    assert exported(qtbot, window.files, window.plane.curves_view, "curves", path) == ""
    svg = path.read_text()
    assert "Log-scale" not in svg and "train" in svg
    for plot in (window.plane.curves_view.loss_plot, window.plane.curves_view.acc_plot):
        assert plot.getPlotItem().legend is None  # no key drawn over the curves
    assert window.plane.stats_view.hist_plot.getPlotItem().legend is None


@pytest.mark.parametrize("preset", ["spiral", "fashion-cnn"])
def test_everything_fits_at_1024_by_700(make_window, qtbot, preset):
    window = make_window(preset)
    mode = window.mode
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.size().width() == 1024 and window.height() == 700)
    assert window.minimumSizeHint().width() <= 1024
    splits = window.plane.top_split if mode == "plane" else window.images.top_split
    for i in range(splits.count()):
        column = splits.widget(i)
        assert column.width() >= column.minimumSizeHint().width(), type(column).__name__
    label = window.plane.stats_view.grad_plot.getAxis("left").labelString()
    assert "(x" not in label
    if mode == "images":  # the Draw tab's answer fits its narrow column
        window.images.show_drawing("7")
        draw = window.images.draw_view
        qtbot.waitUntil(lambda: draw.top_class.text() != "", timeout=5000)
        for text in (draw.top_class, draw.top_prob):
            assert QFontMetrics(text.font()).horizontalAdvance(text.text()) <= text.width()


def test_output_plot_stays_square_when_wide(make_window, qtbot):
    window = make_window("spiral")
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: window.width() == 1600)
    qtbot.wait(20)
    plot = window.plane.output_view.plot
    assert abs(plot.width() - plot.height()) <= 1
    (x0, x1), (y0, y1) = plot.viewRange()
    assert (x1 - x0) == pytest.approx(12, rel=0.1) and (y1 - y0) == pytest.approx(12, rel=0.1)


def test_eight_hidden_layers_keep_readable_neurons(window, qtbot):
    panel = window.plane.network_panel
    while len(panel.rows) < 8:
        with qtbot.waitSignal(window.runReset):
            panel.add.click()
    qtbot.wait(20)
    view = window.plane.network_view
    side = view.mapFromScene(view.node_rect(1, 0)).boundingRect().height()
    assert side >= 18  # 13 px before
    assert view.height() >= window.height() * 0.3


def test_test_image_captions_cut_a_class_alike(qtbot):
    import numpy as np
    from PySide6.QtGui import QFontMetricsF

    from playground.views.image_grid_view import ImageGridView

    view = ImageGridView()
    qtbot.addWidget(view)
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"] + ["Sandal", "Shirt"]
    names += ["Sneaker", "Bag", "Ankle boot"]
    n = 6
    view.set_images(
        np.zeros((n, 28, 28), np.uint8),
        np.full(n, 7),
        np.full(n, 7),
        np.array([1.0, 0.98, 0.5, 0.07, 0.004, 0.999]),
        names,
    )
    canvas = view.canvas
    fm = QFontMetricsF(canvas.caption_font())
    for width in (40.0, 52.0, 64.0):
        cut = {canvas.caption_text(k, fm, width).rsplit(" ", 1)[0] for k in range(n)}
        assert len(cut) == 1, (width, cut)

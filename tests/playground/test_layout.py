"""The window's layout holds still: widths that don't follow counters, presets or clicks; views
that start over with each run; everything fitting at the smallest supported size."""

import pytest

from playground.main_window import MainWindow


def choose_preset(qtbot, window: MainWindow, name: str) -> None:
    """Pick ``name`` in the toolbar's Preset box as a user does."""
    box = window.preset_box
    with qtbot.waitSignal(window.runReset):
        box.setCurrentIndex(box.findData(name))
        box.activated.emit(box.currentIndex())
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=5000)


def train_epochs(qtbot, window: MainWindow, epochs: int) -> None:
    window.play_action.trigger()
    qtbot.waitUntil(
        lambda: window.last_snapshot is not None and window.last_snapshot.epoch >= epochs,
        timeout=20000,
    )
    with qtbot.waitSignal(window.controller.stateChanged, timeout=5000):
        window.play_action.trigger()
    window.flush_views()


def test_accuracy_plot_width_after_regression_then_classification(make_window, qtbot):
    window = make_window("bumps")
    train_epochs(qtbot, window, 3)
    choose_preset(qtbot, window, "spiral")
    train_epochs(qtbot, window, 3)
    qtbot.wait(50)
    curves = window.curves_view
    assert curves.acc_plot.isVisible()
    print(curves.acc_plot.width(), curves.loss_plot.width())
    assert curves.acc_plot.width() == pytest.approx(curves.loss_plot.width(), abs=2)


def test_curves_start_over_at_reset(make_window, qtbot):
    window = make_window("xor")
    train_epochs(qtbot, window, 300)
    with qtbot.waitSignal(window.runReset):
        window.reset_action.trigger()
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=5000)
    window.flush_views()
    for plot in (window.curves_view.loss_plot, window.curves_view.acc_plot):
        assert plot.viewRange()[0][1] < 5  # not the previous run's 300 epochs
    choose_preset(qtbot, window, "spiral")
    train_epochs(qtbot, window, 3)
    qtbot.waitUntil(lambda: window.curves_view.loss_plot.viewRange()[0][1] < 50)

"""A run's health in the window, in both modes: a diverging run stops with the banner, a run
that does not learn goes on with a hint that can be dismissed and is cleared by Reset."""

from dataclasses import replace
from pathlib import Path

import pytest

from playground.image_session import MODE as IMAGES
from playground.presets import image_presets
from playground.worker import DONE, RUNNING

FASHION = Path("/usr/share/datasets/fashion-mnist").is_dir()
needs_fashion = pytest.mark.skipif(not FASHION, reason="dataset-fashion-mnist is not installed")


def set_optimizer(qtbot, window, optimizer, lr):
    panel = window.workspace.training_panel
    panel.optimizer.setCurrentIndex(panel.optimizer.findData(optimizer))  # the run goes on
    panel.lr.setEditText(lr)
    panel.lr.lineEdit().editingFinished.emit()


def play_until_done(qtbot, window, timeout=20000):
    with qtbot.waitSignal(
        window.controller.stateChanged,
        timeout=timeout,
        check_params_cb=lambda state, reason: state == DONE,
    ) as blocker:
        window.toolbar.play_action.trigger()
    return blocker.args[1]


def play_until_hint(qtbot, window, timeout=30000):
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(window.hint.isVisible, timeout=timeout)


def pause(qtbot, window):
    with qtbot.waitSignal(window.controller.stateChanged, timeout=5000):
        window.toolbar.play_action.trigger()


def test_sgd_at_lr_10_on_the_spiral_stops_with_the_banner(make_window, qtbot):
    window = make_window("spiral")
    set_optimizer(qtbot, window, "sgd", "10")
    reason = play_until_done(qtbot, window)
    assert reason.startswith("diverged: a weight or output reached")
    assert (
        window.workspace.last_snapshot.epoch == 1
        and window.workspace.last_snapshot.reason == reason
    )
    text = window.banner.text()
    assert window.banner.isVisible() and "diverged: a weight or output reached" in text
    assert "Lower the learning rate" in text and "press Reset" in text
    assert not window.hint.isVisible()


def test_adam_at_lr_10_on_the_spiral_trains_on_with_a_dismissible_hint(make_window, qtbot):
    window = make_window("spiral")
    set_optimizer(qtbot, window, "adam", "10")
    play_until_hint(qtbot, window)
    snap = window.workspace.last_snapshot
    assert window.controller.state == RUNNING and not window.banner.isVisible()
    assert snap.hint and snap.epoch >= 10 and window.hint.label.text() == snap.hint
    assert "try a lower one" in window.hint.label.text()
    # Dismissed: it stays hidden while the run goes on with its hint.
    window.hint.close_button.click()
    epoch = window.workspace.last_snapshot.epoch
    qtbot.waitUntil(lambda: window.workspace.last_snapshot.epoch >= epoch + 3, timeout=10000)
    assert window.workspace.last_snapshot.hint and not window.hint.isVisible()
    pause(qtbot, window)
    # Reset starts a new run: no hint until that run earns one, then it shows again.
    with qtbot.waitSignal(window.runReset):
        window.toolbar.reset_action.trigger()
    assert not window.hint.isVisible() and not window.hint.dismissed
    play_until_hint(qtbot, window)
    pause(qtbot, window)


def test_a_healthy_spiral_run_shows_no_hint(make_window, qtbot):
    window = make_window("spiral")
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: window.workspace.last_snapshot.epoch >= 30, timeout=30000)
    assert not window.hint.isVisible() and window.workspace.last_snapshot.hint is None
    pause(qtbot, window)


def image_window(make_window, qtbot, preset):
    """The window in image mode on ``preset`` with 1,000 training and test images."""
    window = make_window("spiral")
    session = image_presets()[preset]
    session.data = replace(session.data, train_subset=1000, test_subset=1000)
    with qtbot.waitSignal(window.runReset, timeout=10000):
        window.apply_session(session)
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=10000)
    assert window.mode == IMAGES
    return window


@needs_fashion
def test_image_run_that_does_not_learn_shows_the_hint(make_window, qtbot):
    window = image_window(make_window, qtbot, "fashion-mlp")
    set_optimizer(qtbot, window, "adam", "10")
    play_until_hint(qtbot, window)
    assert window.controller.state == RUNNING and "try a lower one" in window.hint.label.text()
    pause(qtbot, window)
    with qtbot.waitSignal(window.runReset):
        window.toolbar.reset_action.trigger()
    assert not window.hint.isVisible()


@needs_fashion
def test_image_run_that_diverges_stops_with_the_banner(make_window, qtbot):
    window = image_window(make_window, qtbot, "fashion-deep")
    set_optimizer(qtbot, window, "sgd", "100")
    assert play_until_done(qtbot, window).startswith("diverged")
    assert window.banner.isVisible() and "diverged" in window.banner.text()

"""The app keeps what the user made: a run left by switching modes is resumed exactly on return,
a run discarded by Reset, a preset, File ▸ Open or an edit comes back with Edit ▸ Undo, quitting
asks about a trained, unsaved run, and image data sets are found again where they were loaded
from."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from playground import kept_runs
from playground.main_window import IMAGES, PLANE

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(
    not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed"
)


def step_epoch(qtbot, window):
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=20000, check_params_cb=lambda s, r: s == "paused"
    ):
        window.step_action.trigger()


def reset_by(qtbot, window, action):
    """Do ``action`` and wait for the run it sets up to show its first snapshot."""
    with qtbot.waitSignal(window.runReset, timeout=20000):
        action()
    qtbot.waitUntil(lambda: window.last_snapshot is not None, timeout=20000)


def choose_mode(qtbot, window, mode):
    """Pick ``mode`` in the toolbar's Mode box, as a user does."""
    box = window.mode_box

    def pick():
        box.setCurrentIndex(box.findData(mode))
        box.activated.emit(box.currentIndex())

    reset_by(qtbot, window, pick)
    assert window.mode == mode


def choose_preset(qtbot, window, name):
    box = window.preset_box

    def pick():
        box.setCurrentIndex(box.findData(name))
        box.activated.emit(box.currentIndex())

    reset_by(qtbot, window, pick)


def same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name


def train_losses(snap):
    return snap.history["train_loss"], snap.history["test_loss"]


# -- switching modes -------------------------------------------------------------------------
@needs_fashion
def test_a_plane_run_is_resumed_exactly_after_a_visit_to_images(make_window, qtbot):
    window = make_window("spiral")
    for _ in range(2):
        step_epoch(qtbot, window)
    before = window.last_snapshot
    assert before.epoch == 2
    choose_mode(qtbot, window, IMAGES)
    assert window.images.isVisible()
    choose_mode(qtbot, window, PLANE)
    back = window.last_snapshot
    assert (back.epoch, back.step) == (before.epoch, before.step)
    same_weights(back.weights, before.weights)
    np.testing.assert_array_equal(back.history["train_loss"], before.history["train_loss"])
    assert "Epoch 2" in window.epoch_label.text()
    step_epoch(qtbot, window)
    continued = window.last_snapshot
    # The same run without the visit: Reset (same seed) and train three epochs at once.
    reset_by(qtbot, window, window.reset_action.trigger)
    for _ in range(3):
        step_epoch(qtbot, window)
    uninterrupted = window.last_snapshot
    assert continued.epoch == uninterrupted.epoch == 3
    for column in ("step", "train_loss", "test_loss", "train_acc"):
        np.testing.assert_array_equal(continued.history[column], uninterrupted.history[column])
    same_weights(continued.weights, uninterrupted.weights)


@needs_fashion
def test_an_image_run_comes_back_trained_with_the_draw_tab_using_its_weights(make_window, qtbot):
    window = make_window("fashion-mlp")
    panel = window.images.data_panel
    reset_by(
        qtbot, window, lambda: panel.train_subset.setCurrentIndex(panel.train_subset.findData(1000))
    )
    step_epoch(qtbot, window)
    window.flush_views()
    before = window.last_snapshot
    assert before.epoch == 1
    choose_mode(qtbot, window, PLANE)
    assert window.last_snapshot.epoch == 0  # the plane's own run, untrained
    choose_mode(qtbot, window, IMAGES)
    back = window.last_snapshot
    assert (back.epoch, back.step) == (1, before.step)
    same_weights(back.weights, before.weights)
    window.flush_views()
    model = window.images.draw_view.model()
    same_weights(model.get_state(), before.weights)
    # The last epoch's predictions are shown at once, not "after the first epoch".
    assert back.test_pred is not None
    assert window.images.images_view.shown_indices().size > 0


def test_choosing_a_preset_in_the_other_mode_keeps_this_modes_run_parked(make_window, qtbot):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    before = window.last_snapshot
    choose_preset(qtbot, window, "xor")  # same mode: the spiral run is discarded
    assert window.kept.undo_action.text() == "Undo Preset"
    assert window.kept.undo_action.isEnabled()
    reset_by(qtbot, window, window.kept.undo_action.trigger)
    assert window.plane_session().data.dataset == "spiral"
    back = window.last_snapshot
    assert (back.epoch, back.step) == (1, before.step)
    same_weights(back.weights, before.weights)
    assert not window.kept.undo_action.isEnabled()  # the xor run never trained


# -- undo --------------------------------------------------------------------------------------
def test_undo_reset_brings_back_settings_weights_history_and_position(make_window, qtbot):
    window = make_window("spiral")
    undo = window.kept.undo_action
    assert not undo.isEnabled() and undo.text() == "Undo"
    step_epoch(qtbot, window)
    lr = window.training_panel.lr
    lr.lineEdit().setText("0.02")  # typed: a live change, kept with the run
    lr.lineEdit().editingFinished.emit()
    step_epoch(qtbot, window)
    before = window.last_snapshot
    reset_by(qtbot, window, window.reset_action.trigger)
    assert window.last_snapshot.step == 0
    assert undo.isEnabled() and undo.text() == "Undo Reset"
    assert undo.shortcut().toString() == "Ctrl+Z"
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert undo in edit.actions()
    reset_by(qtbot, window, undo.trigger)
    back = window.last_snapshot
    assert (back.epoch, back.step) == (2, before.step)
    assert back.lr == pytest.approx(0.02) and lr.value() == pytest.approx(0.02)
    same_weights(back.weights, before.weights)
    np.testing.assert_array_equal(back.history["train_loss"], before.history["train_loss"])
    assert not undo.isEnabled()


def test_undo_a_structural_edit_restores_the_network_and_its_run(make_window, qtbot):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    before = window.last_snapshot
    rows = len(window.network_panel.settings().hidden)
    reset_by(qtbot, window, window.network_panel.add.click)
    assert len(window.network_panel.settings().hidden) == rows + 1
    assert window.kept.undo_action.text() == "Undo Edit"
    reset_by(qtbot, window, window.kept.undo_action.trigger)
    assert len(window.network_panel.settings().hidden) == rows
    same_weights(window.last_snapshot.weights, before.weights)


def test_an_untrained_run_leaves_nothing_to_undo(make_window, qtbot):
    window = make_window("spiral")
    reset_by(qtbot, window, window.reset_action.trigger)
    assert not window.kept.undo_action.isEnabled()


def test_undo_open_brings_back_the_run_the_file_replaced(make_window, qtbot, tmp_path):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    with qtbot.waitSignal(window.controller.saved, timeout=20000):
        window.files.export_model("weights", str(tmp_path / "m.npz"))
    step_epoch(qtbot, window)
    before = window.last_snapshot
    reset_by(qtbot, window, lambda: window.files.open(str(tmp_path / "m.npz")))
    assert window.last_snapshot.step == 0
    assert window.kept.undo_action.text() == "Undo Open"
    reset_by(qtbot, window, window.kept.undo_action.trigger)
    assert window.last_snapshot.step == before.step
    same_weights(window.last_snapshot.weights, before.weights)


# -- quitting ------------------------------------------------------------------------------
def answer_quit(monkeypatch, button):
    asked = []

    def question(*args, **kwargs):
        asked.append(args[2])
        return button

    monkeypatch.setattr(kept_runs.QMessageBox, "question", question)
    return asked


def test_quit_with_a_trained_unsaved_run_can_be_cancelled(make_window, qtbot, monkeypatch):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    asked = answer_quit(monkeypatch, QMessageBox.StandardButton.Cancel)
    file_menu = window.menuBar().actions()[0].menu()
    next(a for a in file_menu.actions() if a.text() == "Quit").trigger()
    assert len(asked) == 1 and "epoch 1" in asked[0]
    assert window.isVisible() and window.controller.running


def test_quit_saves_through_save_experiment_as(make_window, qtbot, monkeypatch, tmp_path):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    asked = answer_quit(monkeypatch, QMessageBox.StandardButton.Save)
    path = tmp_path / "kept.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.quit()
    assert len(asked) == 1 and path.is_file()
    assert not window.isVisible()


def test_quit_does_not_ask_after_a_save_or_without_training(make_window, qtbot, monkeypatch):
    asked = answer_quit(monkeypatch, QMessageBox.StandardButton.Cancel)
    fresh = make_window("spiral")
    fresh.quit()
    assert asked == [] and not fresh.isVisible()


def test_quit_does_not_ask_right_after_save_experiment(make_window, qtbot, monkeypatch, tmp_path):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    with qtbot.waitSignal(window.files.experimentSaved, timeout=20000):
        window.files.save_experiment(str(tmp_path / "e.npz"))
    asked = answer_quit(monkeypatch, QMessageBox.StandardButton.Cancel)
    window.quit()
    assert asked == [] and not window.isVisible()


def test_quit_asks_again_once_the_saved_run_trains_on(make_window, qtbot, monkeypatch, tmp_path):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    with qtbot.waitSignal(window.files.experimentSaved, timeout=20000):
        window.files.save_experiment(str(tmp_path / "e.npz"))
    step_epoch(qtbot, window)
    asked = answer_quit(monkeypatch, QMessageBox.StandardButton.Discard)
    window.quit()
    assert len(asked) == 1 and not window.isVisible()

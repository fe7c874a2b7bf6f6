"""Point edits and settings changes meet the runs the app keeps: a run with an edit waiting for
its epoch to end is parked and undone without loss (the edit joins at the same boundary), the
Preset box marks edits as changes, Undo brings back the preset and speed the run had, and an
edit the run can't train on is refused before anything changes."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from test_keep_work import choose_mode, choose_preset, reset_by, tiny_images  # noqa: F401
from test_point_edits import click, pause_mid_epoch, saved, step_epoch, until_state

from core.experiment import load_experiment
from core.pace import Speed
from playground import kept_runs
from playground.image_session import MODE as IMAGES
from playground.presets import preset_speed
from playground.worker import DONE
from playground.workspaces.plane import PLANE

HISTORY = ("step", "train_loss", "test_loss", "train_acc", "test_acc")


def paused_with_a_waiting_edit(qtbot, window, tmp_path=None):
    """Train xor to mid-epoch, click a point (it waits for the epoch to end), set an epoch limit
    two epochs on, and save that state in ``tmp_path`` if given (the file continues bit for bit:
    the reference run)."""
    panel = window.plane.training_panel
    panel.epochs.setValue(0)  # no limit: pausing mid-epoch can't miss the end of the run
    step_epoch(qtbot, window)
    paused = pause_mid_epoch(qtbot, window, 30)
    click(qtbot, window, 4.5, -4.5)
    panel.epochs.setValue(paused.epoch + 2)
    if tmp_path is not None:
        experiment = saved(qtbot, window, tmp_path / "reference.npz")
        assert experiment.data["data"]["queued_edits"] == window.plane.data_panel.settings().edits
    return paused, window.plane.data_panel.settings().edits


def train_to_the_end(qtbot, window):
    until_state(qtbot, window, DONE, window.toolbar.play_action.trigger)
    return window.workspace.last_snapshot


def assert_same_run(continued, reference):
    assert (continued.epoch, continued.step) == (reference.epoch, reference.step)
    for column in HISTORY:
        assert np.array_equal(continued.history[column], reference.history[column]), column
    for name, value in reference.weights.items():
        assert np.array_equal(continued.weights[name], value), name


def reference_run(qtbot, window, tmp_path):
    """The saved state trained on to its limit, as if never interrupted."""
    reset_by(qtbot, window, lambda: window.files.open(str(tmp_path / "reference.npz")))
    return train_to_the_end(qtbot, window)


def test_undo_reset_brings_back_a_run_with_a_waiting_edit(make_window, qtbot, tmp_path):
    window = make_window("xor")
    paused, edits = paused_with_a_waiting_edit(qtbot, window, tmp_path)
    n_train = len(window.plane.dataset.x_train) + len(window.plane.dataset.x_test)
    reset_by(qtbot, window, window.toolbar.reset_action.trigger)
    reset_by(qtbot, window, window.kept.undo_action.trigger)
    assert not window.banner.isVisibleTo(window), window.banner.text()
    assert window.workspace.last_snapshot.step == paused.step
    assert window.plane.data_panel.settings().edits == edits  # the edit shows, and waits again
    assert len(window.plane.dataset.x_train) + len(window.plane.dataset.x_test) == n_train
    continued = train_to_the_end(qtbot, window)
    assert_same_run(continued, reference_run(qtbot, window, tmp_path))


def test_a_run_with_a_waiting_edit_is_parked_and_resumed(
    make_window,
    qtbot,
    tmp_path,
    tiny_images,  # noqa: F811
):
    window = make_window("xor")
    paused, edits = paused_with_a_waiting_edit(qtbot, window, tmp_path)
    choose_mode(qtbot, window, IMAGES)
    choose_mode(qtbot, window, PLANE)
    assert not window.banner.isVisibleTo(window), window.banner.text()
    assert window.workspace.last_snapshot.step == paused.step
    assert window.plane.data_panel.settings().edits == edits
    continued = train_to_the_end(qtbot, window)
    assert_same_run(continued, reference_run(qtbot, window, tmp_path))


def test_clicks_and_another_optimizer_mark_the_preset_changed(make_window, qtbot):
    window = make_window("xor")
    resets = []
    window.runReset.connect(lambda: resets.append(1))
    assert window.toolbar.preset_box.currentText() == "xor"
    click(qtbot, window, 4.5, -4.5)
    assert window.toolbar.preset_box.currentText() == "xor (changed)" and resets == []

    other = make_window("xor")
    panel = other.plane.training_panel
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("rmsprop"))
    assert other.toolbar.preset_box.currentText() == "xor (changed)"


def test_undo_brings_back_the_preset_and_speed_the_run_had(make_window, qtbot):
    window = make_window("xor")
    step_epoch(qtbot, window)
    chosen = Speed(2)
    assert chosen not in (preset_speed("xor"), preset_speed("spiral"))
    window.toolbar.speed_control.set_speed(chosen)
    choose_preset(qtbot, window, "spiral")
    assert window.toolbar.preset_box.currentText() == "spiral"
    assert window.toolbar.speed_control.speed() == preset_speed("spiral")
    reset_by(qtbot, window, window.kept.undo_action.trigger)
    assert window.toolbar.preset_box.currentText() == "xor"
    assert window.toolbar.speed_control.speed() == chosen


def test_an_edit_the_run_cannot_train_on_changes_nothing(make_window, qtbot, monkeypatch):
    # Removals keep 2 training points, which batch norm trains on: the rule is made stricter
    # here (as if the network needed batches of 1,000) to reach the refusal with a click.
    window = make_window("xor")
    reset_by(qtbot, window, lambda: window.plane.network_panel.rows[0].batchnorm.setChecked(True))
    monkeypatch.setattr("playground.workspaces.plane.min_batch", lambda layers: 1000)
    failed = []
    window.controller.failed.connect(failed.append)
    dataset, n = window.plane.dataset, len(window.plane.dataset.x_train)
    x1, x2 = (float(v) for v in dataset.x_train[0])
    click(qtbot, window, x1, x2, button=Qt.MouseButton.RightButton)
    assert window.banner.text() == (
        "Can't change the points: batch norm in the network needs batches of at least 1000 "
        f"training points (see the Batch box); the training set would hold {n - 1}."
    )
    assert window.plane.dataset is dataset and window.plane.data_panel.settings().edits == []
    assert window.workspace.run_session.data.edits == []
    step_epoch(qtbot, window)  # the run trains on as before
    assert failed == [] and window.workspace.last_snapshot.epoch == 1


def test_quit_saves_a_parked_run_with_its_waiting_edit(
    make_window,
    qtbot,
    tmp_path,
    monkeypatch,
    tiny_images,  # noqa: F811
):
    window = make_window("xor")
    paused, edits = paused_with_a_waiting_edit(qtbot, window)
    choose_mode(qtbot, window, IMAGES)
    monkeypatch.setattr(
        kept_runs.QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Save
    )
    path = tmp_path / "parked.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.quit()
    assert not window.isVisible()
    experiment = load_experiment(path)
    assert experiment.steps == paused.step
    assert (
        experiment.data["data"]["edits"] == [] and experiment.data["data"]["queued_edits"] == edits
    )

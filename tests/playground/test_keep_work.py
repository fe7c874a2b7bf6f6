"""The app keeps what the user made: a run left by switching modes is resumed exactly on return,
a run discarded by Reset, a preset, File ▸ Open or an edit comes back with Edit ▸ Undo, quitting
asks about a trained, unsaved run, and image data sets are found again where they were loaded
from."""

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import waiting
from dev_data import DEV_MNIST
from idx_server import write_folder
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core.data.idx import MnistError
from core.data.locations import ENV_VAR, cache_folder
from core.data.registry import DATASETS
from core.experiment import load_experiment
from core.io import save_model
from core.model import Sequential
from playground import kept_runs
from playground.image_data import ImageDataSettings, load_image_data
from playground.image_session import MODE as IMAGES
from playground.image_session import ImageSession
from playground.presets import image_presets
from playground.workspaces.plane import PLANE

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(
    not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed"
)


def step_epoch(qtbot, window):
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=20000, check_params_cb=lambda s, r: s == "paused"
    ):
        window.toolbar.step_action.trigger()


def reset_by(qtbot, window, action):
    """Do ``action`` and wait for the run it sets up to show its first snapshot."""
    with qtbot.waitSignal(window.runReset, timeout=20000):
        action()
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=20000)


def choose(qtbot, window, box, value):
    """Pick ``value`` in a toolbar box (Mode, Preset) as a user does; wait for its run."""

    def pick():
        box.setCurrentIndex(box.findData(value))
        box.activated.emit(box.currentIndex())

    reset_by(qtbot, window, pick)


def choose_mode(qtbot, window, mode):
    choose(qtbot, window, window.toolbar.mode_box, mode)
    assert window.mode == mode


def choose_preset(qtbot, window, name):
    choose(qtbot, window, window.toolbar.preset_box, name)


def same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name


def train_losses(snap):
    return snap.history["train_loss"], snap.history["test_loss"]


@pytest.fixture
def tiny_images(settings, tmp_path, tiny, monkeypatch):
    """The Images side trains on the tiny data set, loaded for MNIST from a folder (no data
    set of this computer is needed): the saved image session and the remembered folder."""
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "datasets"))
    folder = write_folder(tmp_path / "tiny digits", tiny)
    session = image_presets()["mnist-mlp"]
    session.data = replace(session.data, folder=str(folder))
    settings.setValue("session/images", session.to_json())
    settings.setValue("dataFolders/mnist", str(folder))
    return folder


# -- switching modes -------------------------------------------------------------------------
def test_a_plane_run_is_resumed_exactly_after_a_visit_to_images(make_window, qtbot, tiny_images):
    window = make_window("spiral")
    for _ in range(2):
        step_epoch(qtbot, window)
    before = window.workspace.last_snapshot
    assert before.epoch == 2
    choose_mode(qtbot, window, IMAGES)
    assert window.images.isVisible()
    choose_mode(qtbot, window, PLANE)
    back = window.workspace.last_snapshot
    assert (back.epoch, back.step) == (before.epoch, before.step)
    same_weights(back.weights, before.weights)
    np.testing.assert_array_equal(back.history["train_loss"], before.history["train_loss"])
    assert "Epoch 2" in window.toolbar.epoch_label.text()
    step_epoch(qtbot, window)
    continued = window.workspace.last_snapshot
    # The same run without the visit: Reset (same seed) and train three epochs at once.
    reset_by(qtbot, window, window.toolbar.reset_action.trigger)
    for _ in range(3):
        step_epoch(qtbot, window)
    uninterrupted = window.workspace.last_snapshot
    assert continued.epoch == uninterrupted.epoch == 3
    for column in ("step", "train_loss", "test_loss", "train_acc"):
        np.testing.assert_array_equal(continued.history[column], uninterrupted.history[column])
    same_weights(continued.weights, uninterrupted.weights)


def test_an_image_run_comes_back_trained_with_the_draw_tab_using_its_weights(
    make_window, qtbot, settings, tiny_images
):
    settings.setValue("mode", IMAGES)
    window = make_window(None)
    assert window.mode == IMAGES
    step_epoch(qtbot, window)
    window.flush_views()
    before = window.workspace.last_snapshot
    assert before.epoch == 1
    choose_mode(qtbot, window, PLANE)
    assert window.workspace.last_snapshot.epoch == 0  # the plane's own run, untrained
    choose_mode(qtbot, window, IMAGES)
    back = window.workspace.last_snapshot
    assert (back.epoch, back.step) == (1, before.step)
    same_weights(back.weights, before.weights)
    window.flush_views()
    model = window.images.draw_view.model()
    same_weights(model.get_state(), before.weights)
    # The last epoch's predictions are shown at once, not "after the first epoch".
    assert back.test_pred.shape == (10,)  # the tiny data set's 10 test images
    assert window.images.images_view.shown_indices().size > 0


def test_a_preset_of_the_other_mode_parks_this_modes_run(make_window, qtbot, tiny_images):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    before = window.workspace.last_snapshot
    choose_preset(qtbot, window, "mnist-mlp")
    assert window.images.session().data.folder == str(tiny_images)
    assert window.mode == IMAGES and not window.kept.undo_action.isEnabled()
    choose_mode(qtbot, window, PLANE)
    assert window.workspace.last_snapshot.step == before.step
    same_weights(window.workspace.last_snapshot.weights, before.weights)


def test_undo_preset_brings_back_the_run_it_replaced(make_window, qtbot):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    before = window.workspace.last_snapshot
    choose_preset(qtbot, window, "xor")  # same mode: the spiral run is discarded
    assert window.kept.undo_action.text() == "Undo Preset"
    assert window.kept.undo_action.isEnabled()
    reset_by(qtbot, window, window.kept.undo_action.trigger)
    assert window.plane.session().data.dataset == "spiral"
    back = window.workspace.last_snapshot
    assert (back.epoch, back.step) == (1, before.step)
    same_weights(back.weights, before.weights)
    assert not window.kept.undo_action.isEnabled()  # the xor run never trained


# -- undo --------------------------------------------------------------------------------------
def test_undo_reset_brings_back_settings_weights_history_and_position(make_window, qtbot):
    window = make_window("spiral")
    undo = window.kept.undo_action
    assert not undo.isEnabled() and undo.text() == "Undo"
    step_epoch(qtbot, window)
    lr = window.plane.training_panel.lr
    lr.lineEdit().setText("0.02")  # typed: a live change, kept with the run
    lr.lineEdit().editingFinished.emit()
    step_epoch(qtbot, window)
    before = window.workspace.last_snapshot
    reset_by(qtbot, window, window.toolbar.reset_action.trigger)
    assert window.workspace.last_snapshot.step == 0
    assert undo.isEnabled() and undo.text() == "Undo Reset"
    assert undo.shortcut().toString() == "Ctrl+Z"
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert undo in edit.actions()
    reset_by(qtbot, window, undo.trigger)
    back = window.workspace.last_snapshot
    assert (back.epoch, back.step) == (2, before.step)
    assert back.lr == pytest.approx(0.02) and lr.value() == pytest.approx(0.02)
    same_weights(back.weights, before.weights)
    np.testing.assert_array_equal(back.history["train_loss"], before.history["train_loss"])
    assert not undo.isEnabled()


def test_undo_a_structural_edit_restores_the_network_and_its_run(make_window, qtbot):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    before = window.workspace.last_snapshot
    rows = len(window.plane.network_panel.settings().hidden)
    reset_by(qtbot, window, window.plane.network_panel.add.click)
    assert len(window.plane.network_panel.settings().hidden) == rows + 1
    assert window.kept.undo_action.text() == "Undo Edit"
    reset_by(qtbot, window, window.kept.undo_action.trigger)
    assert len(window.plane.network_panel.settings().hidden) == rows
    same_weights(window.workspace.last_snapshot.weights, before.weights)


def test_an_untrained_run_leaves_nothing_to_undo(make_window, qtbot):
    window = make_window("spiral")
    reset_by(qtbot, window, window.toolbar.reset_action.trigger)
    assert not window.kept.undo_action.isEnabled()


def test_undo_open_brings_back_the_run_the_file_replaced(make_window, qtbot, tmp_path):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    with qtbot.waitSignal(window.controller.saved, timeout=20000):
        window.files.export_model("weights", str(tmp_path / "m.npz"))
    step_epoch(qtbot, window)
    before = window.workspace.last_snapshot
    reset_by(qtbot, window, lambda: window.files.open(str(tmp_path / "m.npz")))
    assert window.workspace.last_snapshot.step == 0
    assert window.kept.undo_action.text() == "Undo Open"
    reset_by(qtbot, window, window.kept.undo_action.trigger)
    assert window.workspace.last_snapshot.step == before.step
    same_weights(window.workspace.last_snapshot.weights, before.weights)


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


def test_quit_asks_about_the_parked_run_of_the_other_mode_too(
    make_window, qtbot, monkeypatch, tmp_path, tiny_images
):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    before = window.workspace.last_snapshot
    choose_mode(qtbot, window, IMAGES)  # untrained here: only the plane's run is asked about
    asked = answer_quit(monkeypatch, QMessageBox.StandardButton.Save)
    path = tmp_path / "plane.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.quit()
    assert len(asked) == 1 and asked[0].startswith("The Plane run has trained to epoch 1")
    saved = load_experiment(path)
    assert saved.steps == before.step
    same_weights(saved.state["model"], before.weights)
    assert not window.isVisible()


def test_quit_does_not_ask_after_a_save_or_without_training(make_window, qtbot, monkeypatch):
    asked = answer_quit(monkeypatch, QMessageBox.StandardButton.Cancel)
    fresh = make_window("spiral")
    fresh.quit()
    assert asked == [] and not fresh.isVisible()


def saved_run(qtbot, make_window, path):
    """A plane window whose run trained an epoch and was saved as the experiment ``path``."""
    window = make_window("spiral")
    step_epoch(qtbot, window)
    with qtbot.waitSignal(window.files.experimentSaved, timeout=20000):
        window.files.save_experiment(str(path))
    return window


def test_quit_does_not_ask_right_after_save_experiment(make_window, qtbot, monkeypatch, tmp_path):
    window = saved_run(qtbot, make_window, tmp_path / "e.npz")
    asked = answer_quit(monkeypatch, QMessageBox.StandardButton.Cancel)
    window.quit()
    assert asked == [] and not window.isVisible()


def test_quit_asks_again_once_the_saved_run_trains_on(make_window, qtbot, monkeypatch, tmp_path):
    window = saved_run(qtbot, make_window, tmp_path / "e.npz")
    step_epoch(qtbot, window)
    asked = answer_quit(monkeypatch, QMessageBox.StandardButton.Discard)
    window.quit()
    assert len(asked) == 1 and not window.isVisible()


# -- where image data sets were loaded from --------------------------------------------------
@pytest.fixture
def no_mnist(monkeypatch, tmp_path):
    """An empty data set cache: MNIST is on this computer only in the folders tests make."""
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "datasets"))


def choose_dataset(qtbot, window, name):
    box = window.images.data_panel.dataset
    with qtbot.waitSignal(window.images.data_panel.changed, timeout=10000):
        box.setCurrentIndex(box.findData(name))
    waiting.loaded(qtbot, window.images)


@pytest.mark.slow
@needs_fashion
def test_a_folder_loaded_for_mnist_is_used_by_presets_restarts_and_open(
    make_window, qtbot, tmp_path, tiny, no_mnist, settings
):
    folder = write_folder(tmp_path / "my digits", tiny)
    window = make_window("fashion-mlp")
    panel = window.images.data_panel
    choose_dataset(qtbot, window, "mnist")
    assert window.banner.text() == (
        "Can't build this run: MNIST is not on this computer yet: press Download in the Data "
        "panel, or Load from folder…"
    )
    reset_by(qtbot, window, lambda: panel.choose_folder(str(folder)))
    assert panel.status_text() == f"Folder: {folder} (20 train, 10 test)"
    choose_preset(qtbot, window, "mnist-mlp")
    assert panel.settings().folder == str(folder) and panel.status_text().startswith("Folder:")
    assert not window.banner.isVisibleTo(window) and window.workspace.run_session is not None
    step_epoch(qtbot, window)
    model = tmp_path / "mnist-model.npz"
    with qtbot.waitSignal(window.controller.saved, timeout=20000):
        window.files.export_model("weights", str(model))
    # Another data set and back: each comes from where it was loaded.
    choose_dataset(qtbot, window, "fashion-mnist")
    assert panel.settings().folder is None and panel.status_text().startswith("Found:")
    choose_dataset(qtbot, window, "mnist")
    assert panel.settings().folder == str(folder)
    window.close()

    again = make_window("spiral", settings=settings)  # a restart, on the plane
    assert again.images.data_panel.settings().folder == str(folder)
    reset_by(qtbot, again, lambda: again.files.open(str(model)))
    message = again.statusBar().currentMessage()
    assert again.mode == IMAGES and "drawing only" not in message, message
    assert again.images.session().data.folder == str(folder)
    assert again.workspace.run_session is not None


@needs_fashion
def test_a_folder_that_has_gone_falls_back_with_a_message(
    make_window, qtbot, tmp_path, tiny, no_mnist
):
    folder = write_folder(tmp_path / "my digits", tiny)
    window = make_window("fashion-mlp")
    panel = window.images.data_panel
    choose_dataset(qtbot, window, "mnist")
    reset_by(qtbot, window, lambda: panel.choose_folder(str(folder)))
    moved = folder.rename(tmp_path / "elsewhere")
    box = window.toolbar.preset_box
    box.setCurrentIndex(box.findData("mnist-mlp"))
    box.activated.emit(box.currentIndex())
    waiting.loaded(qtbot, window.images)
    assert panel.settings().folder is None
    assert panel.status_text() == "Not downloaded; its folder has gone"
    assert panel.status.toolTip().startswith(f"{folder} no longer exists")
    assert window.banner.text() == (
        f"Can't build this run: MNIST was loaded from {folder}, which no longer exists: press "
        "Download in the Data panel, or Load from folder…"
    )
    assert window.settings.value("dataFolders/mnist") is None  # forgotten
    # Loading it from its new place works as before, and is remembered.
    reset_by(qtbot, window, lambda: panel.choose_folder(str(moved)))
    assert window.settings.value("dataFolders/mnist") == str(moved)


def test_an_mnist_model_without_mnist_here_says_which_buttons_get_it(
    make_window, qtbot, tmp_path, no_mnist
):
    session = ImageSession(ImageDataSettings("mnist"))
    path = tmp_path / "digits.npz"
    save_model(Sequential(session.build_spec()), path, {"dataset": "mnist"})
    window = make_window("spiral")
    assert waiting.open_file(qtbot, window, path)
    assert window.statusBar().currentMessage() == (
        "Opened digits.npz for drawing only: MNIST is not on this computer yet: press Download "
        "in the Data panel, or Load from folder…"
    )


def test_a_damaged_copy_is_reported_with_the_apps_buttons(tmp_path, monkeypatch):
    root = tmp_path / "datasets"
    cache = cache_folder(DATASETS["mnist"], root)
    cache.mkdir(parents=True)
    for name in DEV_MNIST.iterdir():
        shutil.copy(name, cache / name.name)
    labels = cache / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(labels.read_bytes())
    data[len(data) // 2] ^= 0xFF
    labels.write_bytes(bytes(data))
    with pytest.raises(MnistError) as caught:
        load_image_data(ImageDataSettings("mnist"), cache_dir=root)
    text = str(caught.value)
    assert text.startswith("MNIST: the local copy is damaged: ")
    assert "download(" not in text and "load(" not in text
    assert text.endswith("Press Download in the Data panel to fetch it again, or Load from folder…")

"""The window stays responsive while files are read and images loaded: each piece of work is held
on its worker thread until a timer on the GUI thread has fired several times (work done on the
GUI thread could never be released), Cancel leaves everything as it was, and the results equal
the synchronous path's."""

import threading
import time
from dataclasses import replace

import numpy as np
import pytest
import waiting
from idx_server import write_folder
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from core.cancel import check
from core.data.loading import load_folder
from core.data.locations import ENV_VAR
from core.experiment import load_experiment
from playground import file_reading
from playground.image_data import load_image_data
from playground.image_session import MODE as IMAGES
from playground.panels import image_data_panel
from playground.presets import image_presets
from playground.workspaces import image_loader

TICKS = 5  # the GUI thread's timer fires this often while the work is held


class Gate:
    """Holds the work it wraps (on the job's thread) until the GUI thread has ticked ``TICKS``
    times, checking for a Cancel meanwhile as the core's readers do."""

    def __init__(self, opens: bool = True) -> None:
        self.open, self.entered, self.ticks = threading.Event(), threading.Event(), 0
        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)
        self.opens = opens

    def _tick(self) -> None:
        self.ticks += 1
        if self.opens and self.ticks >= TICKS:
            self.open.set()

    def hold(self, work):
        def held(*args, **kwargs):
            self.entered.set()
            deadline = time.monotonic() + 20  # held forever on the GUI thread: fail, not hang
            while not self.open.wait(0.01) and time.monotonic() < deadline:
                check()
            check()
            return work(*args, **kwargs)

        self.timer.start()
        return held


@pytest.fixture
def experiment(window, qtbot, tmp_path):
    """An experiment saved from the window's run, one epoch in; the run then goes on."""
    path = tmp_path / "run.npz"
    with qtbot.waitSignal(window.controller.stateChanged, timeout=10000):
        window.toolbar.step_action.trigger()
    qtbot.waitUntil(lambda: window.controller.state == "paused", timeout=10000)
    with qtbot.waitSignal(window.controller.saved, timeout=10000):
        window.files.save_experiment_as(str(path))
    return path


def on_screen(window):
    ws = window.workspace
    return ws.session().to_dict(), ws.spec, ws.last_snapshot, window.windowTitle()


def test_opening_a_file_keeps_the_window_responsive_and_opens_it_as_the_sync_path(
    window, qtbot, experiment, monkeypatch
):
    gate = Gate()
    monkeypatch.setattr(file_reading, "load_experiment", gate.hold(load_experiment))
    with qtbot.waitSignal(window.files.openFinished, timeout=20000) as blocker:
        assert window.files.open(str(experiment))
        assert window.busy.job is not None  # Cancel is offered
        assert not window.files.open(str(experiment))  # a second Open waits its turn
        assert "first" in window.statusBar().currentMessage()
    assert blocker.args == [str(experiment), True] and gate.ticks >= TICKS
    synchronous = load_experiment(experiment)
    resumed = window.controller.last_setup.resume
    assert resumed.steps == synchronous.steps and resumed.data == synchronous.data
    for name, value in synchronous.state["model"].items():
        np.testing.assert_array_equal(resumed.state["model"][name], value, err_msg=name)
    assert window.windowTitle().startswith("run.npz")


def test_cancelling_an_open_leaves_everything_as_it_was(window, qtbot, experiment, monkeypatch):
    gate = Gate(opens=False)
    monkeypatch.setattr(file_reading, "load_experiment", gate.hold(load_experiment))
    window.setWindowTitle("NN Playground")
    before, recent = on_screen(window), window.files.recent.files()
    with qtbot.assertNotEmitted(window.runReset):
        with qtbot.waitSignal(window.files.openFinished, timeout=20000) as blocker:
            assert window.files.open(str(experiment))
            qtbot.waitUntil(gate.entered.is_set, timeout=5000)
            window.busy.cancel()
    assert blocker.args == [str(experiment), False]
    assert on_screen(window) == before and window.files.recent.files() == recent
    assert "cancelled" in window.statusBar().currentMessage()


@pytest.fixture
def tiny_images(settings, tmp_path, tiny, monkeypatch):
    """The image mode's MNIST is the tiny data set in a folder (no data set of this computer)."""
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "datasets"))
    folder = write_folder(tmp_path / "tiny digits", tiny)
    session = image_presets()["mnist-mlp"]
    session.data = replace(session.data, folder=str(folder))
    settings.setValue("session/images", session.to_json())
    return folder


def choose_images(window):
    box = window.toolbar.mode_box
    box.setCurrentIndex(box.findData(IMAGES))
    box.activated.emit(box.currentIndex())


def test_images_load_while_the_window_responds_and_show_what_the_sync_path_reads(
    tiny_images, window, qtbot, monkeypatch
):
    gate = Gate()
    monkeypatch.setattr(image_loader, "load_image_data", gate.hold(load_image_data))
    with qtbot.waitSignal(window.runReset, timeout=20000):
        choose_images(window)
        assert window.images.loading and window.images.run_session is None
        assert window.busy.job.title == "Loading MNIST"
    assert gate.ticks >= TICKS and not window.images.loading
    settings = window.images.run_session.data
    synchronous = load_image_data(settings)
    shown = window.images.loader.kept(settings)
    np.testing.assert_array_equal(shown.test_images, synchronous.test_images)
    np.testing.assert_array_equal(shown.y_test, synchronous.y_test)
    assert shown.n_train == len(synchronous.x_train)


def test_cancelled_images_leave_no_run_and_reset_loads_them(
    tiny_images, window, qtbot, monkeypatch
):
    gate = Gate(opens=False)
    monkeypatch.setattr(image_loader, "load_image_data", gate.hold(load_image_data))
    choose_images(window)
    qtbot.waitUntil(gate.entered.is_set, timeout=5000)
    window.toolbar.play_action.trigger()  # refused politely while the images load
    assert "Still loading" in window.statusBar().currentMessage()
    window.busy.cancel()
    waiting.loaded(qtbot, window.images)
    assert window.images.run_session is None and window.run_workspace is None
    assert "cancelled" in window.banner.text()
    monkeypatch.setattr(image_loader, "load_image_data", load_image_data)
    with qtbot.waitSignal(window.runReset, timeout=20000):
        window.toolbar.reset_action.trigger()
    assert window.images.run_session is not None


def test_a_folder_is_checked_off_the_gui_thread_and_cancel_keeps_the_last_one(
    window, qtbot, tiny, tmp_path, monkeypatch
):
    panel = window.images.data_panel
    folder = write_folder(tmp_path / "digits", tiny)
    before = panel.settings()
    gate = Gate(opens=False)
    monkeypatch.setattr(image_data_panel, "load_folder", gate.hold(load_folder))
    with qtbot.waitSignal(panel.folderChecked, timeout=20000) as blocker:
        assert panel.choose_folder(str(folder))
        assert not panel.folder_button.isEnabled()  # one folder at a time
        qtbot.waitUntil(gate.entered.is_set, timeout=5000)
        window.busy.cancel()
    assert blocker.args == [str(folder), False] and panel.settings() == before
    assert panel.folder_button.isEnabled()
    gate = Gate()
    monkeypatch.setattr(image_data_panel, "load_folder", gate.hold(load_folder))
    assert waiting.check_folder(qtbot, panel, panel.choose_folder, str(folder))
    assert gate.ticks >= TICKS and panel.settings().folder == str(folder)
    ds = load_folder(folder)
    assert panel.status_text().endswith(f"({ds.n_train} train, {ds.n_test} test)")


def test_closing_the_window_while_images_load_stops_the_work(
    make_window, qtbot, tiny_images, monkeypatch
):
    window = make_window("spiral")
    gate = Gate(opens=False)
    monkeypatch.setattr(image_loader, "load_image_data", gate.hold(load_image_data))
    monkeypatch.setattr(QMessageBox, "question", lambda *a: pytest.fail("asked"))
    choose_images(window)
    qtbot.waitUntil(gate.entered.is_set, timeout=5000)
    job = window.busy.job
    window.close()
    assert not job.running and job.wait(0)  # its thread has ended

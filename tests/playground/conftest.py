"""GUI fixtures: a main window with its own settings file, closed (thread stopped) afterwards."""

import pytest
from PySide6.QtCore import QSettings

from playground.main_window import MainWindow
from playground.theme import apply_theme


@pytest.fixture(autouse=True)
def runs_folder(tmp_path, monkeypatch):
    """Every window keeps its run lists in the test's own folder, never the user's."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("NN_PLAYGROUND_RUNS", str(folder))
    return folder


@pytest.fixture
def settings(tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("speed", "max")  # tests train at full speed unless they choose one
    return settings


@pytest.fixture
def make_window(qtbot, qapp, settings):
    apply_theme(qapp)
    windows = []

    def make(preset="spiral", **kwargs):
        window = MainWindow(settings=kwargs.pop("settings", settings), preset=preset)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        # the first (untrained) snapshot arrives from the worker thread
        qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=5000)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.controller.running


@pytest.fixture
def window(make_window):
    return make_window()

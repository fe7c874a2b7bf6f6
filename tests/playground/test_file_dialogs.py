"""File dialogs open in the last folder used for that kind of file (kept in the settings), and an
export whose requirement is missing says so before any file name is asked for."""

import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox


class Dialogs:
    """Stands in for the file dialogs: records the folder each opens in, answers from a list."""

    def __init__(self, monkeypatch) -> None:
        self.started_in: list[str] = []
        self.answers: list[str] = []
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._file)
        monkeypatch.setattr(QFileDialog, "getOpenFileName", self._file)
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", self._folder)

    def _answer(self, start: str) -> str:
        self.started_in.append(start)
        return self.answers.pop(0) if self.answers else ""

    def _file(self, parent, title, start, filters, *args, **kwargs):
        answer = self._answer(start)
        return answer, filters.split(";;")[0] if answer else ""

    def _folder(self, parent, title, start, *args, **kwargs):
        return self._answer(start)

    def ask(self, action, answer: str = "") -> str:
        """Trigger ``action`` (a menu action or button), answer the dialog; return where it
        opened."""
        self.answers = [answer] if answer else []
        before = len(self.started_in)
        action()
        assert len(self.started_in) == before + 1, "no dialog was shown"
        return self.started_in[-1]


@pytest.fixture
def dialogs(monkeypatch):
    return Dialogs(monkeypatch)


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[1:3]))
    return shown


def menu_action(window, text):
    """The File menu's action named ``text`` (as shown, without the & of its shortcut key)."""
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
    for action in menu.actions():
        if action.text().replace("&", "") == text:
            return action.trigger
    raise AssertionError(f"File ▸ {text} not found")


def folders(tmp_path, *names):
    made = [tmp_path / n for n in names]
    for d in made:
        d.mkdir()
    return [str(d) for d in made]


def test_each_kind_of_file_opens_where_that_kind_was_last_saved(
    make_window, dialogs, qtbot, tmp_path, settings
):
    window = make_window()
    models, exports, pictures = folders(tmp_path, "models", "exports", "pictures")
    export_weights = menu_action(window, "Export weights (.npz)…")
    export_python = menu_action(window, "Export as Python…")
    with qtbot.waitSignal(window.controller.saved, timeout=10000):
        dialogs.ask(export_weights, f"{models}/a.npz")
    assert Path(dialogs.ask(export_weights)).parent == Path(models)  # the name in that folder
    with qtbot.waitSignal(window.controller.saved, timeout=10000):
        assert Path(dialogs.ask(export_python, f"{exports}/m.py")).parent != Path(models)
    assert dialogs.ask(menu_action(window, "Open…")) == models  # Open reads model files
    assert Path(dialogs.ask(export_python)).parent == Path(exports)
    view = window.workspace.views()[0][1]
    assert not dialogs.ask(lambda: window.files.export_view(view, "view")).startswith(exports)
    dialogs.ask(lambda: window.files.export_view(view, "view"), f"{pictures}/v.png")
    assert Path(dialogs.ask(lambda: window.files.export_view(view, "view"))).parent == Path(
        pictures
    )
    window.close()
    again = make_window(settings=settings)  # kept in the settings
    assert dialogs.ask(menu_action(again, "Open…")) == models


def test_csv_import_and_image_folders_remember_their_folders(
    make_window, dialogs, warnings, tmp_path
):
    window = make_window()
    points, idx = folders(tmp_path, "points", "idx")
    (Path(points) / "p.csv").write_text("x1,x2,label\n0,0,0\n1,1,1\n0,1,0\n1,0,1\n")
    csv_button = window.plane.data_panel.csv_button.click
    assert dialogs.ask(csv_button, f"{points}/p.csv") == ""
    assert dialogs.ask(csv_button) == points
    panel = window.images.data_panel
    assert dialogs.ask(panel.choose_folder, idx) == ""  # an empty folder: refused, yet
    assert dialogs.ask(panel.choose_folder) == idx  # the folder chosen is where it opens again
    assert dialogs.ask(panel.choose_npz) == idx  # both dialogs of Load from folder…
    (Path(points) / "p.csv").unlink()
    Path(points).rmdir()
    assert dialogs.ask(csv_button) == ""  # a folder that is gone is not offered


def test_onnx_export_says_what_is_missing_before_asking_for_a_file_name(
    window, dialogs, warnings, monkeypatch
):
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    dialogs.answers = ["never.onnx"]
    menu_action(window, "Export ONNX…")()
    assert dialogs.started_in == []  # no file name was asked for
    assert warnings == [
        (
            "Can't export the ONNX model",
            "ONNX export needs the 'onnx' package, which is not installed: pip install onnx",
        )
    ]

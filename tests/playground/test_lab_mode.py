"""The Lab as the window's third mode: its page list and page, pages switching (only the one
on screen animates), Play and Step off and Reset starting the page over, the File menu saying
politely there is nothing to save, the quit question and the page shown kept across a restart."""

import pytest
import waiting
from PySide6.QtWidgets import QFileDialog, QMessageBox

from playground import file_actions, kept_runs
from playground.lab.page import Explanation, LabPage, beside_explanation
from playground.lab.pages import PAGES
from playground.lab.perceptron import PerceptronPage
from playground.main_window import WORKSPACES, MainWindow
from playground.workspaces import lab
from playground.workspaces.lab import LAB, LabSession, LabWorkspace


class CountingPage(LabPage):
    """A second page that counts how often it comes on screen and leaves it."""

    title = "Counting"
    explanation = "<p>Counts.</p>"

    def __init__(self):
        super().__init__()
        self.seen = self.left = 0

    def shown(self):
        self.seen += 1

    def hidden(self):
        self.left += 1


@pytest.fixture
def two_pages(monkeypatch):
    monkeypatch.setattr(lab, "PAGES", (PerceptronPage, CountingPage))


def choose_mode(window, mode):
    box = window.toolbar.mode_box
    box.setCurrentIndex(box.findData(mode))
    box.activated.emit(box.currentIndex())
    assert window.mode == mode


def test_lab_in_the_mode_box_shows_the_page_list_and_the_perceptron(window, qtbot):
    assert LabWorkspace in WORKSPACES and PAGES[0] is PerceptronPage
    assert window.lab.pages == {}  # no page is made before the Lab is on screen
    choose_mode(window, LAB)
    ws = window.lab
    assert ws.isVisible() and window.workspace is ws
    assert ws.page_list.count() == len(PAGES)
    assert ws.page_list.item(0).text() == "1. Perceptron and logic gates"
    assert isinstance(ws.page, PerceptronPage) and ws.page.isVisible()
    assert "Perceptron and logic gates" in ws.explanation.toPlainText()
    assert "Δw = η (t − y) x" in ws.explanation.toPlainText()
    tb = window.toolbar
    assert not tb.play_action.isEnabled() and not tb.step_action.isEnabled()
    assert not tb.preset_box.isEnabled() and not window.sweep_action.isEnabled()
    assert tb.reset_action.isEnabled() and "page" in tb.reset_action.toolTip()
    assert window.run_workspace is None and window.controller.state == "idle"
    assert tb.epoch_label.text() == "" and window.status_metrics.text() == ""
    with qtbot.waitSignal(window.runReset, timeout=10000):  # back: the plane sets up its run
        choose_mode(window, "plane")
    assert tb.play_action.isEnabled() and tb.preset_box.isEnabled()
    assert window.sweep_action.isEnabled()


def test_pages_switch_and_only_the_page_on_screen_is_shown(two_pages, window, qtbot):
    choose_mode(window, LAB)
    ws = window.lab
    perceptron = ws.page
    perceptron.slow_ms = 10_000
    perceptron.learn_button.click()  # learning, on screen
    ws.page_list.setCurrentRow(1)
    counting = ws.page
    assert isinstance(counting, CountingPage) and counting.isVisible()
    assert (counting.seen, counting.left) == (1, 0)
    assert not perceptron.timer.isActive()  # hidden(): it stopped learning
    assert "Counts." in ws.explanation.toPlainText()
    assert ws.page_list.item(1).text() == "2. Counting"
    with qtbot.waitSignal(window.runReset, timeout=10000):
        choose_mode(window, "plane")
    assert (counting.seen, counting.left) == (1, 1)
    choose_mode(window, LAB)
    assert ws.page is counting and (counting.seen, counting.left) == (2, 1)
    ws.page_list.setCurrentRow(0)
    assert ws.page is perceptron and counting.left == 2  # the page keeps its state


def test_reset_starts_the_page_over_and_leaves_runs_alone(window, qtbot, monkeypatch):
    with qtbot.waitSignal(window.controller.stateChanged, timeout=10000):
        window.toolbar.step_action.trigger()  # the plane's run trains an epoch
    qtbot.waitUntil(lambda: window.controller.state == "paused", timeout=10000)
    choose_mode(window, LAB)  # the plane's run is parked
    assert "plane" in window.kept.parked
    old = window.lab.page
    old.set_gate("XOR")
    window.toolbar.reset_action.trigger()
    page = window.lab.page
    assert page is not old and isinstance(page, PerceptronPage) and page.gate == "AND"
    assert page.isVisible() and "started over" in window.statusBar().currentMessage()
    assert window.kept.discarded is None and not window.kept.undo_action.isEnabled()
    asked = []
    monkeypatch.setattr(
        kept_runs.QMessageBox,
        "question",
        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel,
    )
    window.quit()  # asks about the plane's parked run only
    assert len(asked) == 1 and asked[0].startswith("The Plane run has trained to epoch 1")
    assert window.isVisible()


def test_file_actions_on_a_lab_page_say_there_is_nothing_to_save(
    window, qtbot, monkeypatch, tmp_path
):
    choose_mode(window, LAB)
    told = []
    monkeypatch.setattr(file_actions.QMessageBox, "information", lambda *a: told.append(a[1:]))
    monkeypatch.setattr(file_actions.QMessageBox, "warning", lambda *a: told.append(a[1:]))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: pytest.fail("asked"))
    files = window.files
    assert files.save_experiment() is False and files.save_experiment_as() is False
    for kind in file_actions.EXPORTS:
        assert files.export_model(kind) is False
    assert files.export_history() is False
    assert len(told) == 3 + len(file_actions.EXPORTS)
    for title, text in told:
        assert title.startswith("Nothing to") and text == LabWorkspace.nothing_to_save
    assert not waiting.open_file(qtbot, window, tmp_path / "w.safetensors")
    title, text = told[-1]
    assert title == "Can't open this file" and "Plane or Image mode" in text
    # Export plots offers the page itself
    ((name, widget),) = window.lab.views()
    assert name == "Perceptron and logic gates" and widget is window.lab.page
    path = tmp_path / "page.png"
    assert waiting.exported(qtbot, files, widget, name, path) == ""
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_page_shown_survives_a_restart(two_pages, window, qtbot, settings):
    choose_mode(window, LAB)
    window.lab.page_list.setCurrentRow(1)
    window.close()
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    try:
        assert again.mode == LAB and again.lab.page_list.currentRow() == 1
        assert again.lab.page is None  # made when shown
        again.show()
        assert isinstance(again.lab.page, CountingPage) and again.lab.page.seen == 1
        assert not again.toolbar.play_action.isEnabled()
        assert again.run_workspace is None
    finally:
        again.close()


def test_a_damaged_lab_session_opens_the_first_page(two_pages, settings, qtbot):
    settings.setValue("mode", LAB)
    settings.setValue("session/lab", '{"mode": "lab", "page": 3}')
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    try:
        assert window.mode == LAB and window.lab.page_list.currentRow() == 0
    finally:
        window.close()
    with pytest.raises(ValueError, match="page: expected a page's name"):
        LabSession.from_dict({"mode": "lab", "page": 3})
    with pytest.raises(ValueError, match="not a Lab session"):
        LabWorkspace.parse_session('{"mode": "images"}')
    with pytest.raises(ValueError, match="session: not valid JSON"):
        LabWorkspace.parse_session("{bad")
    assert LabSession.from_dict(LabSession("counting").to_dict()) == LabSession("counting")


def test_undo_from_the_lab_brings_back_the_discarded_run_in_its_mode(window, qtbot):
    with qtbot.waitSignal(window.controller.stateChanged, timeout=10000):
        window.toolbar.step_action.trigger()
    qtbot.waitUntil(lambda: window.controller.state == "paused", timeout=10000)
    steps = window.controller.last.step
    with qtbot.waitSignal(window.runReset, timeout=10000):
        window.toolbar.reset_action.trigger()  # the plane's Reset: its trained run is undoable
    assert window.kept.undo_action.text() == "Undo Reset"
    choose_mode(window, LAB)
    assert window.kept.undo_action.isEnabled()
    with qtbot.waitSignal(window.runReset, timeout=10000):
        window.kept.undo_action.trigger()
    assert window.mode == "plane" and window.toolbar.play_action.isEnabled()
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=10000)
    assert window.workspace.last_snapshot.step == steps


def test_a_page_alone_is_shown_beside_its_explanation(qtbot):
    page = CountingPage()
    split = beside_explanation(page)
    qtbot.addWidget(split)
    explanation = split.widget(0)
    assert isinstance(explanation, Explanation) and split.widget(1) is page
    assert explanation.toPlainText().split() == ["Counting", "Counts."]

"""Helpers for the Lab pages' tests: a page alone at its default size, and a choice made in one
of its boxes, waited for until the page has redrawn."""

from PySide6.QtWidgets import QComboBox


def open_page(qtbot, page_class):
    page = page_class()
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    return page


def choose(qtbot, page, box: QComboBox, key: str) -> None:
    """Choose the item whose data is ``key``; returns once the page has redrawn."""
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        box.setCurrentIndex(box.findData(key))


def open_runs_page(qtbot, page_class, before_shown=None):
    """A page that trains runs, on screen (``before_shown(page)`` called just before); left
    (its runs stopped, waited for) before it is closed at the test's end."""

    def leave(page) -> None:
        page.hidden()
        qtbot.waitUntil(lambda: not page.runs.runner.running, timeout=10_000)

    page = page_class()
    qtbot.addWidget(page, before_close_func=leave)
    page.resize(1100, 700)
    page.show()
    if before_shown is not None:
        before_shown(page)
    page.shown()
    return page

"""The Lab workspace: the course's ideas as pages (:mod:`playground.lab.pages`), each an
experiment beside its explanation.

The page list and the explanation of the page on screen on the left, the page on the right.
A page is made when it is first on screen and keeps its state while another page or mode is
shown; the workspace calls its ``shown()``/``hidden()`` as pages change and as the Lab is
entered or left, so only the page seen animates. The Lab trains nothing with the window's
engine: its session is which page is shown, Play and Step don't apply (each page has its own
controls), and Reset starts the page on screen over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QListWidget,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.spec import parse_json
from core.training.snapshot import Snapshot
from playground.lab.page import EXPLANATION_WIDTH, Explanation, LabPage
from playground.lab.pages import PAGES, page_key
from playground.worker import TrainingController
from playground.workspaces.base import Workspace

LAB = "lab"


@dataclass
class LabSession:
    """What the Lab shows: the page on screen, by its key (:func:`playground.lab.pages.
    page_key`; "" or an unknown key: the first page)."""

    page: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"mode": LAB, "page": self.page}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> LabSession:
        """Rebuild from :meth:`to_dict`; raises ValueError for another mode's or bad content."""
        if not isinstance(data, dict) or data.get("mode") != LAB:
            raise ValueError("session: not a Lab session")
        page = data.get("page", "")
        if not isinstance(page, str):
            raise ValueError(f"page: expected a page's name, got {type(page).__name__}")
        return cls(page)


class LabWorkspace(Workspace):
    mode = LAB
    title = "Lab"
    tooltip = (
        "Lab: the ideas behind deep learning, one page each (the perceptron and logic gates "
        "first): move the controls and see why a network learns."
    )
    settings_key = "session/lab"
    default_preset = ""
    session_type = LabSession
    trains = False
    nothing_to_save = (
        "A Lab page keeps no run to save or export: each page is a small experiment of its "
        "own. File ▸ Export plots saves a picture of the page."
    )

    def __init__(self, controller: TrainingController, settings: QSettings | None = None) -> None:
        super().__init__(controller)
        self.page_list = QListWidget()
        self.page_list.setToolTip("The Lab's pages, in the course's order.")
        for number, page in enumerate(PAGES, 1):
            self.page_list.addItem(f"{number}. {page.title}")
            self.page_list.item(number - 1).setToolTip(page.title)
        # Every page stays in sight, however wide the page beside it: titles are cut, not scrolled.
        self.page_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.page_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        frame = 2 * self.page_list.frameWidth()
        self.page_list.setMinimumHeight(len(PAGES) * self.page_list.sizeHintForRow(0) + frame)
        self.explanation = Explanation()
        self.stack = QStackedWidget()
        self.pages: dict[int, LabPage] = {}  # row -> the page, once shown
        self._lay_out()
        self.page_list.currentRowChanged.connect(self.show_page)

    def _lay_out(self) -> None:
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.page_list)
        left.addWidget(self.explanation)
        left.setStretchFactor(1, 1)
        rows = max(len(PAGES), 4)
        left.setSizes([rows * self.page_list.sizeHintForRow(0) + 8, 600])
        left.setMinimumWidth(260)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(self.stack)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([EXPLANATION_WIDTH, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.split)

    # -- pages ---------------------------------------------------------------------------------
    @property
    def page(self) -> LabPage | None:
        """The page on screen (None before the first is chosen)."""
        return self.pages.get(self.page_list.currentRow())

    def show_page(self, row: int) -> None:
        """Show page ``row`` beside its explanation (the page is made when the Lab is first
        on screen with it: a page of another mode's session costs nothing at start)."""
        if row < 0:
            return
        if self.page_list.currentRow() != row:
            self.page_list.setCurrentRow(row)  # comes back here
            return
        kind = PAGES[row]
        self.explanation.show_page(kind, row + 1 if len(PAGES) > 1 else None)
        if self.isVisible():
            self._open(row)
        if not self._applying:
            self.settingsChanged.emit()  # the window keeps the page shown

    def _open(self, row: int) -> None:
        """Put page ``row`` on screen (made now if it is the first time), the one it replaces
        told it is hidden and the page that it is shown."""
        page = self.pages.get(row)
        if page is None:
            page = self.pages[row] = PAGES[row]()
            self.stack.addWidget(page)
        previous = self.stack.currentWidget()
        if previous is not page and previous is not None:
            previous.hidden()
        self.stack.setCurrentWidget(page)
        page.shown()

    def start_over(self) -> bool:
        """Reset: the page on screen is made anew, as it first opened."""
        row = self.page_list.currentRow()
        old = self.pages.pop(row, None)
        if old is not None:
            old.hidden()
            self.stack.removeWidget(old)
            old.deleteLater()
        self._open(row)
        self.statusMessage.emit(f"{PAGES[row].title}: started over", 5000)
        return True

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not event.spontaneous() and self.page_list.currentRow() >= 0:
            self._open(self.page_list.currentRow())

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().hideEvent(event)
        if not event.spontaneous() and self.page is not None:
            self.page.hidden()

    def stop_work(self) -> None:
        if self.page is not None:
            self.page.hidden()

    # -- the workspace's face ------------------------------------------------------------------
    def session(self) -> LabSession:
        row = max(self.page_list.currentRow(), 0)
        return LabSession(page_key(PAGES[row]))

    def _show_session(self, session: LabSession) -> None:
        keys = [page_key(page) for page in PAGES]
        self.show_page(keys.index(session.page) if session.page in keys else 0)

    def default_session(self) -> LabSession:
        return LabSession()

    @classmethod
    def parse_session(cls, text: str) -> LabSession:
        return LabSession.from_dict(parse_json("session", text))

    def reset_run(self, **start: Any) -> None:
        """The Lab takes no run: the engine's (another mode's, parked by now) is dropped, so
        nothing trains unseen."""
        self.controller.discard()

    def show_snapshot(self, snap: Snapshot) -> None:
        """The Lab's pages compute on their own: no snapshot is theirs."""

    def views(self) -> tuple[tuple[str, QWidget], ...]:
        page = self.page
        return () if page is None else ((page.title, page),)

    @property
    def run_name(self) -> str:
        return f"lab-{self.session().page}"

    def metadata(self, session: Any) -> dict[str, Any]:
        return {}

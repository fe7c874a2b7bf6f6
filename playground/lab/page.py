"""A Lab page: one idea of the course as an interactive experiment beside its explanation.

A page is a QWidget subclass of :class:`LabPage` with a ``title`` (the page list's entry) and an
``explanation`` (3–6 sentences and the formula, as Qt rich text). The Lab workspace lays the
explanation out beside the page; the page holds its controls and pictures. The workspace calls
:meth:`LabPage.shown` when the page comes on screen and :meth:`LabPage.hidden` when it leaves, so
a page animates (timers, training) only while it is seen. Every page runs alone:
``python -m playground.lab.<module> [--theme dark] [--screenshot page.png]`` (see :func:`main`),
beside its explanation as in the Lab.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QSplitter, QTextBrowser, QWidget

from playground.views.standalone import show_alone, start_app

#: Longest a screenshot waits for a page's background work (seconds).
SCREENSHOT_WAIT = 180


class LabPage(QWidget):
    """One page of the Lab (see the module docstring)."""

    #: the page list's entry, e.g. "Perceptron and logic gates"
    title: ClassVar[str]
    #: what the page shows, for a student meeting the idea: 3–6 sentences and the formula, as Qt
    #: rich text (a subset of HTML: <p>, <b>, <i>, <sub>, <sup>, <br>, &middot; ...)
    explanation: ClassVar[str]

    def shown(self) -> None:
        """The page came on screen: start what it animates."""

    def hidden(self) -> None:
        """The page left the screen: stop its timers and work."""

    def settled(self) -> bool:
        """Whether the pictures are complete: a page whose work goes on in the background
        (training runs) says False until it is done, and a screenshot waits for it."""
        return True


#: How the explanations read: body text a little larger than the panels', and each formula
#: (``<p class="formula">``) larger still, centred, with room around it.
EXPLANATION_CSS = """
p { line-height: 135%; margin-bottom: 6px; }
h3 { margin-bottom: 4px; }
.formula { font-size: 13pt; margin: 8px 0px; }
"""
#: The explanation column's width (px): a readable line, about 45 to 60 characters.
EXPLANATION_WIDTH = 330


class Explanation(QTextBrowser):
    """A page's explanation as a student reads it: its title, then the text and formulas."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(True)
        self.document().setDefaultStyleSheet(EXPLANATION_CSS)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.setFont(font)

    def show_page(self, page: type[LabPage], number: int | None = None) -> None:
        """Explain ``page``; ``number``: its place in the page list, shown before the title."""
        prefix = f"{number}. " if number is not None else ""
        self.setHtml(f"<h3>{prefix}{page.title}</h3>{page.explanation}")


def beside_explanation(widget: LabPage) -> QSplitter:
    """``widget`` with its explanation on the left, as the Lab lays them out."""
    explanation = Explanation()
    explanation.show_page(type(widget))
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(explanation)
    split.addWidget(widget)
    split.setStretchFactor(1, 1)
    split.setSizes([EXPLANATION_WIDTH, 1000])
    return split


def main(page: type[LabPage], argv: Sequence[str] | None = None) -> int:
    """Run ``page`` alone in a window (or save a screenshot of it and exit)."""
    parser = argparse.ArgumentParser(description=f"The Lab's page {page.title!r} on its own")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--screenshot", metavar="PNG", help="save the page to PNG and exit")
    parser.add_argument("--size", default="1400x700", help="window size WxH")
    parser.add_argument("--bare", action="store_true", help="the page without its explanation")
    args = parser.parse_args(argv)
    app = start_app(args.theme, args.screenshot)
    widget = page()
    window = widget if args.bare else beside_explanation(widget)
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    widget.shown()
    if args.screenshot:
        window.show()
        wait_until(widget.settled, SCREENSHOT_WAIT)
    return show_alone(app, window, args.screenshot)


def wait_until(done: Callable[[], bool], seconds: float) -> bool:
    """Run the event loop until ``done()`` (asked every 50 ms) or ``seconds`` have passed;
    whether it was done."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    return done()

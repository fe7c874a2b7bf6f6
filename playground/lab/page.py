"""A Lab page: one idea of the course as an interactive experiment beside its explanation.

A page is a QWidget subclass of :class:`LabPage` with a ``title`` (the page list's entry) and an
``explanation`` (3–6 sentences and the formula, as Qt rich text). The Lab workspace lays the
explanation out beside the page; the page holds its controls and pictures. The workspace calls
:meth:`LabPage.shown` when the page comes on screen and :meth:`LabPage.hidden` when it leaves, so
a page animates (timers, training) only while it is seen. Every page runs alone:
``python -m playground.lab.<module> [--theme dark] [--screenshot page.png]`` (see :func:`main`).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QWidget

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


def main(page: type[LabPage], argv: Sequence[str] | None = None) -> int:
    """Run ``page`` alone in a window (or save a screenshot of it and exit)."""
    parser = argparse.ArgumentParser(description=f"The Lab's page {page.title!r} on its own")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--screenshot", metavar="PNG", help="save the page to PNG and exit")
    parser.add_argument("--size", default="1100x700", help="window size WxH")
    args = parser.parse_args(argv)
    app = start_app(args.theme, args.screenshot)
    widget = page()
    width, height = (int(v) for v in args.size.lower().split("x"))
    widget.resize(width, height)
    widget.shown()
    if args.screenshot:
        widget.show()
        wait_until(widget.settled, SCREENSHOT_WAIT)
    return show_alone(app, widget, args.screenshot)


def wait_until(done: Callable[[], bool], seconds: float) -> bool:
    """Run the event loop until ``done()`` (asked every 50 ms) or ``seconds`` have passed;
    whether it was done."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    return done()

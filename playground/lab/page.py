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
from collections.abc import Sequence
from typing import ClassVar

from PySide6.QtWidgets import QWidget

from playground.views.standalone import show_alone, start_app


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
    return show_alone(app, widget, args.screenshot)

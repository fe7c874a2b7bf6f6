"""One view on its own (``python -m playground.views.<module>``): the app in a theme, then the
view's window, or a screenshot of it."""

from __future__ import annotations

import os
import sys

from PySide6.QtWidgets import QApplication, QWidget


def start_app(theme: str, screenshot: str | None = None) -> QApplication:
    """The application in ``theme`` ("light" or "dark"); drawn offscreen when a screenshot is
    asked for without a display."""
    if screenshot and not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from playground.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    apply_theme(app, theme)
    return app


def show_alone(app: QApplication, view: QWidget, screenshot: str | None = None) -> int:
    """Show ``view`` until its window closes, or save a PNG of it to ``screenshot``; the exit
    status (0: done, 1: the picture could not be saved)."""
    view.show()
    if screenshot:
        app.processEvents()
        return 0 if view.grab().save(screenshot, "PNG") else 1
    return app.exec()

"""The app entry point imports and builds its window offscreen."""

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from playground import app


def test_main_opens_a_window_and_exits(qapp):
    seen = []

    def look_and_quit():
        seen.extend(w.windowTitle() for w in QApplication.topLevelWidgets() if w.isVisible())
        QApplication.quit()

    QTimer.singleShot(0, look_and_quit)
    assert app.main([]) == 0
    assert "NN Playground" in seen

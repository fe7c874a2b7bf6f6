"""Light (default) and dark themes: a Qt palette, a little style sheet, and pyqtgraph colours."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

STYLE = """
QGroupBox { font-weight: 600; margin-top: 10px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
#viewTitle, #sectionTitle { font-weight: 600; }
#columnHead { color: palette(mid); font-size: 11px; }
#paramCount { font-weight: 600; }
#counter { font-family: monospace; }
"""


def apply_theme(app: QApplication, theme: str = "light") -> None:
    app.setStyle("Fusion")
    dark = theme == "dark"
    pg.setConfigOptions(
        antialias=True,
        background="#1e1f22" if dark else "w",
        foreground="#d0d0d0" if dark else "#303030",
    )
    palette = QPalette()
    if dark:
        colors = {
            QPalette.ColorRole.Window: "#2b2d31",
            QPalette.ColorRole.WindowText: "#e6e6e6",
            QPalette.ColorRole.Base: "#1e1f22",
            QPalette.ColorRole.AlternateBase: "#2b2d31",
            QPalette.ColorRole.Text: "#e6e6e6",
            QPalette.ColorRole.Button: "#3a3d42",
            QPalette.ColorRole.ButtonText: "#e6e6e6",
            QPalette.ColorRole.Highlight: "#3d7fd9",
            QPalette.ColorRole.HighlightedText: "#ffffff",
            QPalette.ColorRole.ToolTipBase: "#3a3d42",
            QPalette.ColorRole.ToolTipText: "#e6e6e6",
            QPalette.ColorRole.Mid: "#8a8a8a",
        }
        for role, color in colors.items():
            palette.setColor(role, QColor(color))
        for role in (
            QPalette.ColorRole.Text,
            QPalette.ColorRole.ButtonText,
            QPalette.ColorRole.WindowText,
        ):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    else:
        palette = app.style().standardPalette()
    app.setPalette(palette)
    app.setStyleSheet(STYLE)

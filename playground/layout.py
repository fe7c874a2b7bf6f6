"""Small layout helpers shared by the window's modes."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QScrollArea, QVBoxLayout, QWidget


def group(title: str, widget: QWidget) -> QGroupBox:
    """``widget`` in a titled box with tight margins."""
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 8, 4, 4)
    layout.addWidget(widget)
    return box


def scroll_column(widgets: Sequence[QWidget]) -> QScrollArea:
    """Widgets stacked top-down in a vertically scrolling column exactly as wide as they need,
    so a small window scrolls the panels instead of squeezing them."""
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidget(column)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(
        column.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
    )
    return scroll

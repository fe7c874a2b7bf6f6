"""Small widgets the Lab's pages share: a button with its tooltip, a read-only table of a few
rows marked right or wrong, a plot of the plane (x₁, x₂) and a line on it placed by its
equation, and numbers written to three significant digits."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QPushButton, QTableWidget, QTableWidgetItem

CHECK, CROSS = "✓", "✗"
RIGHT, WRONG = "#2ea043", "#d62728"


def table(headers: list[str], rows: int = 4, widest: str | list[str] = " −0.00 ") -> QTableWidget:
    """A read-only table of ``rows`` rows, just tall and wide enough for cells as wide as
    ``widest`` (one text for every column, or one per column)."""
    widget = QTableWidget(rows, len(headers))
    widget.setHorizontalHeaderLabels(headers)
    widget.verticalHeader().hide()
    widget.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    widget.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    metrics = widget.fontMetrics()
    widths = [widest] * len(headers) if isinstance(widest, str) else widest
    for j, text in enumerate(headers):
        width = max(metrics.horizontalAdvance(t) for t in (text, widths[j]))
        header.resizeSection(j, width + 16)
        for i in range(rows):
            widget.setItem(i, j, QTableWidgetItem())
    frame = 2 * widget.frameWidth()
    widget.setFixedHeight(header.sizeHint().height() + rows * widget.rowHeight(0) + frame)
    widget.setFixedWidth(header.length() + frame)
    return widget


def widen_first_column(widget: QTableWidget, widest: str) -> None:
    """Make a :func:`table`'s first column as wide as ``widest`` (row names), the table with it."""
    header = widget.horizontalHeader()
    header.resizeSection(0, widget.fontMetrics().horizontalAdvance(f" {widest} ") + 16)
    widget.setFixedWidth(header.length() + 2 * widget.frameWidth())


def set_row(widget: QTableWidget, row: int, cells: list) -> None:
    """Fill ``row`` with ``cells``, centred; a bool shows as a green ✓ (True) or a red ✗."""
    for j, value in enumerate(cells):
        item = widget.item(row, j)
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        if isinstance(value, bool | np.bool_):
            item.setText(CHECK if value else CROSS)
            item.setForeground(pg.mkColor(RIGHT if value else WRONG))
        else:
            item.setText(str(value))


def place_line(line: pg.InfiniteLine, w1: float, w2: float, b: float, visible: bool = True) -> None:
    """Put ``line`` where ``w1·x1 + w2·x2 + b = 0`` (hidden if the weights are both 0)."""
    norm = w1 * w1 + w2 * w2
    line.setVisible(bool(visible and norm > 1e-12))
    if norm > 1e-12:
        line.setPos((-b * w1 / norm, -b * w2 / norm))  # the line's point nearest the origin
        line.setAngle(math.degrees(math.atan2(-w1, w2)))  # along (w2, −w1)


def significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits with a true minus sign: "0.871", "−1.2e−05"."""
    return f"{value:.{digits}g}".replace("-", "−")


def button(text: str, tip: str) -> QPushButton:
    widget = QPushButton(text)
    widget.setToolTip(tip)
    return widget


def plane_plot(low: float, high: float) -> pg.PlotWidget:
    """A square plot of the plane from ``low`` to ``high`` on both axes (x₁, x₂), fixed: no
    zoom, no menu."""
    plot = pg.PlotWidget()
    plot.setAspectLocked(True)
    plot.setMouseEnabled(False, False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setRange(xRange=(low, high), yRange=(low, high), padding=0)
    plot.setLabel("bottom", "x₁")
    plot.setLabel("left", "x₂")
    return plot

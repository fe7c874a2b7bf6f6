"""A small matrix as a heat map with its numbers: one cell per entry, blue positive, orange
negative, as strong as the entry is large beside the largest; rows and columns named; the
numbers to three significant digits in black or white, whichever reads on the cell."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from playground.lab.glass_graph import ink_for
from playground.lab.widgets import significant
from playground.views.colors import diverging


class MatrixView(QWidget):
    """``set_matrix(title, values (rows, cols), row_names, col_names)``; ``values`` None shows
    the grid empty (not computed yet) under its title."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = ""
        self.values: np.ndarray | None = None
        self.row_names: list[str] = []
        self.col_names: list[str] = []
        #: the numbers on screen, row by row ("" where none)
        self.texts: list[list[str]] = []
        self._shape = (1, 1)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_matrix(
        self,
        title: str,
        values: np.ndarray | None,
        row_names: list[str],
        col_names: list[str],
    ) -> None:
        self.title, self.row_names, self.col_names = title, row_names, col_names
        self.values = None if values is None else np.asarray(values, float)
        self._shape = (len(row_names), len(col_names))
        rows, cols = self._shape
        if self.values is None:
            self.texts = [[""] * cols for _ in range(rows)]
        else:
            self.texts = [[significant(v) for v in row] for row in self.values]
        self.updateGeometry()
        self.update()

    # -- geometry -------------------------------------------------------------------------------
    def _cell(self) -> tuple[int, int, int]:
        """(cell width, cell height, row-name width)."""
        metrics = self.fontMetrics()
        return (
            metrics.horizontalAdvance("−0.00012") + 6,
            metrics.height() + 6,
            metrics.horizontalAdvance("h₄") + 8,
        )

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        width, height, names = self._cell()
        rows, cols = self._shape
        title = self.fontMetrics().horizontalAdvance(self.title) + 4
        line = self.fontMetrics().height() + 4
        return QSize(max(names + cols * width, title) + 2, 2 * line + rows * height + 2)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        width, height, names = self._cell()
        line = self.fontMetrics().height() + 4
        painter = QPainter(self)
        palette = self.palette()
        text, mid = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Mid)
        painter.setPen(text)
        painter.drawText(QRectF(0, 0, self.width(), line), Qt.AlignmentFlag.AlignLeft, self.title)
        painter.setPen(mid)
        for j, name in enumerate(self.col_names):
            at = QRectF(names + j * width, line, width, line)
            painter.drawText(at, Qt.AlignmentFlag.AlignCenter, name)
        values = self.values
        limit = float(np.abs(values).max()) if values is not None and values.size else 0.0
        colors = diverging(values, limit or 1.0) if values is not None else None
        for i, name in enumerate(self.row_names):
            top = 2 * line + i * height
            painter.setPen(mid)
            painter.drawText(QRectF(0, top, names, height), Qt.AlignmentFlag.AlignCenter, name)
            for j in range(len(self.col_names)):
                cell = QRectF(names + j * width, top, width - 1, height - 1)
                if colors is None:
                    painter.setPen(mid)
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRect(cell)
                    continue
                fill = QColor(*(int(c) for c in colors[i, j, :3]))
                painter.fillRect(cell, fill)
                painter.setPen(ink_for(fill))
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, self.texts[i][j])
        painter.end()

"""The confusion matrix: rows are true classes, columns predicted classes, each cell coloured by
its share of the row (so every class reads the same whatever its size), with its count inside.

Correct predictions (the diagonal) are blue and mistakes red, both deepening with the share;
the share goes through a square root so a few-percent confusion is still visible. The matrix
is painted with QPainter: text stays sharp at any scale and an update is one repaint.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

CORRECT_RGB = (8, 119, 189)
MISTAKE_RGB = (214, 39, 40)
#: Longest class name drawn in full before eliding, as a share of the widget's width/height.
LABEL_SHARE = 0.25
PAD = 4.0


def row_fractions(m: np.ndarray) -> np.ndarray:
    """Each cell's share of its row ``(K, K)`` float; rows without samples are all 0."""
    totals = m.sum(axis=1, keepdims=True)
    return np.divide(m, totals, out=np.zeros(m.shape, np.float64), where=totals > 0)


def cell_color(fraction: float, diagonal: bool, base: QColor) -> QColor:
    """``base`` (an empty cell) blended toward blue (diagonal) or red by sqrt(fraction)."""
    t = math.sqrt(min(max(fraction, 0.0), 1.0))
    r, g, b = CORRECT_RGB if diagonal else MISTAKE_RGB
    return QColor(
        round(base.red() + (r - base.red()) * t),
        round(base.green() + (g - base.green()) * t),
        round(base.blue() + (b - base.blue()) * t),
    )


def ink_for(color: QColor) -> QColor:
    """Near-black or white text for a cell of ``color``, by its relative luminance."""

    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * linear(color.red()) + 0.7152 * linear(color.green())
    lum += 0.0722 * linear(color.blue())
    # equal contrast with both at 0.18; up to 0.25 white still reads (>= 3.5:1) and keeps the
    # deep cells of one hue all white
    return QColor(20, 20, 20) if lum > 0.25 else QColor(255, 255, 255)


class _Geometry(NamedTuple):
    rect: QRectF  # the cells
    cell: float  # side of one cell
    vertical: bool  # column names stand up
    row_label_w: float
    col_label_h: float
    line: float  # label line height


class MatrixCanvas(QWidget):
    """The painted matrix with class names and axis titles; ConfusionView wraps it."""

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(180, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._m = np.zeros((0, 0), np.int64)
        self._fractions = np.zeros((0, 0))
        self._names: list[str] = []
        self._hover: tuple[int, int] | None = None
        self._geometry: _Geometry | None = None

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(420, 380)

    def set_matrix(self, m: np.ndarray, class_names: Sequence[str]) -> None:
        names_changed = list(class_names) != self._names
        self._m = m
        self._fractions = row_fractions(m)
        self._names = list(class_names)
        if names_changed:
            self._geometry = None
            self._hover = None
        self.update()

    # -- geometry --------------------------------------------------------------------------------
    def _label_font(self) -> QFont:
        return self.font()

    def _layout(self) -> _Geometry:
        """Where the matrix, its cells and the class names go at the current size."""
        if self._geometry is not None:
            return self._geometry
        k = max(len(self._names), 1)
        fm = QFontMetricsF(self._label_font())
        line = fm.height()
        name_w = max((fm.horizontalAdvance(n) for n in self._names), default=0.0)
        row_label_w = min(name_w, self.width() * LABEL_SHARE)
        left = PAD + line + PAD + row_label_w + PAD  # axis title, names
        width, height = self.width() - left - PAD, self.height() - 2 * PAD
        col_label_h = line
        cell = min(width / k, (height - 2 * line - PAD) / k)
        vertical = name_w > cell - 4  # column names do not fit side by side: stand them up
        if vertical:
            col_label_h = min(name_w, self.height() * LABEL_SHARE)
            cell = min(width / k, (height - col_label_h - line - PAD) / k)
        cell = max(cell, 4.0)
        side = cell * k
        x0 = left + max(0.0, (width - side) / 2)
        rect = QRectF(x0, PAD, side, side)
        self._geometry = _Geometry(rect, cell, vertical, row_label_w, col_label_h, line)
        return self._geometry

    def cell_rect(self, true_class: int, predicted: int) -> QRectF:
        """Where cell (true_class, predicted) is drawn, in this widget's coordinates."""
        g = self._layout()
        rect, cell = g.rect, g.cell
        return QRectF(rect.left() + predicted * cell, rect.top() + true_class * cell, cell, cell)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(true class, predicted class) under ``pos``, or None."""
        if not len(self._m):
            return None
        rect, cell = self._layout()[:2]
        if not rect.contains(pos):
            return None
        k = len(self._m)
        col = min(int((pos.x() - rect.left()) / cell), k - 1)
        row = min(int((pos.y() - rect.top()) / cell), k - 1)
        return row, col

    def cell_text(self, true_class: int, predicted: int) -> str:
        """The hover text: ``true T, predicted P: n (x% of T)``."""
        t, p = self._names[true_class], self._names[predicted]
        n = int(self._m[true_class, predicted])
        share = 100.0 * self._fractions[true_class, predicted]
        return f"true {t}, predicted {p}: {n:,} ({share:.1f}% of {t})"

    # -- painting --------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        muted = pal.color(QPalette.ColorRole.Mid)
        if not len(self._m):
            painter.setPen(muted)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No predictions yet")
            painter.end()
            return
        g = self._layout()
        k = len(self._m)
        base = pal.color(QPalette.ColorRole.Base)
        gap = 1.0 if g.cell >= 12 else 0.0
        count_font = self._count_font(g.cell)
        painter.setPen(Qt.PenStyle.NoPen)
        for t in range(k):
            for p in range(k):
                color = cell_color(self._fractions[t, p], t == p, base)
                r = self.cell_rect(t, p).adjusted(0, 0, -gap, -gap)
                painter.fillRect(r, color)
        if count_font is not None:
            painter.setFont(count_font)
            zero = QColor(muted)
            zero.setAlpha(140)
            for t in range(k):
                for p in range(k):
                    n = int(self._m[t, p])
                    color = cell_color(self._fractions[t, p], t == p, base)
                    painter.setPen(ink_for(color) if n else zero)
                    r = self.cell_rect(t, p).adjusted(0, 0, -gap, -gap)
                    painter.drawText(r, Qt.AlignmentFlag.AlignCenter, f"{n}")
        if self._hover is not None:
            painter.setPen(QPen(text, 2.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(
                self.cell_rect(*self._hover).adjusted(0.5, 0.5, -gap - 0.5, -gap - 0.5)
            )
        self._paint_labels(painter, g, text, muted)
        painter.end()

    def _count_font(self, cell: float) -> QFont | None:
        """The largest font up to the label size whose widest count fits the cell."""
        font = QFont(self.font())
        size = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
        widest = str(int(self._m.max())) if self._m.size else "0"
        while size >= 5.5:
            font.setPointSizeF(size)
            fm = QFontMetricsF(font)
            if fm.horizontalAdvance(widest) <= cell - 3 and fm.height() <= cell - 1:
                return font
            size -= 0.5
        return None

    def _paint_labels(self, painter: QPainter, g: _Geometry, text: QColor, muted: QColor) -> None:
        """Class names (the hovered cell's in full colour, the others muted) and axis titles."""
        font = self._label_font()
        fm = QFontMetricsF(font)
        rect, cell, line = g.rect, g.cell, g.line
        painter.setFont(font)
        hover_t, hover_p = self._hover if self._hover is not None else (-1, -1)
        names_x = rect.left() - PAD - g.row_label_w
        for t, name in enumerate(self._names):
            painter.setPen(text if hover_t in (t, -1) else muted)
            r = QRectF(names_x, rect.top() + t * cell, g.row_label_w, cell)
            label = fm.elidedText(name, Qt.TextElideMode.ElideRight, g.row_label_w)
            painter.drawText(r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        top = rect.bottom() + PAD
        for p, name in enumerate(self._names):
            painter.setPen(text if hover_p in (p, -1) else muted)
            if g.vertical:
                label = fm.elidedText(name, Qt.TextElideMode.ElideRight, g.col_label_h)
                painter.save()
                painter.translate(rect.left() + (p + 0.5) * cell, top)
                painter.rotate(-90)  # x now runs upward from the matrix's bottom edge
                r = QRectF(-g.col_label_h, -line / 2, g.col_label_h, line)
                painter.drawText(
                    r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label
                )
                painter.restore()
            else:
                r = QRectF(rect.left() + p * cell, top, cell, line)
                painter.drawText(r, Qt.AlignmentFlag.AlignCenter, name)
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text)
        title = QRectF(rect.left(), top + g.col_label_h, rect.width(), line)
        painter.drawText(title, Qt.AlignmentFlag.AlignCenter, "predicted")
        painter.save()
        painter.translate(names_x - PAD - line, rect.center().y())
        painter.rotate(-90)
        title = QRectF(-rect.height() / 2, 0, rect.height(), line)
        painter.drawText(title, Qt.AlignmentFlag.AlignCenter, "true")
        painter.restore()

    # -- input -----------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._geometry = None
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.FontChange:
            self._geometry = None
        super().changeEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        cell = self.cell_at(event.position())
        if cell != self._hover:
            self._hover = cell
            self.update()
            if cell is None:
                QToolTip.hideText()
            elif QToolTip.isVisible():  # follow the mouse from cell to cell
                self._show_tip(event.globalPosition().toPoint(), cell)

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        cell = self.cell_at(event.position())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cellClicked.emit(*cell)
            event.accept()
            return
        super().mousePressEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            cell = self.cell_at(QPointF(event.pos()))
            if cell is None:
                QToolTip.hideText()
                event.ignore()
            else:
                self._show_tip(event.globalPos(), cell)
            return True
        return super().event(event)

    def _show_tip(self, global_pos, cell: tuple[int, int]) -> None:
        QToolTip.showText(global_pos, self.cell_text(*cell), self, self.cell_rect(*cell).toRect())


class ConfusionView(QWidget):
    """Confusion matrix with the overall accuracy in its title line.

    Signals
    -------
    cellClicked(int true_class, int predicted_class)
        The user clicked a cell.
    """

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Confusion matrix")
        self.title.setObjectName("viewTitle")
        self.accuracy = QLabel()
        self.matrix = MatrixCanvas()
        self.matrix.cellClicked.connect(self.cellClicked)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addSpacing(8)
        header.addWidget(self.accuracy, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.matrix, 1)

    def set_matrix(self, m: np.ndarray, class_names: Sequence[str]) -> None:
        """Show counts ``m (K, K)`` (row = true class, column = predicted) for ``K`` names."""
        m = np.asarray(m)
        names = [str(n) for n in class_names]
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"m: shape {m.shape}; allowed: (K, K)")
        if len(names) != m.shape[0]:
            raise ValueError(
                f"class_names: {len(names)} names for a {m.shape[0]}×{m.shape[0]} matrix"
            )
        if not np.issubdtype(m.dtype, np.number) or not np.isfinite(m).all() or (m < 0).any():
            raise ValueError("m: allowed: non-negative finite counts")
        m = np.rint(m).astype(np.int64)
        self.matrix.set_matrix(m, names)
        total = int(m.sum())
        correct = int(np.trace(m))
        if total:
            self.accuracy.setText(
                f"accuracy {100.0 * correct / total:.1f}% ({correct:,} of {total:,})"
            )
        else:
            self.accuracy.setText("no samples")

    def cell_rect(self, true_class: int, predicted: int) -> QRectF:
        """Cell (true_class, predicted) in the coordinates of :attr:`matrix`."""
        return self.matrix.cell_rect(true_class, predicted)

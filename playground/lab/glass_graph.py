"""The glass box's network graph: each unit a box with its numbers, each weight a line, for one
point at one stage of backprop (forward layer by layer, the loss, backward layer by layer, the
update), painted with QPainter in the theme's colours.

What the boxes and lines show comes from :func:`node_lines` and :func:`edge_values`, plain
functions of the explain record (:class:`core.lab.backprop.ExplainRecord`) and the stage; the
widget only lays them out and paints them. Clicking a unit's box reports it (``unitClicked``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.lab.backprop import ExplainRecord
from playground.lab.widgets import significant
from playground.views.colors import NEGATIVE, POSITIVE

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class Stage:
    """One step of the stepper: ``kind`` "forward" or "backward" through weighted layer
    ``layer`` (0-based), or "loss" or "update" (``layer`` -1)."""

    kind: str
    layer: int = -1


def stages(n_layers: int) -> tuple[Stage, ...]:
    """Forward through each layer, the loss, backward from the top layer down, the update."""
    return (
        *(Stage("forward", k) for k in range(n_layers)),
        Stage("loss"),
        *(Stage("backward", k) for k in reversed(range(n_layers))),
        Stage("update"),
    )


def unit_name(column: int, unit: int, n_layers: int) -> str:
    """Column 0 holds the inputs x₁, x₂...; the hidden layers' units are h₁, h₂...; the output
    layer's o₁, o₂... (column ``n_layers``)."""
    letter = "x" if column == 0 else "o" if column == n_layers else "h"
    return f"{letter}{unit + 1}".translate(SUBSCRIPTS)


def probabilities(record: ExplainRecord) -> np.ndarray | None:
    """One probability per output unit (softmax: each class's; a single sigmoid output: class
    1's), or None for regression."""
    n = len(record.output)
    if record.loss_name == "softmax_ce":
        return record.prediction
    if record.loss_name == "sigmoid_bce":
        return record.prediction[1:] if n == 1 else None
    return None


def node_lines(record: ExplainRecord, stage: Stage) -> dict[tuple[int, int], tuple[str, ...]]:
    """The text of every box at ``stage``, by (column, unit): the inputs' values; a layer's
    ``z`` and ``a`` going forward (the output layer's ``z`` and probability ``p``), its ``∂a``
    (= ∂L/∂a) and ``∂z`` going back, its biases ``b`` and their steps ``Δb`` at the update;
    ``L``, the loss, in the last column (index layers + 1). Not yet computed: ()."""
    n = len(record.layers)
    lines: dict[tuple[int, int], tuple[str, ...]] = {}
    for j, v in enumerate(record.x):
        lines[0, j] = (significant(v),)
    p = probabilities(record)
    for k, layer in enumerate(record.layers):
        top = k == n - 1
        for j in range(len(layer.z)):
            if stage.kind == "update":
                text = (f"b {significant(layer.b[j])}", f"Δb {significant(layer.step_b[j])}")
            elif stage.kind == "backward" and k >= stage.layer:
                dz = f"∂z {significant(layer.dz[j])}"
                text = (dz,) if top else (f"∂a {significant(layer.da[j])}", dz)
            elif stage.kind == "forward" and k > stage.layer:
                text = ()
            else:
                z = f"z {significant(layer.z[j])}"
                if top:
                    text = (z,) if p is None else (z, f"p {significant(p[j])}")
                else:
                    text = (z, f"a {significant(layer.a[j])}")
            lines[k + 1, j] = text
    lines[n + 1, 0] = () if stage.kind == "forward" else (f"L {significant(record.loss)}",)
    return lines


def edge_values(record: ExplainRecord, stage: Stage) -> list[tuple[str, np.ndarray, bool]]:
    """Per weighted layer, what its lines show: ``("W", weights)``, ``("∂L/∂W", gradient)``
    or ``("ΔW", step)``, each (in, out), and whether the layer is the stage's own."""
    out = []
    for k, layer in enumerate(record.layers):
        if stage.kind == "update":
            out.append(("ΔW", layer.step_W, True))
        elif stage.kind == "backward" and k >= stage.layer:
            out.append(("∂L/∂W", layer.dW, k == stage.layer))
        else:
            out.append(("W", layer.W, stage.kind == "forward" and k == stage.layer))
    return out


def fill_color(value: float, limit: float, base: QColor) -> QColor:
    """``base`` tinted towards blue (positive) or orange (negative) by |value| / limit."""
    t = value / limit if limit > 0 else 0.0
    t = float(np.clip(t, -1.0, 1.0)) if np.isfinite(t) else 0.0  # a diverged run's: untinted
    tint = POSITIVE if t >= 0 else NEGATIVE
    rgb = np.array(base.getRgb()[:3], float)
    mixed = rgb + (tint - rgb) * abs(t) * 0.8
    return QColor(*(int(c) for c in mixed))


def ink_for(fill: QColor) -> QColor:
    """Black or white text, whichever reads better on ``fill``."""
    r, g, b = fill.getRgb()[:3]
    return QColor("black") if 0.299 * r + 0.587 * g + 0.114 * b > 140 else QColor("white")


class GlassGraph(QWidget):
    """The network, column by column: inputs, each weighted layer, the loss."""

    #: a unit's box was clicked: (column, unit); column 1 is the first weighted layer
    unitClicked = Signal(int, int)

    PAD, GAP = 10, 10  # margins, space between boxes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.record: ExplainRecord | None = None
        self.stage = Stage("forward", 0)
        self.focus: tuple[int, int] | None = None
        #: what is on screen: every box's text lines, by (column, unit)
        self.lines: dict[tuple[int, int], tuple[str, ...]] = {}
        self.edges: list[tuple[str, np.ndarray, bool]] = []
        self.headers: list[str] = []
        self._rects: dict[tuple[int, int], QRectF] = {}
        self._font, self._name = QFont(self.font()), 0.0  # the text's font and line, as laid out
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(200)

    def show_stage(
        self, record: ExplainRecord, stage: Stage, focus: tuple[int, int] | None = None
    ) -> None:
        """Show ``record`` at ``stage``, the box ``focus`` (column, unit) ringed."""
        self.record, self.stage, self.focus = record, stage, focus
        self.lines = node_lines(record, stage)
        self.edges = edge_values(record, stage)
        n = len(record.layers)
        self.headers = [
            "input",
            *(f"layer {k + 1} · {layer.activation}" for k, layer in enumerate(record.layers)),
            "loss",
        ]
        self.headers[n] = f"layer {n} · output"
        self.update()

    # -- geometry -------------------------------------------------------------------------------
    def _measure(self, font: QFont, sizes: list[int]) -> tuple[float, ...]:
        """At ``font``: the width of a unit's box and of a one-number box (inputs, loss), a
        box's height, a name line's height, the boxes' top, the pitch from box to box, and the
        width and height all the columns need."""
        metrics = QFontMetricsF(font)
        wide = metrics.horizontalAdvance("∂a −0.00123") + 14
        narrow = metrics.horizontalAdvance("−0.00123") + 14
        height, name = 2 * metrics.height() + 8, metrics.height()
        top = self.PAD + name + 6
        pitch = height + name + self.GAP
        need = (
            (len(sizes) - 2) * wide * 1.6 + 2 * narrow * 1.6 + 2 * self.PAD,
            top + max(sizes) * pitch + self.PAD,
        )
        return wide, narrow, height, name, top, pitch, *need

    def _layout(self) -> None:
        """Every box's rectangle: columns' centres evenly across the width, each column centred
        vertically; the text as large as the room allows, up to 1.6 times the widget's font."""
        self._rects = {}
        if self.record is None:
            return
        sizes = [len(self.record.x), *(len(layer.z) for layer in self.record.layers), 1]
        need_w, need_h = self._measure(self.font(), sizes)[-2:]
        scale = float(np.clip(min(self.width() / need_w, self.height() / need_h), 1.0, 1.6))
        self._font = QFont(self.font())
        self._font.setPointSizeF(self.font().pointSizeF() * scale)
        wide, narrow, height, self._name, top, pitch, _, _ = self._measure(self._font, sizes)
        first = self.PAD + narrow / 2
        span = self.width() - 2 * first
        for c, size in enumerate(sizes):
            width = narrow if c in (0, len(sizes) - 1) else wide
            x = first + span * c / (len(sizes) - 1) - width / 2
            y0 = top + (self.height() - top - size * pitch) / 2 + self._name
            for j in range(size):
                self._rects[c, j] = QRectF(x, y0 + j * pitch, width, height)

    # -- painting ------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.record is None:
            return
        self._layout()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        mid = palette.color(QPalette.ColorRole.Mid)
        self._paint_edges(painter)
        painter.setPen(text)
        painter.setFont(self._font)
        for c, header in enumerate(self.headers):
            rect = self._rects[c, 0]
            at = QRectF(
                rect.center().x() - 2 * rect.width(), self.PAD, 4 * rect.width(), self._name
            )
            painter.drawText(at, Qt.AlignmentFlag.AlignCenter, header)
        n = len(self.record.layers)
        for (c, j), rect in self._rects.items():
            name = "L" if c == n + 1 else unit_name(c, j, n)
            painter.setPen(text)
            painter.drawText(
                QRectF(rect.left(), rect.top() - self._name, rect.width(), self._name),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                name,
            )
            self._paint_box(painter, c, j, rect, text, mid)
        painter.end()

    def _active_column(self) -> int:
        n = len(self.record.layers)
        return {"loss": n + 1, "update": -1}.get(self.stage.kind, self.stage.layer + 1)

    def _paint_box(self, painter, c, j, rect, text, mid) -> None:
        lines = self.lines.get((c, j), ())
        base = self.palette().color(QPalette.ColorRole.Base)
        values = [_value(t) for t in lines]
        column = [_value(t[-1]) for (cc, _), t in self.lines.items() if cc == c and t]
        limit = max((abs(v) for v in column), default=0.0)
        tinted = lines and 0 < c <= len(self.record.layers)  # the units, not inputs or loss
        fill = fill_color(values[-1], limit, base) if tinted else base
        n = len(self.record.layers)
        active = c == self._active_column() or self.stage.kind == "update" and 0 < c <= n
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        pen = QPen(highlight if active else mid, 2.2 if active else 1.0)
        if (c, j) == self.focus:
            pen = QPen(text, 2.6)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 5, 5)
        painter.setPen(ink_for(fill) if tinted else text)
        body = "\n".join(lines) if lines else "·"
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, body)

    def _paint_edges(self, painter: QPainter) -> None:
        for k, (_, matrix, active) in enumerate(self.edges):
            matrix = np.nan_to_num(matrix, posinf=0.0, neginf=0.0)  # a diverged run's: no line
            limit = float(np.abs(matrix).max()) or 1.0
            for i in range(matrix.shape[0]):
                for j in range(matrix.shape[1]):
                    a, b = self._rects[k, i], self._rects[k + 1, j]
                    v = float(matrix[i, j])
                    color = QColor(*(int(c) for c in (POSITIVE if v >= 0 else NEGATIVE)))
                    color.setAlpha(230 if active else 70)
                    painter.setPen(QPen(color, 0.6 + 4.0 * abs(v) / limit))
                    painter.drawLine(
                        QPointF(a.right(), a.center().y()), QPointF(b.left(), b.center().y())
                    )

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._layout()
        for (c, j), rect in self._rects.items():
            if rect.contains(event.position()) and 0 < c <= len(self.record.layers):
                self.unitClicked.emit(c, j)
                return
        super().mousePressEvent(event)

    def box(self, column: int, unit: int) -> QRectF:
        """Where unit ``unit`` of ``column`` is drawn (widget coordinates)."""
        self._layout()
        return self._rects[column, unit]


def _value(line: str) -> float:
    """The number at the end of a box's line ("a 0.871" -> 0.871)."""
    return float(line.rsplit(" ", 1)[-1].replace("−", "-"))

"""A square canvas to draw a digit on with the mouse, a pen or a finger.

White ink on black, as in MNIST, so what you see is what the network gets.

The drawing is kept as NumPy coverage arrays, not as a picture: every stroke segment is a capsule
(a line with round ends, i.e. round caps and joins) rasterised analytically, each pixel getting
``clip(radius + 0.5 - distance, 0, 1)`` (a one-pixel antialiasing ramp), and merged with the ink
already there by ``max``, so overlapping segments and self-crossing strokes never build up
brighter seams. Two arrays are kept:

* the *logical* one, ``side x side`` (one value per logical pixel, whatever the screen), which
  :meth:`DigitCanvas.array` returns and the digit preprocessing reads;
* the *display* one, ``side x devicePixelRatio`` square, painted 1:1 onto the screen's physical
  pixels, so strokes stay sharp on HiDPI screens. When the ratio changes (the window moves to
  another screen) it is rebuilt from the recorded strokes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QTabletEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

#: Default canvas side in logical pixels (10x MNIST's 28).
DEFAULT_SIDE = 280
#: Default brush diameter in logical pixels: on a digit drawn about two thirds of the canvas
#: high this becomes a stroke of about 2.2 of the 20 pixels MNIST scales a digit to, as in MNIST.
DEFAULT_BRUSH = 20.0
#: Allowed brush diameters.
BRUSH_RANGE = (4.0, 48.0)
#: With a pen, the brush diameter is scaled by ``PRESSURE_FLOOR + (1 - PRESSURE_FLOOR) * pressure``.
PRESSURE_FLOOR = 0.5


def stamp_segment(
    ink: np.ndarray,
    p0: tuple[float, float],
    p1: tuple[float, float],
    r0: float,
    r1: float | None = None,
) -> tuple[int, int, int, int] | None:
    """Rasterise one antialiased round-capped segment into ``ink`` in place (``max`` blending).

    Parameters
    ----------
    ink : ndarray of shape (height, width), float32
        Coverage in ``[0, 1]``; pixel ``(row, col)`` covers ``[col, col + 1) x [row, row + 1)``.
    p0, p1 : (x, y)
        The segment's ends in pixel coordinates (``p0 == p1`` gives a round dot).
    r0, r1 : float
        Radius at ``p0`` and at ``p1`` (default ``r0``), in pixels, linearly interpolated along
        the segment.

    Returns
    -------
    (top, left, bottom, right) or None
        The half-open pixel box that may have changed; None when the segment misses ``ink``.
    """
    r1 = r0 if r1 is None else r1
    height, width = ink.shape
    (x0, y0), (x1, y1) = p0, p1
    reach = max(r0, r1) + 1.0
    left = max(int(math.floor(min(x0, x1) - reach)), 0)
    right = min(int(math.ceil(max(x0, x1) + reach)), width)
    top = max(int(math.floor(min(y0, y1) - reach)), 0)
    bottom = min(int(math.ceil(max(y0, y1) + reach)), height)
    if left >= right or top >= bottom:
        return None
    xs = np.arange(left, right, dtype=np.float32)[None, :] + np.float32(0.5 - x0)
    ys = np.arange(top, bottom, dtype=np.float32)[:, None] + np.float32(0.5 - y0)
    dx, dy = np.float32(x1 - x0), np.float32(y1 - y0)
    length2 = float(dx * dx + dy * dy)
    if length2 > 1e-12:
        t = np.clip((xs * dx + ys * dy) / np.float32(length2), 0.0, 1.0)
        dist = np.hypot(xs - t * dx, ys - t * dy)
        radius = np.float32(r0) + t * np.float32(r1 - r0)
    else:
        dist = np.hypot(xs, ys)
        radius = np.float32(max(r0, r1))
    cover = np.clip(radius + np.float32(0.5) - dist, 0.0, 1.0)
    region = ink[top:bottom, left:right]
    np.maximum(region, cover, out=region)
    return top, left, bottom, right


class DigitCanvas(QWidget):
    """Draw with the left mouse button, a pen or a finger; clear with right-click, Esc or
    :meth:`clear`.

    Signals
    -------
    strokeChanged()
        After every piece of ink: the dot at the start of a stroke and each segment while the
        mouse/pen/finger moves (also once for :meth:`add_stroke`).
    strokeFinished()
        When a stroke ends (button, pen or finger released).
    cleared()
        After :meth:`clear` (right-click, Esc or a call).
    """

    strokeChanged = Signal()
    strokeFinished = Signal()
    cleared = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        side: int = DEFAULT_SIDE,
        brush_size: float = DEFAULT_BRUSH,
    ) -> None:
        super().__init__(parent)
        if not isinstance(side, int) or side < 28:
            raise ValueError(f"side: {side!r}; allowed: an int >= 28 (logical pixels)")
        self._side = side
        self._brush = self._check_brush(brush_size)
        self._ink = np.zeros((side, side), np.float32)  # logical resolution
        self._scale = 1.0
        self._shown = self._ink  # display resolution (the same array when the scale is 1)
        self._pixels = np.zeros((side, side), np.uint8)  # _shown as bytes, backs _image
        self._image = self._make_image()
        self._strokes: list[list[tuple[float, float, float]]] = []  # (x, y, radius) per point
        self._drawing = False
        self.placeholder = "Draw here"
        self.setFixedSize(side, side)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the mouse, a pen or a finger. Right-click or Esc clears.")

    # -- public API ------------------------------------------------------------------------------
    @property
    def side(self) -> int:
        """Side of the canvas in logical pixels."""
        return self._side

    @property
    def brush_size(self) -> float:
        """Brush diameter in logical pixels (at full pen pressure)."""
        return self._brush

    @brush_size.setter
    def brush_size(self, value: float) -> None:
        self._brush = self._check_brush(value)

    def set_brush_size(self, value: float) -> None:
        """Same as assigning :attr:`brush_size` (a slot for ``valueChanged`` signals)."""
        self.brush_size = value

    def array(self) -> np.ndarray:
        """The drawing, ``(side, side)`` float32 in ``[0, 1]`` (1 = ink), at logical resolution;
        a copy."""
        return self._ink.copy()

    def is_empty(self) -> bool:
        """True when nothing has been drawn since the last clear."""
        return not self._strokes

    def clear(self) -> None:
        """Erase everything and emit ``cleared``."""
        self._drawing = False
        self._strokes.clear()
        self._ink.fill(0.0)
        self._shown.fill(0.0)
        self._pixels.fill(0)
        self.update()
        self.cleared.emit()

    def add_stroke(
        self, points: Iterable[Sequence[float]], pressure: Iterable[float] | None = None
    ) -> None:
        """Draw a whole stroke at once, a polyline of ``(x, y)`` logical points, with the current
        brush (and optional per-point pen pressure in ``[0, 1]``); emits ``strokeChanged`` once
        and ``strokeFinished``. Programmatic drawing for demos and scripts."""
        pts = [(float(x), float(y)) for x, y in points]
        if not pts:
            return
        press = [1.0] * len(pts) if pressure is None else [float(p) for p in pressure]
        if len(press) != len(pts):
            raise ValueError(f"pressure: {len(press)} values for {len(pts)} points")
        self._begin(pts[0], press[0], emit=False)
        for p, q in zip(pts[1:], press[1:], strict=True):
            self._extend(p, q, emit=False)
        self._drawing = False
        self.strokeChanged.emit()
        self.strokeFinished.emit()

    # -- strokes ---------------------------------------------------------------------------------
    @staticmethod
    def _check_brush(value: float) -> float:
        low, high = BRUSH_RANGE
        try:
            size = float(value)
        except (TypeError, ValueError):
            size = math.nan
        if not low <= size <= high:
            raise ValueError(f"brush_size: {value!r}; allowed: a number in [{low:g}, {high:g}]")
        return size

    def _radius(self, pressure: float) -> float:
        p = min(max(pressure, 0.0), 1.0)
        return 0.5 * self._brush * (PRESSURE_FLOOR + (1.0 - PRESSURE_FLOOR) * p)

    def _begin(self, pos: tuple[float, float], pressure: float = 1.0, emit: bool = True) -> None:
        self._sync_scale()
        point = (pos[0], pos[1], self._radius(pressure))
        self._strokes.append([point])
        self._drawing = True
        self._stamp(point, point)
        if emit:
            self.strokeChanged.emit()

    def _extend(self, pos: tuple[float, float], pressure: float = 1.0, emit: bool = True) -> None:
        if not self._drawing:
            return
        stroke = self._strokes[-1]
        last = stroke[-1]
        if (pos[0] - last[0]) ** 2 + (pos[1] - last[1]) ** 2 < 0.25:
            return  # less than half a pixel: nothing new to draw
        point = (pos[0], pos[1], self._radius(pressure))
        stroke.append(point)
        self._stamp(last, point)
        if emit:
            self.strokeChanged.emit()

    def _end(self) -> None:
        if self._drawing:
            self._drawing = False
            self.strokeFinished.emit()

    def _stamp(self, a: tuple[float, float, float], b: tuple[float, float, float]) -> None:
        box = stamp_segment(self._ink, a[:2], b[:2], a[2], b[2])
        s = self._scale
        if self._shown is not self._ink:
            box = stamp_segment(
                self._shown, (a[0] * s, a[1] * s), (b[0] * s, b[1] * s), a[2] * s, b[2] * s
            )
        if box is None:
            return
        top, left, bottom, right = box
        self._pixels[top:bottom, left:right] = (
            self._shown[top:bottom, left:right] * np.float32(255) + np.float32(0.5)
        ).astype(np.uint8)
        # repaint the logical rectangle that holds the changed physical pixels
        self.update(
            QRect(
                int(left / s) - 1,
                int(top / s) - 1,
                int(math.ceil((right - left) / s)) + 3,
                int(math.ceil((bottom - top) / s)) + 3,
            )
        )

    # -- HiDPI -----------------------------------------------------------------------------------
    def _make_image(self) -> QImage:
        h, w = self._pixels.shape
        image = QImage(self._pixels.data, w, h, self._pixels.strides[0], QImage.Format_Grayscale8)
        image.setDevicePixelRatio(self._scale)
        return image

    def _sync_scale(self) -> None:
        """Rebuild the display arrays when the device pixel ratio has changed."""
        scale = float(self.devicePixelRatioF()) or 1.0
        if scale == self._scale:
            return
        self._scale = scale
        if scale == 1.0:
            self._shown = self._ink
        else:
            n = int(round(self._side * scale))
            self._shown = np.zeros((n, n), np.float32)
            for stroke in self._strokes:
                pts = [(x * scale, y * scale, r * scale) for x, y, r in stroke]
                stamp_segment(self._shown, pts[0][:2], pts[0][:2], pts[0][2])
                for a, b in zip(pts, pts[1:], strict=False):
                    stamp_segment(self._shown, a[:2], b[:2], a[2], b[2])
        self._pixels = (self._shown * np.float32(255) + np.float32(0.5)).astype(np.uint8)
        self._image = self._make_image()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        self._sync_scale()
        painter = QPainter(self)
        painter.drawImage(QRectF(0, 0, self._side, self._side), self._image)
        if not self._strokes and self.placeholder:
            painter.setPen(QColor(110, 110, 110))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
        frame = self.palette().color(
            QPalette.ColorRole.Highlight if self.hasFocus() else QPalette.ColorRole.Mid
        )
        painter.setPen(QPen(frame, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(0.5, 0.5, self._side - 1, self._side - 1))
        painter.end()

    # -- input -----------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.RightButton:
            self.clear()
        elif event.button() == Qt.MouseButton.LeftButton:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._begin(_xy(event.position()))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drawing and event.buttons() & Qt.MouseButton.LeftButton:
            self._extend(_xy(event.position()))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._end()
        event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            if event.button() == Qt.MouseButton.RightButton:
                self.clear()
            else:
                self.setFocus(Qt.FocusReason.MouseFocusReason)
                self._begin(_xy(event.position()), event.pressure())
        elif kind == QEvent.Type.TabletMove:
            self._extend(_xy(event.position()), event.pressure())
        elif kind == QEvent.Type.TabletRelease:
            self._end()
        event.accept()  # no synthesized mouse events on top

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            points = event.points()
            if points:
                pos = _xy(points[0].position())
                if kind == QEvent.Type.TouchBegin:
                    self._begin(pos)
                elif kind == QEvent.Type.TouchUpdate:
                    self._extend(pos)
                else:
                    self._extend(pos)
                    self._end()
            event.accept()
            return True
        if kind == QEvent.Type.TouchCancel:
            self._end()
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            event.accept()
        else:
            super().keyPressEvent(event)

    def focusInEvent(self, event) -> None:  # noqa: N802
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.update()


def _xy(point: QPointF) -> tuple[float, float]:
    return point.x(), point.y()

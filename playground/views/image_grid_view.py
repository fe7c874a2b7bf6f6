"""A grid of images with the network's answer under each: predicted class and confidence, and
for a mistake a red frame and the true class.

The grid is painted with QPainter from one uint8 array: tiles grow to fill the view (up to
``MAX_SIDE``) and, when the view is too small for all of them at ``MIN_SIDE``, it shows as many
as fit and says so, so captions always stay readable. Captions are elided to the tile's width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

MAX_IMAGES = 48
MIN_SIDE = 60.0
MAX_SIDE = 112.0
GAP = 6.0
FRAME = 2.0  # mistake frame width, drawn just outside the image


def as_images(images: np.ndarray) -> np.ndarray:
    """``images`` as ``(n, h, w)`` (``(n, 1, h, w)``, the convolution layout, is squeezed),
    checked to be uint8 or float; not converted (only the images shown are)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError(f"images: shape {images.shape}; allowed: (n, height, width)")
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images: dtype {images.dtype}; allowed: uint8 or float in [0, 1]")
    return images


def to_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 pixels from uint8 images or float intensities in [0, 1] (a contiguous copy)."""
    if images.dtype == np.uint8:
        return np.ascontiguousarray(images)
    return (np.clip(np.nan_to_num(images), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def percent(p: float) -> str:
    return "<1%" if p < 0.005 else f"{round(100 * p)}%"


class _Layout(NamedTuple):
    columns: int
    count: int  # tiles that fit
    side: float  # image side
    caption: float  # caption height under each image
    x0: float  # left edge of the grid (centred)


class ImageCanvas(QWidget):
    """The painted grid; ImageGridView wraps it with a title and the filter.

    Signals
    -------
    resized()
        The size changed, so :meth:`visible_count` may have changed.
    """

    resized = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(2 * MIN_SIDE, MIN_SIDE + 40)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._pixels = np.zeros((0, 28, 28), np.uint8)
        self._images: list[QImage] = []
        self._index = np.zeros(0, np.int64)  # index into the arrays given, per tile
        self._labels = np.zeros(0, np.int64)
        self._predicted = np.zeros(0, np.int64)
        self._confidence = np.zeros(0, np.float64)
        self._names: list[str] = []
        self._layout_cache: _Layout | None = None
        self.empty_text = "No images yet"

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(560, 420)

    def set_tiles(
        self,
        pixels: np.ndarray,
        index: np.ndarray,
        labels: np.ndarray,
        predicted: np.ndarray,
        confidence: np.ndarray,
        names: list[str],
    ) -> None:
        """Show ``pixels (m, h, w)`` uint8 with their captions' data; ``index`` maps each tile
        back to the caller's arrays."""
        if len(pixels) != len(self._pixels):
            self._layout_cache = None
        self._pixels = np.ascontiguousarray(pixels)
        n, h, w = self._pixels.shape
        # QImages share the array's memory (kept alive by self._pixels)
        self._images = [
            QImage(self._pixels[k].data, w, h, w, QImage.Format.Format_Grayscale8) for k in range(n)
        ]
        self._index, self._labels, self._predicted = index, labels, predicted
        self._confidence, self._names = confidence, names
        self.update()

    # -- geometry --------------------------------------------------------------------------------
    def caption_font(self) -> QFont:
        font = QFont(self.font())
        size = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
        font.setPointSizeF(max(7.0, size * 0.9))
        return font

    def _layout(self) -> _Layout:
        if self._layout_cache is not None:
            return self._layout_cache
        n = len(self._pixels)
        caption = 2 * QFontMetricsF(self.caption_font()).height() + 2
        width, height = float(self.width()), float(self.height())
        best = _Layout(1, n, 0.0, caption, 0.0)
        if n == 0:
            return best
        for cols in range(1, n + 1):
            rows = math.ceil(n / cols)
            side = min(
                (width - GAP * (cols - 1)) / cols - 2 * FRAME,
                (height - GAP * (rows - 1)) / rows - caption - 2 * FRAME,
                MAX_SIDE,
            )
            if side > best.side:
                best = _Layout(cols, n, side, caption, 0.0)
        if best.side < MIN_SIDE:  # not all fit legibly: as many as fit at the smallest size
            pitch = MIN_SIDE + 2 * FRAME + GAP
            cols = max(1, int((width + GAP) // pitch))
            rows = max(1, int((height + GAP) // (pitch + caption)))
            best = _Layout(cols, min(n, cols * rows), MIN_SIDE, caption, 0.0)
        used = best.columns * (best.side + 2 * FRAME + GAP) - GAP
        self._layout_cache = best._replace(x0=max(0.0, (width - used) / 2))
        return self._layout_cache

    def visible_count(self) -> int:
        """Tiles drawn (fewer than given when the view is too small for all of them)."""
        return self._layout().count

    def tile_rect(self, k: int) -> QRectF:
        """Where tile ``k``'s image is drawn (its frame lies just outside)."""
        g = self._layout()
        r, c = divmod(k, g.columns)
        pitch_x = g.side + 2 * FRAME + GAP
        pitch_y = g.side + 2 * FRAME + g.caption + GAP
        return QRectF(g.x0 + c * pitch_x + FRAME, r * pitch_y + FRAME, g.side, g.side)

    def tile_at(self, pos: QPointF) -> int | None:
        g = self._layout()
        for k in range(g.count):
            r = self.tile_rect(k)
            if r.adjusted(-FRAME, -FRAME, FRAME, FRAME + g.caption).contains(pos):
                return k
        return None

    def is_mistake(self, k: int) -> bool:
        return bool(self._labels[k] != self._predicted[k])

    def tile_text(self, k: int) -> str:
        """The hover text: the image's index, the prediction and the true class."""
        true_name = self._names[self._labels[k]]
        guess = f"predicted {self._names[self._predicted[k]]} ({percent(self._confidence[k])})"
        verdict = "correct" if not self.is_mistake(k) else "wrong"
        return f"image {int(self._index[k])}: {guess}\ntrue class {true_name} ({verdict})"

    def caption_text(self, k: int, fm: QFontMetricsF, width: float) -> str:
        """The first caption line: the predicted class, cut to the room left by the widest
        confidence ("100%") so one class is cut alike on every tile, then the confidence."""
        conf = " " + percent(self._confidence[k])
        room = width - fm.horizontalAdvance(" 100%")
        name = self._names[self._predicted[k]]
        return fm.elidedText(name, Qt.TextElideMode.ElideRight, room) + conf

    # -- painting --------------------------------------------------------------------------------
    def error_color(self) -> QColor:
        """Red that reads on the current background (lighter on dark themes)."""
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        return QColor(255, 105, 97) if dark else QColor(204, 30, 30)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        muted = pal.color(QPalette.ColorRole.Mid)
        if not len(self._pixels):
            painter.setPen(muted)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            painter.end()
            return
        g = self._layout()
        error = self.error_color()
        font = self.caption_font()
        fm = QFontMetricsF(font)
        painter.setFont(font)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        line = fm.height()
        clip = event.rect()
        for k in range(g.count):
            r = self.tile_rect(k)
            if not r.adjusted(-FRAME, -FRAME, FRAME, FRAME + g.caption).intersects(clip):
                continue
            painter.drawImage(r, self._images[k])
            wrong = self.is_mistake(k)
            half = FRAME / 2
            if wrong:
                painter.setPen(QPen(error, FRAME))
                painter.drawRect(r.adjusted(-half, -half, half, half))
            else:
                painter.setPen(QPen(muted, 1.0))
                painter.drawRect(r.adjusted(-0.5, -0.5, 0.5, 0.5))
            width = r.width() + 2 * FRAME + GAP - 2  # captions may use the gap too
            x = r.left() - FRAME - (GAP - 2) / 2
            y = r.bottom() + FRAME + 1
            first = self.caption_text(k, fm, width)
            painter.setPen(error if wrong else text)
            align = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
            painter.drawText(QRectF(x, y, width, line), align, first)
            if wrong:
                true_name = "true " + self._names[self._labels[k]]
                second = fm.elidedText(true_name, Qt.TextElideMode.ElideRight, width)
                painter.setPen(text)
                painter.drawText(QRectF(x, y + line, width, line), align, second)
        painter.end()

    # -- events ----------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._layout_cache = None
        super().resizeEvent(event)
        self.resized.emit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.FontChange:
            self._layout_cache = None
        super().changeEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            k = self.tile_at(QPointF(event.pos())) if len(self._pixels) else None
            if k is None:
                QToolTip.hideText()
                event.ignore()
            else:
                area = self.tile_rect(k).adjusted(
                    -FRAME, -FRAME, FRAME, FRAME + self._layout().caption
                )
                QToolTip.showText(event.globalPos(), self.tile_text(k), self, area.toRect())
            return True
        return super().event(event)


class ImageGridView(QWidget):
    """Images with their predicted class and confidence; mistakes framed in red with the true
    class. "Mistakes only" filters the grid to the mistakes."""

    def __init__(self, parent: QWidget | None = None, max_images: int = MAX_IMAGES) -> None:
        super().__init__(parent)
        self.max_images = max_images
        self._images = np.zeros((0, 28, 28), np.uint8)
        self._labels = np.zeros(0, np.int64)
        self._predicted = np.zeros(0, np.int64)
        self._confidence = np.zeros(0, np.float64)
        self._names: list[str] = []

        self.title = QLabel("Test images")
        self.title.setObjectName("viewTitle")
        self.title.setWordWrap(True)  # a long title wraps instead of widening the column
        self.mistakes_only = QCheckBox("Mistakes only")
        self.mistakes_only.setToolTip("Show only the images the network classifies wrongly.")
        self.mistakes_only.toggled.connect(self._refresh)
        self.summary = QLabel()
        self.summary.setObjectName("columnHead")
        self.summary.setWordWrap(True)  # never forces the view wider
        self.canvas = ImageCanvas()
        self.canvas.resized.connect(self._summarize)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)  # all the room there is before it wraps
        header.addWidget(self.mistakes_only)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.summary)

    def set_title(self, text: str) -> None:
        """The title line, e.g. "Examples of true 3 predicted 5"."""
        self.title.setText(text)

    def set_images(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        predicted: np.ndarray,
        confidence: np.ndarray,
        class_names: Sequence[str],
    ) -> None:
        """Show ``images (n, h, w)`` (uint8, or float in [0, 1]) with true ``labels (n,)``, the
        ``predicted (n,)`` classes and their ``confidence (n,)`` in [0, 1]; the first
        ``max_images`` (of the mistakes, with "Mistakes only") are drawn. ``images`` is kept,
        not copied (only the images shown are converted), so pass an array nobody modifies."""
        images = as_images(images)
        n = len(images)
        labels, predicted = np.asarray(labels), np.asarray(predicted)
        confidence = np.asarray(confidence, dtype=np.float64)
        names = [str(c) for c in class_names]
        for field, a in (("labels", labels), ("predicted", predicted), ("confidence", confidence)):
            if a.shape != (n,):
                raise ValueError(f"{field}: shape {a.shape}; allowed: ({n},) to match images")
        for field, a in (("labels", labels), ("predicted", predicted)):
            if n and (a.min() < 0 or a.max() >= len(names)):
                raise ValueError(f"{field}: values outside 0..{len(names) - 1} (class_names)")
        self._images = images
        self._labels = labels.astype(np.int64)
        self._predicted = predicted.astype(np.int64)
        self._confidence = confidence
        self._names = names
        self._refresh()

    def shown_indices(self) -> np.ndarray:
        """Indices (into the arrays last given) of the images in the grid, in order; the canvas
        may draw only the first :meth:`ImageCanvas.visible_count` of them."""
        wrong = self._labels != self._predicted
        keep = np.flatnonzero(wrong) if self.mistakes_only.isChecked() else np.arange(len(wrong))
        return keep[: self.max_images]

    def _refresh(self) -> None:
        index = self.shown_indices()
        self.canvas.empty_text = (
            "No mistakes" if self.mistakes_only.isChecked() and len(self._images) else "No images"
        )
        self.canvas.set_tiles(
            to_pixels(self._images[index]),
            index,
            self._labels[index],
            self._predicted[index],
            self._confidence[index],
            self._names,
        )
        self._summarize()

    def _summarize(self) -> None:
        n = len(self._labels)
        if n == 0:
            self.summary.setText("")
            return
        wrong = int((self._labels != self._predicted).sum())
        text = f"{wrong:,} mistake{'s' if wrong != 1 else ''} in {n:,} image{'s' if n != 1 else ''}"
        matching = wrong if self.mistakes_only.isChecked() else n
        shown = min(len(self.shown_indices()), self.canvas.visible_count())
        if shown < matching:
            text += f" · first {shown} shown"
            if shown < len(self.shown_indices()):
                text += " (enlarge the view for more)"
        self.summary.setText(text)

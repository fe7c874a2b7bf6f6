"""First-layer weights as a grid of small images: each dense unit's incoming weights as an image
the size of the input, or each convolution filter as a kh×kw image.

Weights use the same diverging map as the network graph (orange negative, near-white zero, blue
positive). All tiles are packed into one uint8 array of colour-table indices shown by one
ImageItem (an indexed QImage: no RGBA expansion), so an update is a single ``setImage``; the
grid's column count follows the view's shape so tiles stay as large as the space allows.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from playground.views.colors import NEGATIVE, POSITIVE, diverging

KINDS = ("dense", "conv")
MAX_TILES = 64
#: Space between tiles (and around the grid) as a share of a tile's side.
GAP_SHARE = 1 / 12
#: Tiles are enlarged (nearest) to at least this many pixels, so the gaps stay thin beside them.
TILE_TARGET = 48
#: Colour-table entries of the weight map (-1..+1); the last two are the outline and clear gaps.
LEVELS = 254
OUTLINE, CLEAR = 254, 255


def color_table(outline: tuple[int, int, int, int] | None) -> np.ndarray:
    """``(256, 4)`` uint8: the diverging map in ``LEVELS`` steps, then the outline and clear."""
    table = np.zeros((256, 4), np.uint8)
    table[:LEVELS] = diverging(np.linspace(-1.0, 1.0, LEVELS, dtype=np.float32))
    if outline is not None:
        table[OUTLINE] = outline
    return table


def to_levels(values: np.ndarray) -> np.ndarray:
    """Colour-table indices (uint8) of ``values`` in [-1, 1] (clipped; NaN as 0)."""
    t = np.clip(np.nan_to_num(values), -1.0, 1.0)
    return ((t + 1.0) * ((LEVELS - 1) / 2) + 0.5).astype(np.uint8)


def weight_tiles(
    w: np.ndarray, kind: str, image_shape: tuple[int, int] = (28, 28), limit: int | None = None
) -> tuple[np.ndarray, int]:
    """The first layer's weights as one image per unit, the first ``limit`` units only:
    ``(units, h, w)`` float32, and the number of input channels of a convolution (1 for dense;
    tiles show channel 1).

    ``kind="dense"``: ``w`` is ``(inputs, units)`` with ``inputs = h·w`` of ``image_shape``.
    ``kind="conv"``: ``w`` is ``(filters, channels, kh, kw)``.
    """
    w = np.asarray(w)
    if kind == "dense":
        h, wd = (int(s) for s in image_shape)
        if w.ndim != 2 or w.shape[0] != h * wd:
            raise ValueError(
                f"w: shape {w.shape} for dense weights; allowed: ({h * wd}, units) for "
                f"{h}×{wd} images"
            )
        return np.ascontiguousarray(w[:, :limit].T, dtype=np.float32).reshape(-1, h, wd), 1
    if kind == "conv":
        if w.ndim != 4:
            raise ValueError(f"w: shape {w.shape} for conv weights; allowed: (filters, ch, kh, kw)")
        return np.asarray(w[:limit, 0], dtype=np.float32), int(w.shape[1])
    raise ValueError(f"kind: {kind!r}; allowed: {', '.join(KINDS)}")


def best_columns(n: int, tile_aspect: float, width: float, height: float) -> int:
    """Columns that make ``n`` tiles of ``tile_aspect`` (h / w) largest in a width×height area."""
    best, best_size = 1, -1.0
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        size = min(width / cols, height / (rows * tile_aspect))
        if size > best_size:
            best, best_size = cols, size
    return best


def tile_grid(tiles: np.ndarray, columns: int, gap: int) -> np.ndarray:
    """Pack index tiles ``(n, h, w)`` row by row into one image with ``gap`` pixels between and
    around them: ``CLEAR`` with a one-pixel ``OUTLINE`` ring around each tile."""
    n, h, w = tiles.shape
    rows = math.ceil(n / columns)
    out = np.full((rows * (h + gap) + gap, columns * (w + gap) + gap), CLEAR, np.uint8)
    for k in range(n):
        r, c = divmod(k, columns)
        y, x = gap + r * (h + gap), gap + c * (w + gap)
        out[y - 1 : y + h + 1, x - 1 : x + w + 1] = OUTLINE
        out[y : y + h, x : x + w] = tiles[k]
    return out


class _TileImage(pg.ImageItem):
    """The tiled image; its tooltip names the tile under the mouse."""

    def __init__(self, view: FiltersView) -> None:
        super().__init__(axisOrder="row-major")
        self._view = view
        self.setAcceptHoverEvents(True)

    def hoverEvent(self, event) -> None:  # noqa: N802 (pyqtgraph name)
        if event.isExit():
            self.setToolTip("")
            return
        pos = event.pos()
        k = self._view.tile_at(pos.x(), pos.y())
        self.setToolTip("" if k is None else self._view.describe_tile(k))


class FiltersView(QWidget):
    """First-layer weights, one tile per unit or filter (at most ``max_tiles``)."""

    def __init__(self, parent: QWidget | None = None, max_tiles: int = MAX_TILES) -> None:
        super().__init__(parent)
        self.max_tiles = max_tiles
        self._tiles = np.zeros((0, 1, 1), np.float32)  # shown units' weights (n, h, w)
        self._ranges = np.zeros((0, 2), np.float32)  # per tile (min, max)
        self._total = 0
        self._kind = "dense"
        self._channels = 1
        self._scale = 1  # nearest-neighbour enlargement of each tile
        self._columns = 1
        self._gap = 3  # image pixels between tiles
        self._update_table()

        self.title = QLabel("First-layer weights")
        self.title.setObjectName("viewTitle")
        self.title.setWordWrap(True)
        self.shared_scale = QCheckBox("Shared scale")
        self.shared_scale.setToolTip(
            "Colour every tile on one scale (the largest |weight| shown) to compare units; "
            "off: each tile uses its own largest |weight|, showing every unit's pattern."
        )
        self.shared_scale.toggled.connect(self._render)

        self.plot = pg.GraphicsLayoutWidget()
        self.plot.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.box = self.plot.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.box.setMenuEnabled(False)
        self.box.setDefaultPadding(0)
        self.image = _TileImage(self)
        self.box.addItem(self.image)
        self.box.sigResized.connect(self._resized)

        self.caption = QLabel("No weights yet")
        self.caption.setObjectName("columnHead")
        self.caption.setWordWrap(True)
        legend = QLabel(
            f"<span style='color:{_hex(NEGATIVE)}'>■</span> negative &nbsp; "
            f"<span style='color:{_hex(POSITIVE)}'>■</span> positive"
        )
        legend.setObjectName("columnHead")
        legend.setWordWrap(True)
        legend.setToolTip("Zero weights are near-white; colour strength is |weight| / scale.")

        # Title, option, caption and key wrap or stack: the column stays narrow enough for a
        # 1024-px window beside the conv editor and the Draw tab.
        header = QVBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.shared_scale)
        # The caption above the legend: the column stays narrow enough for a 1024-px window.
        footer = QVBoxLayout()
        footer.addWidget(self.caption)
        footer.addWidget(legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)
        layout.addLayout(footer)

    # -- data ------------------------------------------------------------------------------------
    def set_weights(
        self, w: np.ndarray, kind: str, image_shape: tuple[int, int] = (28, 28)
    ) -> None:
        """Show the first layer's weights: ``kind="dense"`` with ``w (h·w, units)``, or
        ``kind="conv"`` with ``w (filters, channels, kh, kw)`` (channel 1 is shown)."""
        self._tiles, self._channels = weight_tiles(w, kind, image_shape, self.max_tiles)
        self._total = np.shape(w)[1 if kind == "dense" else 0]
        self._kind = kind
        finite = np.where(np.isfinite(self._tiles), self._tiles, 0.0)
        flat = finite.reshape(len(finite), -1)
        self._ranges = np.stack([flat.min(axis=1), flat.max(axis=1)], axis=1)
        side = max(self._tiles.shape[1:])
        self._scale = max(1, math.ceil(TILE_TARGET / side))
        self._caption()
        self._render()

    def clear(self) -> None:
        self._tiles = np.zeros((0, 1, 1), np.float32)
        self._total = 0
        self.image.clear()
        self.caption.setText("No weights yet")

    def tile_count(self) -> int:
        """Tiles shown (at most ``max_tiles``)."""
        return len(self._tiles)

    def tile_shape(self) -> tuple[int, int]:
        """One tile's size in weights, ``(h, w)`` (before enlargement)."""
        return tuple(self._tiles.shape[1:])

    def columns(self) -> int:
        return self._columns

    # -- hover -----------------------------------------------------------------------------------
    def tile_rect(self, k: int) -> QRectF:
        """Tile ``k``'s rectangle in image pixels (x = column, y = row), which are also the
        coordinates of :attr:`image` and :attr:`box`."""
        h, w = (s * self._scale for s in self._tiles.shape[1:])
        r, c = divmod(k, self._columns)
        gap = self._gap
        return QRectF(gap + c * (w + gap), gap + r * (h + gap), w, h)

    def tile_at(self, x: float, y: float) -> int | None:
        """The tile under image pixel ``(x, y)`` (column, row), or None (a gap, outside)."""
        h, w = (s * self._scale for s in self._tiles.shape[1:])
        gap = self._gap
        c, dx = divmod(x - gap, w + gap)
        r, dy = divmod(y - gap, h + gap)
        if x < gap or y < gap or dx >= w or dy >= h or c >= self._columns:
            return None
        k = int(r) * self._columns + int(c)
        return k if k < len(self._tiles) else None

    def describe_tile(self, k: int) -> str:
        noun = "unit" if self._kind == "dense" else "filter"
        lo, hi = self._ranges[k]
        h, w = self._tiles.shape[1:]
        size = f" ({h}×{w})" if self._kind == "conv" else ""
        return f"{noun} {k + 1} of {self._total}{size}\nweights {lo:+.3f} … {hi:+.3f}"

    # -- drawing ---------------------------------------------------------------------------------
    def _caption(self) -> None:
        noun = "units" if self._kind == "dense" else "filters"
        n = len(self._tiles)
        text = f"all {n} {noun}" if n == self._total else f"first {n} of {self._total} {noun}"
        if self._kind == "conv":
            h, w = self._tiles.shape[1:]
            text += f", {h}×{w}"
            if self._channels > 1:
                text += f", input channel 1 of {self._channels}"
        self.caption.setText(text[0].upper() + text[1:])

    def _render(self) -> None:
        n = len(self._tiles)
        if n == 0:
            return
        if self.shared_scale.isChecked():
            limits = np.full(n, np.abs(self._ranges).max(), np.float32)
        else:
            limits = np.abs(self._ranges).max(axis=1)
        limits = np.where(limits > 0, limits, 1.0)[:, None, None]
        tiles = to_levels(self._tiles / limits)
        s = self._scale
        if s > 1:
            tiles = tiles.repeat(s, axis=1).repeat(s, axis=2)
        h, w = tiles.shape[1:]
        self._columns = self._fitting_columns()
        self._gap = max(3, round(max(h, w) * GAP_SHARE))
        image = tile_grid(tiles, self._columns, self._gap)
        reshaped = self.image.image is None or self.image.image.shape != image.shape
        self.image.setImage(image, autoLevels=False, levels=None, lut=self._table)
        if reshaped:
            self.box.setRange(QRectF(0, 0, image.shape[1], image.shape[0]), padding=0)

    def rgba(self) -> np.ndarray:
        """The image shown, ``(height, width, 4)`` uint8 (row-major, in image pixels)."""
        if self.image.image is None:
            return np.zeros((0, 0, 4), np.uint8)
        return self._table[self.image.image]

    def _update_table(self) -> None:
        # tiles are near-white at zero: on a light background they need an edge to stand out
        light = pg.mkColor(pg.getConfigOption("background")).lightness() > 128
        self._table = color_table((185, 185, 185, 255) if light else None)

    def _fitting_columns(self) -> int:
        h, w = self._tiles.shape[1:]
        size = self.box.size()
        return best_columns(len(self._tiles), h / w, max(size.width(), 1), max(size.height(), 1))

    def _resized(self) -> None:
        if len(self._tiles) and self._fitting_columns() != self._columns:
            self._render()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._update_table()
            if len(self._tiles):
                self._render()


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgb)

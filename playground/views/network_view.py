"""The network as a graph: input features, hidden layers as columns of neurons, the output.

Each neuron shows its activation over the input plane as a small heatmap; links are coloured by
the weight's sign (blue positive, orange negative) and drawn thicker with |weight|; a weight of
exactly zero (L1 regularization makes them) is a dead link, thin, grey and dashed. Hovering
shows values; clicking a neuron shows its map in the output view (clicking again returns).
Large layers show their first MAX_SHOWN neurons (MAX_SHOWN_DEEP in a deep network, so its many
columns keep readable neurons) and say how many more there are.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsLineItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from core.activations import ACTIVATIONS
from core.data.features import FEATURES
from core.training.snapshot import Snapshot
from playground.views.colors import NEGATIVE, POSITIVE, diverging, output_image

MAX_SHOWN = 12
MAX_SHOWN_DEEP = 8
#: From this many hidden layers on a network is deep (fewer neurons shown per column).
DEEP = 5
NODE = 36  # neuron thumbnail size (scene units)
ROW = NODE + 12
COLUMN = 150
#: Narrowest column spacing: deep networks pack their columns before shrinking the neurons.
MIN_COLUMN = NODE * 2.4
PEN_LEVELS = 12  # link thickness/opacity steps (pens are cached per step and sign)
THUMB = 25  # thumbnails are the grid subsampled to about this many pixels a side
DEAD = (True, -1)  # the pen key of a weight of exactly zero


def to_pixmap(rgba: np.ndarray) -> QPixmap:
    """QPixmap from an RGBA uint8 array ``(h, w, 4)`` (rows top to bottom)."""
    rgba = np.ascontiguousarray(rgba[::-1])  # grid row 0 is the bottom (x2 = -6)
    h, w = rgba.shape[:2]
    image = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(image.copy())


def thumbnail(values: np.ndarray) -> np.ndarray:
    step = max(1, values.shape[0] // THUMB)
    return values[::step, ::step]


class Link(QGraphicsLineItem):
    """A weight between two neurons; its tooltip is filled in when hovered."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.weight = 0.0
        self.pen_key: tuple[bool, int] | None = None
        self.setAcceptHoverEvents(True)
        self.setZValue(-1)

    @property
    def dead(self) -> bool:
        """Drawn as a weight of exactly zero."""
        return self.pen_key == DEAD

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        dead = "\n(exactly zero: no signal passes)" if self.dead else ""
        self.setToolTip(f"{self.label}\nweight {self.weight:+.4f}{dead}")
        super().hoverEnterEvent(event)


class Neuron(QGraphicsRectItem):
    """A node: a frame around a heatmap pixmap."""

    def __init__(self, view: NetworkView, layer: int | None, unit: int, label: str) -> None:
        super().__init__(0, 0, NODE, NODE)
        self.view, self.layer, self.unit, self.label = view, layer, unit, label
        self.bias: float | None = None
        self.dead = False
        self.pixmap = QGraphicsPixmapItem(self)
        self.pixmap.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.setPen(QPen(QColor(120, 120, 120), 1))
        self.setBrush(QBrush(view.palette().color(QPalette.ColorRole.Base)))
        self.setAcceptHoverEvents(True)
        if layer is not None:
            self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_image(self, rgba: np.ndarray) -> None:
        pix = to_pixmap(rgba)
        self.pixmap.setPixmap(pix)
        self.pixmap.setScale(NODE / max(pix.width(), 1))
        self.pixmap.show()

    def set_dead(self, dead: bool) -> None:
        """A unit that outputs exactly 0 over the whole plane: hatched in the theme's colours
        (its all-zero map would be a bright white square on a dark background)."""
        if dead == self.dead:
            return
        self.dead = dead
        palette = self.view.palette()
        if dead:
            self.pixmap.hide()
            hatch = QBrush(palette.color(QPalette.ColorRole.Mid), Qt.BrushStyle.BDiagPattern)
            self.setBrush(hatch)
        else:
            self.setBrush(QBrush(palette.color(QPalette.ColorRole.Base)))

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        text = self.label
        if self.bias is not None:
            text += f"\nbias {self.bias:+.4f}"
        if self.dead:
            text += "\ndead: outputs 0 everywhere on the plane"
        if self.layer is not None:
            text += "\nclick to show its map in the output view"
        self.setToolTip(text)
        super().hoverEnterEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if self.layer is not None:
            self.view.neuron_clicked(self)
        event.accept()


class NetworkView(QGraphicsView):
    neuronClicked = Signal(object, object)  # layer index or None (back to output), unit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumSize(320, 220)
        self._columns: list[list[Neuron]] = []
        # per dense layer: (its index in the spec, its links, their source and target units)
        self._links: list[tuple[int, list[Link], np.ndarray, np.ndarray]] = []
        self._pens: dict[tuple[bool, int], QPen] = {}
        self._hidden: list[int] = []  # activation layer index of each hidden column
        self._selected: Neuron | None = None
        self._classification = True
        self._structure: tuple | None = None
        self._last: Snapshot | None = None

    # -- structure -----------------------------------------------------------------------------
    def set_structure(
        self,
        spec: dict,
        features: list[str],
        feature_grids: np.ndarray | None,
        classification: bool,
    ) -> None:
        """Lay out the graph for ``spec``; ``feature_grids`` ``(features, res, res)`` are the
        input maps (static)."""
        self._structure = (spec, features, feature_grids, classification)
        self._last = None
        scene = self.scene()
        scene.clear()
        self._columns, self._links, self._selected = [], [], None
        self._classification = classification
        layers = spec["layers"]
        dense = [i for i, e in enumerate(layers) if e["type"] == "dense"]
        # the hidden units' outputs: each hidden dense layer's activation (as the engine's
        # snapshots index neuron maps)
        self._hidden = [i for i, e in enumerate(layers[:-1]) if e["type"] in ACTIVATIONS]
        sizes = [len(features)] + [layers[d]["units"] for d in dense]
        column = self._column_spacing(sizes)
        titles = ["Input"] + [f"Hidden {k + 1}" for k in range(len(dense) - 1)] + ["Output"]
        bold = QFont()
        bold.setBold(True)
        ink = QBrush(self.palette().color(QPalette.ColorRole.Text))
        muted = QBrush(self.palette().color(QPalette.ColorRole.Mid))
        for c, (n, title) in enumerate(zip(sizes, titles, strict=True)):
            shown = 1 if c == len(sizes) - 1 else min(n, self._max_shown(sizes))
            x = c * column
            top = -(shown * ROW) / 2
            head = QGraphicsSimpleTextItem(title)
            head.setFont(bold)
            head.setBrush(ink)
            head.setPos(x + NODE / 2 - head.boundingRect().width() / 2, top - 40)
            scene.addItem(head)
            if 0 < c < len(sizes) - 1:
                act = layers[self._hidden[c - 1]]["type"]
                sub = QGraphicsSimpleTextItem(f"{n} × {act}")
                sub.setBrush(muted)
                sub.setPos(x + NODE / 2 - sub.boundingRect().width() / 2, top - 22)
                scene.addItem(sub)
            nodes = []
            for i in range(shown):
                if c == 0:
                    label = f"input {FEATURES[features[i]]}"
                    node = Neuron(self, None, i, label)
                    if feature_grids is not None:
                        g = feature_grids[i]
                        node.set_image(diverging(thumbnail(g), float(np.abs(g).max()) or 1.0))
                    text = QGraphicsSimpleTextItem(FEATURES[features[i]])
                    text.setBrush(ink)
                    text.setPos(
                        x - text.boundingRect().width() - 6,
                        top + i * ROW + NODE / 2 - text.boundingRect().height() / 2,
                    )
                    scene.addItem(text)
                elif c == len(sizes) - 1:
                    node = Neuron(self, None, 0, f"output ({n} unit{'s' if n > 1 else ''})")
                else:
                    node = Neuron(self, self._hidden[c - 1], i, f"hidden layer {c}, neuron {i + 1}")
                node.setPos(x, top + i * ROW)
                scene.addItem(node)
                nodes.append(node)
            if n > shown and c < len(sizes) - 1:
                more = QGraphicsSimpleTextItem(f"+ {n - shown} more")
                more.setBrush(muted)
                more.setPos(x + NODE / 2 - more.boundingRect().width() / 2, top + shown * ROW)
                scene.addItem(more)
            self._columns.append(nodes)
        for c, d in enumerate(dense):
            links, sources, targets = [], [], []
            for a, src in enumerate(self._columns[c]):
                for b, dst in enumerate(self._columns[c + 1]):
                    link = Link(f"{src.label} → {dst.label}")
                    p1, p2 = src.sceneBoundingRect(), dst.sceneBoundingRect()
                    link.setLine(p1.right(), p1.center().y(), p2.left(), p2.center().y())
                    scene.addItem(link)
                    links.append(link)
                    sources.append(a)
                    targets.append(b)
            self._links.append((d, links, np.array(sources, int), np.array(targets, int)))
        rect = scene.itemsBoundingRect().adjusted(-20, -10, 20, 10)
        scene.setSceneRect(rect)
        self._fit()

    @staticmethod
    def _max_shown(sizes: list[int]) -> int:
        """Neurons shown per column for layer ``sizes`` (input, hidden..., output)."""
        return MAX_SHOWN_DEEP if len(sizes) - 2 >= DEEP else MAX_SHOWN

    def _column_spacing(self, sizes: list[int]) -> float:
        """Spread the columns so the graph's shape matches the view's (within limits)."""
        height = max(min(n, self._max_shown(sizes)) for n in sizes) * ROW + 80
        aspect = self.viewport().width() / max(self.viewport().height(), 1)
        return float(np.clip(aspect * height / max(len(sizes) - 0.6, 1), MIN_COLUMN, COLUMN * 2.2))

    # -- updates -------------------------------------------------------------------------------
    def show_snapshot(self, snap: Snapshot) -> None:
        self._last = snap
        for d, links, sources, targets in self._links:
            w = snap.weights.get(f"{d}.W")
            if w is None or not links:
                continue
            raw = w[sources, targets]
            shown = np.nan_to_num(raw)
            top = float(np.abs(shown).max()) or 1.0
            levels = np.rint(np.abs(shown) / top * (PEN_LEVELS - 1)).astype(int)
            # Dead means exactly zero: a weight gone to NaN (a diverged run) is not drawn dead.
            zero = (raw == 0).tolist()
            for link, value, level, dead in zip(
                links, shown.tolist(), levels.tolist(), zero, strict=True
            ):
                link.weight = value
                key = DEAD if dead else (value > 0, level)
                if link.pen_key != key:  # only touch links whose look changed
                    link.pen_key = key
                    link.setPen(self._pen(key))
        for c, column in enumerate(self._columns[1:-1]):
            layer = self._hidden[c]
            grids = snap.neuron_grids.get(layer) if snap.neuron_grids else None
            d = self._links[c][0]
            bias = snap.weights.get(f"{d}.b")
            images = None
            if grids is not None:  # every shown neuron of the layer in one vectorized pass
                step = max(1, grids.shape[1] // THUMB)
                g = np.nan_to_num(grids[: len(column), ::step, ::step])
                scale = np.abs(g).max(axis=(1, 2), keepdims=True)
                images = diverging(g / np.where(scale > 0, scale, 1.0))
                dead = np.abs(grids[: len(column)]).max(axis=(1, 2)) == 0
            for node in column:
                if bias is not None:
                    node.bias = float(bias[node.unit])
                if images is not None:
                    node.set_dead(bool(dead[node.unit]))
                    if not node.dead:
                        node.set_image(images[node.unit])
        if snap.grid_output is not None and self._columns:
            out = self._columns[-1][0]
            out.set_image(output_image(thumbnail(snap.grid_output), self._classification))
            last_bias = snap.weights.get(f"{self._links[-1][0]}.b") if self._links else None
            if last_bias is not None and last_bias.size == 1:
                out.bias = float(last_bias[0])

    def _pen(self, key: tuple[bool, int]) -> QPen:
        pen = self._pens.get(key)
        if pen is None and key == DEAD:
            pen = self._pens[key] = QPen(QColor(150, 150, 150, 110), 0.6, Qt.PenStyle.DashLine)
        elif pen is None:
            positive, level = key
            t = level / (PEN_LEVELS - 1)
            rgb = POSITIVE if positive else NEGATIVE
            color = QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]), int(60 + 195 * t))
            pen = self._pens[key] = QPen(color, 0.6 + 4.5 * t)
        return pen

    def neuron_clicked(self, node: Neuron) -> None:
        if self._selected is not None:
            self._selected.setPen(QPen(QColor(120, 120, 120), 1))
        if node is self._selected:
            self._selected = None
            self.neuronClicked.emit(None, None)
            return
        self._selected = node
        node.setPen(QPen(QColor(20, 20, 20), 3))
        self.neuronClicked.emit(node.layer, node.unit)

    # -- geometry ------------------------------------------------------------------------------
    def _fit(self) -> None:
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 1.6:  # don't blow small networks up
            self.resetTransform()
            self.scale(1.6, 1.6)
            self.centerOn(rect.center())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._rebuild()  # re-spread the columns for the new shape
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._rebuild()  # texts and empty neurons in the new theme's colours

    def _rebuild(self) -> None:
        if self._structure is not None:
            last = self._last
            self.set_structure(*self._structure)
            if last is not None:
                self.show_snapshot(last)

    def node_rect(self, column: int, index: int) -> QRectF:
        """Scene rectangle of a node (tests click on it)."""
        return self._columns[column][index].sceneBoundingRect()

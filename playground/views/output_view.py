"""The output view: the model's prediction over the input plane as a heatmap, the data on top.

Click adds a point of the chosen class (the main window decides whether it joins the training or
the test set); right-click or shift-click removes the nearest point. Training points have a white
ring inside a dark one, test points a dark ring, so either stands out on any colour of the map,
its own class's included. It can also show one hidden neuron's map instead of the output.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.data.dataset import Dataset
from core.data.toy2d import DOMAIN
from core.training.snapshot import Snapshot
from playground.layout import SquareBox
from playground.views.colors import class_color, diverging, output_image

#: The outer ring of a training point.
TRAIN_RING = (30, 30, 30)
#: Point outlines: white for the training data, dark for the test data (legend icons too).
TRAIN_OUTLINE = (255, 255, 255)
TEST_OUTLINE = (30, 30, 30)
OUTPUT_TITLE = "Output"


def point_icon(
    outline: tuple[int, int, int], size: int = 16, ring: tuple[int, int, int] | None = None
) -> QIcon:
    """A legend mark: a class-coloured point with ``outline`` (inside a ``ring``) on a mid-grey
    square, as the points look on the heatmap."""
    pix = QPixmap(size, size)
    pix.fill(QColor(150, 150, 150))
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if ring is not None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(*ring))
        painter.drawEllipse(QPointF(size / 2, size / 2), size / 2 - 0.5, size / 2 - 0.5)
    painter.setPen(QPen(QColor(*outline), 2))
    painter.setBrush(QColor(*class_color(0)))
    painter.drawEllipse(QPointF(size / 2, size / 2), size / 2 - 3, size / 2 - 3)
    painter.end()
    return QIcon(pix)


class OutputView(QWidget):
    pointAdded = Signal(float, float, float)  # x1, x2, class index (or value for regression)
    pointRemoved = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._snapshot: Snapshot | None = None
        self._neuron: tuple[int, int] | None = None
        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.plot.setMouseEnabled(False, False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setRange(xRange=(-DOMAIN, DOMAIN), yRange=(-DOMAIN, DOMAIN), padding=0)
        self.plot.setLabel("bottom", "x₁")
        self.plot.setLabel("left", "x₂")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        # A training point: a dark disc under its class-coloured one with a white outline, so a
        # dark ring shows where the map is light and a white one where the map is its colour.
        self.train_rings = pg.ScatterPlotItem(size=10, pen=None, brush=pg.mkBrush(TRAIN_RING))
        self.train_points = pg.ScatterPlotItem(size=7, pen=pg.mkPen(TRAIN_OUTLINE, width=1.2))
        self.test_points = pg.ScatterPlotItem(size=7, pen=pg.mkPen(TEST_OUTLINE, width=1.4))
        for item in (self.train_rings, self.train_points, self.test_points):
            self.plot.addItem(item)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

        self.title = QLabel(OUTPUT_TITLE)
        self.title.setObjectName("viewTitle")
        # The title follows the panel's width, never the other way round.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.show_test = QCheckBox("Test data")
        self.show_test.setIcon(point_icon(TEST_OUTLINE))
        self.show_test.setChecked(True)
        self.show_test.setToolTip(
            "Show the held-out test points (dark outline); training points have a white ring "
            "inside a dark one."
        )
        self.show_train = QCheckBox("Training data")
        self.show_train.setIcon(point_icon(TRAIN_OUTLINE, ring=TRAIN_RING))
        self.show_train.setChecked(True)
        self.show_train.setToolTip("Show the points the network learns from.")
        self.discretize = QCheckBox("Discretize")
        self.discretize.setToolTip(
            "Colour each location by the predicted class only, hiding how confident the network is."
        )
        self.add_class = QComboBox()
        self.add_class.setToolTip(
            "Click on the plot adds a point of this class (to the training or the test set, "
            "drawn with the test ratio); right-click or shift-click removes the nearest point. "
            "Training goes on: the change joins the data when the current epoch ends."
        )
        for box in (self.show_test, self.show_train, self.discretize):
            box.toggled.connect(self._refresh)
        # Two rows of options under the plot keep the column narrow (a 1024-px window); the
        # point checkboxes' icons are the legend of the outlines.
        options = QGridLayout()
        options.addWidget(self.show_train, 0, 0)
        options.addWidget(self.show_test, 0, 1)
        options.addWidget(self.discretize, 1, 0)
        adds = QHBoxLayout()
        adds.addWidget(QLabel("Click adds"))
        adds.addWidget(self.add_class)
        adds.addStretch(1)
        options.addLayout(adds, 2, 0, 1, 3)
        options.setColumnStretch(2, 1)
        self.square = SquareBox(self.plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.square, 1)
        layout.addLayout(options)

    # -- data ----------------------------------------------------------------------------------
    def set_dataset(self, data: Dataset) -> None:
        self._dataset = data
        self._snapshot = None
        self._neuron = None
        self.add_class.clear()
        if data.task == "classification":
            for i, name in enumerate(data.class_names):
                self.add_class.addItem(f"class {name}", i)
        else:
            for value in (1.0, 0.5, 0.0, -0.5, -1.0):
                self.add_class.addItem(f"value {value:+.1f}", value)
        self.image.clear()
        self._draw_points()

    def set_points(self, data: Dataset) -> None:
        """Show the points of ``data``, the same data set with points added or removed (the
        map, the chosen class and the neuron shown stay)."""
        self._dataset = data
        self._draw_points()

    def _brushes(self, y: np.ndarray) -> list:
        if self._dataset.task == "classification":
            cache = [pg.mkBrush(*class_color(i)) for i in range(self._dataset.n_classes)]
            return [cache[int(v)] for v in y]
        rgba = diverging(np.asarray(y, dtype=np.float32))
        return [pg.mkBrush(*map(int, c)) for c in rgba]

    def _draw_points(self) -> None:
        d = self._dataset
        if d is None:
            return
        for item, x, y, box in (
            (self.train_points, d.x_train, d.y_train, self.show_train),
            (self.test_points, d.x_test, d.y_test, self.show_test),
        ):
            if box.isChecked() and len(x):
                item.setData(x=x[:, 0], y=x[:, 1], brush=self._brushes(y))
            else:
                item.clear()
        if self.train_points.data.size:
            self.train_rings.setData(x=d.x_train[:, 0], y=d.x_train[:, 1])
        else:
            self.train_rings.clear()

    # -- snapshots -----------------------------------------------------------------------------
    def show_snapshot(self, snap: Snapshot) -> None:
        self._snapshot = snap
        self._refresh_image()

    def show_neuron(self, layer: int | None, unit: int | None = None) -> None:
        """Show hidden unit ``unit`` of layer ``layer`` (None: the output again)."""
        self._neuron = None if layer is None else (layer, unit)
        self._refresh_image()

    def _refresh(self) -> None:
        self._draw_points()
        self._refresh_image()

    def _refresh_image(self) -> None:
        snap, d = self._snapshot, self._dataset
        if snap is None or snap.grid_output is None or d is None:
            return
        if self._neuron is not None and snap.neuron_grids and self._neuron[0] in snap.neuron_grids:
            layer, unit = self._neuron
            values = snap.neuron_grids[layer][unit]
            limit = float(np.nanmax(np.abs(values))) or 1.0
            self._set_image(diverging(values, limit))
            self.title.setText(f"Neuron {unit + 1} of layer {layer}")
            self.title.setToolTip("Click the neuron again to return to the output.")
            return
        limit = max(1.0, float(np.nanmax(np.abs(d.y_train)))) if d.task == "regression" else 1.0
        rgba = output_image(
            snap.grid_output, d.task == "classification", self.discretize.isChecked(), limit
        )
        self._set_image(rgba)
        self.title.setText(OUTPUT_TITLE)
        self.title.setToolTip("")

    def _set_image(self, rgba: np.ndarray) -> None:
        self.image.setImage(rgba, levels=(0, 255))
        # after setImage: the rectangle maps the image's current pixel size onto the domain
        self.image.setRect(-DOMAIN, -DOMAIN, 2 * DOMAIN, 2 * DOMAIN)

    # -- clicks --------------------------------------------------------------------------------
    def _clicked(self, event) -> None:
        if self._dataset is None:
            return
        pos = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        x1, x2 = float(pos.x()), float(pos.y())
        if not (-DOMAIN <= x1 <= DOMAIN and -DOMAIN <= x2 <= DOMAIN):
            return
        remove = event.button() == Qt.MouseButton.RightButton or bool(
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        )
        if remove:
            self.pointRemoved.emit(x1, x2)
        elif event.button() == Qt.MouseButton.LeftButton and self.add_class.count():
            self.pointAdded.emit(x1, x2, self.add_class.currentData())

"""The Lab's page "Convolution and im2col": a digit through a chosen 3×3 or 5×5 kernel.

From the whole to one number, as CNN Explainer does: the input with the kernel's window, the
im2col matrix (every window as one column, built by the engine's :func:`core.im2col.im2col`)
whose product with the kernel row is the feature map, and at the hovered or clicked position the
dot product as numbers. A second tab shows the filters a tiny CNN learns (trained by the engine
in a background thread) and their feature maps. The computing is :mod:`core.lab.convolution`.
"""

from __future__ import annotations

import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGraphicsRectItem,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.lab.convolution import KERNELS, Convolution, DotProduct, convolve, dot_at, position_under
from playground.lab.conv_images import sample_images
from playground.lab.page import LabPage, main
from playground.lab.trained_filters import TrainedFilters
from playground.views.colors import diverging

#: The marker of the current window, column and position: visible on black, white, orange, blue.
MARK = "#ff2d95"
MAX_K = 5


def number(v: float, digits: int = 2) -> str:
    """``v`` short and with a real minus sign: whole numbers bare, else ``digits`` decimals."""
    text = f"{v:.0f}" if float(v).is_integer() else f"{v:.{digits}f}"
    return text.replace("-", "−")


class Picture(pg.GraphicsLayoutWidget):
    """One image with a marker rectangle; hovering or clicking a pixel reports ``(row, col)``."""

    picked = Signal(int, int)

    def __init__(self, lock_aspect: bool = True) -> None:
        super().__init__()
        self.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.box = self.addViewBox(lockAspect=lock_aspect, invertY=True, enableMouse=False)
        self.box.setMenuEnabled(False)
        self.box.setDefaultPadding(0.01)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setAcceptHoverEvents(True)
        self.image.hoverEvent = self._hover
        self.image.mouseClickEvent = self._click
        self.box.addItem(self.image)
        self.marker = QGraphicsRectItem()
        pen = QPen(QColor(MARK), 3)
        pen.setCosmetic(True)
        self.marker.setPen(pen)
        self.marker.setZValue(10)
        self.box.addItem(self.marker, ignoreBounds=True)

    def show_image(self, image: np.ndarray, levels: tuple[float, float] | None = None) -> None:
        """Grey values with ``levels``, or RGBA (the view fits the image: auto range)."""
        self.image.setImage(image, levels=levels, autoLevels=False)

    def mark(self, top: float, left: float, height: float, width: float) -> None:
        self.marker.setRect(QRectF(left, top, width, height))

    def _pick(self, event) -> None:
        pos = event.pos()
        self.picked.emit(int(np.floor(pos.y())), int(np.floor(pos.x())))

    def _hover(self, event) -> None:
        if not event.isExit():
            self._pick(event)

    def _click(self, event) -> None:
        event.accept()
        self._pick(event)


class ConvolutionPage(LabPage):
    """A digit through a kernel, step by step; and a tiny CNN's trained filters."""

    title = "Convolution and im2col"
    explanation = (
        "<p>A convolution slides a small grid of weights, the <b>kernel</b>, over the image. At "
        "each position it multiplies the pixels under the kernel by the weights and adds them "
        "up, plus a bias: that sum is one pixel of the <b>feature map</b>. An edge kernel such "
        "as Sobel answers strongly where the brightness changes; a blur kernel averages.</p>"
        "<p align='center' style='font-size:large'>y[i, j] = Σ<sub>u,v</sub> "
        "x[i+u, j+v] · w[u, v] + b</p>"
        "<p><b>im2col</b> copies every window into one column of a matrix X<sub>col</sub> "
        "(one row per kernel offset, one column per position). The whole convolution is then "
        "one matrix product, y = W<sub>row</sub> · X<sub>col</sub> + b: a single fast BLAS "
        "call instead of loops over pixels, and how the engine's Conv2D layer computes. "
        "Hover over the image, the matrix or the map to see one column's dot product as "
        "numbers.</p>"
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.images = sample_images()
        self.conv: Convolution | None = None
        self.dot: DotProduct | None = None
        self.position = (13, 13)
        self._image_chosen = False  # the learner picked an image: MNIST's arrival keeps it

        self.image_combo = QComboBox()
        self.image_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.image_combo.addItems(list(self.images))
        self.image_combo.setCurrentText("Drawn 7")
        self.filter_combo = QComboBox()
        self.filter_combo.addItems(list(KERNELS))
        self.bias = self._spin(QDoubleSpinBox(), -10, 10, "Added to every dot product")
        self.bias.setSingleStep(0.1)
        self.padding = self._spin(QSpinBox(), 0, 2, "Rows and columns of zeros around the image")
        self.stride = self._spin(QSpinBox(), 1, 3, "How far the window moves between positions")
        self.stride.setValue(1)
        controls = QHBoxLayout()
        for text, widget in (
            ("Image", self.image_combo),
            ("Kernel", self.filter_combo),
            ("Bias b", self.bias),
            ("Padding", self.padding),
            ("Stride", self.stride),
        ):
            controls.addWidget(QLabel(text))
            controls.addWidget(widget)
            controls.addSpacing(8)
        controls.addStretch(1)

        self.input_view, self.map_view = Picture(), Picture()
        self.cols_view = Picture(lock_aspect=False)
        self.spins = [[self._kernel_spin() for _ in range(MAX_K)] for _ in range(MAX_K)]
        kernel_grid = QGridLayout()
        kernel_grid.setSpacing(3)
        for u, row in enumerate(self.spins):
            for v, spin in enumerate(row):
                kernel_grid.addWidget(spin, u, v)
        self.dot_label = QLabel()
        self.dot_label.setTextFormat(Qt.TextFormat.RichText)
        self.dot_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        middle_box = QWidget()
        middle_box.setFixedWidth(5 * 64 + 10)
        middle = QVBoxLayout(middle_box)
        middle.setContentsMargins(0, 0, 0, 0)
        middle.addWidget(self._head("Kernel w (edit the numbers)"))
        middle.addLayout(kernel_grid)
        middle.addSpacing(6)
        middle.addWidget(self._head("The dot product at the marked position"))
        middle.addWidget(self.dot_label, 1)
        self.input_head = self._head("Input x and the kernel's window")
        self.map_head = self._head("Feature map y")
        self.cols_head = self._head("")
        steps = QGridLayout()
        steps.addWidget(self.input_head, 0, 0)
        steps.addWidget(self.input_view, 1, 0)
        steps.addWidget(middle_box, 0, 1, 2, 1)
        steps.addWidget(self.map_head, 0, 2)
        steps.addWidget(self.map_view, 1, 2)
        steps.addWidget(self.cols_head, 2, 0, 1, 3)
        steps.addWidget(self.cols_view, 3, 0, 1, 3)
        steps.setRowStretch(1, 3)
        steps.setRowStretch(3, 1)
        steps.setColumnStretch(0, 1)
        steps.setColumnStretch(2, 1)
        step_tab = QWidget()
        step_tab.setLayout(steps)

        self.trained = TrainedFilters()
        self.tabs = QTabWidget()
        self.tabs.addTab(step_tab, "One kernel, step by step")
        self.tabs.addTab(self.trained, "Filters a CNN learned")
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.tabs, 1)

        self.image_combo.activated.connect(self._image_picked)
        self.image_combo.currentTextChanged.connect(self.redraw)
        self.filter_combo.currentTextChanged.connect(self._load_kernel)
        for spin in (self.bias, self.padding, self.stride):
            spin.valueChanged.connect(self.redraw)
        self.input_view.picked.connect(self._picked_pixel)
        self.map_view.picked.connect(self.set_position)
        self.cols_view.picked.connect(self._picked_column)
        self.trained.filterChosen.connect(self.use_trained_filter)
        self._load_kernel(self.filter_combo.currentText())

    # -- controls --------------------------------------------------------------------------------
    @staticmethod
    def _spin(spin, low: float, high: float, tip: str):
        spin.setRange(low, high)
        spin.setToolTip(tip)
        return spin

    def _kernel_spin(self) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(-99.0, 99.0)
        spin.setDecimals(3)
        spin.setSingleStep(0.1)
        spin.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        spin.setFixedWidth(60)
        spin.setToolTip("A kernel weight: type a number, or use the wheel or the arrow keys")
        spin.valueChanged.connect(self._kernel_edited)
        return spin

    @staticmethod
    def _head(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("viewTitle")
        label.setWordWrap(True)
        return label

    def kernel(self) -> np.ndarray:
        """The kernel ``(k, k)`` in the editor: the chosen one exactly (the editor shows it
        to 3 decimals) until a number is edited."""
        if self._exact is not None:
            return self._exact
        k = self.kernel_size
        return np.array([[self.spins[u][v].value() for v in range(k)] for u in range(k)])

    def _kernel_edited(self) -> None:
        self._exact = None
        self.redraw()

    def set_kernel(self, kernel: np.ndarray) -> None:
        """Put ``kernel (k, k)`` (k = 3 or 5) into the editor and redraw once."""
        self.kernel_size = k = kernel.shape[0]
        self._exact = np.array(kernel, np.float64)
        for u, row in enumerate(self.spins):
            for v, spin in enumerate(row):
                spin.blockSignals(True)
                spin.setVisible(u < k and v < k)
                spin.setValue(float(kernel[u, v]) if u < k and v < k else 0.0)
                spin.blockSignals(False)
        self.padding.setMaximum(k // 2)
        self.redraw()

    def _load_kernel(self, name: str) -> None:
        if name in KERNELS:
            self.set_kernel(KERNELS[name])

    def use_trained_filter(self, f: int) -> None:
        """Study the CNN's trained filter ``f`` (its kernel and bias) step by step."""
        kernel, bias = self.trained.kernel(f)
        self.filter_combo.blockSignals(True)
        if self.filter_combo.findText(name := f"Trained filter {f + 1}") < 0:
            self.filter_combo.addItem(name)
        self.filter_combo.setCurrentText(name)
        self.filter_combo.blockSignals(False)
        self.bias.blockSignals(True)
        self.bias.setValue(bias)
        self.bias.blockSignals(False)
        self.set_kernel(kernel)
        self.tabs.setCurrentIndex(0)

    def _image_picked(self) -> None:
        self._image_chosen = True

    def add_images(self, choices: dict[str, np.ndarray]) -> None:
        """More images to choose from (the MNIST test digits); the first is shown unless the
        learner has picked an image."""
        new = [name for name in choices if name not in self.images]
        self.images.update(choices)
        self.image_combo.addItems(new)
        if not self._image_chosen and choices:
            self.image_combo.setCurrentText(next(iter(choices)))

    def image(self) -> np.ndarray:
        return self.images[self.image_combo.currentText()]

    # -- pictures --------------------------------------------------------------------------------
    def redraw(self) -> None:
        """Convolve the image with the editor's kernel and redraw everything."""
        if not hasattr(self, "kernel_size"):
            return
        p = self.padding.value()
        self.conv = conv = convolve(
            self.image(), self.kernel(), self.bias.value(), self.stride.value(), p
        )
        self.input_view.show_image(np.pad(conv.image, p), levels=(0.0, 1.0))
        self.cols_view.show_image(conv.cols, levels=(0.0, 1.0))
        fmap = conv.feature_map
        self.map_view.show_image(diverging(fmap, max(float(np.abs(fmap).max()), 1e-9)))
        oh, ow = fmap.shape
        self.map_head.setText(
            f"Feature map y ({oh}×{ow}): <span style='color:#0877bd'>blue</span> positive, "
            f"<span style='color:#f59322'>orange</span> negative"
        )
        self.input_head.setText(
            f"Input x ({p} rows and columns of zeros around it) and the kernel's window"
            if p
            else "Input x and the kernel's window"
        )
        self.trained.set_image(conv.image)
        i, j = self.position
        self.set_position(min(i, oh - 1), min(j, ow - 1))

    def _picked_pixel(self, row: int, col: int) -> None:
        p = self.padding.value()
        self.set_position(*position_under(self.conv, row - p, col - p))

    def _picked_column(self, _row: int, col: int) -> None:
        ow = self.conv.feature_map.shape[1]
        count = self.conv.cols.shape[1]
        self.set_position(*divmod(int(np.clip(col, 0, count - 1)), ow))

    def set_position(self, i: int, j: int) -> None:
        """Mark output position ``(i, j)`` everywhere and spell out its dot product."""
        conv = self.conv
        oh, ow = conv.feature_map.shape
        if not (0 <= i < oh and 0 <= j < ow):
            return
        self.position = (i, j)
        self.dot = dot = dot_at(conv, i, j)
        k, p = conv.kernel.shape[0], conv.padding
        self.input_view.mark(dot.top + p, dot.left + p, k, k)
        self.map_view.mark(i, j, 1, 1)
        column = conv.column(i, j)
        self.cols_view.mark(0, column, k * k, 1)
        self.cols_head.setText(
            f"im2col matrix X<sub>col</sub>: {k * k} rows (kernel offsets) × "
            f"{conv.cols.shape[1]} columns (positions); column {column}, marked, is the window "
            f"at ({i}, {j}). y = W<sub>row</sub> (1×{k * k}) · X<sub>col</sub> + b"
        )
        self.dot_label.setText(dot_text(dot, (i, j)))

    # -- page ------------------------------------------------------------------------------------
    def shown(self) -> None:
        self.trained.start(self.add_images)

    def hidden(self) -> None:
        self.trained.stop()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.trained.stop()
        super().closeEvent(event)


def dot_text(dot: DotProduct, position: tuple[int, int]) -> str:
    """The dot product as rich text: a table of terms, each the pixel x over its weight × w,
    then the sum, the bias and the output."""
    rows = []
    for patch_row, kernel_row in zip(dot.patch, dot.kernel, strict=True):
        cells = "".join(
            f"<td align='center'>{number(x)}<br><b>×{number(w, 3)}</b></td>"
            for x, w in zip(patch_row, kernel_row, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    total = float(dot.products.sum())
    i, j = position
    size = "x-large" if len(dot.kernel) <= 3 else "medium"  # a 5×5 table fits the column
    return (
        f"<table cellspacing='0' cellpadding='3' style='font-size:{size}'>"
        + "".join(rows)
        + "</table>"
        f"<p style='font-size:large'>Σ pixel × <b>weight</b> = {number(total, 3)}<br>"
        f"+ bias {number(dot.bias, 3)}<br><b>= y[{i}, {j}] = {number(dot.value, 3)}</b></p>"
    )


if __name__ == "__main__":
    sys.exit(main(ConvolutionPage))

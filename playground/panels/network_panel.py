"""Network editor: hidden layers (dense; for images also convolution and pooling), initializer,
loss, each layer's output shape and the parameter count."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from core.init import INITIALIZERS
from playground.network_settings import (
    MAX_LAYERS,
    LayerSettings,
    NetworkError,
    NetworkSettings,
    network_shapes,
)
from playground.panels.layer_row import DENSE_COLUMNS, ERROR_STYLE, IMAGE_COLUMNS, LayerRow
from playground.panels.widgets import choice_box, push_button

LOSSES = {
    "auto": "Automatic: cross-entropy for classes, mean squared error for values.",
    "softmax_ce": "Softmax cross-entropy: one output per class.",
    "sigmoid_bce": "Sigmoid binary cross-entropy: one output, two classes only.",
    "mse": "Mean squared error: regression.",
}


class NetworkPanel(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[LayerRow] = []
        self.input_shape: list[int] = [2]
        self.n_classes: int | None = None
        self._problem = ""
        self._heads: list[QLabel] = []
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(6)
        self.add = push_button(
            "+ Add layer",
            "Add a hidden layer (deeper networks compose simpler shapes into "
            f"complex ones). Up to {MAX_LAYERS}.",
            lambda: self.add_layer("dense"),
        )
        self.add_conv = push_button(
            "+ Conv",
            "Add a convolution after the last convolution or pooling layer: it learns local "
            "patterns that later layers combine into digits and objects.",
            lambda: self.add_layer("conv"),
        )
        self.add_pool = push_button(
            "+ Pool",
            "Add a 2×2 max pooling after the last convolution or pooling layer: it halves the "
            "image, so later layers see more of it with fewer weights.",
            lambda: self.add_layer("maxpool"),
        )
        self.init = QComboBox()
        self.init.addItem("auto (He for ReLU-like, else Glorot)", "auto")
        for name in INITIALIZERS:
            self.init.addItem(name, name)
        self.init.setToolTip(
            "How weights start. A poor scale makes signals vanish or explode "
            "through the layers before training even begins."
        )
        self.loss = choice_box(
            [(name, name, tip) for name, tip in LOSSES.items()],
            "What training minimizes. " + LOSSES["auto"],
        )
        self.params = QLabel()
        self.params.setObjectName("paramCount")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        self.init.currentIndexChanged.connect(self.edited)
        self.loss.currentIndexChanged.connect(self.edited)
        form = QFormLayout()
        form.addRow("Initializer", self.init)
        form.addRow("Loss", self.loss)
        bottom = QHBoxLayout()
        for button in (self.add_conv, self.add_pool, self.add):
            bottom.addWidget(button)
        bottom.addStretch(1)
        bottom.addWidget(self.params)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self.grid)
        layout.addLayout(bottom)
        layout.addWidget(self.message)
        layout.addLayout(form)
        layout.addStretch(1)
        self._relayout()

    # -- settings ------------------------------------------------------------------------------
    def settings(self) -> NetworkSettings:
        return NetworkSettings(
            [r.settings() for r in self.rows], self.init.currentData(), self.loss.currentData()
        )

    def set_settings(self, net: NetworkSettings) -> None:
        self.blockSignals(True)
        try:
            for row in list(self.rows):
                self._drop(row)
            for layer in net.hidden:
                self.rows.append(LayerRow(layer, self.edited, self.remove_layer))
            self.init.setCurrentIndex(max(0, self.init.findData(net.init)))
            self.loss.setCurrentIndex(max(0, self.loss.findData(net.loss)))
        finally:
            self.blockSignals(False)
        self._relayout()

    def set_input_shape(self, shape: Sequence[int], n_classes: int | None = None) -> None:
        """What the network gets: ``[features]`` on the plane, ``[channels, height, width]`` for
        images (which offers convolution and pooling rows). With ``n_classes`` the panel counts
        the parameters itself; otherwise :meth:`set_param_count` reports them."""
        self.input_shape = list(shape)
        self.n_classes = n_classes
        self._relayout()

    def is_image(self) -> bool:
        """Whether the image editor shows (image input, or rows only images can use)."""
        return len(self.input_shape) == 3 or any(r.kind != "dense" for r in self.rows)

    # -- shapes and parameter count ------------------------------------------------------------
    def problem(self) -> str:
        """Why the network cannot work with this input (naming the row), or ``""``."""
        return self._problem

    def set_param_count(self, n: int | None, problem: str = "") -> None:
        """Show the parameter count, or that the run cannot be built; the panel's own finding
        about a layer's shape is kept, as it names the row."""
        if self._problem:
            return
        self.params.setText(f"{n:,} parameters" if n is not None else problem)

    def _check(self) -> None:
        """Each row's output shape from the engine's layers; the first row that does not fit
        is marked and its message replaces the parameter count."""
        net = self.settings()
        n_out = 1
        if self.n_classes is not None and net.loss in ("auto", "softmax_ce"):
            n_out = self.n_classes
        try:
            shapes, n_params = network_shapes(net, self.input_shape, n_out)
        except ValueError as exc:
            self._problem = str(exc)
            row = exc.row if isinstance(exc, NetworkError) else 0
            shapes = exc.shapes if isinstance(exc, NetworkError) else []
            for i, r in enumerate(self.rows, 1):
                shape = shapes[i - 1] if i <= len(shapes) else None
                r.show_shape(shape, self._problem if i == row else "")
            self.params.setText("")
            self.message.setText(self._problem)
            self.message.show()
            return
        self._problem = ""
        self.message.hide()
        for r, shape in zip(self.rows, shapes, strict=True):
            r.show_shape(shape)
        if self.n_classes is not None:
            self.params.setText(f"{n_params:,} parameters")

    def edited(self) -> None:
        """A control changed: refresh the shapes first so ``changed`` handlers see them."""
        self._check()
        self.changed.emit()

    # -- rows ----------------------------------------------------------------------------------
    def add_layer(self, kind: str = "dense") -> None:
        """Append a dense row (a copy of the last dense row), or put a conv / pool row after
        the last conv or pool row, where image layers can go."""
        if len(self.rows) >= MAX_LAYERS:
            return
        same = [r.settings() for r in self.rows if r.kind == kind]
        if kind == "dense":
            if same:
                last = same[-1]
            else:  # images need a wider first dense layer than the plane
                last = LayerSettings(100, "relu") if self.is_image() else LayerSettings()
            settings, at = LayerSettings(last.units, last.activation), len(self.rows)
        else:
            settings = same[-1] if same else LayerSettings(activation="relu", kind=kind)
            image = [i for i, r in enumerate(self.rows, 1) if r.kind != "dense"]
            at = image[-1] if image else 0
        self.rows.insert(at, LayerRow(settings, self.edited, self.remove_layer))
        self._relayout()
        self.changed.emit()

    def remove_layer(self, row: LayerRow) -> None:
        self._drop(row)
        self._relayout()
        self.changed.emit()

    def _drop(self, row: LayerRow) -> None:
        self.rows.remove(row)
        for w in row.widgets():
            self.grid.removeWidget(w)
            w.hide()  # until the event loop deletes it
            w.deleteLater()

    def _relayout(self) -> None:
        image = self.is_image()
        self.grid.setHorizontalSpacing(4 if image else 6)  # the image grid has more columns
        for w in self._heads:
            self.grid.removeWidget(w)
            w.hide()  # until the event loop deletes it
            w.deleteLater()
        columns = IMAGE_COLUMNS if image else DENSE_COLUMNS
        self._heads = []
        for c, (head, tip) in enumerate(columns):
            label = QLabel(head)
            label.setObjectName("columnHead")
            label.setToolTip(tip)
            self.grid.addWidget(label, 0, c)
            self._heads.append(label)
        for r, row in enumerate(self.rows, 1):
            row.number.setText(f"{r}")
            row.set_image_mode(image)
            for w in row.widgets():
                self.grid.removeWidget(w)
                w.hide()
            for w, c, span in row.cells(image):
                self.grid.addWidget(w, r, c, 1, span)
                w.show()
        for button in (self.add_conv, self.add_pool):
            button.setVisible(image)
        self.add.setText("+ Dense" if image else "+ Add layer")
        for button in (self.add, self.add_conv, self.add_pool):
            button.setEnabled(len(self.rows) < MAX_LAYERS)
        self._check()

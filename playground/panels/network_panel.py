"""Network editor: hidden layers (neurons, activation, batch norm, dropout), initializer, loss,
and the parameter count."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.activations import ACTIVATIONS
from core.init import INITIALIZERS
from playground.panels.widgets import dspin, spin
from playground.session import MAX_LAYERS, MAX_UNITS, LayerSettings, NetworkSettings

HIDDEN_ACTIVATIONS = [a for a in ACTIVATIONS if a != "softmax"]
ACTIVATION_TIPS = {
    "identity": "No non-linearity: stacked linear layers stay a linear model.",
    "sigmoid": "Smooth 0..1 squashing; saturates, so gradients vanish in deep stacks.",
    "tanh": "Smooth -1..1 squashing, zero-centred; the classic playground choice.",
    "relu": "max(x, 0): fast and deep-friendly; units can die (always 0).",
    "leaky_relu": "ReLU with a small slope for x < 0, so units never die completely.",
    "elu": "Smooth ReLU variant with negative saturation.",
    "gelu": "Smooth ReLU-like unit used in transformers.",
    "silu": "x·sigmoid(x) (swish): smooth, non-monotonic.",
    "softplus": "Smooth version of ReLU: log(1 + eˣ).",
    "sine": "Periodic units: good at repeating patterns such as the checkerboard.",
}
LOSSES = {
    "auto": "Automatic: cross-entropy for classes, mean squared error for values.",
    "softmax_ce": "Softmax cross-entropy: one output per class.",
    "sigmoid_bce": "Sigmoid binary cross-entropy: one output, two classes only.",
    "mse": "Mean squared error: regression.",
}


class LayerRow:
    """The widgets of one hidden layer."""

    def __init__(self, panel: NetworkPanel, settings: LayerSettings) -> None:
        self.units = spin(
            1,
            MAX_UNITS,
            "Neurons in this layer: more neurons can fit more complex shapes (and overfit noise).",
        )
        self.units.setValue(settings.units)
        self.activation = QComboBox()
        for name in HIDDEN_ACTIVATIONS:
            self.activation.addItem(name, name)
            self.activation.setItemData(
                self.activation.count() - 1, ACTIVATION_TIPS[name], Qt.ItemDataRole.ToolTipRole
            )
        self.activation.setCurrentIndex(HIDDEN_ACTIVATIONS.index(settings.activation))
        self.activation.setToolTip(
            "This layer's activation function: " + ACTIVATION_TIPS[settings.activation]
        )
        self.batchnorm = QCheckBox("BN")
        self.batchnorm.setChecked(settings.batchnorm)
        self.batchnorm.setToolTip(
            "Batch normalization before the activation: keeps each "
            "unit's input centred and scaled, which often allows larger "
            "learning rates."
        )
        self.dropout = dspin(
            0.0,
            0.9,
            0.05,
            2,
            "Dropout rate after this layer: randomly "
            "silences units while training, which fights overfitting.",
        )
        self.dropout.setValue(settings.dropout)
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("Remove this layer.")
        self.remove.clicked.connect(lambda: panel.remove_layer(self))
        for w in (self.units, self.dropout):
            w.valueChanged.connect(panel.changed)
        self.activation.currentIndexChanged.connect(panel.changed)
        self.activation.currentIndexChanged.connect(
            lambda _: self.activation.setToolTip(
                "This layer's activation function: "
                + ACTIVATION_TIPS[self.activation.currentData()]
            )
        )
        self.batchnorm.toggled.connect(panel.changed)

    def widgets(self) -> list[QWidget]:
        return [self.units, self.activation, self.batchnorm, self.dropout, self.remove]

    def settings(self) -> LayerSettings:
        return LayerSettings(
            self.units.value(),
            self.activation.currentData(),
            self.batchnorm.isChecked(),
            round(self.dropout.value(), 4),
        )


class NetworkPanel(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[LayerRow] = []
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(6)
        for c, head in enumerate(("Layer", "Neurons", "Activation", "", "Dropout", "")):
            label = QLabel(head)
            label.setObjectName("columnHead")
            self.grid.addWidget(label, 0, c)
        self.add = QPushButton("+ Add layer")
        self.add.setToolTip(
            "Add a hidden layer (deeper networks compose simpler shapes into "
            f"complex ones). Up to {MAX_LAYERS}."
        )
        self.add.clicked.connect(self.add_layer)
        self.init = QComboBox()
        self.init.addItem("auto (He for ReLU-like, else Glorot)", "auto")
        for name in INITIALIZERS:
            self.init.addItem(name, name)
        self.init.setToolTip(
            "How weights start. A poor scale makes signals vanish or explode "
            "through the layers before training even begins."
        )
        self.loss = QComboBox()
        for name, tip in LOSSES.items():
            self.loss.addItem(name, name)
            self.loss.setItemData(self.loss.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.loss.setToolTip("What training minimizes. " + LOSSES["auto"])
        self.params = QLabel()
        self.params.setObjectName("paramCount")
        self.init.currentIndexChanged.connect(self.changed)
        self.loss.currentIndexChanged.connect(self.changed)
        form = QFormLayout()
        form.addRow("Initializer", self.init)
        form.addRow("Loss", self.loss)
        bottom = QHBoxLayout()
        bottom.addWidget(self.add)
        bottom.addStretch(1)
        bottom.addWidget(self.params)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self.grid)
        layout.addLayout(bottom)
        layout.addLayout(form)
        layout.addStretch(1)

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
                self._append(layer)
            self.init.setCurrentIndex(max(0, self.init.findData(net.init)))
            self.loss.setCurrentIndex(max(0, self.loss.findData(net.loss)))
        finally:
            self.blockSignals(False)
        self._relayout()

    def set_param_count(self, n: int | None, problem: str = "") -> None:
        self.params.setText(f"{n:,} parameters" if n is not None else problem)

    def add_layer(self) -> None:
        if len(self.rows) >= MAX_LAYERS:
            return
        last = self.rows[-1].settings() if self.rows else LayerSettings()
        self._append(LayerSettings(last.units, last.activation))
        self._relayout()
        self.changed.emit()

    def remove_layer(self, row: LayerRow) -> None:
        self._drop(row)
        self._relayout()
        self.changed.emit()

    def _append(self, settings: LayerSettings) -> None:
        self.rows.append(LayerRow(self, settings))

    def _drop(self, row: LayerRow) -> None:
        self.rows.remove(row)
        for w in row.widgets():
            self.grid.removeWidget(w)
            w.deleteLater()

    def _relayout(self) -> None:
        for i in range(self.grid.count() - 1, -1, -1):
            w = self.grid.itemAt(i).widget()
            if w is not None and w.objectName() == "layerNumber":
                self.grid.removeWidget(w)
                w.deleteLater()
        for r, row in enumerate(self.rows, 1):
            number = QLabel(f"{r}")
            number.setObjectName("layerNumber")
            self.grid.addWidget(number, r, 0)
            for c, w in enumerate(row.widgets(), 1):
                self.grid.addWidget(w, r, c)
        self.add.setEnabled(len(self.rows) < MAX_LAYERS)

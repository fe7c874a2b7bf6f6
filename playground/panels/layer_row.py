"""One hidden layer's row in the network editor: the widgets its kind uses (neurons; filters,
kernel, stride, padding; pool window; activation, batch norm, dropout) and its output shape."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSpinBox,
    QToolButton,
    QWidget,
)

from core.activations import ACTIVATIONS
from core.layers import MAX_DROPOUT
from playground.network_settings import (
    MAX_FILTERS,
    MAX_KERNEL,
    MAX_PADDING,
    MAX_POOL,
    MAX_STRIDE,
    MAX_UNITS,
    LayerSettings,
)
from playground.panels.widgets import Limits, choice_box, dspin, spin

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
POOL_TYPES = [
    ("maxpool", "max", "Keeps the strongest response in each window: the usual choice."),
    ("avgpool", "avg", "Keeps the mean of each window: smoother, keeps weak responses too."),
]
KIND_TIPS = {
    "dense": "Dense layer: every neuron sees every input (an image is flattened first).",
    "conv": "Convolution: small filters slide over the image, so each learns one local "
    "pattern (an edge, a stroke) and finds it anywhere, with few weights.",
}
#: Column heads of the plane's editor (dense rows only) and of the image editor.
DENSE_COLUMNS = [
    ("Layer", ""),
    ("Neurons", ""),
    ("Activation", ""),
    ("", ""),
    ("Dropout", ""),
    ("", ""),
]
IMAGE_COLUMNS = [
    ("", ""),
    ("Layer", "Kind of layer: dense, convolution or pooling (max or average)."),
    ("Size", "Neurons (dense), filters (conv) or window side in pixels (pool)."),
    ("Kernel", "Side of each convolution filter in pixels."),
    ("Stride", "Step between windows, in pixels."),
    ("Pad", "Zeros added on every side of the image before the convolution."),
    ("Activation", "Non-linearity after the layer."),
    ("BN", "Batch normalization before the activation."),
    ("Output", "Shape this layer produces: channels×height×width, or neurons."),
    ("", ""),
]
OUTPUT_TIP = IMAGE_COLUMNS[8][1]
ERROR_STYLE = "color: #d03030;"


def format_shape(shape: Sequence[int]) -> str:
    """``(16, 24, 24)`` -> ``"16×24×24"``; ``(100,)`` -> ``"100"``."""
    return "×".join(map(str, shape))


class LayerRow:
    """The widgets of one hidden layer; only those its kind uses are created."""

    def __init__(
        self,
        settings: LayerSettings,
        edited: Callable[[], None],
        remove: Callable[[LayerRow], None],
    ) -> None:
        """``edited()`` is called when a control changes, ``remove(row)`` by the row's ✕."""
        self.base = settings  # keeps the fields this kind does not edit
        self.number = QLabel()
        self.output = QLabel()
        self.output.setToolTip(OUTPUT_TIP)
        self.kind_label: QLabel | None = None
        self.pool_type: QComboBox | None = None
        self.units: QSpinBox | None = None
        self.filters: QSpinBox | None = None
        self.kernel: QSpinBox | None = None
        self.stride: QSpinBox | None = None
        self.padding: QSpinBox | None = None
        self.size: QSpinBox | None = None
        self.activation: QComboBox | None = None
        self.batchnorm: QCheckBox | None = None
        self.dropout: QDoubleSpinBox | None = None
        if settings.kind in ("maxpool", "avgpool"):
            self.pool_type = choice_box(
                POOL_TYPES,
                "Pooling keeps one value per window: it shrinks the image (fewer weights "
                "after it) and makes features tolerant to small shifts. Nothing to learn.",
            )
            self.pool_type.setCurrentIndex(self.pool_type.findData(settings.kind))
            self.pool_type.currentIndexChanged.connect(edited)
            self.size = self._spin(
                edited,
                1,
                MAX_POOL,
                settings.size,
                "Window side in pixels: 2 halves the height and width.",
            )
            self.stride = self._spin(
                edited,
                0,
                MAX_STRIDE,
                settings.stride or 0,
                "Step between windows; auto: the window size, so windows do not overlap.",
                arrows=False,
            )
            self.stride.setSpecialValueText("auto")
        else:
            self.kind_label = QLabel(settings.kind)
            self.kind_label.setToolTip(KIND_TIPS.get(settings.kind, ""))
            if settings.kind == "conv":
                self._conv_widgets(edited, settings)
            else:
                self.units = self._spin(
                    edited,
                    1,
                    MAX_UNITS,
                    settings.units,
                    "Neurons in this layer: more neurons can fit more complex shapes "
                    "(and overfit noise).",
                )
            self.activation = choice_box(
                [(a, a, ACTIVATION_TIPS[a]) for a in HIDDEN_ACTIVATIONS], ""
            )
            self.activation.setCurrentIndex(HIDDEN_ACTIVATIONS.index(settings.activation))
            self._activation_tip()
            self.activation.currentIndexChanged.connect(edited)
            self.activation.currentIndexChanged.connect(lambda _: self._activation_tip())
            self.batchnorm = QCheckBox("BN")
            self.batchnorm.setChecked(settings.batchnorm)
            self.batchnorm.setToolTip(
                "Batch normalization before the activation: keeps each "
                + ("channel's" if settings.kind == "conv" else "unit's")
                + " input centred and scaled, which often allows larger learning rates."
            )
            self.batchnorm.toggled.connect(edited)
        if settings.kind == "dense":
            self.dropout = dspin(
                Limits(0.0, MAX_DROPOUT),
                0.05,
                2,
                "Dropout rate after this layer: randomly "
                "silences units while training, which fights overfitting.",
            )
            self.dropout.setValue(settings.dropout)
            self.dropout.valueChanged.connect(edited)
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("Remove this layer.")
        self.remove.clicked.connect(lambda: remove(self))

    def _conv_widgets(self, edited: Callable[[], None], settings: LayerSettings) -> None:
        self.filters = self._spin(
            edited,
            1,
            MAX_FILTERS,
            settings.filters,
            "Filters (output channels): each learns one pattern. More filters see more kinds "
            "of pattern, at more weights and time.",
        )
        self.kernel = self._spin(
            edited,
            1,
            MAX_KERNEL,
            settings.kernel,
            "Kernel: each filter looks at a square this many pixels wide. Larger kernels see "
            "bigger patterns with more weights; stacked small ones see as far more cheaply.",
            arrows=False,
        )
        self.stride = self._spin(
            edited,
            1,
            MAX_STRIDE,
            settings.stride or 1,
            "Stride: pixels the filter moves per step. 2 halves the output size: cheaper, "
            "but coarser.",
            arrows=False,
        )
        self.padding = self._spin(
            edited,
            0,
            MAX_PADDING,
            settings.padding,
            "Padding: zeros added around the image. (kernel − 1) / 2 keeps the size, so "
            "border pixels count as much as the centre.",
            arrows=False,
        )

    @staticmethod
    def _spin(
        edited: Callable[[], None], lo: int, hi: int, value: int, tip: str, arrows: bool = True
    ) -> QSpinBox:
        w = spin(lo, hi, tip)
        w.setValue(value)
        if not arrows:  # small numbers: typing or the wheel is enough, and rows stay narrow
            w.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
            w.setAlignment(Qt.AlignmentFlag.AlignRight)
        w.valueChanged.connect(edited)
        return w

    def _activation_tip(self) -> None:
        self.activation.setToolTip(
            "This layer's activation function: " + ACTIVATION_TIPS[self.activation.currentData()]
        )

    @property
    def kind(self) -> str:
        return self.pool_type.currentData() if self.pool_type is not None else self.base.kind

    def cells(self, image: bool) -> list[tuple[QWidget, int, int]]:
        """``(widget, column, column span)`` in the grid of :data:`DENSE_COLUMNS` or
        :data:`IMAGE_COLUMNS`. A dense row's dropout takes the columns only conv rows use."""
        if not image:
            line = [self.number, self.units, self.activation, self.batchnorm, self.dropout]
            return [(w, c, 1) for c, w in enumerate([*line, self.remove])]
        size = next(w for w in (self.units, self.filters, self.size) if w is not None)
        cells = [(self.number, 0, 1), (self.kind_label or self.pool_type, 1, 1), (size, 2, 1)]
        if self.kernel is not None:
            cells += [(self.kernel, 3, 1), (self.stride, 4, 1), (self.padding, 5, 1)]
        elif self.stride is not None:
            cells.append((self.stride, 4, 1))
        if self.dropout is not None:
            cells.append((self.dropout, 3, 3))
        if self.activation is not None:
            cells += [(self.activation, 6, 1), (self.batchnorm, 7, 1)]
        return [*cells, (self.output, 8, 1), (self.remove, 9, 1)]

    def widgets(self) -> list[QWidget]:
        return [w for w, _, _ in self.cells(True)]

    def set_image_mode(self, image: bool) -> None:
        """The image grid names BN and dropout in its head and cells instead."""
        if self.batchnorm is not None:
            self.batchnorm.setText("" if image else "BN")
        if self.dropout is not None:  # spans the narrow conv columns there, so no arrows
            self.dropout.setPrefix("dropout " if image else "")
            self.dropout.setButtonSymbols(
                QSpinBox.ButtonSymbols.NoButtons if image else QSpinBox.ButtonSymbols.UpDownArrows
            )

    def settings(self) -> LayerSettings:
        values: dict = {"kind": self.kind}
        if self.units is not None:
            values["units"] = self.units.value()
        if self.filters is not None:
            values.update(
                filters=self.filters.value(),
                kernel=self.kernel.value(),
                stride=self.stride.value(),
                padding=self.padding.value(),
            )
        if self.size is not None:
            values.update(size=self.size.value(), stride=self.stride.value() or None)
        if self.activation is not None:
            values.update(
                activation=self.activation.currentData(), batchnorm=self.batchnorm.isChecked()
            )
        if self.dropout is not None:
            values["dropout"] = round(self.dropout.value(), 4)
        return replace(self.base, **values)

    def show_shape(self, shape: Sequence[int] | None, problem: str = "") -> None:
        """The row's output shape, or (``problem``) mark the row as the one that cannot work."""
        style = ERROR_STYLE if problem else ""
        self.number.setStyleSheet(style)
        self.output.setStyleSheet(style)
        self.output.setText("✕" if problem else format_shape(shape) if shape else "–")
        self.output.setToolTip(problem or OUTPUT_TIP)
        self.number.setToolTip(problem)

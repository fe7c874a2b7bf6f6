"""The Lab's Activations page: each activation of the engine and its derivative, computed by the
engine's own forward and backward (:mod:`core.lab.activation_curves`), the saturated regions
shaded, a second activation overlaid for comparison."""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from core.activations import ACTIVATIONS
from core.lab.activation_curves import SATURATION, ActivationCurve, activation_curve
from playground.lab.controls import choice_box, control_row
from playground.lab.page import LabPage, main
from playground.views.curves_view import key_label

#: Names in the choice boxes, in the engine's order.
NAMES = {
    "identity": "Identity",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "leaky_relu": "Leaky ReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU (swish)",
    "softplus": "Softplus",
    "sine": "Sine",
    "softmax": "Softmax (1 logit of 10)",
}
MAIN_PEN = pg.mkPen((8, 119, 189), width=2)
OVERLAY_PEN = pg.mkPen((245, 147, 34), width=2)
SHADE = pg.mkBrush(8, 119, 189, 55)
SHADE_EDGE = pg.mkPen(8, 119, 189, 90)
LABEL_COLOR = (130, 130, 130)
AXIS_PEN = pg.mkPen(128, 128, 128, 110, width=1)
THRESHOLD_PEN = pg.mkPen(130, 130, 130, 160, style=Qt.PenStyle.DashLine)
#: A saturated region gets its label when at least this fraction of the plot wide.
LABELLED_WIDTH = 0.12
POINTS = 601


class ActivationsPage(LabPage):
    """Two plots, f(x) and f′(x), with the controls above them."""

    title = "Activations"
    explanation = (
        "<p>An <b>activation</b> f bends each neuron's weighted sum x into its output f(x); its "
        "<b>derivative</b> f′(x) decides how much gradient flows back through the neuron. "
        "By the chain rule, backpropagation multiplies the gradient by f′ at every layer:</p>"
        "<p align='center'>∂L/∂x&nbsp;=&nbsp;∂L/∂y&nbsp;·&nbsp;f′(x)</p>"
        "<p>so where f′ is close to 0 (the shaded <i>saturated</i> regions, where f′(x) lies "
        "between −0.05 and 0.05) almost nothing comes back, and after a few saturated layers "
        "the gradient has vanished. "
        "The sigmoid saturates beyond x&nbsp;=&nbsp;±2.9, tanh beyond ±2.2:</p>"
        "<p align='center'>σ′(x)&nbsp;=&nbsp;σ(x)&nbsp;(1&nbsp;−&nbsp;σ(x))&nbsp;≤&nbsp;0.25</p>"
        "<p>ReLU passes the gradient unchanged for x &gt; 0 (f′ = 1) and none for x &lt; 0, "
        "where a unit can “die”; Leaky ReLU and ELU keep a slope α there. Softmax turns a vector "
        "of logits into probabilities; here one logit x among ten whose nine others are 0, "
        "p&nbsp;=&nbsp;e<sup>x</sup>&nbsp;/&nbsp;(e<sup>x</sup>&nbsp;+&nbsp;9), "
        "a sigmoid shifted by ln&nbsp;9.</p>"
    )

    #: emitted after both plots show the current choices
    redrawn = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.activation = choice_box(NAMES, "sigmoid")
        self.activation.setToolTip("The activation drawn in blue, its saturated regions shaded.")
        self.overlay = choice_box({"none": "(none)", **NAMES}, "tanh")
        self.overlay.setToolTip("A second activation, drawn in orange, to compare with.")
        self.alphas = {
            "leaky_relu": self._number(0.1, ACTIVATIONS["leaky_relu"].max_alpha, 0.01, 2),
            "elu": self._number(1.0, ACTIVATIONS["elu"].max_alpha, 0.1, 2),
        }
        self.alphas["leaky_relu"].setToolTip("Leaky ReLU's slope α for x < 0 (the engine's: 0.01).")
        self.alphas["elu"].setToolTip("ELU's α: the curve levels off at −α for large negative x.")
        self.span = self._number(6.0, 20.0, 1.0, 1, low=1.0)
        self.span.setToolTip("Draw x from −this to +this.")
        self.value_plot, self.slope_plot = self._plot("f(x)"), self._plot("f′(x)")
        self.value_curve = self.value_plot.plot(pen=MAIN_PEN)
        self.slope_curve = self.slope_plot.plot(pen=MAIN_PEN)
        self.overlay_value = self.value_plot.plot(pen=OVERLAY_PEN)
        self.overlay_slope = self.slope_plot.plot(pen=OVERLAY_PEN)
        for level in (SATURATION, -SATURATION):  # the saturation threshold
            self.slope_plot.addLine(y=level, pen=THRESHOLD_PEN)
        #: per saturated region: its shade in each plot and its label
        self._regions: list[tuple[pg.LinearRegionItem, pg.LinearRegionItem, pg.TextItem]] = []
        self.key = QLabel()
        self.key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.saturation_note = QLabel()
        self.saturation_note.setWordWrap(True)
        self.curves: tuple[ActivationCurve, ActivationCurve | None] | None = None
        self._lay_out()
        for box in (self.activation, self.overlay):
            box.currentIndexChanged.connect(self.redraw)
        for spin in (*self.alphas.values(), self.span):
            spin.valueChanged.connect(self.redraw)
        self.redraw()

    # -- construction ----------------------------------------------------------------------------
    @staticmethod
    def _number(
        value: float, high: float, step: float, decimals: int, low: float = 0.0
    ) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setDecimals(decimals)
        spin.setSingleStep(step)
        spin.setValue(value)
        return spin

    @staticmethod
    def _plot(label: str) -> pg.PlotWidget:
        plot = pg.PlotWidget()
        plot.setLabel("left", label)
        plot.setLabel("bottom", "x")
        # Axes through the origin instead of a grid: they say more here, and a grid's many
        # antialiased lines were half the time of a redraw.
        plot.addLine(x=0.0, pen=AXIS_PEN)
        plot.addLine(y=0.0, pen=AXIS_PEN)
        plot.setMenuEnabled(False)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        return plot

    def _lay_out(self) -> None:
        controls = control_row(
            [
                ("Activation", self.activation),
                ("Compare with", self.overlay),
                ("Leaky ReLU α", self.alphas["leaky_relu"]),
                ("ELU α", self.alphas["elu"]),
                ("x range ±", self.span),
            ]
        )
        plots = QHBoxLayout()
        plots.addWidget(self.value_plot)
        plots.addWidget(self.slope_plot)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.key)
        layout.addLayout(plots, 1)
        layout.addWidget(self.saturation_note)

    # -- drawing ---------------------------------------------------------------------------------
    def _curve(self, name: str) -> ActivationCurve:
        span = self.span.value()
        alpha = self.alphas[name].value() if name in self.alphas else None
        return activation_curve(name, (-span, span), POINTS, alpha)

    def redraw(self) -> None:
        """Recompute both activations with the engine and redraw the plots."""
        first = self._curve(self.activation.currentData())
        other_name = self.overlay.currentData()
        second = self._curve(other_name) if other_name != "none" else None
        self.curves = (first, second)
        chosen = {first.name, other_name}
        for name, spin in self.alphas.items():
            spin.setEnabled(name in chosen)
        self.value_curve.setData(first.x, first.y)
        self.slope_curve.setData(first.x, first.dy)
        for item, values in ((self.overlay_value, "y"), (self.overlay_slope, "dy")):
            item.setVisible(second is not None)
            if second is not None:
                item.setData(second.x, getattr(second, values))
        both = [c for c in (first, second) if c is not None]
        for plot, values in ((self.value_plot, "y"), (self.slope_plot, "dy")):
            plot.setXRange(first.x[0], first.x[-1], padding=0.0)
            lo = min(float(getattr(c, values).min()) for c in both)
            hi = max(float(getattr(c, values).max()) for c in both)
            plot.setYRange(min(lo, 0.0), max(hi, lo + 0.1), padding=0.06)
        self._shade(first)
        names = [(NAMES[first.name], MAIN_PEN)]
        if second is not None:
            names.append((NAMES[second.name], OVERLAY_PEN))
        self.key.setText(key_label(names))
        self.saturation_note.setText(saturation_text(first))
        self.redrawn.emit()

    def _shade(self, curve: ActivationCurve) -> None:
        """Shade ``curve``'s saturated regions in both plots; label the wide ones."""
        while len(self._regions) < len(curve.saturated):
            self._regions.append(self._region())
        top = self.slope_plot.getViewBox().viewRange()[1][1]
        width = float(curve.x[-1] - curve.x[0])
        for i, (in_values, in_slopes, label) in enumerate(self._regions):
            shown = i < len(curve.saturated)
            for item in (in_values, in_slopes, label):
                item.setVisible(shown)
            if not shown:
                continue
            start, end = curve.saturated[i]
            in_values.setRegion((start, end))
            in_slopes.setRegion((start, end))
            label.setVisible(end - start >= LABELLED_WIDTH * width)
            label.setPos((start + end) / 2, top)

    def shaded(self) -> list[tuple[float, float]]:
        """The saturated regions shaded in the plots now, as ``(start, end)`` in x."""
        return [
            tuple(float(v) for v in shade.getRegion())
            for _, shade, _ in self._regions
            if shade.isVisible()
        ]

    def _region(self) -> tuple[pg.LinearRegionItem, pg.LinearRegionItem, pg.TextItem]:
        shades = []
        for plot in (self.value_plot, self.slope_plot):
            shade = pg.LinearRegionItem(movable=False, brush=SHADE, pen=SHADE_EDGE)
            shade.setZValue(-10)
            plot.addItem(shade)
            shades.append(shade)
        label = pg.TextItem(f"saturated\n|f′| < {SATURATION}", color=LABEL_COLOR, anchor=(0.5, 0))
        self.slope_plot.addItem(label)
        return shades[0], shades[1], label


def saturation_text(curve: ActivationCurve) -> str:
    """One sentence saying where ``curve`` saturates, for the note under the plots."""
    head = f"{NAMES[curve.name]} saturates (|f′(x)| < {SATURATION})"
    if not curve.saturated:
        return f"{head} nowhere in this range: the gradient passes back at every x."
    if len(curve.saturated) > 4:
        return f"{head} in {len(curve.saturated)} narrow bands."
    lo, hi = curve.x[0], curve.x[-1]
    parts = []
    for start, end in curve.saturated:
        if start == lo and end == hi:
            parts.append("everywhere in this range")
        elif start == lo:
            parts.append(f"for x ≤ {_number(end)}")
        elif end == hi:
            parts.append(f"for x ≥ {_number(start)}")
        else:
            parts.append(f"for {_number(start)} ≤ x ≤ {_number(end)}")
    return f"{head} {' and '.join(parts)}: little gradient flows back there."


def _number(value: float) -> str:
    """``value`` with two decimals and a true minus sign."""
    return f"{value:.2f}".replace("-", "−")


if __name__ == "__main__":
    sys.exit(main(ActivationsPage))

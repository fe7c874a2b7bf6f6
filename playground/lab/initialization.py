"""The Lab's Initialization page: 1,000 random inputs through 5 layers of 100 units of the
engine's network, one histogram of each layer's activations, for a weight scale and an
activation chosen live (:mod:`core.lab.init_stats`)."""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.lab.init_stats import (
    LAYERS,
    RANGES,
    SAMPLES,
    UNITS,
    LayerHistogram,
    activation_histograms,
)
from playground.lab.controls import choice_box, control_row
from playground.lab.page import LabPage, main
from playground.lab.widgets import significant

#: The weight choices as the box shows them (n = 100 inputs per unit).
INIT_NAMES = {
    "std 1": "std 1",
    "std 0.01": "std 0.01",
    "Xavier": "Xavier (Glorot): √(1/n)",
    "He": "He: √(2/n)",
}
ACTIVATION_NAMES = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU"}
BAR_PEN = pg.mkPen(8, 119, 189, 220, width=1)
BAR_BRUSH = pg.mkBrush(8, 119, 189, 190)


class InitializationPage(LabPage):
    """Five histograms side by side with each layer's mean and std beneath."""

    title = "Initialization and activation distributions"
    explanation = (
        "<p>Each unit sums n weighted inputs; for independent weights and inputs of mean 0 the "
        "variance of that sum is</p>"
        "<p align='center'><b>Var(y)&nbsp;=&nbsp;n&nbsp;·&nbsp;Var(w)&nbsp;·&nbsp;Var(x)</b></p>"
        "<p>So every layer multiplies the spread of the signal by about n·Var(w): below 1 the "
        "activations shrink towards 0 layer after layer (std 0.01), above 1 they grow until "
        "sigmoid and tanh sit at their flat, saturated ends (std 1), and either way the "
        "gradients flowing back through the same weights vanish. <b>Xavier</b> (Glorot) "
        "initialization makes n·Var(w) = 1, which keeps the spread for tanh; ReLU zeroes half "
        "its inputs and so halves the variance, and <b>He</b> initialization doubles Var(w) to "
        "make up for it:</p>"
        "<p align='center'>Xavier:&nbsp;std&nbsp;=&nbsp;√(1/n)"
        "&nbsp;&nbsp;&nbsp;&nbsp;He:&nbsp;std&nbsp;=&nbsp;√(2/n)</p>"
        f"<p>Here {SAMPLES:,} random inputs pass through {LAYERS} layers of "
        f"n&nbsp;=&nbsp;{UNITS} units of the engine's network; each histogram shows one "
        "layer's activations.</p>"
    )

    #: emitted after the histograms show the current choices
    redrawn = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.init = choice_box(INIT_NAMES, "Xavier")
        self.init.setToolTip("How the weights are drawn: a fixed spread, or scaled by n.")
        self.activation = choice_box(ACTIVATION_NAMES, "tanh")
        self.activation.setToolTip("The activation after every layer.")
        self.seed = QSpinBox()
        self.seed.setRange(0, 9999)
        self.seed.setToolTip("Another seed draws other inputs and weights.")
        self.plots: list[pg.PlotWidget] = []
        self.bars: list[pg.PlotDataItem] = []
        self.stats: list[QLabel] = []
        for i in range(LAYERS):
            plot = self._histogram_plot(i + 1, self.plots[0] if i else None)
            self.plots.append(plot)
            self.bars.append(
                plot.plot(stepMode="center", fillLevel=0, pen=BAR_PEN, brush=BAR_BRUSH)
            )
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            # new numbers never resize the plots (a relayout repaints all five)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            self.stats.append(label)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.histograms: list[LayerHistogram] = []
        self._lay_out()
        for box in (self.init, self.activation):
            box.currentIndexChanged.connect(self.redraw)
        self.seed.valueChanged.connect(self.redraw)
        self.redraw()

    @staticmethod
    def _histogram_plot(layer: int, first: pg.PlotWidget | None) -> pg.PlotWidget:
        """Layer ``layer``'s plot; after the first, sharing its y axis without the numbers."""
        plot = pg.PlotWidget(title=f"Layer {layer}")
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.getAxis("bottom").enableAutoSIPrefix(False)
        if first is None:
            plot.setLabel("left", "share of activations")
        else:
            plot.setYLink(first)
            plot.getAxis("left").setStyle(showValues=False)
        return plot

    def _lay_out(self) -> None:
        controls = control_row(
            [("Weights", self.init), ("Activation", self.activation), ("Seed", self.seed)]
        )
        grid = QGridLayout()
        grid.setHorizontalSpacing(4)
        for i, (plot, label) in enumerate(zip(self.plots, self.stats, strict=True)):
            grid.addWidget(plot, 0, i)
            grid.addWidget(label, 1, i)
            grid.setColumnStretch(i, 1)
        grid.setRowStretch(0, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(grid, 1)
        layout.addWidget(self.summary)

    def redraw(self) -> None:
        """Run the experiment with the engine for the current choices and redraw."""
        init, activation = self.init.currentData(), self.activation.currentData()
        self.histograms = activation_histograms(init, activation, self.seed.value())
        lo, hi = RANGES[activation]
        top = max(float(h.fractions.max()) for h in self.histograms)
        for plot, bars, label, h in zip(
            self.plots, self.bars, self.stats, self.histograms, strict=True
        ):
            bars.setData(h.edges, h.fractions)
            plot.setXRange(lo, hi, padding=0.02)
            label.setText(stats_text(h))
        self.plots[0].setYRange(0.0, top, padding=0.05)
        first, last = self.histograms[0].std, self.histograms[-1].std
        relu = activation == "relu"
        self.summary.setText(
            f"The spread (std) goes from {significant(first)} in layer 1 to {significant(last)} in "
            f"layer {LAYERS}, {significant(last / first)} times layer 1's. Each histogram: the "
            f"share of a layer's {SAMPLES * UNITS:,} activations ({SAMPLES:,} inputs × {UNITS} "
            "units) per value; values beyond the range drawn count in its end bins."
            + (" ReLU gives exactly 0 for about half: the tall first bin." if relu else "")
        )
        self.redrawn.emit()


def stats_text(h: LayerHistogram) -> str:
    """The line under a histogram: the layer's mean and standard deviation."""
    return f"mean {significant(h.mean)}   std {significant(h.std)}"


if __name__ == "__main__":
    sys.exit(main(InitializationPage))

"""Per-layer statistics: weight and bias histograms of a chosen layer, and for every layer its
gradient norm and dead-unit fraction."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.training.snapshot import Snapshot

WEIGHT_BRUSH = pg.mkBrush(8, 119, 189, 170)
BIAS_BRUSH = pg.mkBrush(245, 147, 34, 170)


def histogram(values: np.ndarray, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Edges ``(bins + 1,)`` and counts ``(bins,)`` of the finite values."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.array([0.0, 1.0]), np.array([0.0])
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return edges, counts.astype(float)


class StatsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer = QComboBox()
        self.layer.setToolTip("The layer whose weights and biases the histogram shows.")
        self.layer.currentIndexChanged.connect(self._refresh_hist)
        self.hist_plot = pg.PlotWidget()
        self.hist_plot.setLabel("bottom", "value")
        self.hist_plot.setLabel("left", "count")
        self.hist_plot.setMenuEnabled(False)
        self.weights = self.hist_plot.plot(
            stepMode="center", fillLevel=0, brush=WEIGHT_BRUSH, pen=None, name="weights"
        )
        self.biases = self.hist_plot.plot(
            stepMode="center", fillLevel=0, brush=BIAS_BRUSH, pen=None, name="biases"
        )
        self.grad_plot = pg.PlotWidget()
        self.grad_plot.setLabel("left", "gradient norm")
        self.grad_plot.setLabel("bottom", "layer")
        self.grad_plot.setMenuEnabled(False)
        self.grad_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=WEIGHT_BRUSH)
        self.grad_plot.addItem(self.grad_bars)
        self.dead_plot = pg.PlotWidget()
        self.dead_plot.setLabel("left", "dead units")
        self.dead_plot.setLabel("bottom", "hidden layer")
        self.dead_plot.setYRange(0, 1, padding=0.02)
        self.dead_plot.setMenuEnabled(False)
        self.dead_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=BIAS_BRUSH)
        self.dead_plot.addItem(self.dead_bars)
        for plot in (self.grad_plot, self.dead_plot):
            plot.getAxis("bottom").enableAutoSIPrefix(False)  # layer numbers, not quantities
        # Plain tick values: a scale note such as "(x0.001)" after the label gets cut off.
        self.grad_plot.getAxis("left").enableAutoSIPrefix(False)
        self.grad_plot.setToolTip(
            "Size of each layer's gradient at the last step: vanishing "
            "(near 0) or exploding gradients show here."
        )
        self.dead_plot.setToolTip(
            "Fraction of each hidden layer's units that output exactly 0 "
            "for every training sample (dead ReLUs never recover)."
        )
        self._snap: Snapshot | None = None
        top = QHBoxLayout()
        top.addWidget(QLabel("Histogram of layer"))
        top.addWidget(self.layer)
        top.addSpacing(8)
        # The key beside the choice, not over the bars.
        self.hist_key = QLabel(
            "&nbsp;&nbsp;&nbsp;".join(
                f'<span style="color:{b.color().name()}">■</span>&nbsp;{name}'
                for name, b in (("weights", WEIGHT_BRUSH), ("biases", BIAS_BRUSH))
            )
        )
        top.addWidget(self.hist_key)
        top.addStretch(1)
        plots = QHBoxLayout()
        plots.addWidget(self.hist_plot, 2)
        plots.addWidget(self.grad_plot, 1)
        plots.addWidget(self.dead_plot, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addLayout(plots, 1)

    def set_layers(self, names: list[tuple[int, str]]) -> None:
        """The trainable layers: (index in the spec, label)."""
        self.layer.blockSignals(True)
        self.layer.clear()
        for index, label in names:
            self.layer.addItem(label, index)
        self.layer.blockSignals(False)
        self.grad_plot.getAxis("bottom").setTicks([[(i, str(i + 1)) for i in range(len(names))]])

    def show_snapshot(self, snap: Snapshot) -> None:
        self._snap = snap
        self._refresh_hist()
        layers = [self.layer.itemData(i) for i in range(self.layer.count())]
        norms = [snap.grad_norms.get(i, 0.0) for i in layers]
        self.grad_bars.setOpts(x=np.arange(len(norms)), height=np.nan_to_num(norms))
        dead_layers = sorted(snap.dead_fraction)
        self.dead_bars.setOpts(
            x=np.arange(len(dead_layers)), height=[snap.dead_fraction[i] for i in dead_layers]
        )
        self.dead_plot.getAxis("bottom").setTicks(
            [[(k, str(k + 1)) for k in range(len(dead_layers))]]
        )

    def _refresh_hist(self) -> None:
        snap = self._snap
        index = self.layer.currentData()
        if snap is None or index is None:
            return
        for curve, name in ((self.weights, "W"), (self.biases, "b")):
            values = snap.weights.get(f"{index}.{name}")
            if values is None:
                curve.setData([], [])
                continue
            edges, counts = histogram(values.ravel())
            curve.setData(edges, counts)

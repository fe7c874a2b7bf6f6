"""Loss and accuracy per epoch, train and test, with a log-scale toggle for the loss."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from core.training import Snapshot

TRAIN_PEN = pg.mkPen((8, 119, 189), width=2)
TEST_PEN = pg.mkPen((245, 147, 34), width=2)


class CurvesView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget()
        self.acc_plot = pg.PlotWidget()
        for plot, label in ((self.loss_plot, "loss"), (self.acc_plot, "accuracy")):
            plot.setLabel("left", label)
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.addLegend(offset=(-6, 6))
            plot.setMenuEnabled(False)
        self.acc_plot.setYRange(0, 1.0, padding=0.02)
        # Toy sets run hundreds of epochs a second: draw at most a few points per pixel.
        fast = {
            "autoDownsample": True,
            "downsampleMethod": "peak",
            "clipToView": True,
            "skipFiniteCheck": True,
        }
        self.train_loss = self.loss_plot.plot(pen=TRAIN_PEN, name="train", **fast)
        self.test_loss = self.loss_plot.plot(pen=TEST_PEN, name="test", **fast)
        self.train_acc = self.acc_plot.plot(pen=TRAIN_PEN, name="train", **fast)
        self.test_acc = self.acc_plot.plot(pen=TEST_PEN, name="test", **fast)
        self.log_scale = QCheckBox("Log-scale loss")
        self.log_scale.setToolTip(
            "Plot the loss on a logarithmic axis: late, small improvements stay visible."
        )
        self.log_scale.toggled.connect(lambda on: self.loss_plot.setLogMode(y=on))
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(plots, 1)
        layout.addWidget(self.log_scale)

    def clear(self) -> None:
        for curve in (self.train_loss, self.test_loss, self.train_acc, self.test_acc):
            curve.setData([], [])

    def show_snapshot(self, snap: Snapshot) -> None:
        h = snap.history
        epochs = h["epoch"]
        for curve, key in (
            (self.train_loss, "train_loss"),
            (self.test_loss, "test_loss"),
            (self.train_acc, "train_acc"),
            (self.test_acc, "test_acc"),
        ):
            values = h[key]
            ok = np.isfinite(values)
            if key.endswith("loss") and self.log_scale.isChecked():
                ok &= values > 0
            curve.setData(epochs[ok], values[ok])
        self.acc_plot.setVisible(bool(np.isfinite(h["train_acc"]).any()) or len(epochs) == 0)

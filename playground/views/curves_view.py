"""Loss and accuracy per epoch, train and test, the per-step training loss smoothed beneath them,
kept runs overlaid in their colours (with a legend of their names), against epochs or seconds,
and a log-scale toggle for the loss."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.training.snapshot import Snapshot

TRAIN_PEN = pg.mkPen((8, 119, 189), width=2)
TEST_PEN = pg.mkPen((245, 147, 34), width=2)
STEP_PEN = pg.mkPen((128, 128, 128, 150), width=1)
#: The x-range of an empty plot (a new run): the first epochs, not the last run's.
EMPTY_EPOCHS = (0.0, 1.0)
#: The per-step curve is a trailing moving average over this fraction of its points.
SMOOTHING = 0.02
#: Longest run name in the legend (the tooltip has them whole).
LEGEND_CHARS = 24
#: The x axis: history column and label, by the choice's name.
X_AXES = {"epochs": ("epoch", "epoch"), "seconds": ("time", "seconds of training")}


def key_label(entries: list[tuple[str, QPen]]) -> str:
    """Rich text naming each curve in its colour (a key above the plot, never over the data)."""
    parts = []
    for name, pen in entries:
        color = pen.color()
        dash = "┅" if pen.style() == Qt.PenStyle.DashLine else "━"
        name = html.escape(name)  # a run's name is the user's text, never markup
        parts.append(f'<span style="color:{color.name()}">{dash}</span>&nbsp;{name}')
    return "&nbsp;&nbsp;&nbsp;".join(parts)


def smoothed(values: np.ndarray, fraction: float = SMOOTHING) -> np.ndarray:
    """Trailing moving average over ``fraction`` of the points (at least one): each point is
    the mean of itself and the ones just before it, so the curve never looks ahead."""
    k = max(1, int(len(values) * fraction))
    if k == 1:
        return values
    c = np.cumsum(np.concatenate([[0.0], values]))
    out = np.empty(len(values))
    out[k - 1 :] = (c[k:] - c[:-k]) / k
    out[: k - 1] = c[1:k] / np.arange(1, k)
    return out


def thinned(x: np.ndarray, y: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` ``(n,)`` each as at most ``points`` points, each the mean of the neighbouring
    points it covers: a long history drawn at about one point per pixel.

    Toy sets run hundreds of epochs a second: drawn whole, 40,000 epochs took 1.5 s a refresh.
    Means, since peaks zigzag (stroking 2-px antialiased zigzags cost ~30 ms a refresh at 3,000
    epochs). Thinned here rather than by pyqtgraph's automatic downsampling, which follows the
    view's range: with the range following the data, the two chased each other and the window
    repainted without end."""
    k = -(-len(x) // max(1, points))  # points per mean
    if k <= 1:
        return x, y
    starts = np.arange(0, len(x), k)
    counts = np.diff(np.r_[starts, len(x)])
    return np.add.reduceat(x, starts) / counts, np.add.reduceat(y, starts) / counts


def elided(name: str, limit: int = LEGEND_CHARS) -> str:
    """``name``, cut to ``limit`` characters with "…" if longer."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


class CurvesView(QWidget):
    """The two plots with their keys; the log-scale toggle is made here but shown by
    :meth:`with_options`, outside the view, so an exported picture holds only the plots."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget()
        self.acc_plot = pg.PlotWidget()
        for plot, label in ((self.loss_plot, "loss"), (self.acc_plot, "accuracy")):
            plot.setLabel("left", label)
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMenuEnabled(False)
            # Plain tick values: a scale note such as "(x0.001)" is cut off in a narrow plot.
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.acc_plot.setYRange(0, 1.0, padding=0.02)
        fast = {"skipFiniteCheck": True}
        self.step_loss = self.loss_plot.plot(pen=STEP_PEN, name="per step", **fast)
        self.train_loss = self.loss_plot.plot(pen=TRAIN_PEN, name="train", **fast)
        self.test_loss = self.loss_plot.plot(pen=TEST_PEN, name="test", **fast)
        self.train_acc = self.acc_plot.plot(pen=TRAIN_PEN, name="train", **fast)
        self.test_acc = self.acc_plot.plot(pen=TEST_PEN, name="test", **fast)
        self.loss_key = QLabel(
            key_label([("train", TRAIN_PEN), ("test", TEST_PEN), ("per step", STEP_PEN)])
        )
        self.acc_key = QLabel(key_label([("train", TRAIN_PEN), ("test", TEST_PEN)]))
        self.log_scale = QCheckBox("Log-scale loss")
        self.log_scale.setToolTip(
            "Plot the loss on a logarithmic axis: late, small improvements stay visible."
        )
        self.log_scale.toggled.connect(lambda on: self.loss_plot.setLogMode(y=on))
        self.x_axis = QComboBox()
        for name in X_AXES:
            self.x_axis.addItem(f"x: {name}", name)
        self.x_axis.setToolTip("Plot against epochs, or against seconds of training.")
        self.x_axis.currentIndexChanged.connect(lambda _: self._x_changed())
        self._snap: Snapshot | None = None
        #: run id -> its (loss, accuracy) curves; ``overlays`` as last set
        self._overlay_items: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self._overlay_train: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}  # "both"
        self.overlays: list[tuple[str, QColor, object]] = []
        self._overlay_options: dict = {}
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.legend.hide()
        # Each plot under its key in a column; equal stretch, so a plot hidden for a regression
        # run comes back at its share of the width.
        self.acc_column = QWidget()
        plots = QHBoxLayout()
        for column, plot, key in (
            (QWidget(), self.loss_plot, self.loss_key),
            (self.acc_column, self.acc_plot, self.acc_key),
        ):
            key.setAlignment(Qt.AlignmentFlag.AlignCenter)
            inner = QVBoxLayout(column)
            inner.setContentsMargins(0, 0, 0, 0)
            inner.setSpacing(0)
            inner.addWidget(key)
            inner.addWidget(plot, 1)
            plots.addWidget(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(plots, 1)
        layout.addWidget(self.legend)
        self._reset_ranges()

    def with_options(self) -> QWidget:
        """This view with its log-scale toggle and x-axis choice below it, for a window's
        layout."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self, 1)
        options = QHBoxLayout()
        options.setContentsMargins(0, 0, 0, 0)
        options.addWidget(self.log_scale)
        options.addStretch(1)
        options.addWidget(self.x_axis)
        layout.addLayout(options)
        return box

    @property
    def x_column(self) -> str:
        """The history column on the x axis ("epoch" or "time")."""
        return X_AXES[self.x_axis.currentData()][0]

    def _x_changed(self) -> None:
        for plot in (self.loss_plot, self.acc_plot):
            plot.setLabel("bottom", X_AXES[self.x_axis.currentData()][1])
        if self._snap is not None:
            self.show_snapshot(self._snap)
        self.set_overlays(self.overlays, **self._overlay_options)

    def _reset_ranges(self) -> None:
        """An empty plot shows the first epochs, then follows the data again."""
        for plot in (self.loss_plot, self.acc_plot):
            plot.setXRange(*EMPTY_EPOCHS, padding=0.02)
            plot.enableAutoRange(x=True)
        self.loss_plot.enableAutoRange(y=True)

    def clear(self) -> None:
        for curve in (
            self.step_loss,
            self.train_loss,
            self.test_loss,
            self.train_acc,
            self.test_acc,
        ):
            curve.setData([], [])
        self._snap = None
        self._reset_ranges()

    def set_overlays(
        self,
        runs: list[tuple[str, QColor, object]],
        *,
        curves: str = "test",
        width: int = 1,
        legend: bool = True,
    ) -> None:
        """Overlay kept runs: (name, colour, record) each, the record a
        :class:`core.runs.RunRecord`; each run's test loss and accuracy (its training ones
        when it has no test set) in its colour, named in the legend below the plots (unless
        ``legend`` is False). ``curves``: "test" (so), "train" (the training curves instead) or
        "both" (the test curves, and the training curves dashed: how far apart they drift);
        ``width``: the lines' pixels."""
        self.overlays = list(runs)
        self._overlay_options = {"curves": curves, "width": width, "legend": legend}
        ids = {record.id for _, _, record in runs}
        self._drop_overlays(self._overlay_items, ids)
        self._drop_overlays(self._overlay_train, ids if curves == "both" else set())
        for _, color, record in runs:
            # thin and cosmetic: 20 antialiased 2-px overlays made each repaint ~20 times
            # slower (benchmarks/runs_overlay.py); the live run stays bold
            pen = pg.mkPen(color, width=width, cosmetic=True)
            self._overlay(
                self._overlay_items, record, pen, "train" if curves == "train" else "test"
            )
            if curves == "both":
                dash = pg.mkPen(color, width=width, cosmetic=True, style=Qt.PenStyle.DashLine)
                self._overlay(self._overlay_train, record, dash, "train")
        self.legend.setText(key_label([(elided(name), pg.mkPen(color)) for name, color, _ in runs]))
        drawn = {
            "test": "their test curves (training curves without a test set)",
            "train": "their training curves",
            "both": "their test curves, and their training curves dashed",
        }[curves]
        self.legend.setToolTip(
            f"Kept runs, {drawn}:<br>"
            + key_label([(name, pg.mkPen(color)) for name, color, _ in runs]).replace(
                "&nbsp;&nbsp;&nbsp;", "<br>"
            )
        )
        self.legend.setVisible(bool(runs) and legend)

    def _drop_overlays(self, items: dict, keep: set[str]) -> None:
        for run_id in set(items) - keep:
            loss, acc = items.pop(run_id)
            self.loss_plot.removeItem(loss)
            self.acc_plot.removeItem(acc)

    def _overlay(self, items: dict, record, pen: QPen, kind: str) -> None:
        """Draw ``record``'s ``kind`` ("test": falling back to training without a test set,
        or "train") loss and accuracy with ``pen`` into its pair of ``items``."""
        if record.id not in items:
            items[record.id] = (self.loss_plot.plot(pen=pen), self.acc_plot.plot(pen=pen))
        log = self.log_scale.isChecked()
        for item, metric in zip(items[record.id], ("loss", "acc"), strict=True):
            item.setPen(pen)
            x, y = record.curve(f"{kind}_{metric}", self.x_column)
            if kind == "test" and not len(x):
                x, y = record.curve(f"train_{metric}", self.x_column)
            ok = y > 0 if metric == "loss" and log else np.ones(len(y), bool)
            item.setData(x[ok], y[ok])

    def set_key(self, loss: str, acc: str | None = None) -> None:
        """Say above the plots what they show (rich text; ``acc`` defaults to ``loss``) instead
        of naming the live run's curves: a view that shows overlays only."""
        self.loss_key.setText(loss)
        self.acc_key.setText(loss if acc is None else acc)

    def show_snapshot(self, snap: Snapshot) -> None:
        self._snap = snap
        h = snap.history
        epochs = h[self.x_column]
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
            curve.setData(*thinned(epochs[ok], values[ok], self.loss_plot.width()))
        if snap.trace_loss is not None:
            loss = smoothed(snap.trace_loss)
            ok = np.isfinite(loss)
            if self.log_scale.isChecked():
                ok &= loss > 0
            steps = snap.trace_steps[ok]
            if self.x_column == "epoch":
                x = steps / snap.steps_per_epoch
            else:  # seconds at each step, between the epochs' ends (from 0 at step 0)
                at = np.r_[0, h["step"], snap.step], np.r_[0, h["time"], snap.elapsed]
                x = np.interp(steps, *at)
            self.step_loss.setData(x, loss[ok])
        self.acc_column.setVisible(bool(np.isfinite(h["train_acc"]).any()) or len(epochs) == 0)

"""Lab page 4, backprop step by step (the glass box): a small network trains on a 2D data set;
pause it, click a training point, and step through what the engine computes for that point:
the forward pass layer by layer, the loss, the backward pass layer by layer and the
optimizer's update, every number on the network's graph, the gradients as heat maps. The
gradient check compares backprop with central differences.

The run is the engine's own :class:`core.training.trainer.Trainer` (the class the engine
process trains the Plane's runs with) on a 2-4-2 network of 40 points, owned by the page and
stepped by a timer on the GUI thread a few steps at a time (a tick costs a few ms). The page
asks :func:`core.lab.backprop.explain` for the record of the chosen point from the trainer's
model and optimizer (which it leaves untouched) and draws it; the numbers are computed there.
"""

from __future__ import annotations

import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from core.data.features import grid_points
from core.data.toy2d import DOMAIN
from core.lab.backprop import (
    ACTIVATIONS,
    DATASETS,
    RATES,
    ExplainRecord,
    LayerCheck,
    explain,
    glass_trainer,
    gradient_check,
)
from core.optimizer import MAX_LR
from core.training.trainer import Trainer
from playground.lab.backprop_text import OPTIMIZER_NAMES, stage_text, stage_title
from playground.lab.controls import choice_box
from playground.lab.glass_graph import GlassGraph, stages, unit_name
from playground.lab.gradient_check_view import GradientCheckView
from playground.lab.matrix_view import MatrixView
from playground.lab.page import LabPage, main
from playground.lab.widgets import button, plane_plot, significant
from playground.views.colors import class_color, output_image

#: The run opens paused after this many epochs: the boundary has begun to form.
WARM_EPOCHS = 30
#: Play: an epoch (four steps) per tick of this many ms.
TICK_MS = 40
#: The boundary's grid points per side, and how near (data units) a click must be to a point.
RESOLUTION, PICK_RADIUS = 60, 0.8


class BackpropPage(LabPage):
    title = "Backprop, step by step"
    explanation = (
        "<p>Training needs to know how the loss L changes when each weight changes: the "
        "<b>gradient</b> ∂L/∂w. <b>Backpropagation</b> gets all of them in one pass backwards "
        "through the network, by the <b>chain rule</b>: each layer takes ∂L/∂(its output) from "
        "the layer above, multiplies it by its own slope and passes the result down.</p>"
        '<p class="formula">∂L/∂z = ∂L/∂a · f′(z)<br>∂L/∂w<sub>ij</sub> = x<sub>i</sub> · '
        "∂L/∂z<sub>j</sub><br>∂L/∂x<sub>i</sub> = Σ<sub>j</sub> w<sub>ij</sub> · "
        "∂L/∂z<sub>j</sub></p>"
        "<p>Pause the run, click a training point and press <b>Next</b> to follow it: forward "
        "through the layers (each unit's sum z and activation a), the loss, then the gradient "
        "back layer by layer (∂a and ∂z on the units, ∂L/∂W in the heat maps) and the "
        "optimizer's step Δw. Click a unit to see its numbers in the formula.</p>"
        "<p><b>Gradient check</b> measures every gradient again the slow way, nudging each "
        "weight by ±h: (L(w + h) − L(w − h)) / 2h. The two should agree to about a "
        "millionth.</p>"
    )

    #: the page has drawn the current record (or its run)
    redrawn = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.trainer: Trainer | None = None
        self.record: ExplainRecord | None = None
        self.index = 0  # the chosen training point
        self.stage_index = 0
        self.focus: dict[int, int] = {}  # weighted layer -> the unit clicked in it
        self.checks: tuple[LayerCheck, ...] | None = None
        self._drawn_steps = -1  # the trainer's steps when the boundary was drawn
        self.grid = grid_points(RESOLUTION, DOMAIN)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._build_controls()
        self._build_plane()
        self._build_box()
        self._lay_out()
        self.new_run()

    # -- building ------------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.data_box = choice_box({d: d for d in DATASETS}, "xor")
        self.data_box.setToolTip("The 2D data set: 40 training points of two classes.")
        self.activation_box = choice_box({a: a for a in ACTIVATIONS}, "tanh")
        self.activation_box.setToolTip("The activation of the 4 hidden units.")
        self.optimizer_box = choice_box(OPTIMIZER_NAMES, "sgd")
        self.optimizer_box.setToolTip(
            "The optimizer that turns gradients into steps (the last stage shows its step)."
        )
        self.rate = QDoubleSpinBox()
        self.rate.setDecimals(3)
        self.rate.setRange(0.001, MAX_LR)
        self.rate.setSingleStep(0.01)
        self.rate.setValue(RATES["sgd"])
        self.rate.setToolTip("η, the learning rate.")
        for box in (self.data_box, self.activation_box):
            box.currentIndexChanged.connect(lambda _: self.new_run())
        self.optimizer_box.currentIndexChanged.connect(lambda _: self._optimizer_chosen())
        self.rate.valueChanged.connect(self._rate_changed)
        self.play_button = button("Play", "Train on (an epoch of 4 batches per tick).")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play_toggled)
        self.step_button = button("Step", "One training step: a batch of 10 points.")
        self.step_button.clicked.connect(self.train_step)
        self.new_button = button("New run", "Start the run over from new weights.")
        self.new_button.clicked.connect(self.new_run)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.check_button = button(
            "Gradient check",
            "Compare backprop's gradient for the chosen point with central differences, "
            "weight by weight, on a float64 copy of the network.",
        )
        self.check_button.clicked.connect(self.check)
        self.check_view = GradientCheckView(layers=2)

    def _build_plane(self) -> None:
        self.plot = plane_plot(-DOMAIN, DOMAIN)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.points = pg.ScatterPlotItem(size=9, pen=pg.mkPen("w", width=1.2))
        self.chosen = pg.ScatterPlotItem(size=20, brush=None)
        for item in (self.image, self.points, self.chosen):
            self.plot.addItem(item)
        self.plot.scene().sigMouseClicked.connect(self._plane_clicked)
        self.plot.setToolTip("Click a training point to look inside the network at it.")

    def _build_box(self) -> None:
        self.back_button = button("◀ Back", "The previous stage.")
        self.next_button = button("Next ▶", "The next stage: forward, loss, backward, update.")
        self.back_button.clicked.connect(lambda: self.set_stage(self.stage_index - 1))
        self.next_button.clicked.connect(lambda: self.set_stage(self.stage_index + 1))
        self.stage_label = QLabel()
        self.stage_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stage_label.setObjectName("viewTitle")
        self.graph = GlassGraph()
        self.graph.unitClicked.connect(self._unit_clicked)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.matrices = [MatrixView(), MatrixView()]

    def _lay_out(self) -> None:
        form = QGridLayout()
        for row, (text, widget) in enumerate(
            (
                ("Data", self.data_box),
                ("Hidden", self.activation_box),
                ("Optimizer", self.optimizer_box),
                ("Rate η", self.rate),
            )
        ):
            form.addWidget(QLabel(text), row, 0)
            form.addWidget(widget, row, 1)
        form.setColumnStretch(1, 1)
        runs = QHBoxLayout()
        runs.addWidget(self.play_button)
        runs.addWidget(self.step_button)
        runs.addWidget(self.new_button)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.plot, 1)
        left.addWidget(self.status)
        left.addLayout(runs)
        left.addWidget(self.check_button)
        left.addWidget(self.check_view)
        stepper = QHBoxLayout()
        stepper.addWidget(self.back_button)
        stepper.addWidget(self.stage_label, 1)
        stepper.addWidget(self.next_button)
        heat = QHBoxLayout()
        for view in self.matrices:
            heat.addWidget(view, 0, Qt.AlignmentFlag.AlignTop)
        heat.addStretch(1)
        right = QVBoxLayout()
        right.addLayout(stepper)
        right.addWidget(self.graph, 1)
        right.addWidget(self.text)
        right.addLayout(heat)
        column = QWidget()
        column.setLayout(left)
        margins = left.contentsMargins()
        column.setMinimumWidth(self.check_view.table.width() + margins.left() + margins.right())
        layout = QHBoxLayout(self)
        layout.addWidget(column, 2)
        layout.addLayout(right, 3)

    # -- the run -------------------------------------------------------------------------------
    def new_run(self) -> None:
        """A new run of the chosen data, activation and optimizer, trained ``WARM_EPOCHS``
        epochs and paused, the point it is least sure of chosen."""
        self.play_button.setChecked(False)
        self.trainer = glass_trainer(
            self.data_box.currentData(),
            self.activation_box.currentData(),
            self.optimizer_box.currentData(),
            self.rate.value(),
        )
        t = self.trainer
        for _ in range(WARM_EPOCHS):
            t.run_epoch()
        probs = t.model.predict_proba(t.x_train)
        self.index = int(np.argmin(probs[np.arange(len(probs)), t.y_train]))
        self.focus = {}
        self._drawn_steps = -1  # a new boundary to draw
        brushes = [pg.mkBrush(*class_color(int(c))) for c in t.y_train]
        self.points.setData(x=t.x_train[:, 0], y=t.x_train[:, 1], brush=brushes)
        self.refresh()

    def _optimizer_chosen(self) -> None:
        """Go on with another optimizer (fresh state) at its usual rate, from these weights."""
        name = self.optimizer_box.currentData()
        self.rate.blockSignals(True)
        self.rate.setValue(RATES[name])
        self.rate.blockSignals(False)
        config = self.trainer.config
        self.trainer.set_config(
            type(config)(**{**config.to_dict(), "optimizer": name, "lr": RATES[name]})
        )
        self.trainer.set_lr(RATES[name])
        self.refresh()

    def _rate_changed(self, value: float) -> None:
        self.trainer.set_lr(value)
        self.refresh()

    def _play_toggled(self, on: bool) -> None:
        if on and self.trainer.divergence is not None:  # a diverged run trains no further
            self.play_button.setChecked(False)
            return
        self.play_button.setText("Pause" if on else "Play")
        if on:
            self.timer.start()
        else:
            self.timer.stop()
        self._show_status()

    def _tick(self) -> None:
        self._train(self.trainer.run_epoch)

    def train_step(self) -> None:
        """One training step (a batch), then the chosen point's record anew."""
        self._train(self.trainer.step)

    def _train(self, step) -> None:
        """Train by ``step``; a run that diverges stops (the status says why)."""
        with np.errstate(all="ignore"):  # a diverging run overflows: the status tells
            step()
        if self.trainer.divergence is not None:
            self.play_button.setChecked(False)
        self.refresh()

    def shown(self) -> None:
        self.refresh()

    def hidden(self) -> None:
        self.play_button.setChecked(False)  # stops the timer

    # -- choosing ------------------------------------------------------------------------------
    def choose_point(self, index: int) -> None:
        """Look inside the network at training point ``index`` (training pauses)."""
        self.play_button.setChecked(False)
        self.index = int(index)
        self.refresh()

    def _plane_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        distance = np.hypot(*(self.trainer.x_train - (pos.x(), pos.y())).T)
        if distance.min() <= PICK_RADIUS:
            self.choose_point(int(distance.argmin()))

    @property
    def stage(self):
        return self.stages[self.stage_index]

    @property
    def stages(self):
        return stages(len(self.record.layers))

    def set_stage(self, index: int) -> None:
        self.stage_index = int(np.clip(index, 0, len(self.stages) - 1))
        self._draw_box()

    def _unit_clicked(self, column: int, unit: int) -> None:
        self.focus[column - 1] = unit
        self._draw_box()

    def focus_unit(self, layer: int) -> int:
        """The unit of ``layer`` whose numbers the formula shows: the one clicked, else the
        output unit of the point's class, else the first."""
        if layer in self.focus:
            return self.focus[layer]
        top = layer == len(self.record.layers) - 1 and len(self.record.output) > 1
        return int(self.record.y) if top else 0

    # -- the gradient check --------------------------------------------------------------------
    def check(self) -> None:
        """Check the chosen point's gradient and fill the table."""
        t = self.trainer
        self.checks = gradient_check(t.model, t.x_train[self.index], t.y_train[self.index])
        self.check_view.show_checks(self.checks)

    # -- drawing -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """The chosen point's record from the trainer's model now, and everything drawn."""
        t = self.trainer
        self.record = explain(
            t.model, t.optimizer, t.x_train[self.index], t.y_train[self.index], lr=t.lr
        )
        self.checks = None
        self.check_view.show_checks(None)
        if self._drawn_steps != t.steps:
            self._draw_plane()
        self._draw_chosen()
        self._show_status()
        self._draw_box()

    def _draw_plane(self) -> None:
        t = self.trainer
        probs = t.model.predict_proba(self.grid).reshape(RESOLUTION, RESOLUTION, -1)
        self.image.setImage(output_image(probs, True), levels=(0, 255))
        self.image.setRect(-DOMAIN, -DOMAIN, 2 * DOMAIN, 2 * DOMAIN)
        self._drawn_steps = t.steps

    def _draw_chosen(self) -> None:
        x = self.trainer.x_train[self.index]
        pen = pg.mkPen(self.palette().text().color(), width=3)
        self.chosen.setData([x[0]], [x[1]], pen=pen)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.PaletteChange and self.trainer is not None:
            self._draw_chosen()  # its ring in the theme's ink
        super().changeEvent(event)

    def _show_status(self) -> None:
        t, r = self.trainer, self.record
        state = "training" if self.play_button.isChecked() else "paused"
        if t.divergence is not None:
            self.status.setText(
                f"<b>Stopped at epoch {t.epoch}</b>: {t.divergence}, then press New run."
            )
            return
        self.status.setText(
            f"Epoch {t.epoch}, {state}; accuracy {t.history.last('train_acc'):.0%}.<br>"
            f"<b>Point</b> ({significant(r.x[0])}, {significant(r.x[1])}), class {int(r.y)}, "
            f"loss {significant(r.loss)}"
        )

    def _draw_box(self) -> None:
        r, stage = self.record, self.stage
        n = len(r.layers)
        focus_layer = stage.layer if stage.layer >= 0 else n - 1
        unit = self.focus_unit(focus_layer)
        self.graph.show_stage(r, stage, (focus_layer + 1, unit) if stage.layer >= 0 else None)
        self.stage_label.setText(
            f"{self.stage_index + 1}/{len(self.stages)} · {stage_title(stage, n)}"
        )
        self.text.setText(stage_text(r, stage, unit))
        self.back_button.setEnabled(self.stage_index > 0)
        self.next_button.setEnabled(self.stage_index < len(self.stages) - 1)
        for k, (view, (what, matrix, _)) in enumerate(
            zip(self.matrices, self.graph.edges, strict=True)
        ):
            layer = r.layers[k]
            rows = [unit_name(k, i, n) for i in range(len(layer.x))]
            cols = [unit_name(k + 1, j, n) for j in range(len(layer.z))]
            shown = what if stage.kind != "forward" else "W"
            pending = stage.kind in ("backward",) and what == "W"
            title = f"Layer {k + 1}: " + ("∂L/∂W comes next" if pending else shown)
            view.set_matrix(title, None if pending else matrix, rows, cols)
        self.redrawn.emit()


if __name__ == "__main__":
    sys.exit(main(BackpropPage))

"""The Lab's page "Batch normalization": the same MLP learning 1,000 images with and without batch
norm, from weights of four spreads. The eight runs train in the background on the sweep's worker
processes and each run's curves grow as its epochs end: without batch norm above, with it
below, a colour per spread; a table says when each run reached 80% training accuracy. The runs
are built by :mod:`core.lab.batch_norm`; training and drawing by
:mod:`playground.lab.compare_runs`."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSpinBox, QSplitter, QWidget

from core.lab import batch_norm as bn
from playground.lab.compare_runs import RunsPage
from playground.lab.controls import choice_box, control_row
from playground.lab.page import main
from playground.lab.widgets import set_row, table, widen_first_column
from playground.views.curves_view import CurvesView

#: One colour per spread, the same in both plots: warm for the large, cool for the small,
#: green for He's (all readable on light and dark backgrounds).
COLORS = dict(
    zip(bn.SCALES, map(QColor, ("#e8443a", "#f5a623", "#9b7fd4", "#2ca02c")), strict=True)
)
LR_NAMES = {str(lr): f"{lr:g}" for lr in bn.LEARNING_RATES}
SIDES = {False: "Without batch norm", True: "With batch norm"}


def run_key(scale: str, batchnorm: bool, lr: float, epochs: int, seed: int) -> str:
    return f"{scale}|{'bn' if batchnorm else 'plain'}|lr {lr}|{epochs} epochs|seed {seed}"


class BatchNormPage(RunsPage):
    """Two rows of curves (without, with batch norm), a colour per weight spread."""

    title = "Batch normalization"
    explanation = (
        "<p><b>Batch normalization</b> rescales what enters each layer's activation: every unit "
        "is shifted and scaled by the mean μ and variance σ² of its values over the current "
        "mini-batch, then given a scale γ and a shift β that are learned like weights:</p>"
        "<p class='formula' align='center'>z = (x − μ) / √(σ² + ε)"
        "&nbsp;&nbsp;&nbsp;&nbsp;y = γ·z + β</p>"
        "<p>So each layer passes on a signal of about the same size whatever the spread of the "
        "initial weights: it neither fades to nothing (small weights) nor blows up (large "
        "ones), and the gradients flowing back stay usable. Here the same network "
        f"(784-100×{len(bn.HIDDEN)}-10, ReLU, plain SGD) learns from weights of four spreads, "
        "without batch norm (top) and with it (bottom). Without it, tiny weights stall at "
        "chance and large ones blow up; with it, every spread learns within a few epochs. "
        "(When testing, batch norm uses averages of μ and σ² kept during training.)</p>"
    )

    TRAIN_IMAGES, TEST_IMAGES, EPOCHS = bn.TRAIN_IMAGES, bn.TEST_IMAGES, bn.EPOCHS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lr = choice_box(LR_NAMES, str(bn.LR))
        self.lr.setToolTip("The learning rate of plain SGD, the same for all eight runs.")
        self.seed = QSpinBox()
        self.seed.setRange(0, 9999)
        self.seed.setToolTip("Another seed draws other initial weights and batches.")
        self.views: dict[bool, CurvesView] = {}
        for side, text in SIDES.items():
            view = self.views[side] = CurvesView()
            view.set_key(f"<b>{text}</b>: training loss", f"<b>{text}</b>: training accuracy")
            self.span_epochs(view)
        self.table = table(["80% reached at", *bn.SCALES], rows=2, widest=" never (10%) ")
        for j, scale in enumerate(bn.SCALES, 1):
            self.table.horizontalHeaderItem(j).setForeground(COLORS[scale])
        widen_first_column(self.table, SIDES[False].lower())
        self._lay_out()
        self.lr.currentIndexChanged.connect(self.train)
        self.seed.valueChanged.connect(self.train)
        self.redraw()

    def _lay_out(self) -> None:
        controls = control_row([("Learning rate", self.lr), ("Seed", self.seed)])
        # a splitter shares the height evenly (a layout would give the wrapped legend's view
        # all it asks for)
        rows = QSplitter(Qt.Orientation.Vertical)
        rows.setChildrenCollapsible(False)
        for view in self.views.values():
            rows.addWidget(view)
        rows.setSizes([1000, 1000])
        self.lay_out(controls, rows, self.table)

    # -- the runs --------------------------------------------------------------------------------
    def settings(self) -> tuple[float, int, int]:
        """(learning rate, epochs, seed) chosen now."""
        return float(self.lr.currentData()), self.EPOCHS, self.seed.value()

    def keys(self) -> dict[str, tuple[str, bool]]:
        """Each run's key -> (spread, batch norm), in the order they train."""
        lr, epochs, seed = self.settings()
        return {
            run_key(scale, side, lr, epochs, seed): (scale, side)
            for scale in bn.SCALES
            for side in SIDES
        }

    def plan(self):
        lr, epochs, seed = self.settings()
        keys = list(self.keys())

        def build(wanted):  # on the runner's thread
            tasks = bn.batch_norm_tasks(self.recipe(seed), lr, epochs, seed)
            return [tasks[keys.index(key)] for key in wanted]

        return keys, build

    # -- the pictures ----------------------------------------------------------------------------
    def redraw(self) -> None:
        """Show every run as far as it has trained, the table and the status."""
        keys = self.keys()
        for side, view in self.views.items():
            overlays = [
                (scale, COLORS[scale], self.runs.record(key, scale, scale))
                for key, (scale, on) in keys.items()
                if on == side
            ]
            view.set_overlays(overlays, curves="train", width=2, legend=side)
        outcomes = {
            key: bn.outcome(result) for key, result in self.runs.results.items() if key in keys
        }
        for row, side in enumerate(SIDES):
            cells = [SIDES[side].lower()]
            for key, (_, on) in keys.items():
                if on == side:
                    cells.append(cell_text(outcomes.get(key), len(self.runs.rows.get(key, ()))))
            set_row(self.table, row, cells)
        self.show_status(len(outcomes), len(keys))
        self.summary.setText(summary_text(keys, outcomes) if len(outcomes) == len(keys) else "")
        self.redrawn.emit()


def cell_text(outcome: bn.Outcome | None, epochs: int) -> str:
    """A table cell: the epoch a run reached :data:`core.lab.batch_norm.LEVEL`, or why not
    (``epochs``: how far it has trained, before it is done)."""
    if outcome is None:
        return f"epoch {epochs}…" if epochs else "waiting"
    if outcome.diverged:
        return "blew up"
    if outcome.epochs_to is None:
        return f"never ({outcome.train_acc:.0%})" if outcome.train_acc is not None else "never"
    return f"epoch {outcome.epochs_to}"


def summary_text(keys: dict[str, tuple[str, bool]], outcomes: dict[str, bn.Outcome]) -> str:
    """What the finished runs show, in a sentence."""
    parts = []
    for side in SIDES:
        count, latest = bn.reached([o for key, o in outcomes.items() if keys[key][1] == side])
        total = sum(on == side for _, on in keys.values())
        got = f"all {total} spreads learned" if count == total else f"{count} of {total}"
        parts.append(got + (f" (the last by epoch {latest})" if count == total else ""))
    return (
        f"With batch norm, {parts[1]}; without, {parts[0]} reached {bn.LEVEL:.0%} training "
        "accuracy."
    )


if __name__ == "__main__":
    sys.exit(main(BatchNormPage))

"""The Lab's page "Overfitting and regularization": a big MLP learns only 300 images, its training
and test accuracy drifting apart and its test loss climbing again; weight decay and dropout are
chosen live. The run without regularization (grey) and the run of the chosen settings (blue)
train in the background on the sweep's worker processes, their curves growing as their epochs
end; a table keeps the last settings tried with their accuracies, gap and test loss. The runs are
built by :mod:`core.lab.regularization`; training and drawing by :mod:`playground.lab.compare_runs`.
"""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from core.lab import regularization as rg
from playground.lab.compare_runs import RunsPage
from playground.lab.controls import choice_box, control_row
from playground.lab.page import main
from playground.lab.widgets import set_row, table
from playground.views.curves_view import CurvesView, key_label

BASELINE_COLOR, CHOSEN_COLOR = QColor(128, 128, 128), QColor(31, 119, 200)
WEIGHT_DECAY_NAMES = {str(v): f"{v:g}" for v in rg.WEIGHT_DECAYS}
DROPOUT_NAMES = {str(v): f"{v:g}" for v in rg.DROPOUTS}
#: What the summary adds after a run's gap (see :meth:`core.lab.regularization.Fit.verdict`).
VERDICTS = {
    "underfit": " — but it has hardly learned: too much",
    "worse": " — but its test accuracy fell too: too much",
    "memorized": " — it still learned its training images by heart",
    "": "",
}
HEADERS = ["Weight decay λ", "Dropout p", "Training", "Test", "Gap", "Test loss"]


def run_key(weight_decay: float, dropout: float, epochs: int) -> str:
    return f"λ {weight_decay:g}|p {dropout:g}|{epochs} epochs"


class RegularizationPage(RunsPage):
    """The two runs' curves, training dashed and test solid, and the settings tried."""

    title = "Overfitting and regularization"
    explanation = (
        "<p>A network with many weights and few examples can learn the examples by heart: its "
        "training accuracy climbs to 100% while its test accuracy, on images it never saw, "
        "stays far below. That <b>gap</b> is <b>overfitting</b>; the test loss shows it too, "
        "rising again as the network grows ever surer of its memorized answers. <b>Weight "
        "decay</b> adds a penalty for large weights to the loss, so every step also pulls each "
        "weight towards 0:</p>"
        "<p class='formula' align='center'>L′ = L + λ/2 · Σ w²<br>"
        "∂L′/∂w = ∂L/∂w + λ·w</p>"
        "<p><b>Dropout</b> switches each hidden unit off with probability p at every training "
        "step (the others are scaled by 1/(1 − p)), so no unit can count on another; when "
        f"testing, every unit works. Here a big network (784-{'-'.join(map(str, rg.HIDDEN))}-10, "
        f"Adam) learns just {rg.TRAIN_IMAGES} images — so few that even with dropout 0.5 it "
        "learns nearly every one by heart: it still learns and tests about as well, but the gap "
        "hardly moves, for no regularizer makes up for missing examples. A little weight decay "
        "(0.01) stops the test loss climbing; from 0.1 the network no longer fits all its "
        "training images and its test accuracy falls too, and at 0.3 it learns nothing.</p>"
    )

    TRAIN_IMAGES, TEST_IMAGES, EPOCHS = rg.TRAIN_IMAGES, rg.TEST_IMAGES, rg.EPOCHS
    #: Settings the table lists (the newest first).
    TRIED = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weight_decay = choice_box(WEIGHT_DECAY_NAMES, "0.0")
        self.weight_decay.setToolTip("λ: how strongly every step pulls the weights towards 0.")
        self.dropout = choice_box(DROPOUT_NAMES, "0.5")  # the usual rate
        self.dropout.setToolTip("p: the share of hidden units switched off at each step.")
        self.view = CurvesView()
        dash = pg.mkPen(BASELINE_COLOR, style=Qt.PenStyle.DashLine)
        key = key_label([("training", dash), ("test", pg.mkPen(BASELINE_COLOR))])
        self.view.set_key(f"loss: {key}", f"accuracy: {key}")
        self.span_epochs(self.view)
        self.table = table(HEADERS, rows=self.TRIED)
        self.tried: dict[str, tuple[float, float]] = {}  # key -> settings, the newest first
        self._lay_out()
        for box in (self.weight_decay, self.dropout):
            box.currentIndexChanged.connect(self.train)
        self.redraw()

    def _lay_out(self) -> None:
        controls = control_row([("Weight decay λ", self.weight_decay), ("Dropout p", self.dropout)])
        self.lay_out(controls, self.view, self.table)

    # -- the runs --------------------------------------------------------------------------------
    def chosen(self) -> tuple[float, float]:
        """(weight decay, dropout) chosen now."""
        return float(self.weight_decay.currentData()), float(self.dropout.currentData())

    def shown_runs(self) -> dict[str, tuple[float, float]]:
        """The runs on the plot, key -> (weight decay, dropout): none, then the chosen."""
        return {run_key(*s, self.EPOCHS): s for s in ((0.0, 0.0), self.chosen())}

    def plan(self):
        runs, epochs = self.shown_runs(), self.EPOCHS
        # the table: the settings chosen last first, the run without regularization from the start
        tried = {run_key(*self.chosen(), epochs): self.chosen(), **self.tried, **runs}
        self.tried = dict(list(tried.items())[: self.TRIED])

        def build(wanted):  # on the runner's thread
            recipe = self.recipe(seed=0)
            return [rg.regularization_task(recipe, *runs[key], epochs) for key in wanted]

        return list(runs), build

    # -- the pictures ----------------------------------------------------------------------------
    def redraw(self) -> None:
        """The runs' curves as far as they have trained, the table, the summary."""
        runs = self.shown_runs()
        colors = [BASELINE_COLOR, CHOSEN_COLOR]
        overlays = [
            (rg.run_name(*s), color, self.runs.record(key, rg.run_name(*s), slot))
            for (key, s), color, slot in zip(runs.items(), colors, ("none", "chosen"), strict=False)
        ]
        self.view.set_overlays(overlays, curves="both", width=2)
        rows = [self._row(key, *settings) for key, settings in self.tried.items()]
        for row, cells in enumerate(rows + [[""] * len(HEADERS)] * (self.TRIED - len(rows))):
            set_row(self.table, row, cells)
        done = [key for key in runs if key in self.runs.results]
        self.show_status(len(done), len(runs))
        self.summary.setText(self._summary(runs))
        self.redrawn.emit()

    def _row(self, key: str, weight_decay: float, dropout: float) -> list[str]:
        """A row of the table: the settings, then the accuracies, the gap and the test loss (or
        how far the run has come)."""
        result = self.runs.results.get(key)
        if result is None:
            epochs = len(self.runs.rows.get(key, ()))
            numbers = [f"epoch {epochs}…" if epochs else "", "", "", ""]
        else:
            fit = rg.fit(result.history)
            numbers = [f"{v:.2f}" for v in (fit.train_acc, fit.test_acc, fit.gap, fit.test_loss)]
        return [f"{weight_decay:g}", f"{dropout:g}", *numbers]

    def _summary(self, runs: dict[str, tuple[float, float]]) -> str:
        """The finished runs' gaps in a sentence, and what a regularized run paid for its own."""
        fits = {
            settings: rg.fit(self.runs.results[key].history)
            for key, settings in runs.items()
            if key in self.runs.results
        }
        plain = fits.get((0.0, 0.0))
        parts = [
            f"<b>{fit.gap:.2f}</b> with {rg.run_name(*settings)}{VERDICTS[fit.verdict(plain)]}"
            for settings, fit in fits.items()
        ]
        return f"The gap: {'; '.join(parts)}." if parts else ""


if __name__ == "__main__":
    sys.exit(main(RegularizationPage))

"""Cost of the Runs tab's overlays: one repaint of the curves (grabbed offscreen) with 20
ticked runs of 500 epochs each, median of 5 grabs, against the same view with none."""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.runs import RunRecord  # noqa: E402
from core.training.history import History  # noqa: E402
from playground.panels.runs_model import overlay_color  # noqa: E402
from playground.theme import apply_theme  # noqa: E402
from playground.views.curves_view import CurvesView  # noqa: E402

RUNS, EPOCHS, GRABS = 20, 500, 5


def record(i: int) -> RunRecord:
    rng = np.random.default_rng(i)
    rows = np.full((EPOCHS, len(History.COLUMNS)), np.nan)
    e = np.arange(1, EPOCHS + 1)
    rows[:, 0], rows[:, 1], rows[:, 2] = e, 10 * e, 0.01 * e
    rows[:, 6] = 1.0 / e + 0.05 * rng.random(EPOCHS)  # a noisy test loss
    rows[:, 7] = 1 - 0.5 / e - 0.05 * rng.random(EPOCHS)
    return RunRecord(f"r{i}", f"run {i}", "plane", {}, rows, EPOCHS, 10 * EPOCHS, 1.0, 10)


def median_grab_ms(view: CurvesView) -> float:
    times = []
    for _ in range(GRABS):
        start = time.perf_counter()
        view.grab()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    view = CurvesView()
    view.resize(1000, 400)
    view.show()
    app.processEvents()
    empty = median_grab_ms(view)
    view.set_overlays([(f"run {i}", overlay_color(i), record(i)) for i in range(RUNS)])
    app.processEvents()
    print(
        f"curves repaint: {empty:.1f} ms without overlays, {median_grab_ms(view):.1f} ms with "
        f"{RUNS} overlays of {EPOCHS} epochs (median of {GRABS} grabs)"
    )


if __name__ == "__main__":
    main()

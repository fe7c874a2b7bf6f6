"""Responsiveness of the app while training the spiral preset at the speed control's "max" with
every view live (offscreen): (a) training samples/s as a fraction of the headless engine on the
same config (same snapshot work), (b) view refreshes per second, (c) p95 lateness of a 10 ms
QTimer."""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from common import TimerLateness, window_at_max  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.data.features import feature_map, grid_points  # noqa: E402
from core.training.loop import train_iter  # noqa: E402
from core.training.snapshot import Grid  # noqa: E402
from core.training.trainer import build_trainer  # noqa: E402
from playground.presets import presets  # noqa: E402
from playground.theme import apply_theme  # noqa: E402
from playground.workspaces.plane import GRID_RESOLUTION  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
PRESET = "spiral"


def headless_rate() -> float:
    session = presets()[PRESET]
    data = session.build_dataset()
    f = session.data.features
    trainer = build_trainer(
        session.build_spec(data),
        session.training,
        feature_map(data.x_train, f),
        data.y_train,
        feature_map(data.x_test, f),
        data.y_test,
    )
    grid = Grid(feature_map(grid_points(GRID_RESOLUTION), f), GRID_RESOLUTION)
    start = time.perf_counter()
    for _ in train_iter(trainer, grid=grid):
        if time.perf_counter() - start > SECONDS:
            break
    return trainer.steps * session.training.batch_size / (time.perf_counter() - start)


def gui_run(app: QApplication) -> tuple[float, float, float]:
    window = window_at_max(PRESET)
    refreshes: list[float] = []
    window.controller.snapshotReady.connect(lambda _: refreshes.append(time.perf_counter()))
    lateness = TimerLateness()
    marks: dict[str, float] = {}

    def begin() -> None:
        if window.workspace.last_snapshot is None:  # the engine is still starting (a busy machine)
            QTimer.singleShot(50, begin)
            return
        QTimer.singleShot(int(SECONDS * 1000), end)
        marks["start"] = time.perf_counter()
        marks["steps"] = window.workspace.last_snapshot.step
        window.controller.start()
        lateness.start()

    def end() -> None:
        marks["end"] = time.perf_counter()
        marks["steps_end"] = window.workspace.last_snapshot.step
        lateness.stop()
        window.close()
        app.quit()

    QTimer.singleShot(500, begin)
    app.exec()
    wall = marks["end"] - marks["start"]
    rate = (marks["steps_end"] - marks["steps"]) * presets()[PRESET].training.batch_size / wall
    n_refresh = sum(1 for t in refreshes if marks["start"] <= t <= marks["end"])
    p95 = float(np.percentile(lateness.late, 95)) if lateness.late else float("nan")
    return rate, n_refresh / wall, p95


def main() -> None:
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    ours, refresh_rate, p95 = gui_run(app)
    headless = headless_rate()
    print(
        f"gui {PRESET} at max, all views live, {SECONDS:.0f} s: training {ours:,.0f} samples/s = "
        f"{ours / headless:.0%} of headless {headless:,.0f}; {refresh_rate:.1f} view refreshes/s; "
        f"10 ms timer lateness p95 {p95 * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()

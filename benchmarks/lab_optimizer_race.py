"""The Lab's optimizer race (offscreen): median time from a control change to the redrawn
picture (a learning rate: one path; a new start: all seven; another function: map and paths),
and the page's open time to its first picture."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from playground.lab.optimizer_race import OptimizerRacePage  # noqa: E402
from playground.theme import apply_theme  # noqa: E402

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 15


def redraw_ms(app: QApplication, page: OptimizerRacePage, change: Callable[[int], None]) -> float:
    """Median milliseconds of ``change(i)`` followed by the plot painted."""
    times = []
    for i in range(REPEATS):
        start = time.perf_counter()
        change(i)
        app.processEvents()  # the layout and the paint the change asked for
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    start = time.perf_counter()
    page = OptimizerRacePage()
    page.resize(1100, 700)
    page.show()
    app.processEvents()
    opened = 1e3 * (time.perf_counter() - start)
    keys = [page.function.itemData(i) for i in range(page.function.count())]
    lr = redraw_ms(app, page, lambda i: page.rates["sgd"].setValue(0.5 + 0.01 * i))
    start_ms = redraw_ms(app, page, lambda i: page.set_start(-6.0 + 0.1 * i, 1.5))
    page.hidden()
    function = redraw_ms(app, page, lambda i: page.set_surface(keys[i % len(keys)]))
    page.set_surface("rosenbrock")
    rosen = redraw_ms(app, page, lambda i: page.rates["adam"].setValue(0.05 + 0.001 * i))
    print(
        f"optimizer race, change to redrawn picture (median ms): learning rate {lr:.1f} "
        f"(Rosenbrock, 600 steps: {rosen:.1f}), start {start_ms:.1f}, function {function:.1f}; "
        f"open {opened:.0f} ms"
    )


if __name__ == "__main__":
    main()

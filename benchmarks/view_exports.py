"""Time of File ▸ Export plots for every view of the plane and the image mode, as PNG and as SVG,
in the real window offscreen at 1600×1000 after a few epochs of training (spiral; Fashion-MNIST
subsets): pictures are drawn on the GUI thread (Qt's rule), so each must take < 100 ms. Median
of 5 per view; prints the slowest of each kind and every view over 100 ms."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from playground.main_window import MainWindow  # noqa: E402
from playground.theme import apply_theme  # noqa: E402

REPEATS = 5
LIMIT = 0.100


def wait(app: QApplication, done, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not done():
        app.processEvents()
        time.sleep(0.002)
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there")


def train(app: QApplication, window: MainWindow, epochs: int) -> None:
    for _ in range(epochs):
        before = window.workspace.last_snapshot.epoch
        window.step_epoch()
        wait(app, lambda b=before: window.workspace.last_snapshot.epoch > b)
    wait(app, lambda: window.controller.state == "paused")
    window.flush_views()
    app.processEvents()


def export_times(app: QApplication, window: MainWindow, folder: Path) -> dict[str, float]:
    """Median seconds per (view, kind)."""
    times = {}
    for name, widget in window.workspace.views():
        for suffix in (".png", ".svg"):
            runs = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                ok = window.files.export_view(widget, name, str(folder / f"view{suffix}"))
                runs.append(time.perf_counter() - start)
                assert ok
                app.processEvents()
            times[f"{window.mode} {name} {suffix[1:]}"] = statistics.median(runs)
    return times


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["NN_PLAYGROUND_RUNS"] = str(folder / "runs")
        settings = QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat)
        settings.setValue("speed", "max")
        times = {}
        for preset, epochs in (("spiral", 20), ("fashion-mlp", 2)):
            window = MainWindow(settings=settings, preset=preset)
            window.resize(1600, 1000)
            window.show()
            wait(app, lambda w=window: not w.workspace.loading and w.workspace.last_snapshot)
            train(app, window, epochs)
            times.update(export_times(app, window, folder))
            window.close()
    worst = {
        kind: max((t, k) for k, t in times.items() if k.endswith(kind)) for kind in ("png", "svg")
    }
    over = ", ".join(f"{k} {t * 1e3:.0f} ms" for k, t in times.items() if t > LIMIT) or "none"
    print(
        f"view exports at 1600x1000, {len(times) // 2} views, median of {REPEATS}: slowest PNG "
        f"{worst['png'][0] * 1e3:.0f} ms ({worst['png'][1]}), slowest SVG "
        f"{worst['svg'][0] * 1e3:.0f} ms ({worst['svg'][1]}); over 100 ms: {over}"
    )


if __name__ == "__main__":
    main()

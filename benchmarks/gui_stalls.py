"""The longest stall of the GUI's event loop (how late a 10 ms QTimer fires, worst case) in the
real window offscreen, from the action until its run shows its first snapshot, while
(a) switching to image mode with all 70,000 Fashion-MNIST images (Debian's copy),
(b) opening a 10 MB image experiment (all 70,000 images; made in a temporary folder),
(c) loading a folder of the four MNIST IDX files (the development copy, all 70,000 images),
(d) leaving image mode with a trained fashion-deep run, whose state is fetched to park it.
Each is the median of ``--repeats`` fresh windows (default 3)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the dev data's place

from dev_data import DEV_MNIST  # noqa: E402
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.experiment import save_experiment  # noqa: E402
from core.training.trainer import build_trainer  # noqa: E402
from playground.image_data import ImageDataSettings, layout_for, load_image_data  # noqa: E402
from playground.image_session import ImageSession  # noqa: E402
from playground.main_window import MainWindow  # noqa: E402
from playground.network_settings import LayerSettings, NetworkSettings  # noqa: E402
from playground.presets import image_presets  # noqa: E402
from playground.theme import apply_theme  # noqa: E402

ALL = ImageDataSettings("fashion-mnist", train_subset=None, test_subset=None)
#: About 10 MB saved: 798k weights with Adam's two buffers, float32.
BIG = NetworkSettings(hidden=[LayerSettings(units=u, activation="relu") for u in (512, 512, 256)])
TIMEOUT = 120.0


def all_images_session() -> ImageSession:
    return replace(image_presets()["fashion-mlp"], data=ALL)


def make_experiment(folder: Path) -> Path:
    """An image experiment of about 10 MB on every Fashion-MNIST image, a few steps in."""
    session = replace(all_images_session(), network=BIG)
    spec = session.build_spec()
    d = load_image_data(session.data, layout=layout_for(spec))
    trainer = build_trainer(spec, session.training, d.x_train, d.y_train, d.x_test, d.y_test)
    for _ in range(3):
        trainer.step()
    path = folder / "big-experiment.npz"
    save_experiment(path, trainer, session.to_dict(), {"dataset": "fashion-mnist"})
    return path


def longest_stall(app: QApplication, window: MainWindow, action, done) -> float:
    """Run ``action`` from the event loop; the worst lateness (s) of a 10 ms timer from then
    until ``done()`` holds."""
    worst = [0.0]
    last = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        if last[0]:
            worst[0] = max(worst[0], now - last[0] - 0.010)
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    QTimer.singleShot(50, action)
    deadline = time.monotonic() + TIMEOUT
    while not done():
        app.processEvents()
        time.sleep(0.001)  # the benchmark's own loop: let the timer be the only clock
        if time.monotonic() > deadline:
            raise TimeoutError("the action did not finish")
    timer.stop()
    return worst[0]


def new_window(tmp: Path, n: int, images: ImageSession | None = None) -> MainWindow:
    settings = QSettings(str(tmp / f"settings-{n}.ini"), QSettings.Format.IniFormat)
    settings.setValue("speed", "max")
    settings.setValue("session/images", (images or all_images_session()).to_json())
    window = MainWindow(settings=settings, preset="spiral")
    window.resize(1280, 800)
    window.show()
    start = time.monotonic()
    while window.workspace.last_snapshot is None and time.monotonic() - start < TIMEOUT:
        QApplication.processEvents()
        time.sleep(0.005)
    return window


def shown(window: MainWindow, check=lambda ws: True) -> bool:
    """The image workspace is on screen with a run that has shown a snapshot."""
    ws = window.images
    return (
        window.workspace is ws
        and ws.run_session is not None
        and ws.last_snapshot is not None
        and check(ws)
    )


def measure(app: QApplication, tmp: Path, experiment: Path, n: int) -> tuple[float, ...]:
    window = new_window(tmp, 4 * n)
    mode = longest_stall(app, window, lambda: window.set_mode("images"), lambda: shown(window))
    window.close()

    window = new_window(tmp, 4 * n + 1)
    opened = longest_stall(
        app,
        window,
        lambda: window.files.open(str(experiment)),
        lambda: window.files.experiment_path == str(experiment) and shown(window),
    )
    window.close()

    window = new_window(tmp, 4 * n + 2)
    window.set_mode("images")
    start = time.monotonic()
    while not shown(window) and time.monotonic() - start < TIMEOUT:
        app.processEvents()
        time.sleep(0.005)
    folder = str(DEV_MNIST.resolve())
    panel = window.images.data_panel
    loaded = longest_stall(
        app,
        window,
        lambda: panel.choose_folder(folder),
        lambda: shown(window, lambda ws: ws.run_session.data.folder == folder),
    )
    window.close()

    window = new_window(tmp, 4 * n + 3, image_presets()["fashion-deep"])
    window.set_mode("images")
    start = time.monotonic()
    while not shown(window) and time.monotonic() - start < TIMEOUT:
        app.processEvents()
        time.sleep(0.005)
    window.step_epoch()
    while window.controller.state != "paused" or window.images.last_snapshot.epoch < 1:
        app.processEvents()
        time.sleep(0.005)
    parked = longest_stall(
        app,
        window,
        lambda: window.set_mode("plane"),
        lambda: "images" in window.kept.parked and window.plane.last_snapshot is not None,
    )
    window.close()
    return mode, opened, loaded, parked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        os.environ["NN_PLAYGROUND_DATA"] = str(tmp / "cache")  # Debian's Fashion-MNIST only
        os.environ["NN_PLAYGROUND_RUNS"] = str(tmp / "runs")
        experiment = make_experiment(tmp)
        size = experiment.stat().st_size / 1e6
        runs = [measure(app, tmp, experiment, n) for n in range(args.repeats)]
    mode, opened, loaded, parked = (
        statistics.median(run[i] for run in runs) * 1e3 for i in range(4)
    )
    print(
        f"longest GUI stall (10 ms timer lateness, median of {args.repeats}): "
        f"image mode with 70,000 images {mode:.0f} ms; opening a {size:.1f} MB experiment "
        f"{opened:.0f} ms; loading an IDX folder {loaded:.0f} ms; parking a trained "
        f"fashion-deep run {parked:.0f} ms (load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()

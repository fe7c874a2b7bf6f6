"""The image workspace: MNIST / Fashion-MNIST, what the network learned and your own drawings.

The data, the network editor and the training settings on the left, the first layer's weights
in the middle, test predictions (confusion matrix, example images) and the draw-to-classify
panel on the right, curves and statistics below.

The workspace turns its panels into a run description (:meth:`ImageWorkspace.prepare_run`),
clears the views for it (:meth:`ImageWorkspace.start_run`) and sets it up on its controller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QPushButton, QTabWidget, QVBoxLayout, QWidget

from core import metrics
from core.training.config import TrainConfig
from core.training.snapshot import Snapshot
from playground.data_folders import DataFolders, resolve
from playground.image_data import ImageDataSettings
from playground.image_session import MODE, ImageSession
from playground.layout import group, scroll_column
from playground.panels.image_data_panel import ImageDataPanel
from playground.throttle import Throttled
from playground.views.confusion_view import ConfusionView
from playground.views.draw_view import DrawView
from playground.views.filters_view import FiltersView
from playground.views.image_grid_view import ImageGridView
from playground.views.sample_drawings import SAMPLE_STROKES, draw_sample
from playground.worker import RunSetup, TrainingController
from playground.workspaces.base import TrainingWorkspace
from playground.workspaces.image_loader import ImageLoader, ShownImages

N_CLASSES = 10
#: The views redraw at most this often (ms): a snapshot changes little in a fifth of a second.
VIEW_INTERVAL = 200
#: Seconds between snapshots, and images for the dead-unit statistic (a CNN's snapshot costs a
#: forward pass over them).
SNAPSHOT_INTERVAL = 0.1
DEAD_SAMPLES = 64


@dataclass(frozen=True)
class ImageRun:
    """What the engine needs to train an image run (it loads the images itself)."""

    spec: dict[str, Any]
    config: TrainConfig
    data: ImageDataSettings


class ImageWorkspace(TrainingWorkspace):
    """``settings``: where folders chosen with Load from folder… are remembered (None: not)."""

    mode = MODE
    title = "Images"
    tooltip = (
        "Images: learn to recognize handwritten digits or clothes (28×28 pixels), then draw "
        "your own."
    )
    settings_key = "session/images"
    default_preset = "fashion-mlp"
    session_type = ImageSession

    def __init__(
        self,
        controller: TrainingController,
        settings: QSettings | None = None,
        *,
        cache_dir=None,
        mirrors=None,
    ) -> None:
        folders = DataFolders(settings) if settings is not None else None
        data_panel = ImageDataPanel(cache_dir=cache_dir, mirrors=mirrors, folders=folders)
        super().__init__(controller, data_panel)
        #: reads the images of a run off the GUI thread, and keeps the last ones read
        self.loader = ImageLoader(cache_dir, lambda: data_panel.gone, self)
        self.loader.jobStarted.connect(self.jobStarted)
        data_panel.jobStarted.connect(self.jobStarted)
        self._data: ShownImages | None = None  # the current run's
        self._pred_epoch = -1
        self._filter: tuple[int, int] | None = None  # confusion cell shown in the image grid
        self._snap: Snapshot | None = None
        self._model_file: str | None = None  # the draw panel shows this file's model
        self.network_panel.set_input_shape([1, 28, 28], N_CLASSES)
        self.filters_view = FiltersView()
        self.confusion_view = ConfusionView()
        self.images_view = ImageGridView()
        self.draw_view = DrawView()
        self._views = Throttled(self._show_views, VIEW_INTERVAL, self)
        self._build_layout()
        self.confusion_view.cellClicked.connect(self.show_cell)
        self.images_view.mistakes_only.toggled.connect(lambda _: self._show_predictions())

    def _build_layout(self) -> None:
        # Every choice in one scrolling column (the conv editor is wide): the weights, the test
        # predictions and the draw panel get the rest of a 1280-px window.
        left = scroll_column(
            [
                group("Data", self.data_panel),
                group("Network", self.network_panel),
                group("Training", self.training_panel),
            ]
        )
        middle = self.filters_view
        self.show_all_button = QPushButton("Show all test images")
        self.show_all_button.setToolTip("Leave the confusion-matrix cell and show every image.")
        self.show_all_button.clicked.connect(self.show_all)
        self.show_all_button.hide()
        images = QWidget()
        images_layout = QVBoxLayout(images)
        images_layout.setContentsMargins(0, 0, 0, 0)
        images_layout.addWidget(self.images_view, 1)
        images_layout.addWidget(self.show_all_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.tabs = QTabWidget()
        self.tabs.addTab(images, "Test images")
        self.tabs.addTab(self.confusion_view, "Confusion matrix")
        self.tabs.addTab(self.draw_view, "Draw")
        self.tabs.setTabToolTip(0, "Test images with the network's guess; mistakes in red.")
        self.tabs.setTabToolTip(1, "Which classes the network confuses (click a cell).")
        self.tabs.setTabToolTip(2, "Draw a digit or garment and watch the network classify it.")

        self._lay_out([left, middle, self.tabs], [0, 240, 660], [0, 2, 5])

    # -- sessions ------------------------------------------------------------------------------
    def known_folder(self, data: ImageDataSettings) -> ImageDataSettings:
        """``data`` reading its images from where they were loaded (Load from folder…) when
        its own folder is not given or has gone (the data set's own copy otherwise)."""
        folders = self.data_panel.folders
        return data if folders is None else folders.resolve(data)[0]

    def known_folders(self) -> Callable[[ImageDataSettings], ImageDataSettings]:
        """:meth:`known_folder` as a plain function of the folders remembered now, for another
        thread (it reads no settings)."""
        folders = self.data_panel.folders
        remembered = {} if folders is None else folders.remembered()
        return lambda data: resolve(data, remembered)[0]

    def stop_work(self) -> None:
        self.data_panel.stop_download()
        self.loader.cancel()
        super().stop_work()

    # -- runs ----------------------------------------------------------------------------------
    def reset_run(self, **start: Any) -> None:
        """Set up a run of the panels' settings. Images other than the last run's are read off
        the GUI thread first (``jobStarted``; no run meanwhile) and the run is set up when they
        are in; a Cancel leaves no run, and says so."""
        self.loader.cancel()
        try:
            session, spec = self._checked()
        except ValueError as exc:
            self.clear_views()
            self._refuse_run(exc)
            return
        if self.loader.kept(session.data) is None:
            self._start_loading(session.data, start)
            return
        run = self.prepare_run()  # the images are in: nothing is read
        self.banner.emit("")
        self.spec, self.last_snapshot = run.spec, None
        self.run_session = self.session()
        self.start_run(run)
        self.controller.setup(
            RunSetup(
                spec=run.spec,
                config=run.config,
                images=run.data,
                interval=SNAPSHOT_INTERVAL,
                dead_samples=DEAD_SAMPLES,
                **start,
            )
        )
        self.runSetUp.emit()

    def prepare_run(self) -> ImageRun:
        """Check the panels and load the test images shown beside the run (here, on the calling
        thread, unless they are in already); raises ValueError with a message for the user when
        the run can't start (bad network, missing data)."""
        try:
            session, spec = self._checked()
            self._data = self.loader.load_now(session.data)
        except ValueError:
            self.clear_views()  # nothing on screen from a run that no longer exists
            raise
        self.training_panel.set_max_batch(self._data.n_train)
        config = self.training_panel.config()  # with the batch size as clamped
        return ImageRun(spec, config, session.data)

    def _checked(self) -> tuple[ImageSession, dict[str, Any]]:
        """The panels' session and its network's spec; ValueError when they build no run."""
        session = self.session()
        problem = self.network_panel.problem()
        if problem:
            raise ValueError(problem)
        spec = session.build_spec(N_CLASSES)
        session.training.validate()
        return session, spec

    @property
    def loading(self) -> bool:
        """Whether images are being read for the next run."""
        return self.loader.loading

    def _start_loading(self, settings: ImageDataSettings, start: dict[str, Any]) -> None:
        """Drop the old run (parked or kept already) and read the images of ``settings`` off
        the GUI thread; the run of ``start`` is set up when they are in."""
        self.banner.emit("")
        self.controller.discard()
        self.drop_run()
        self.clear_views()
        title = settings.spec.title
        self.images_view.set_title(f"Loading {title}…")
        cancelled = f"Loading {title} was cancelled: no run. Press Reset to load the images again."
        self.loader.load(
            settings,
            then=lambda: self.reset_run(**start),
            refuse=self._refuse_run,
            cancelled=lambda: self.banner.emit(cancelled),
        )

    def drop_run(self) -> None:
        self.loader.cancel()  # another run takes the engine: these images are not wanted now
        super().drop_run()

    def start_run(self, run: ImageRun) -> None:
        """Clear the views for a new run of ``run``."""
        self._views.cancel()
        self.spec, self._snap, self._pred_epoch, self._filter = run.spec, None, -1, None
        names = list(self._data.class_names)
        layers = run.spec["layers"]
        trainable = [(i, e) for i, e in enumerate(layers) if e["type"] in ("dense", "conv")]
        self.stats_view.set_layers(
            [(i, f"{e['type']} {k + 1}") for k, (i, e) in enumerate(trainable)]
        )
        # Weights drawn as images: a conv's filters, or a dense layer that sees every pixel.
        index, entry = trainable[0]
        sees_pixels = entry["type"] == "conv" or all(e["type"] == "flatten" for e in layers[:index])
        self._first = (index, entry) if sees_pixels else None
        self.curves_view.clear()
        self.filters_view.clear()
        self.confusion_view.set_matrix(np.zeros((N_CLASSES, N_CLASSES), np.int64), names)
        self.images_view.set_title("Predictions appear after the first epoch")
        self.images_view.set_images(
            self._data.test_images[:0],
            self._data.y_test[:0],
            np.zeros(0, np.int64),
            np.zeros(0),
            names,
        )
        self.draw_view.set_model(None, names)
        self._model_file = None
        self.draw_view.title.setText("Draw to classify")

    def clear_views(self) -> None:
        """No run: empty views (a model opened from a file stays in the Draw tab)."""
        self._views.cancel()
        self.spec, self._snap, self._pred_epoch, self._filter = None, None, -1, None
        self.curves_view.clear()
        self.stats_view.set_layers([])
        self.filters_view.clear()
        names = self.class_names or [str(k) for k in range(N_CLASSES)]
        self.confusion_view.set_matrix(np.zeros((N_CLASSES, N_CLASSES), np.int64), names)
        self.images_view.set_title("No run: see the message above")
        empty = np.zeros((0, 28, 28), np.uint8)
        none = np.zeros(0, np.int64)
        self.images_view.set_images(empty, none, none, np.zeros(0), names)
        self.show_all_button.hide()
        if self._model_file is None:
            self.draw_view.set_model(None)

    @property
    def class_names(self) -> list[str]:
        return [] if self._data is None else list(self._data.class_names)

    @property
    def run_name(self) -> str:
        return self.session().data.dataset

    def metadata(self, session: ImageSession) -> dict[str, Any]:
        return {
            "dataset": session.data.dataset,
            "task": "classification",
            "class_names": self.class_names,
            "input": "a 28×28 grayscale image, ink 1.0 on background 0.0, row by row",
            "config": session.training.to_dict(),
        }

    # -- snapshots -----------------------------------------------------------------------------
    def show_snapshot(self, snap: Snapshot) -> None:
        self.last_snapshot = self._snap = snap
        self._views(snap)

    def flush_views(self) -> None:
        self._views.flush()

    def views(self) -> tuple[tuple[str, QWidget], ...]:
        return (
            ("first-layer weights", self.filters_view),
            ("test images", self.images_view),
            ("confusion matrix", self.confusion_view),
            ("draw", self.draw_view),
            *super().views(),
        )

    def _show_views(self, snap: Snapshot) -> None:
        self.curves_view.show_snapshot(snap)
        self.stats_view.show_snapshot(snap)
        if not snap.weights or self.spec is None:
            return
        if self._first is None:
            self.filters_view.caption.setText("The first weighted layer doesn't see the pixels")
        else:
            index, entry = self._first
            self.filters_view.set_weights(snap.weights[f"{index}.W"], entry["type"])
        if self._model_file is None:
            self.draw_view.set_weights(self.spec, snap.weights, self.class_names)
        if snap.test_pred is not None and snap.epoch != self._pred_epoch:
            self._pred_epoch = snap.epoch
            self._show_predictions()
        elif snap.test_pred is None and snap.epoch > 0 and self._pred_epoch < 0:
            # a run continued from a file: its first predictions come at its next epoch's end
            self.images_view.set_title(f"Predictions appear after epoch {snap.epoch + 1}")

    def show_model(self, model, class_names, path: str) -> None:
        """Classify drawings with a model opened from a file (until the next run starts);
        ValueError/TypeError if it is not a classifier of 28×28 images."""
        self.draw_view.set_model(model, class_names)
        self._model_file = path
        self.draw_view.title.setText(f"Draw to classify — {Path(path).name}")

    def show_draw_tab(self) -> None:
        self.tabs.setCurrentWidget(self.draw_view)

    def show_drawing(self, sample: str) -> None:
        """Open the Draw tab with one of the built-in sample strokes drawn (demos, screenshots);
        ValueError for an unknown sample."""
        if sample not in SAMPLE_STROKES:
            raise ValueError(f"sample: {sample!r}; allowed: {', '.join(sorted(SAMPLE_STROKES))}")
        self.tabs.setCurrentWidget(self.draw_view)
        self.draw_view.canvas.clear()
        draw_sample(self.draw_view.canvas, sample)
        self.draw_view.refresh()

    def show_cell(self, true_class: int, predicted: int) -> None:
        """Show the test images of one confusion-matrix cell."""
        self._filter = (true_class, predicted)
        self._show_predictions()
        self.tabs.setCurrentIndex(0)

    def show_all(self) -> None:
        self._filter = None
        self._show_predictions()

    def _show_predictions(self) -> None:
        snap = self._snap
        if snap is None or snap.test_pred is None or self._data is None:
            return
        pred = snap.test_pred.astype(np.int64)
        n = len(pred)
        y = self._data.y_test[:n]
        names = self.class_names
        self.confusion_view.set_matrix(metrics.confusion_matrix(y, pred, len(names)), names)
        keep = np.arange(n)
        title = f"Test images after epoch {snap.epoch}"
        if self._filter is not None:
            t, p = self._filter
            keep = np.flatnonzero((y == t) & (pred == p))
            title = f"True {names[t]}, predicted {names[p]}: {len(keep):,} images"
        self.show_all_button.setVisible(self._filter is not None)
        self.images_view.set_title(title)
        self.images_view.set_images(
            self._data.test_images[keep], y[keep], pred[keep], snap.test_conf[keep], names
        )

"""What the Lab's pages that compare training runs share (batch normalization, overfitting).

:class:`LabRuns` trains a page's runs on the sweep's worker processes (the app's one runner,
:class:`playground.sweep_runner.SweepRunner`), keeps each run's history as its epochs end (every
progress report brings the rows since the last) and gives it as a :class:`core.runs.RunRecord`,
which the Runs tab's curve overlays draw (:meth:`playground.views.curves_view.CurvesView.
set_overlays`). Runs are known by a key that names their settings: a finished run is kept, so
going back to earlier settings shows it at once. :class:`ImagesNote` says which images the runs
learn from, or, when neither MNIST nor Fashion-MNIST is on this computer, says so with the
app's Download… and Load from folder… route. :class:`RunsPage` is such a page's frame: the
two, a status line, training while the page is on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import ClassVar

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.data.registry import DATASETS
from core.lab.image_runs import find_images, images_recipe
from core.recipe import Recipe
from core.runs import COLUMNS, RunRecord
from core.sweep.task import RunProgress, RunResult, RunTask
from core.training.history import history_rows
from playground import file_dialogs
from playground.lab.page import LabPage
from playground.panels.download_dialog import DownloadDialog, short_path
from playground.sweep_runner import SweepRunner
from playground.throttle import Throttled
from playground.views.curves_view import CurvesView

#: The curves follow the runs at most this often (ms).
REDRAW_INTERVAL = 100
#: No history yet.
EMPTY = np.empty((0, len(COLUMNS)))
#: Builds the tasks of the given keys, in their order (called on the runner's thread: it may
#: read images).
Build = Callable[[Sequence[str]], list[RunTask]]


class LabRuns(QObject):
    """The runs a page shows, by key. ``changed`` (at most every :data:`REDRAW_INTERVAL` ms):
    some run's curves grew; ``finished(key, result)``: a run ended; ``idle``: every run asked
    for has ended; ``failed(message)``: the runs could not be built or started."""

    changed = Signal()
    finished = Signal(str, object)
    idle = Signal()
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, workers: int | None = None) -> None:
        super().__init__(parent)
        self.runner = SweepRunner(self, workers)
        self.results: dict[str, RunResult] = {}  # finished runs
        self.rows: dict[str, np.ndarray] = {}  # the history so far of runs that train
        self.wanted: list[str] = []
        self._build: Build | None = None
        self._keys: list[str] = []  # the keys of the runner's tasks, by index
        self._again = False  # start the wanted runs once the runner has stopped
        self._changed = Throttled(lambda _: self.changed.emit(), REDRAW_INTERVAL, self)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.done.connect(self._ended)
        self.runner.failed.connect(self._failed)
        QApplication.instance().aboutToQuit.connect(self.stop)
        runner = self.runner  # deleted with its page: its runs end, whatever still trains
        self.destroyed.connect(lambda *_: runner.cancel())

    @property
    def busy(self) -> bool:
        """Whether runs train or wait to (the pictures are not final yet)."""
        return self.runner.running or bool(self.missing())

    def missing(self) -> list[str]:
        return [key for key in self.wanted if key not in self.results]

    def want(self, keys: Sequence[str], build: Build) -> None:
        """Show the runs ``keys`` (in this order): those not trained yet are trained now (the
        runs still training for other settings are stopped)."""
        self.wanted, self._build = list(keys), build
        self.start()

    def start(self) -> None:
        """Train the wanted runs that have not finished (after stopping the runs in hand)."""
        if self.runner.running:
            self._again = True
            self.runner.cancel()  # done(True) follows, and starts them
            return
        self._again = False
        missing = self.missing()
        if not missing or self._build is None:
            self.idle.emit()
            return
        self._keys, build = missing, self._build
        for key in missing:
            self.rows[key] = EMPTY
        # the runner knows a run by its index in the tasks
        self.runner.start(lambda _: [replace(t, index=i) for i, t in enumerate(build(missing))])

    def stop(self) -> None:
        """Stop training (the page left the screen): runs not finished start over next time."""
        self._again = False
        self.runner.cancel()

    def forget(self) -> None:
        """Drop every run (their images changed)."""
        self.results.clear()
        self.rows.clear()

    def record(self, key: str, name: str, slot: str) -> RunRecord:
        """The run ``key`` so far, for the curve overlays (no epochs before it trained one);
        its id is ``slot``, the place it takes on the page (the overlays keep their curves for
        the run in that place with other settings, and only change their data)."""
        result = self.results.get(key)
        rows = history_rows(result.history) if result is not None else self.rows.get(key, EMPTY)
        last = rows[-1] if len(rows) else np.zeros(len(COLUMNS))
        return RunRecord(slot, name, "images", {}, rows, int(last[0]), int(last[1]), last[2], 0)

    # -- the runner's signals ------------------------------------------------------------------
    def _progress(self, index: int, progress: RunProgress) -> None:
        key = self._keys[index]
        if progress.rows is not None and len(progress.rows) and key not in self.results:
            self.rows[key] = np.concatenate([self.rows.get(key, EMPTY), progress.rows])
            self._changed(None)

    def _finished(self, index: int, result: RunResult) -> None:
        key = self._keys[index]
        self.rows.pop(key, None)
        if result.reason.startswith("failed"):
            self.failed.emit(result.reason.removeprefix("failed: "))
            return
        self.results[key] = result
        self._changed(None)
        self.finished.emit(key, result)

    def _ended(self, cancelled: bool) -> None:
        self._changed.flush()
        if self._again:
            self.start()
            self._changed(None)  # their curves start anew
        elif not cancelled and not self.missing():
            self.idle.emit()

    def _failed(self, message: str) -> None:
        self._again = False
        self.failed.emit(message)


class ImagesNote(QWidget):
    """Which images the runs learn from: MNIST when it is on this computer, else
    Fashion-MNIST, else a folder chosen with Load from folder…; with neither, a note saying so
    and the buttons to get them. ``changed``: other images are there (a download ended, a
    folder was chosen)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: str | None = None
        self.location = find_images()
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.download_button = QPushButton(f"Download {DATASETS['mnist'].title}…")
        self.download_button.setToolTip(
            "Fetch MNIST (about 11 MB) from the internet into the data folder, checking every "
            "file's checksum."
        )
        self.download_button.clicked.connect(self.download)
        self.folder_button = QPushButton("Load from folder…")
        self.folder_button.setToolTip(
            "Use your own copy of MNIST: a folder with the four IDX files (train-images-idx3-"
            "ubyte and the others, raw or .gz)."
        )
        self.folder_button.clicked.connect(lambda: self.choose_folder())
        self._loaded: dict[tuple, Recipe] = {}  # a folder's images, read once per subset
        self.dialog: DownloadDialog | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.download_button)
        layout.addWidget(self.folder_button)
        self.problem = ""
        self.refresh()

    @property
    def found(self) -> bool:
        return self.folder is not None or self.location is not None

    @property
    def name(self) -> str:
        """The data set learned: "mnist" or "fashion-mnist" (a folder counts as MNIST)."""
        return "mnist" if self.location is None or self.folder else self.location.name

    @property
    def title(self) -> str:
        """The images' name as the page says it ("MNIST", "Fashion-MNIST")."""
        return DATASETS[self.name].title

    def describe(self, n_train: int, n_test: int) -> None:
        """Say which images the runs learn from (or what is wrong)."""
        where = short_path(self.folder or (self.location.folder if self.location else ""))
        self.label.setToolTip(f"Read from {where}" if self.found else "")
        if self.problem:
            text = f"<b>The runs could not train:</b> {self.problem}"
        elif not self.found:
            text = (
                "<b>Neither MNIST nor Fashion-MNIST is on this computer</b>, and this page "
                "trains on them: press Download MNIST…, or Load from folder… to use your own "
                "copy."
            )
        else:
            text = (
                f"Learning {n_train:,} {self.title} training images ({n_train // 10} of each "
                f"class), testing on {n_test:,} others."
            )
        self.label.setText(text)
        self.refresh()

    def refresh(self) -> None:
        trouble = bool(self.problem) or not self.found
        self.download_button.setVisible(trouble and self.folder is None)
        self.folder_button.setVisible(trouble)

    def recipe(self, n_train: int, n_test: int, seed: int = 0) -> Recipe:
        """The runs' images (called on the runner's thread: a folder is read there, once)."""
        if self.folder is None:
            return images_recipe(self.name, n_train, n_test, seed)
        key = (self.folder, n_train, n_test, seed)
        if key not in self._loaded:
            self._loaded[key] = images_recipe("mnist", n_train, n_test, seed, self.folder)
        return self._loaded[key]

    def download(self) -> DownloadDialog:
        dialog = self.dialog = DownloadDialog("mnist", self)
        dialog.downloadFinished.connect(self._downloaded)
        dialog.folderRequested.connect(lambda: self.choose_folder())
        dialog.open()
        dialog.start()
        return dialog

    def _downloaded(self, ok: bool, _message: str) -> None:
        if ok:
            self.location, self.problem = find_images(), ""
            self.changed.emit()

    def choose_folder(self, path: str | None = None) -> bool:
        """Use a folder of MNIST's IDX files (asked for when ``path`` is None; its classes
        are taken as digits); it is checked as the runs read it."""
        if path is None:
            path = file_dialogs.open_folder(self, "data", "Folder with the four IDX files")
        if not path:
            return False
        self.folder, self.problem = path, ""
        self._loaded.clear()
        self.changed.emit()
        return True


class RunsPage(LabPage):
    """A page that compares runs: its :class:`ImagesNote` (``images``), :class:`LabRuns`
    (``runs``) and a ``status`` line. A page says which runs it shows (:meth:`plan`) and draws
    them (:meth:`redraw`, which emits ``redrawn``); training starts when the page is shown and
    stops when it is hidden."""

    #: The runs' images and epochs (tests make them smaller).
    TRAIN_IMAGES: ClassVar[int]
    TEST_IMAGES: ClassVar[int]
    EPOCHS: ClassVar[int]

    #: emitted after the pictures show the runs as they are
    redrawn = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.images = ImagesNote()
        self.runs = LabRuns(self)
        self.on_screen = False
        self.images.changed.connect(self._images_changed)
        self.runs.changed.connect(self.redraw)
        self.runs.idle.connect(self.redraw)
        self.runs.failed.connect(self._failed)

    def lay_out(self, controls: QHBoxLayout, middle: QWidget, table: QWidget) -> None:
        """``controls`` and the status line on top, the images note, ``middle`` (the curves,
        taking the height left), then ``table`` beside the ``summary`` label."""
        controls.addWidget(self.status)
        bottom = QHBoxLayout()
        bottom.addWidget(table)
        bottom.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.images)
        layout.addWidget(middle, 1)
        layout.addLayout(bottom)

    def span_epochs(self, view: CurvesView) -> None:
        """Give ``view``'s plots the runs' whole length at once: curves grow into them."""
        for plot in (view.loss_plot, view.acc_plot):
            plot.enableAutoRange(x=False)
            plot.setXRange(1, self.EPOCHS, padding=0.02)

    def plan(self) -> tuple[list[str], Build]:
        """The keys of the runs to show now, and how to build their tasks."""
        raise NotImplementedError

    def redraw(self) -> None:
        raise NotImplementedError

    def train(self) -> None:
        """Train the runs of the current settings (those trained before show at once), while
        the page is on screen."""
        if self.on_screen and self.images.found:
            self.images.problem = ""  # (said again if it happens again)
            self.runs.want(*self.plan())
        self.redraw()

    def recipe(self, seed: int) -> Recipe:
        """The runs' images (on the runner's thread)."""
        return self.images.recipe(self.TRAIN_IMAGES, self.TEST_IMAGES, seed)

    def shown(self) -> None:
        self.on_screen = True
        self.train()

    def hidden(self) -> None:
        self.on_screen = False
        self.runs.stop()

    def settled(self) -> bool:
        return not self.runs.busy or not self.images.found or bool(self.images.problem)

    def show_status(self, done: int, total: int) -> None:
        """Say which images the runs learn, and how many of the ``total`` runs shown have
        trained."""
        self.images.describe(self.TRAIN_IMAGES, self.TEST_IMAGES)
        if not self.images.found or self.images.problem:
            text = ""
        elif done == total:
            text = {1: "Trained.", 2: "Both runs trained."}.get(total, f"All {total} runs trained.")
        else:
            text = f"Training in the background: {done} of {total} runs done…"
        self.status.setText(text)

    def _images_changed(self) -> None:
        self.runs.forget()
        self.train()

    def _failed(self, message: str) -> None:
        self.images.problem = message
        self.redraw()

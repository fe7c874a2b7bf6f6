"""The File menu of the main window: open model and experiment files (also dropped onto the
window) and PyTorch weights (``.safetensors``) for the network on screen, save the run as an
experiment, export the model (weights, ONNX, Python, PyTorch), the views
(PNG, SVG) and the history (CSV), and the recent files (:mod:`playground.recent_files`).

Nothing slow runs on the GUI thread. A file is read and validated completely off it
(:mod:`playground.file_reading`, as a :class:`playground.background.Job` the status bar shows
with Cancel) before anything changes: a bad one shows core's message in a dialog and the current
model, settings and run stay as they were. The engine process owns the trainer, so it writes
experiments and model exports itself, between two training steps; the result comes back
through ``TrainingController.saved``. The other files (the history's CSV, the views' pictures,
which are only drawn here: Qt draws widgets on the GUI thread alone) are written by jobs. Every
file is written atomically. Each method that asks for a path takes it as an argument too, so
scripts and tests skip the dialog. The window is reached through :class:`Host` only, and the
modes through their workspaces' common face (:class:`playground.workspaces.base.Workspace`).

Over 400 lines as one class: every action shares the document's path, the writes pending and
the save dialogs' folders; what a file opens as is already apart (:mod:`playground.file_reading`,
:mod:`playground.file_sessions`, :mod:`playground.recent_files`, :mod:`playground.pictures`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import (
    QMimeData,
    QObject,
    QSettings,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QStatusBar, QWidget

from core import experiment as experiment_file
from core.atomic import atomic_write
from core.cancel import check as check_cancel
from core.onnx_export import check_onnx_installed
from playground import file_dialogs, pictures
from playground.background import Job
from playground.file_reading import OnScreen, Opened, read_file
from playground.image_session import MODE as IMAGES
from playground.image_session import ImageSession
from playground.recent_files import RecentFiles
from playground.session import Session
from playground.worker import TrainingController
from playground.workspaces.base import Workspace
from playground.workspaces.images import ImageWorkspace
from playground.workspaces.plane import PLANE

NPZ_FILTER = "NN Playground files (*.npz)"
#: what File ▸ Open offers: the app's files, and PyTorch weights saved with safetensors
OPEN_FILTER = (
    "Models, experiments and PyTorch weights (*.npz *.safetensors);;"
    f"{NPZ_FILTER};;PyTorch weights (*.safetensors);;All files (*)"
)
#: kind -> (what it is called, file suffix, dialog filter); the engine process writes them.
EXPORTS = {
    "weights": ("weights", ".npz", "Model files (*.npz)"),
    "onnx": ("ONNX model", ".onnx", "ONNX models (*.onnx)"),
    "python": ("Python module", ".py", "Python files (*.py)"),
    "torch": ("PyTorch module", ".py", "Python files (*.py)"),
}
#: kind -> a check that raises ImportError (with what to install) when that export cannot run.
EXPORT_REQUIREMENTS: dict[str, Callable[[], Any]] = {"onnx": check_onnx_installed}
IMAGE_FILTERS = {".png": "PNG image (*.png)", ".svg": "SVG image (*.svg)"}


class Host(Protocol):
    """What the file actions need of the window (the main window is one): its workspaces, the
    engine, the settings, and a status bar and title to report in. Dialogs open over it."""

    controller: TrainingController
    settings: QSettings

    @property
    def workspace(self) -> Workspace: ...  # the one on screen

    def workspace_for(self, mode: str) -> Workspace: ...

    def set_mode(self, mode: str) -> None: ...

    def apply_session(self, session: Any, label: str | None = None, **start: Any) -> None: ...

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 (Qt name)

    def setWindowTitle(self, title: str) -> None: ...  # noqa: N802 (Qt name)


class FileActions(QObject):
    """Builds the File menu for ``window`` and carries out its actions. ``experimentSaved``
    (path) follows each experiment the engine has written, ``written`` every file written
    off the GUI thread, ``openFinished`` each file opened or not."""

    experimentSaved = Signal(str)
    openFinished = Signal(str, bool)  # path, whether it opened (after its dialog, if refused)
    #: path, error ("" when written; "cancelled"): each file the engine or a job wrote or not
    written = Signal(str, str)
    jobStarted = Signal(object)  # work off the GUI thread began (a background.Job: show it)

    def __init__(self, window: Host) -> None:
        super().__init__(window)
        self.window = window
        #: Where Save experiment (Ctrl+S) writes: the experiment last opened or saved.
        self.experiment_path: str | None = None
        self._writing: dict[str, str] = {}  # path -> kind of file the engine is writing
        self._opening: Job | None = None  # the file being read
        self.recent = RecentFiles(window.settings, self.open, window)
        window.controller.saved.connect(self._saved)

    @property
    def images(self) -> ImageWorkspace:
        return self.window.workspace_for(IMAGES)

    # -- the menu ------------------------------------------------------------------------------
    def populate(self, menu: QMenu) -> None:
        """Add the file actions to ``menu``."""

        def add(target: QMenu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
            action = QAction(text, self.window)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.setStatusTip(tip)
            action.triggered.connect(lambda _=False: slot())
            target.addAction(action)
            return action

        add(
            menu,
            "&Open…",
            self.open,
            QKeySequence.StandardKey.Open,
            "Open a model or an experiment (.npz), or PyTorch weights (.safetensors) for the "
            "network on screen; dropping a file on the window works too.",
        )
        menu.addMenu(self.recent.menu)
        self.recent.fill_menu()
        menu.addSeparator()
        add(
            menu,
            "&Save experiment",
            self.save_experiment,
            QKeySequence.StandardKey.Save,
            "Save the whole run, to reopen and continue it exactly where it is.",
        )
        add(menu, "Save experiment &as…", self.save_experiment_as, QKeySequence("Ctrl+Shift+S"))
        menu.addSeparator()
        add(
            menu,
            "Export &weights (.npz)…",
            lambda: self.export_model("weights"),
            tip="The network and its weights, readable with plain NumPy.",
        )
        add(menu, "Export &ONNX…", lambda: self.export_model("onnx"))
        add(
            menu,
            "Export as &Python…",
            lambda: self.export_model("python"),
            tip="One .py file with the weights and predict(x), needing only NumPy.",
        )
        add(
            menu,
            "Export as Py&Torch…",
            lambda: self.export_model("torch"),
            tip="One .py file building the network as a torch.nn.Sequential with its weights, "
            "to go on in PyTorch (GPUs, the rest of its ecosystem).",
        )
        plots = menu.addMenu("Export &plots")

        def fill_plots() -> None:  # the views of the mode on screen
            plots.clear()
            for name, widget in self.window.workspace.views():
                add(plots, f"{name.capitalize()}…", lambda w=widget, n=name: self.export_view(w, n))

        plots.aboutToShow.connect(fill_plots)
        fill_plots()
        add(menu, "Export &history as CSV…", self.export_history)

    # -- opening -------------------------------------------------------------------------------
    def open(self, path: str | None = None) -> bool:
        """Open a model or experiment file, or PyTorch weights: it is read and checked off the
        GUI thread (:mod:`playground.file_reading`), then shown; on any problem a dialog says
        so and nothing changes, nor after a Cancel. False if nothing was started (no path, or
        another file is still opening: said in the status bar); ``openFinished`` follows every
        start."""
        if path is None:
            path = file_dialogs.open_file(self.window, "models", "Open", OPEN_FILTER)
        if not path:
            return False
        if self._opening is not None:
            self.window.statusBar().showMessage(
                f"{self._opening.title} first: wait for it, or press Cancel in the status bar",
                8000,
            )
            return False
        here = self._on_screen()
        job = Job(f"Opening {Path(path).name}", lambda: read_file(path, here), self)
        job.succeeded.connect(self._show_opened)
        job.failed.connect(lambda exc: self._not_opened(path, exc))
        job.cancelled.connect(lambda: self._open_cancelled(path))
        job.ended.connect(self._open_ended)
        self._opening = job.start()
        self.jobStarted.emit(job)
        return True

    def _on_screen(self) -> OnScreen:
        workspace, images = self.window.workspace, self.images
        return OnScreen(
            plane=self.window.workspace_for(PLANE).session(),
            images=images.session(),
            known_folder=images.known_folders(),
            cache_dir=images.loader.cache_dir,
            live=_live_session(workspace),
            spec=workspace.spec,
            trains=workspace.trains,
        )

    def _show_opened(self, opened: Opened) -> None:
        """Show what a file opened as (Edit ▸ Undo Open brings back a run it replaces)."""
        images = self.images
        session = opened.session
        if opened.images is not None:  # read to check the file: not read again for its run
            images.loader.keep(session.data, opened.images)
        if session is None:  # a model for the Draw tab alone
            if self.window.workspace is not images:
                self.window.set_mode(IMAGES)
            images.show_model(*opened.drawing, opened.path)
        else:
            mode = IMAGES if isinstance(session, ImageSession) else PLANE
            self.window.workspace_for(mode).runs.add_runs(opened.runs)  # first: see RunList
            self.window.apply_session(session, label="Open", **opened.start)
            self._set_document(opened.document)
        if opened.drawing is not None:
            images.show_draw_tab()
        self.window.statusBar().showMessage(opened.message, 10000)
        self.recent.remember(opened.path)
        self.openFinished.emit(opened.path, True)

    def _not_opened(self, path: str, exc: Exception) -> None:
        told = isinstance(exc, (ValueError, OSError))  # ModelFileError, settings that don't fit
        if told:
            QMessageBox.warning(self.window, "Can't open this file", str(exc))
        self.openFinished.emit(path, False)
        if not told:
            raise exc  # a bug, not the file's fault

    def _open_cancelled(self, path: str) -> None:
        self.window.statusBar().showMessage(f"Opening {Path(path).name} cancelled", 5000)
        self.openFinished.emit(path, False)

    def _open_ended(self) -> None:
        self._opening = None

    def dropped_file(self, mime: QMimeData) -> str | None:
        """The first local file in dropped data, if any."""
        for url in mime.urls():
            if url.isLocalFile():
                return url.toLocalFile()
        return None

    # -- saving --------------------------------------------------------------------------------
    def save_experiment(self, path: str | None = None) -> bool:
        """Save the run (Ctrl+S) to ``path``, else where it was last opened or saved, else ask."""
        path = path or self.experiment_path
        return self.save_experiment_as(path)

    def save_experiment_as(self, path: str | None = None) -> bool:
        session = self._session_to_save()
        if session is None:
            return False
        if path is None:
            name = self.experiment_path or f"{self.window.workspace.run_name}-experiment.npz"
            path = self._ask_save("experiments", "Save experiment", name, NPZ_FILTER, ".npz")
        if not path:
            return False
        path = str(path)
        data = session.to_dict()
        if isinstance(session, Session):
            data["data"]["csv_sha256"] = _data_file_sha256(session.data.csv_path)
        self._writing[path] = "experiment"
        runs = self.window.workspace.runs.to_save()
        self.window.controller.save_experiment(path, data, self.metadata(), runs)
        return True

    def export_model(self, kind: str, path: str | None = None) -> bool:
        """Export the current model: ``kind`` is "weights", "onnx" or "python"."""
        if self._session_to_save() is None:
            return False
        what, suffix, filters = EXPORTS[kind]
        try:  # said before a file name is asked for
            EXPORT_REQUIREMENTS.get(kind, lambda: None)()
        except ImportError as exc:
            QMessageBox.warning(self.window, f"Can't export the {what}", str(exc))
            return False
        if path is None:
            stem = f"{self.window.workspace.run_name}-model"
            folder = "models" if kind == "weights" else "exports"
            path = self._ask_save(folder, f"Export {what}", stem + suffix, filters, suffix)
        if not path:
            return False
        path = str(path)
        self._writing[path] = kind
        self.window.controller.export(kind, path, self.metadata())
        return True

    def metadata(self) -> dict[str, Any]:
        """What a model file says about its data (see core.io): data set, inputs, classes."""
        return self.window.workspace.metadata(self._session_to_save())

    def _session_to_save(self) -> Session | ImageSession | None:
        """The settings of the run the engine has, with the rates applied to it live."""
        workspace = self.window.workspace
        session = _live_session(workspace)
        if session is None:
            QMessageBox.information(self.window, "Nothing to save", workspace.nothing_to_save)
        return session

    def _saved(self, path: str, error: str) -> None:
        kind = self._writing.pop(path, "file")
        what = EXPORTS[kind][0] if kind in EXPORTS else kind
        if error:
            QMessageBox.warning(self.window, f"Couldn't save the {what}", error)
        else:
            if kind == "experiment":
                self._set_document(path)
                self.experimentSaved.emit(path)
            if kind in ("experiment", "weights"):  # the files Open reads
                self.recent.remember(path)
            self.window.statusBar().showMessage(f"Saved the {what} to {path}", 8000)
        self.written.emit(path, error)

    def _write_cancelled(self, path: str) -> None:
        self._writing.pop(path, None)
        self.window.statusBar().showMessage(f"Cancelled: {path} was not written", 8000)
        self.written.emit(path, "cancelled")

    def _set_document(self, path: str | None) -> None:
        self.experiment_path = path
        self.window.setWindowTitle(
            f"{Path(path).name} — NN Playground" if path else "NN Playground"
        )

    # -- views and history ---------------------------------------------------------------------
    def export_view(self, widget: QWidget, name: str, path: str | None = None) -> bool:
        """Write ``widget`` as a PNG picture or, for a ``.svg`` path, as SVG (vector). It is
        drawn here (Qt draws widgets on the GUI thread alone), encoded and written off it:
        ``written`` follows."""
        if path is None:
            path = self._ask_save(
                "pictures",
                f"Export {name}",
                f"{name.replace(' ', '-')}.png",
                ";;".join(IMAGE_FILTERS.values()),
            )
        if not path:
            return False
        if Path(path).suffix.lower() == ".svg":
            data = pictures.svg(widget, name)
            self._write(str(path), "picture", lambda: data)
        else:
            drawn = pictures.image(widget)
            self._write(str(path), "picture", lambda: pictures.png(drawn))
        return True

    def export_history(self, path: str | None = None) -> bool:
        """Write the metric history, one row per epoch, as CSV; written off the GUI thread
        (a long run's history takes a while), ``written`` follows."""
        workspace = self.window.workspace
        snap = workspace.last_snapshot
        if snap is None or not len(snap.history["epoch"]):
            why = "Train for an epoch first." if workspace.trains else workspace.nothing_to_save
            QMessageBox.information(self.window, "Nothing to export", why)
            return False
        if path is None:
            path = self._ask_save(
                "csv", "Export history", "history.csv", "CSV files (*.csv)", ".csv"
            )
        if not path:
            return False
        history = {name: np.array(column) for name, column in snap.history.items()}  # its own
        self._write(str(path), "history", lambda: _history_csv(history))
        return True

    def _write(self, path: str, kind: str, contents: Callable[[], bytes]) -> None:
        """Write ``contents()`` to ``path`` atomically, both off the GUI thread (a job the
        status bar shows); ``written`` follows, and a dialog if it failed."""
        self._writing[path] = kind
        job = Job(f"Writing {Path(path).name}", lambda: _write_file(path, contents), self)
        job.succeeded.connect(lambda _: self._saved(path, ""))
        job.failed.connect(lambda exc: self._saved(path, _problem(exc)))
        job.cancelled.connect(lambda: self._write_cancelled(path))
        self.jobStarted.emit(job.start())

    def _ask_save(self, kind: str, title: str, name: str, filters: str, suffix: str = "") -> str:
        """Ask where to save, starting in the last folder used for ``kind`` of file."""
        path, chosen = file_dialogs.save_file(self.window, kind, title, name, filters)
        if path and not Path(path).suffix:
            # The suffix of the chosen filter, e.g. "SVG image (*.svg)" -> ".svg".
            path += suffix or chosen[chosen.rfind("*") + 1 : -1]
        return path


def _history_csv(history: dict[str, np.ndarray]) -> bytes:
    """``history`` (columns by name) as CSV, one row per epoch; a Cancel acts between rows."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(list(history))
    for i, row in enumerate(zip(*history.values(), strict=True)):
        if i % 1000 == 0:
            check_cancel()
        writer.writerow(["" if math.isnan(v) else f"{v:.10g}" for v in row])
    return text.getvalue().encode()


def _write_file(path: str, contents: Callable[[], bytes]) -> None:
    data = contents()
    check_cancel()  # the last moment: nothing is written after a Cancel
    atomic_write(path, lambda f: f.write(data))


def _problem(exc: Exception) -> str:
    """What a failed write says (an OSError: the system's words); other errors are raised."""
    if not isinstance(exc, OSError):
        raise exc
    return str(exc)


def _data_file_sha256(csv_path: str | None) -> str | None:
    """The SHA-256 an experiment keeps of its CSV file (None without one, or if it is gone)."""
    if not csv_path:
        return None
    try:
        return experiment_file.file_sha256(csv_path)
    except (ValueError, OSError):  # deleted or replaced by a pipe: reopening will say so
        return None


def _live_session(workspace: Workspace) -> Session | ImageSession | None:
    """The settings of the run ``workspace`` has (None: none), with the rates applied to it
    live (learning rate, L1, L2: they reach the engine without a new run)."""
    session = workspace.run_session
    if session is None:
        return None
    live = workspace.training_panel.config()
    training = replace(session.training, lr=live.lr, l1=live.l1, l2=live.l2)
    return replace(session, training=training)

"""The File menu of the main window: open model and experiment files (also dropped onto the
window) and PyTorch weights (``.safetensors``) for the network on screen, save the run as an
experiment, export the model (weights, ONNX, Python, PyTorch), the views
(PNG, SVG) and the history (CSV), and the recent files (:mod:`playground.recent_files`).

A file is validated completely before anything changes (:mod:`playground.file_sessions`): a
bad one shows core's message in a dialog and the current model, settings and run stay as they
were. The engine process owns the trainer, so it writes experiments and model exports itself,
between two training steps; the result comes back through ``TrainingController.saved``. Every
file is written atomically. Each method that asks for a path takes it as an argument too, so
scripts and tests skip the dialog. The window is reached through :class:`Host` only, and the
modes through their workspaces' common face (:class:`playground.workspaces.base.Workspace`).

Over 400 lines as one class: every action shares the document's path, the writes the engine has
pending and the save dialogs' folders; what a file opens as is already apart
(:mod:`playground.file_sessions`, :mod:`playground.recent_files`, :mod:`playground.pictures`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import (
    QMimeData,
    QObject,
    QSettings,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QStatusBar, QWidget

from core import experiment as experiment_file
from core import io as model_file
from core.archive import peek_format
from core.atomic import atomic_write
from core.experiment import load_experiment
from core.io import load_model
from core.model import Sequential
from core.onnx_export import require_onnx
from core.torch_import import load_safetensors
from playground import file_dialogs, pictures
from playground.file_sessions import (
    experiment_session,
    image_model_session,
    model_session,
    usable_metadata,
)
from playground.image_session import FLAT_SHAPE, ImageSession
from playground.image_session import MODE as IMAGES
from playground.recent_files import RecentFiles
from playground.session import Session
from playground.views.draw_classifier import check_model
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
EXPORT_REQUIREMENTS: dict[str, Callable[[], Any]] = {"onnx": require_onnx}
IMAGE_PIXELS = FLAT_SHAPE[0]  # models of 28×28 images open in the image mode's draw panel
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
    (path) follows each experiment the engine has written."""

    experimentSaved = Signal(str)

    def __init__(self, window: Host) -> None:
        super().__init__(window)
        self.window = window
        #: Where Save experiment (Ctrl+S) writes: the experiment last opened or saved.
        self.experiment_path: str | None = None
        self._writing: dict[str, str] = {}  # path -> kind of file the engine is writing
        #: file format (meta.json's "format") -> the method that opens such a file
        self.openers: dict[str, Callable[[str], None]] = {
            model_file.FORMAT: self.open_model,
            experiment_file.FORMAT: self.open_experiment,
        }
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
        """Open a model or experiment file; on any problem show it and change nothing."""
        if path is None:
            path = file_dialogs.open_file(self.window, "models", "Open", OPEN_FILTER)
        if not path:
            return False
        try:
            if path.lower().endswith(".safetensors"):
                self.open_state_dict(path)
            else:
                self.openers.get(peek_format(path), self.open_model)(path)
        except (ValueError, OSError) as exc:  # ModelFileError, settings that do not fit
            QMessageBox.warning(self.window, "Can't open this file", str(exc))
            return False
        self.recent.remember(path)
        return True

    def open_model(self, path: str) -> None:
        """Show a model file's network with its weights, paused: its predictions are shown.
        A classifier of 28×28 images opens in image mode, in the editor when it can show it,
        else in the Draw tab only."""
        model, metadata = load_model(path)
        metadata = usable_metadata(metadata)
        if math.prod(model.input_shape) == IMAGE_PIXELS:
            self.open_image_model(path, model, metadata)
            return
        current = self.window.workspace_for(PLANE).session()
        session, state = model_session(path, model, metadata, current)
        self._open(
            session,
            f"Opened the model {Path(path).name}: its predictions are shown. Play trains it on.",
            initial_state=state,
        )

    def open_image_model(self, path: str, model: Sequential, metadata: dict[str, Any]) -> None:
        names = metadata.get("class_names")
        check_model(model, names)  # before anything changes
        name = Path(path).name
        try:
            images = self.images
            session = image_model_session(model, metadata, images.session(), images.known_folder)
        except ValueError as exc:  # the editor can't show it, or its images aren't here
            if self.window.workspace is not self.images:
                self.window.set_mode(IMAGES)
            self.images.show_model(model, names, path)
            message = f"Opened {name} for drawing only: {str(exc).removeprefix(path + ': ')}"
        else:
            message = f"Opened {name}: draw to see how it classifies; Play trains it on."
            self._open(session, message, initial_state=model.get_state())
        self.images.show_draw_tab()
        self.window.statusBar().showMessage(message, 10000)

    def open_state_dict(self, path: str) -> None:
        """PyTorch weights (a state dict saved with safetensors) into the network on screen,
        matched by layer order and shapes (:mod:`core.torch_import`): a new run starts from them,
        paused, its predictions shown."""
        workspace = self.window.workspace
        session = _live_session(workspace)
        if session is None or workspace.spec is None:
            where = (
                "build it in the Network panel first"
                if workspace.trains
                else ("open them in the Plane or Image mode, whose network takes them")
            )
            raise ValueError(
                f"{path}: the settings on screen build no network to take these weights; {where}"
            )
        state = load_safetensors(path, Sequential(workspace.spec))  # before anything changes
        self._open(
            session,
            f"Opened the PyTorch weights {Path(path).name} into the network: its predictions "
            "are shown. Play trains it on.",
            initial_state=state,
        )

    def open_experiment(self, path: str) -> None:
        """Restore an experiment's settings and continue its run exactly where it was saved."""
        exp = load_experiment(path)
        session = experiment_session(path, exp, self.images.known_folder)
        mode = IMAGES if isinstance(session, ImageSession) else PLANE
        self.window.workspace_for(mode).runs.add_runs(exp.runs)  # first: see RunList
        message = (
            f"Opened {Path(path).name} at epoch {exp.epoch:,}, step {exp.steps:,}: "
            "Play continues the run."
        )
        self._open(session, message, document=path, resume=exp)

    def _open(
        self, session: Session | ImageSession, message: str, document: str | None = None, **start
    ) -> None:
        """Set a run of ``session`` up as ``start`` says (Edit ▸ Undo Open brings back a run it
        replaces), with ``document`` where Save experiment writes (None: it asks), and say so."""
        self.window.apply_session(session, label="Open", **start)
        self._set_document(document)
        self.window.statusBar().showMessage(message, 8000)

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
            return
        if kind == "experiment":
            self._set_document(path)
            self.experimentSaved.emit(path)
        if kind in ("experiment", "weights"):  # the files Open reads
            self.recent.remember(path)
        self.window.statusBar().showMessage(f"Saved the {what} to {path}", 8000)

    def _set_document(self, path: str | None) -> None:
        self.experiment_path = path
        self.window.setWindowTitle(
            f"{Path(path).name} — NN Playground" if path else "NN Playground"
        )

    # -- views and history ---------------------------------------------------------------------
    def export_view(self, widget: QWidget, name: str, path: str | None = None) -> bool:
        """Write ``widget`` as a PNG picture or, for a ``.svg`` path, as SVG (vector)."""
        if path is None:
            path = self._ask_save(
                "pictures",
                f"Export {name}",
                f"{name.replace(' ', '-')}.png",
                ";;".join(IMAGE_FILTERS.values()),
            )
        if not path:
            return False
        svg = Path(path).suffix.lower() == ".svg"
        data = pictures.svg(widget, name) if svg else pictures.png(widget)
        return self._write(path, data)

    def export_history(self, path: str | None = None) -> bool:
        """Write the metric history, one row per epoch, as CSV."""
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
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(list(snap.history))
        for row in zip(*snap.history.values(), strict=True):
            writer.writerow(["" if math.isnan(v) else f"{v:.10g}" for v in row])
        return self._write(path, text.getvalue().encode())

    def _write(self, path: str, data: bytes) -> bool:
        try:
            atomic_write(path, lambda f: f.write(data))
        except OSError as exc:
            QMessageBox.warning(self.window, "Export failed", str(exc))
            return False
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def _ask_save(self, kind: str, title: str, name: str, filters: str, suffix: str = "") -> str:
        """Ask where to save, starting in the last folder used for ``kind`` of file."""
        path, chosen = file_dialogs.save_file(self.window, kind, title, name, filters)
        if path and not Path(path).suffix:
            # The suffix of the chosen filter, e.g. "SVG image (*.svg)" -> ".svg".
            path += suffix or chosen[chosen.rfind("*") + 1 : -1]
        return path


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

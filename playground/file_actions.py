"""The File menu of the main window: open model and experiment files (also dropped onto the
window), save the run as an experiment, export the model (weights, ONNX, Python), the views
(PNG, SVG) and the history (CSV), and the recent files.

A file is validated completely before anything changes: a bad one shows core's message in a
dialog and the current model, settings and run stay as they were. The engine process owns the
trainer, so it writes experiments and model exports itself, between two training steps; the
result comes back through ``TrainingController.saved``. Every file is written atomically.
Each method that asks for a path takes it as an argument too, so scripts and tests skip the
dialog.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMimeData,
    QObject,
    QPoint,
    QRect,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QWidget

from core import experiment as experiment_file
from core import io as model_file
from core.archive import peek_format
from core.atomic import atomic_write
from core.data.dataset import Dataset
from core.data.features import FEATURES, check_features, feature_map
from core.data.toy2d import DATASETS
from core.experiment import Experiment, load_experiment
from core.io import load_model
from core.model import Sequential
from core.onnx_export import require_onnx
from playground import file_dialogs
from playground.image_data import DATASET_NAMES, ImageDataSettings, layout_for, load_image_data
from playground.image_session import FLAT_SHAPE, ImageSession, session_from_dict
from playground.image_session import MODE as IMAGES
from playground.network_settings import network_from_spec
from playground.point_edits import apply_edits
from playground.session import DataSettings, Session
from playground.views.draw_classifier import check_model

MAX_RECENT = 8
RECENT_KEY = "recentFiles"
NPZ_FILTER = "NN Playground files (*.npz)"
#: kind -> (what it is called, file suffix, dialog filter); the engine process writes them.
EXPORTS = {
    "weights": ("weights", ".npz", "Model files (*.npz)"),
    "onnx": ("ONNX model", ".onnx", "ONNX models (*.onnx)"),
    "python": ("Python module", ".py", "Python files (*.py)"),
}
#: kind -> a check that raises ImportError (with what to install) when that export cannot run.
EXPORT_REQUIREMENTS: dict[str, Callable[[], Any]] = {"onnx": require_onnx}
IMAGE_PIXELS = FLAT_SHAPE[0]  # models of 28×28 images open in the image mode's draw panel
IMAGE_FILTERS = {".png": "PNG image (*.png)", ".svg": "SVG image (*.svg)"}


class FileActions(QObject):
    """Builds the File menu for ``window`` and carries out its actions. ``experimentSaved``
    (path) follows each experiment the engine has written."""

    experimentSaved = Signal(str)

    def __init__(self, window: QMainWindow) -> None:
        # The main window (playground.main_window.MainWindow), not imported: it imports this
        # module, and the modules stay a tree.
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
        self.recent_menu = QMenu("Open &Recent", window)
        window.controller.saved.connect(self._saved)

    @property
    def views(self) -> tuple[tuple[str, QWidget], ...]:
        """(name, widget) of the views the current mode shows, for Export plots."""
        w = self.window
        if w.mode == IMAGES:
            ws = w.images
            return (
                ("first-layer weights", ws.filters_view),
                ("test images", ws.images_view),
                ("confusion matrix", ws.confusion_view),
                ("draw", ws.draw_view),
                ("curves", ws.curves_view),
                ("statistics", ws.stats_view),
            )
        return (
            ("output view", w.output_view),
            ("network", w.network_view),
            ("curves", w.curves_view),
            ("statistics", w.stats_view),
        )

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
            "Open a model or an experiment (.npz); dropping a file on the window works too.",
        )
        menu.addMenu(self.recent_menu)
        self._fill_recent_menu()
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
        plots = menu.addMenu("Export &plots")

        def fill_plots() -> None:  # the views of the mode on screen
            plots.clear()
            for name, widget in self.views:
                add(plots, f"{name.capitalize()}…", lambda w=widget, n=name: self.export_view(w, n))

        plots.aboutToShow.connect(fill_plots)
        fill_plots()
        add(menu, "Export &history as CSV…", self.export_history)

    # -- opening -------------------------------------------------------------------------------
    def open(self, path: str | None = None) -> bool:
        """Open a model or experiment file; on any problem show it and change nothing."""
        if path is None:
            path = file_dialogs.open_file(
                self.window, "models", "Open", f"{NPZ_FILTER};;All files (*)"
            )
        if not path:
            return False
        try:
            self.openers.get(peek_format(path), self.open_model)(path)
        except (ValueError, OSError) as exc:  # ModelFileError, settings that do not fit
            QMessageBox.warning(self.window, "Can't open this file", str(exc))
            return False
        self.remember(path)
        return True

    def open_model(self, path: str) -> None:
        """Show a model file's network with its weights, paused: its predictions are shown.
        A classifier of 28×28 images opens in image mode, in the editor when it can show it,
        else in the Draw tab only."""
        model, metadata = load_model(path)
        metadata = _usable_metadata(metadata)
        if math.prod(model.input_shape) == IMAGE_PIXELS:
            self.open_image_model(path, model, metadata)
            return
        session, state = self._model_session(path, model, metadata)
        self._apply(session, initial_state=state)
        self._set_document(None)  # a new run: Save experiment asks where
        self.window.statusBar().showMessage(
            f"Opened the model {Path(path).name}: its predictions are shown. Play trains it on.",
            8000,
        )

    def open_image_model(self, path: str, model: Sequential, metadata: dict[str, Any]) -> None:
        names = metadata.get("class_names")
        check_model(model, names)  # before anything changes
        name = Path(path).name
        try:
            session = self._image_model_session(path, model, metadata)
        except ValueError as exc:  # the editor can't show it, or its images aren't here
            if self.window.mode != IMAGES:
                self.window.set_mode(IMAGES)
            self.window.images.show_model(model, names, path)
            message = f"Opened {name} for drawing only: {str(exc).removeprefix(path + ': ')}"
        else:
            self._apply(session, initial_state=model.get_state())
            self._set_document(None)
            message = f"Opened {name}: draw to see how it classifies; Play trains it on."
        self.window.images.tabs.setCurrentWidget(self.window.images.draw_view)
        self.window.statusBar().showMessage(message, 10000)

    def _image_model_session(
        self, path: str, model: Sequential, metadata: dict[str, Any]
    ) -> ImageSession:
        """The image session that trains ``model`` on, on the images it was trained on;
        ValueError if the editor can't show it or those images aren't here."""
        try:
            network = network_from_spec(model.spec)
        except ValueError as exc:
            raise ValueError(f"the network editor can't show it ({exc})") from None
        current = self.window.images.session()
        data = current.data
        dataset = metadata.get("dataset")
        if dataset in DATASET_NAMES and dataset != data.dataset:
            data = replace(data, dataset=dataset, folder=None)
        session = ImageSession(self._known_folder(data), network, current.training)
        try:
            same = _without_init(session.build_spec()) == _without_init(model.spec)
            session.training.validate()
            load_image_data(data)  # the images are here and fill the subsets
        except (ValueError, OSError) as exc:  # OSError: the data set is not on this computer
            raise ValueError(str(exc)) from None
        if not same:
            raise ValueError("the network editor builds a different network from it")
        return session

    def _known_folder(self, data: ImageDataSettings) -> ImageDataSettings:
        """``data`` reading its images from where they were loaded (Load from folder…) when
        its own folder is not given or has gone (the data set's own copy otherwise)."""
        folders = self.window.images.data_panel.folders
        return data if folders is None else folders.resolve(data)[0]

    def open_experiment(self, path: str) -> None:
        """Restore an experiment's settings and continue its run exactly where it was saved."""
        exp = load_experiment(path)
        session = self._experiment_session(path, exp)
        self._apply(session, resume=exp)
        self._set_document(path)
        self.window.statusBar().showMessage(
            f"Opened {Path(path).name} at epoch {exp.epoch:,}, step {exp.steps:,}: "
            "Play continues the run.",
            8000,
        )

    def _apply(self, session: Session, **start) -> None:
        self.window.kept.next_label = "Open"  # Edit ▸ Undo Open brings back a run it replaces
        self.window.apply_session(session, **start)

    def _model_session(
        self, path: str, model: Sequential, metadata: dict[str, Any]
    ) -> tuple[Session, dict]:
        """The session that shows ``model`` in the 2D playground, and its weights in that
        session's input order; ValueError (naming the file) if it cannot be shown."""
        features = metadata.get("features", ["x1", "x2"])
        try:
            features = list(check_features(features))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: the file's metadata lists unknown inputs: {exc}") from None
        if model.spec["input_shape"] != [len(features)]:
            shape = "x".join(map(str, model.spec["input_shape"]))
            listed = f" (its file lists {len(features)})" if "features" in metadata else ""
            raise ValueError(
                f"{path}: this model takes {shape} inputs{listed}; the playground shows "
                f"networks whose inputs are features of a point of the plane: "
                f"{', '.join(FEATURES.values())}"
            )
        try:
            network = network_from_spec(model.spec)
        except ValueError as exc:
            raise ValueError(f"{path}: the network editor can't show this model: {exc}") from None
        current = self.window.plane_session()
        # The panel orders features as FEATURES does: reorder the first layer's inputs to match.
        order = [f for f in FEATURES if f in features]
        state = model.get_state()
        state["0.W"] = state["0.W"][[features.index(f) for f in order]]
        data = replace(current.data, features=order)
        name = metadata.get("dataset")
        if name in DATASETS and (name != data.dataset or data.csv_path):
            data = replace(data, dataset=name, csv_path=None, edits=[])
        classes = metadata.get("class_names")
        if name in DATASETS and DATASETS[name].multiclass and isinstance(classes, list):
            data = replace(data, n_classes=len(classes))
        session = Session(data, network, current.training)
        dataset = self._build(path, session, model.spec)
        auto = replace(network, loss="auto")
        if Session(data, auto, current.training).loss_name(dataset) == network.loss:
            session.network = auto  # the editor's default loss is this model's
        return session, state

    def _experiment_session(self, path: str, exp: Experiment) -> Session | ImageSession:
        """The session an experiment was saved from, checked to rebuild its run exactly."""
        if "kind" in exp.data:
            raise ValueError(
                f"{path}: this experiment was saved by nn-playground-train; continue it with "
                f"nn-playground-train --resume {path}"
            )
        try:
            session = session_from_dict(exp.data)
        except ValueError as exc:
            raise ValueError(f"{path}: the saved settings are unusable: {exc}") from None
        if isinstance(session, ImageSession):
            return self._image_experiment_session(path, exp, session)
        if session.data.csv_path:
            _check_data_file(path, session.data)
        dataset = self._build(path, session, exp.spec, quote_data=False)
        features = session.data.features
        exp.build_trainer(  # refuses other data or settings that change the run
            feature_map(dataset.x_train, features),
            dataset.y_train,
            feature_map(dataset.x_test, features),
            dataset.y_test,
            config=session.training,
        )
        return session

    def _image_experiment_session(
        self, path: str, exp: Experiment, session: ImageSession
    ) -> ImageSession:
        session = replace(session, data=self._known_folder(session.data))
        try:
            built = session.build_spec()
            session.training.validate()
            images = load_image_data(session.data, layout=layout_for(exp.spec))
        except (ValueError, OSError) as exc:  # a missing or unreadable data set
            raise ValueError(f"{path}: the file's settings don't build a run here: {exc}") from None
        if _without_init(built) != _without_init(exp.spec):
            raise ValueError(f"{path}: the network editor builds a different network from it")
        exp.build_trainer(  # refuses other images or settings that change the run
            images.x_train, images.y_train, images.x_test, images.y_test, config=session.training
        )
        return session

    def _build(
        self, path: str, session: Session, spec: dict[str, Any], quote_data: bool = True
    ) -> Dataset:
        """The session's data set, after checking that it builds ``spec``'s network (the
        initializers aside: the weights are given). Without ``quote_data``, a CSV file that
        can't be read is named with its problem but none of its text (a file's settings may
        name any file of this computer)."""
        unusable = f"{path}: the file's settings don't build a run here"
        try:
            base = session.base_dataset()
        except ValueError as exc:
            csv_path = session.data.csv_path
            if quote_data or not csv_path:
                raise ValueError(f"{unusable}: {exc}") from None
            line = re.search(r", line (\d+)", str(exc))
            where = f" (line {line[1]})" if line else ""
            raise ValueError(
                f"{path}: its data file {csv_path} can't be used{where}: it is not a CSV file "
                "of points (x1, x2, label)"
            ) from None
        try:
            dataset = apply_edits(base, session.data.edits)
            built = session.build_spec(dataset)
            session.training.validate()
        except ValueError as exc:
            raise ValueError(f"{unusable}: {exc}") from None
        if _without_init(built) != _without_init(spec):
            outputs, needed = spec["layers"][-1]["units"], built["layers"][-1]["units"]
            detail = (
                f"it has {outputs} outputs, the {dataset.name} data needs {needed}"
                if outputs != needed
                else "the network editor builds a different network from its settings"
            )
            raise ValueError(f"{path}: this network doesn't fit the playground: {detail}")
        return dataset

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
            name = self.experiment_path or f"{self.window.run_name}-experiment.npz"
            path = self._ask_save("experiments", "Save experiment", name, NPZ_FILTER, ".npz")
        if not path:
            return False
        path = str(path)
        data = session.to_dict()
        if isinstance(session, Session):
            data["data"]["csv_sha256"] = _data_file_sha256(session.data.csv_path)
        self._writing[path] = "experiment"
        self.window.controller.save_experiment(path, data, self.metadata())
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
            stem = f"{self.window.run_name}-model"
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
        dataset, session = self.window.dataset, self._session_to_save()
        if isinstance(session, ImageSession):
            return {
                "dataset": session.data.dataset,
                "task": "classification",
                "class_names": self.window.images.class_names,
                "input": "a 28×28 grayscale image, ink 1.0 on background 0.0, row by row",
                "config": session.training.to_dict(),
            }
        features = list(session.data.features)
        return {
            "dataset": dataset.name,
            "features": features,
            "task": dataset.task,
            "class_names": list(dataset.class_names),
            "input": f"a point (x1, x2) of [-6, 6]², as the features {', '.join(features)}",
            "config": session.training.to_dict(),
        }

    def _session_to_save(self) -> Session | ImageSession | None:
        """The settings of the run the engine has, with the rates applied to it live."""
        session = self.window.run_session
        if session is None:
            QMessageBox.information(
                self.window, "Nothing to save", "The current settings don't build a network."
            )
            return None
        live = self.window.current_training_panel.config()
        training = replace(session.training, lr=live.lr, l1=live.l1, l2=live.l2)
        return replace(session, training=training)

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
            self.remember(path)
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
        data = _svg(widget, name) if Path(path).suffix.lower() == ".svg" else _png(widget)
        return self._write(path, data)

    def export_history(self, path: str | None = None) -> bool:
        """Write the metric history, one row per epoch, as CSV."""
        snap = self.window.last_snapshot
        if snap is None or not len(snap.history["epoch"]):
            QMessageBox.information(self.window, "Nothing to export", "Train for an epoch first.")
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

    # -- recent files --------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Files last opened or saved, newest first (kept in the settings)."""
        return [str(p) for p in self.window.settings.value(RECENT_KEY, [], type=list)]

    def remember(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        self._set_recent(files[:MAX_RECENT])

    def open_recent(self, path: str) -> bool:
        if not Path(path).is_file():
            self._set_recent([p for p in self.recent_files() if p != path])
            QMessageBox.warning(
                self.window,
                "File not found",
                f"{path} no longer exists; it was removed from the recent files.",
            )
            return False
        return self.open(path)

    def clear_recent(self) -> None:
        self._set_recent([])

    def _set_recent(self, files: list[str]) -> None:
        self.window.settings.setValue(RECENT_KEY, files)
        self.window.settings.sync()
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        files = self.recent_files()
        for i, path in enumerate(files, 1):
            action = menu.addAction(f"&{i} {Path(path).name}")
            action.setStatusTip(path)
            action.setData(path)
            action.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        menu.addSeparator()
        clear = QAction("Clear list", menu)
        clear.setEnabled(bool(files))
        clear.triggered.connect(lambda _=False: self.clear_recent())
        menu.addAction(clear)


def _data_file_sha256(csv_path: str | None) -> str | None:
    """The SHA-256 an experiment keeps of its CSV file (None without one, or if it is gone)."""
    if not csv_path:
        return None
    try:
        return experiment_file.file_sha256(csv_path)
    except (ValueError, OSError):  # deleted or replaced by a pipe: reopening will say so
        return None


def _check_data_file(path: str, data: DataSettings) -> None:
    """Check an experiment's CSV file before anything reads it: a regular file of at most
    :data:`core.experiment.MAX_DATA_FILE_BYTES`, with the SHA-256 the experiment recorded (if
    it did). ValueError naming both files and the problem, never the file's text."""
    csv_path = data.csv_path
    try:
        digest = experiment_file.file_sha256(csv_path)
    except (ValueError, OSError) as exc:
        problem = str(exc).removeprefix(f"{csv_path}: ")
        raise ValueError(f"{path}: its data file {csv_path} can't be used: {problem}") from None
    if data.csv_sha256 is not None and digest != data.csv_sha256:
        raise ValueError(
            f"{path}: its data file {csv_path} has changed since the experiment was saved (its "
            "SHA-256 differs); the run can't continue on other data"
        )


def _usable_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """A model file's metadata without the fields whose type the app can't use (metadata is
    free-form: a file may hold anything there), so they are ignored rather than fatal."""
    kinds = {"dataset": str, "features": list, "class_names": list, "task": str}
    usable = {k: v for k, v in metadata.items() if k not in kinds or isinstance(v, kinds[k])}
    for key in ("features", "class_names"):
        if key in usable and not all(isinstance(v, (str, int)) for v in usable[key]):
            del usable[key]
    return usable


def _without_init(spec: dict[str, Any]) -> dict[str, Any]:
    layers = [{k: v for k, v in e.items() if k != "init"} for e in spec["layers"]]
    return {**spec, "layers": layers}


def _png(widget: QWidget) -> bytes:
    return _buffered(lambda buffer: widget.grab().save(buffer, "PNG"))


def _svg(widget: QWidget, title: str) -> bytes:
    """The widget painted as SVG: lines, text and shapes as vectors, images embedded."""

    def paint(buffer: QBuffer) -> None:
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(widget.size())
        generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
        generator.setTitle(title)
        painter = QPainter(generator)
        try:
            # QWidget's render: graphics views (plots, the network) override render() with a
            # scene-only version; this one paints the widget and its children as shown.
            QWidget.render(widget, painter, QPoint(0, 0))
        finally:
            painter.end()

    return _buffered(paint)


def _buffered(write: Callable[[QBuffer], Any]) -> bytes:
    """What ``write`` puts into an in-memory device (written to disk atomically afterwards)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    write(buffer)
    buffer.close()
    return bytes(data.data())

"""The plane workspace: toy 2D data, every neuron's map and the points you click in.

Panels on the left, the network in the middle, the output on the right, curves and statistics
below. Structural panel changes ask for a new run; the rates apply live; a click on the output
view adds a point (a right-click removes one) and the run goes on with it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings, QSignalBlocker
from PySide6.QtWidgets import QMessageBox, QWidget

from core.data.csv import read_points_csv
from core.data.dataset import Dataset
from core.data.features import feature_map, grid_points
from core.data.toy2d import DOMAIN
from core.model import Sequential
from core.training.batches import min_batch
from core.training.snapshot import Grid, Snapshot
from playground import point_edits
from playground.layout import EditorAndView, group, scroll_column
from playground.panels.data_panel import DataPanel
from playground.point_edits import apply_edits, edit_split, removal_split
from playground.presets import DEFAULT
from playground.session import Session
from playground.throttle import Throttled
from playground.views.network_view import NetworkView
from playground.views.output_view import OutputView
from playground.worker import RunSetup, TrainingController
from playground.workspaces.base import TrainingWorkspace

PLANE = "plane"
GRID_RESOLUTION = 100
#: Views costly to redraw (long curves, histograms) refresh at most this often (ms); the output
#: and network views follow every snapshot.
SLOW_VIEW_INTERVAL = 200


class PlaneWorkspace(TrainingWorkspace):
    mode = PLANE
    title = "Plane"
    tooltip = "Plane: learn to separate points of toy 2D data sets and watch every neuron."
    settings_key = "session"
    default_preset = DEFAULT
    session_type = Session
    layout_key = "split"

    def __init__(self, controller: TrainingController, settings: QSettings | None = None) -> None:
        super().__init__(controller, DataPanel())
        self.dataset: Dataset | None = None
        self._setup_edits = 0  # point edits in the data the run was set up with
        self.network_view = NetworkView()
        self.output_view = OutputView()
        # Each costly view on its own schedule, the views taking turns to redraw at once, so
        # their redraws fall in different event-loop turns instead of one long one.
        self._slow_views = [
            Throttled(view.show_snapshot, SLOW_VIEW_INTERVAL, self)
            for view in (self.curves_view, self.stats_view)
        ]
        self._slow_turn = 0
        self._build_layout()
        self.data_panel.csvRequested.connect(self.import_csv)
        self.output_view.pointAdded.connect(self._point_added)
        self.output_view.pointRemoved.connect(self._point_removed)
        self.network_view.neuronClicked.connect(self.output_view.show_neuron)

    def _build_layout(self) -> None:
        scroll = scroll_column(
            [group("Data", self.data_panel), group("Training", self.training_panel)]
        )
        middle = EditorAndView(group("Network", self.network_panel), self.network_view)
        self._lay_out([scroll, middle, self.output_view], [0, 520, 450], [0, 3, 3])

    # -- sessions ------------------------------------------------------------------------------
    def show_trained_edits(self, session: Session) -> None:
        """The point edits a parked run's state was trained with: the run is set up on them,
        and the waiting edits join again once it is (see :meth:`reset_run`)."""
        with self.applying():  # no run for the panel's change: the parked run is set up next
            self.data_panel.set_settings(session.data)

    def import_csv(self, path: str) -> None:
        """Check the file first: a bad file shows the error and changes nothing."""
        try:
            read_points_csv(path)
        except ValueError as exc:
            QMessageBox.warning(self, "Can't import points", str(exc))
            return
        self.data_panel.set_csv(path)

    # -- runs ----------------------------------------------------------------------------------
    def reset_run(self, **start: Any) -> None:
        for view in self._slow_views:
            view.cancel()
        session = self.session()
        try:
            dataset = session.build_dataset()
            spec = session.build_spec(dataset)
            session.training.validate()
            n_params = Sequential(spec).n_params
        except ValueError as exc:
            self._refuse_run(exc)
            self.network_panel.set_param_count(None, "invalid network")
            return
        self.banner.emit("")
        self.training_panel.set_max_batch(len(dataset.x_train))
        session.training = self.training_panel.config()  # with the batch size as clamped
        self.dataset, self.spec, self.last_snapshot = dataset, spec, None
        self.run_session = session
        features = session.data.features
        inputs = feature_map(grid_points(GRID_RESOLUTION, DOMAIN), features)
        res = GRID_RESOLUTION
        feature_grids = inputs.T.reshape(len(features), res, res)
        self.network_panel.set_param_count(n_params)
        self.network_view.set_structure(
            spec, features, feature_grids, dataset.task == "classification"
        )
        self.output_view.set_dataset(dataset)
        self.curves_view.clear()
        dense = [(i, e) for i, e in enumerate(spec["layers"]) if e["type"] == "dense"]
        self.stats_view.set_layers(
            [(i, f"dense {k + 1} ({e['units']} units)") for k, (i, e) in enumerate(dense)]
        )
        x_train, y_train, x_test, y_test = self._arrays(dataset)
        self.controller.setup(
            RunSetup(
                spec=spec,
                config=session.training,
                x_train=x_train,
                y_train=y_train,
                x_test=x_test,
                y_test=y_test,
                grid=Grid(inputs, res, neuron_stride=2),
                **start,
            )
        )
        # Note the point edits the run's data holds; a reopened experiment's edits that waited
        # for its epoch to end (``queued_edits``) are queued again.
        self._setup_edits = len(session.data.edits)
        experiment = start.get("resume")
        if experiment is not None:
            for edit in experiment.data.get("data", {}).get("queued_edits") or []:
                self._edit_run(list(edit))
        self.runSetUp.emit()

    def _arrays(self, dataset: Dataset) -> tuple:
        """x_train, y_train, x_test, y_test as the network takes them (the run's features)."""
        features = self.run_session.data.features
        return (
            feature_map(dataset.x_train, features),
            dataset.y_train,
            feature_map(dataset.x_test, features),
            dataset.y_test,
        )

    def drop_run(self) -> None:
        super().drop_run()
        self.dataset = None

    @property
    def run_name(self) -> str:
        return self.dataset.name if self.dataset is not None else "run"

    def metadata(self, session: Session) -> dict[str, Any]:
        dataset, features = self.dataset, list(session.data.features)
        return {
            "dataset": dataset.name,
            "features": features,
            "task": dataset.task,
            "class_names": list(dataset.class_names),
            "input": f"a point (x1, x2) of [-6, 6]², as the features {', '.join(features)}",
            "config": session.training.to_dict(),
        }

    # -- point edits ---------------------------------------------------------------------------
    def _edits_full(self) -> bool:
        """Whether the data panel holds as many point edits as a saved file may (say so)."""
        if len(self.data_panel.settings().edits) < point_edits.MAX_EDITS:
            return False
        self.statusMessage.emit(
            f"No more points: {point_edits.MAX_EDITS:,} clicks are the most a data set "
            "keeps (Remove my points starts over)",
            8000,
        )
        return True

    def _point_added(self, x1: float, x2: float, label: float) -> None:
        """A click on the output view: the point joins the training or the test set (drawn
        with the test ratio, see :func:`playground.session.edit_split`) and the run goes on."""
        if self._edits_full():
            return
        if self.dataset is not None and self.dataset.task == "classification":
            label = int(label)
        if self.run_session is None or self.dataset is None:
            data = self.data_panel.settings()  # no run to go on: one is set up with the point
            self.data_panel.add_edit(["add", x1, x2, label, edit_split(data, len(data.edits))])
            return
        data = self.run_session.data
        self._edit_run(["add", x1, x2, label, edit_split(data, len(data.edits))])

    def _point_removed(self, x1: float, x2: float) -> None:
        """A right-click (or shift-click) on the output view: the nearest point leaves its set
        and the run goes on."""
        if self._edits_full():
            return
        if self.run_session is None or self.dataset is None:
            self.data_panel.add_edit(["remove", x1, x2])
            return
        split = removal_split(self.dataset, x1, x2)
        if split is None:
            self.statusMessage.emit("No point to remove there: right-click on a point", 5000)
            return
        self._edit_run(["remove", x1, x2, split])

    def _edit_run(self, edit: list) -> None:
        """Apply a point edit to the run's data: shown at once, trained on from the next epoch
        boundary (the engine keeps the weights); the data panel records it."""
        try:
            dataset = apply_edits(self.dataset, [edit])
        except ValueError as exc:
            self.banner.emit(f"Can't change the points: {exc}")
            return
        refused = self._untrainable(dataset)
        if refused:  # checked here as the trainer would: the app and the run keep the same points
            self.banner.emit(f"Can't change the points: {refused}")
            return
        with QSignalBlocker(self.data_panel):  # no reset: the run goes on
            self.data_panel.add_edit(edit)
        session = self.run_session
        session.data.edits.append(edit)
        self.dataset = dataset
        self.output_view.set_points(dataset)
        self.controller.edit_points(
            self._arrays(dataset), len(session.data.edits), self._setup_edits
        )
        where = "training" if edit[-1] == "train" else "test"
        done = "added to" if edit[0] == "add" else "removed from"
        self.settingsChanged.emit()
        self.statusMessage.emit(
            f"Point {done} the {where} set: training goes on, and the change counts from the "
            "next epoch on",
            8000,
        )

    def _untrainable(self, dataset: Dataset) -> str:
        """Why the run can't train on ``dataset``'s training points ("" if it can): the
        trainer's rule for batch norm (:func:`core.training.min_batch`), in the app's words."""
        n = len(dataset.x_train)
        if n == 0:
            return "the training set would be empty."
        fewest = min_batch(Sequential(self.spec).layers)
        if min(self.run_session.training.batch_size, n) < fewest:
            return (
                f"batch norm in the network needs batches of at least {fewest} training points "
                f"(see the Batch box); the training set would hold {n}."
            )
        return ""

    # -- snapshots -----------------------------------------------------------------------------
    def show_snapshot(self, snap: Snapshot) -> None:
        self.last_snapshot = snap
        self.output_view.show_snapshot(snap)
        self.network_view.show_snapshot(snap)
        for i, view in enumerate(self._slow_views):
            if i == self._slow_turn:
                view(snap)
            else:
                view.later(snap)
        self._slow_turn = (self._slow_turn + 1) % len(self._slow_views)

    def flush_views(self) -> None:
        for view in self._slow_views:
            view.flush()

    def views(self) -> tuple[tuple[str, QWidget], ...]:
        return (
            ("output view", self.output_view),
            ("network", self.network_view),
            *super().views(),
        )

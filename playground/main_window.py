"""The main window: panels on the left, the network in the middle, the output on the right,
curves and statistics below. It owns the training controller (the worker thread) and turns panel
changes into runs: structural changes reset the run, the learning and regularization rates
apply live. The File menu lives in :mod:`playground.file_actions`.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from core.data.csv import read_points_csv
from core.data.features import feature_map, grid_points
from core.data.toy2d import DOMAIN, Dataset
from core.model import Sequential
from core.training import Grid, Snapshot
from playground.file_actions import FileActions
from playground.panels.data_panel import DataPanel
from playground.panels.network_panel import NetworkPanel
from playground.panels.training_panel import TrainingPanel
from playground.presets import DEFAULT, presets
from playground.session import Session
from playground.views.curves_view import CurvesView
from playground.views.network_view import NetworkView
from playground.views.output_view import OutputView
from playground.views.stats_view import StatsView
from playground.worker import DONE, RUNNING, RunSetup, TrainingController

GRID_RESOLUTION = 100


class MainWindow(QMainWindow):
    runReset = Signal()  # a new run was set up (after any structural change)

    def __init__(self, settings: QSettings | None = None, preset: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("NN Playground")
        self.settings = settings if settings is not None else QSettings("nn-playground", "app")
        self.controller = TrainingController(self)
        self.dataset: Dataset | None = None
        self.spec: dict | None = None
        self.run_session: Session | None = None  # the settings the current run was built from
        self.last_snapshot: Snapshot | None = None
        self._applying = False

        self.data_panel = DataPanel()
        self.network_panel = NetworkPanel()
        self.training_panel = TrainingPanel()
        self.network_view = NetworkView()
        self.output_view = OutputView()
        self.curves_view = CurvesView()
        self.stats_view = StatsView()
        self._build_layout()
        self.files = FileActions(self)
        self._build_actions()
        self.setAcceptDrops(True)

        self.data_panel.changed.connect(self.reset_run)
        self.data_panel.csvRequested.connect(self.import_csv)
        self.network_panel.changed.connect(self.reset_run)
        self.training_panel.changed.connect(self.reset_run)
        self.training_panel.lrChanged.connect(self.controller.set_lr)
        self.training_panel.regularizationChanged.connect(self.controller.set_regularization)
        self.output_view.pointAdded.connect(self._point_added)
        self.output_view.pointRemoved.connect(
            lambda x1, x2: self.data_panel.add_edit(["remove", x1, x2])
        )
        self.network_view.neuronClicked.connect(self.output_view.show_neuron)
        self.controller.snapshotReady.connect(self.show_snapshot)
        self.controller.stateChanged.connect(self._state_changed)
        self.controller.failed.connect(self._show_banner)

        session = self._restore(preset)
        if preset is not None:
            self.preset_box.setCurrentIndex(self.preset_box.findData(preset))
        self.apply_session(session)
        self._restore_layout()

    # -- layout --------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(_group("Data", self.data_panel))
        left_layout.addWidget(_group("Training", self.training_panel))
        left_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(
            left.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        )

        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(_group("Network", self.network_panel))
        middle_layout.addWidget(self.network_view, 1)

        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "#banner { background: #fde2e1; color: #8a1c13; padding: 8px; border-radius: 4px; }"
        )
        self.banner.hide()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.output_view, 1)

        self.top_split = QSplitter(Qt.Orientation.Horizontal)
        self.top_split.addWidget(scroll)
        self.top_split.addWidget(middle)
        self.top_split.addWidget(right)
        self.top_split.setStretchFactor(0, 0)
        self.top_split.setStretchFactor(1, 3)
        self.top_split.setStretchFactor(2, 3)
        self.top_split.setSizes([scroll.minimumWidth(), 520, 450])
        self.bottom_split = QSplitter(Qt.Orientation.Horizontal)
        self.bottom_split.addWidget(self.curves_view)
        self.bottom_split.addWidget(self.stats_view)
        self.main_split = QSplitter(Qt.Orientation.Vertical)
        self.main_split.addWidget(self.top_split)
        self.main_split.addWidget(self.bottom_split)
        self.main_split.setStretchFactor(0, 3)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setSizes([560, 240])
        self.setCentralWidget(self.main_split)

        self.status_metrics = QLabel()
        self.status_speed = QLabel()
        self.statusBar().addWidget(self.status_metrics, 1)
        self.statusBar().addPermanentWidget(self.status_speed)

    def _build_actions(self) -> None:
        tb = self.addToolBar("Run")
        tb.setObjectName("runToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        icon = self.style().standardIcon
        self.play_icon = icon(QStyle.StandardPixmap.SP_MediaPlay)
        self.pause_icon = icon(QStyle.StandardPixmap.SP_MediaPause)
        self.reset_action = QAction(icon(QStyle.StandardPixmap.SP_BrowserReload), "Reset", self)
        self.reset_action.setShortcut(QKeySequence("R"))
        self.reset_action.setToolTip("Start over with new initial weights from the seed (R).")
        self.reset_action.triggered.connect(self.reset_run)
        self.play_action = QAction(self.play_icon, "Play", self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.setToolTip("Train continuously, or pause (Space).")
        self.play_action.triggered.connect(self.toggle_play)
        self.step_action = QAction(icon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step", self)
        self.step_action.setShortcut(QKeySequence("S"))
        self.step_action.setToolTip("Train exactly one epoch, then pause (S).")
        self.step_action.triggered.connect(self.step_epoch)
        for action in (self.reset_action, self.play_action, self.step_action):
            tb.addAction(action)
        tb.addSeparator()
        self.epoch_label = QLabel()
        self.epoch_label.setObjectName("counter")
        tb.addWidget(self.epoch_label)
        tb.addSeparator()
        tb.addWidget(QLabel(" Preset "))
        self.preset_box = QComboBox()
        self.preset_box.addItem("—", None)
        for name in presets():
            self.preset_box.addItem(name, name)
        self.preset_box.setToolTip("Load a ready-made data set and network that learns it.")
        self.preset_box.activated.connect(self._preset_chosen)
        tb.addWidget(self.preset_box)

        file_menu = self.menuBar().addMenu("&File")
        self.files.populate(file_menu)
        file_menu.addSeparator()
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        run_menu = self.menuBar().addMenu("&Run")
        for action in (self.play_action, self.step_action, self.reset_action):
            run_menu.addAction(action)

    # -- sessions ------------------------------------------------------------------------------
    def _restore(self, preset: str | None) -> Session:
        if preset is not None:
            return presets()[preset]
        saved = self.settings.value("session")
        if saved:
            try:
                return Session.from_json(str(saved))
            except ValueError:
                pass  # an older or damaged saved session: start from the default
        return presets()[DEFAULT]

    def _restore_layout(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        for key, split in (
            ("split/top", self.top_split),
            ("split/bottom", self.bottom_split),
            ("split/main", self.main_split),
        ):
            state = self.settings.value(key)
            if state is not None:
                split.restoreState(state)

    def save_settings(self) -> None:
        self.settings.setValue("session", self.session().to_json())
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("split/top", self.top_split.saveState())
        self.settings.setValue("split/bottom", self.bottom_split.saveState())
        self.settings.setValue("split/main", self.main_split.saveState())
        self.settings.sync()

    def session(self) -> Session:
        return Session(
            self.data_panel.settings(), self.network_panel.settings(), self.training_panel.config()
        )

    def apply_session(self, session: Session, **start) -> None:
        """Show ``session`` in the panels and set up one run for it (``start``: see reset_run)."""
        self._applying = True
        try:
            self.data_panel.set_settings(session.data)
            self.network_panel.set_settings(session.network)
            self.training_panel.set_config(session.training)
        finally:
            self._applying = False
        self.reset_run(**start)

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        if name:
            self.apply_session(presets()[name])

    # -- runs ----------------------------------------------------------------------------------
    def reset_run(self, **start) -> None:
        """Build the data set and network from the panels and set up a fresh run, or one that
        starts as ``start`` says (RunSetup's ``resume`` or ``initial_state``)."""
        if self._applying:
            return
        session = self.session()
        try:
            dataset = session.build_dataset()
            spec = session.build_spec(dataset)
            session.training.validate()
            n_params = Sequential(spec).n_params
        except ValueError as exc:
            self._show_banner(f"Can't build this run: {exc}")
            self.network_panel.set_param_count(None, "invalid network")
            return
        self.banner.hide()
        self.dataset, self.spec, self.last_snapshot = dataset, spec, None
        self.run_session = session
        features = session.data.features
        points = grid_points(GRID_RESOLUTION, DOMAIN)
        inputs = feature_map(points, features)
        res = GRID_RESOLUTION
        feature_grids = inputs.T.reshape(len(features), res, res)
        self.network_panel.set_param_count(n_params)
        self.training_panel.set_max_batch(len(dataset.x_train))
        self.network_view.set_structure(
            spec, features, feature_grids, dataset.task == "classification"
        )
        self.output_view.set_dataset(dataset)
        self.curves_view.clear()
        dense = [(i, e) for i, e in enumerate(spec["layers"]) if e["type"] == "dense"]
        self.stats_view.set_layers(
            [(i, f"dense {k + 1} ({e['units']} units)") for k, (i, e) in enumerate(dense)]
        )
        self.controller.setup(
            RunSetup(
                spec=spec,
                config=session.training,
                x_train=feature_map(dataset.x_train, features),
                y_train=dataset.y_train,
                x_test=feature_map(dataset.x_test, features),
                y_test=dataset.y_test,
                grid=Grid(inputs, res, neuron_stride=2),
                **start,
            )
        )
        self.save_settings()
        self.runReset.emit()

    def toggle_play(self) -> None:
        if self.controller.state == RUNNING:
            self.controller.pause()
        else:
            self.banner.hide()
            self.controller.start()

    def step_epoch(self) -> None:
        if self.controller.state == RUNNING:
            self.controller.pause()
        self.controller.step_epoch()

    def import_csv(self, path: str) -> None:
        """Check the file first: a bad file shows the error and changes nothing."""
        try:
            read_points_csv(path)
        except ValueError as exc:
            QMessageBox.warning(self, "Can't import points", str(exc))
            return
        self.data_panel.set_csv(path)

    def _point_added(self, x1: float, x2: float, label: float) -> None:
        if self.dataset is not None and self.dataset.task == "classification":
            label = int(label)
        self.data_panel.add_edit(["add", x1, x2, label])

    # -- snapshots and state -------------------------------------------------------------------
    def show_snapshot(self, snap: Snapshot) -> None:
        self.last_snapshot = snap
        self.output_view.show_snapshot(snap)
        self.network_view.show_snapshot(snap)
        self.curves_view.show_snapshot(snap)
        self.stats_view.show_snapshot(snap)
        self.epoch_label.setText(f"  Epoch {snap.epoch:,}   Step {snap.step:,}  ")
        parts = []
        for label, loss, acc in (
            ("Train", snap.train_loss, snap.train_acc),
            ("Test", snap.test_loss, snap.test_acc),
        ):
            if loss is not None:
                text = f"{label} loss {loss:.4f}"
                if acc is not None:
                    text += f", accuracy {acc:.1%}"
                parts.append(text)
        self.status_metrics.setText("    ".join(parts) or "Not trained yet: press Play (Space)")
        if snap.elapsed > 0:
            self.status_speed.setText(
                f"{snap.step / snap.elapsed:,.0f} steps/s ({snap.samples_per_second:,.0f} "
                f"samples/s)   lr {snap.lr:.3g}"
            )
        else:
            self.status_speed.setText("")

    def _state_changed(self, state: str, reason: str) -> None:
        running = state == RUNNING
        self.play_action.setText("Pause" if running else "Play")
        self.play_action.setIcon(self.pause_icon if running else self.play_icon)
        if state == DONE and reason.startswith("diverged"):
            self._show_banner(
                f"Training stopped: it diverged. {reason.split(':', 1)[1].strip()}. "
                "Lower the learning rate (or clip gradients) and press Reset."
            )
        elif state == DONE and reason:
            self.statusBar().showMessage(f"Finished: {reason.replace('_', ' ')}", 5000)

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    # -- files ---------------------------------------------------------------------------------
    def export_png(self, widget: QWidget, name: str, path: str | None = None) -> bool:
        return self.files.export_view(widget, name, path)

    def export_history(self, path: str | None = None) -> bool:
        return self.files.export_history(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.files.dropped_file(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt name)
        path = self.files.dropped_file(event.mimeData())
        if path:
            event.acceptProposedAction()
            # Opened after the drop returns: a message box inside it would hold the drag source.
            QTimer.singleShot(0, lambda: self.files.open(path))

    # -- closing -------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.save_settings()
        self.controller.shutdown()
        super().closeEvent(event)


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 8, 4, 4)
    layout.addWidget(widget)
    return box

"""The main window, in two modes: the plane (toy 2D data: panels on the left, the network in the
middle, the output on the right, curves and statistics below) and images (MNIST /
Fashion-MNIST: :mod:`playground.image_workspace`). It owns the training controller (the engine
process) and turns panel changes into runs: structural changes reset the run, the learning and
regularization rates apply live. The File menu lives in :mod:`playground.file_actions`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSettings, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QFontDatabase, QIcon, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.data.csv import read_points_csv
from core.data.dataset import Dataset
from core.data.features import feature_map, grid_points
from core.data.toy2d import DOMAIN
from core.model import Sequential
from core.training.batches import min_batch
from core.training.snapshot import Grid, Snapshot
from playground import point_edits
from playground.data_folders import DataFolders
from playground.file_actions import FileActions
from playground.image_session import ImageSession, session_from_json
from playground.image_workspace import ImageWorkspace
from playground.kept_runs import KeptRuns
from playground.layout import EditorAndView, group, scroll_column, workspace
from playground.panels.data_panel import DataPanel
from playground.panels.network_panel import NetworkPanel
from playground.panels.speed_control import SpeedControl
from playground.panels.training_panel import TrainingPanel
from playground.point_edits import apply_edits, edit_split, removal_split
from playground.presets import DEFAULT, all_presets, image_presets, preset_speed, presets
from playground.run_status import stop_message
from playground.session import Session, reset_reason
from playground.theme import THEMES, apply_theme, current_theme, tinted
from playground.throttle import Throttled
from playground.views.curves_view import CurvesView
from playground.views.network_view import NetworkView
from playground.views.output_view import OutputView
from playground.views.stats_view import StatsView
from playground.worker import DONE, RUNNING, RunSetup, TrainingController

GRID_RESOLUTION = 100
PLANE, IMAGES = "plane", "images"
#: Views costly to redraw (long curves, histograms) refresh at most this often (ms); the output
#: and network views follow every snapshot.
SLOW_VIEW_INTERVAL = 200
#: Image runs: seconds between snapshots, and images for the dead-unit statistic (a CNN's
#: snapshot costs a forward pass over them).
IMAGE_SNAPSHOT_INTERVAL = 0.1
IMAGE_DEAD_SAMPLES = 64
#: The widest counter text the toolbar makes room for (its width never follows the counts).
WIDEST_COUNTER = " Epoch 999,999  Step 999,999 "
#: How the Preset box names a preset whose settings were changed since it was loaded.
CHANGED = "{} (changed)"


def count(n: int) -> str:
    """A counter as the toolbar shows it: ``123,456``, and ``1.23M`` from a million on, so it
    never needs more room than :data:`WIDEST_COUNTER`."""
    return f"{n:,}" if n < 1_000_000 else f"{n / 1e6:.2f}M"


class HintBar(QFrame):
    """A non-blocking hint above the workspace (a run that does not learn): it follows the run's
    snapshots, shown while they carry a hint; × hides it until the next run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hint")
        self.setStyleSheet(
            "#hint { background: #fff4ce; border-radius: 4px; } #hint QLabel { color: #5c4400; }"
        )
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Hide this hint until the next run.")
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.dismissed = False
        self.hide()

    def show_hint(self, text: str | None) -> None:
        """Show ``text`` (None: the run learns again, hide it) unless dismissed for this run."""
        if text and not self.dismissed:
            self.label.setText(text)
            self.show()
        else:
            self.hide()

    def dismiss(self) -> None:
        self.dismissed = True
        self.hide()

    def clear(self) -> None:
        """A new run: no hint, and the next one shows."""
        self.dismissed = False
        self.hide()


class MainWindow(QMainWindow):
    runReset = Signal()  # a new run was set up (after any structural change)

    def __init__(self, settings: QSettings | None = None, preset: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("NN Playground")
        self.settings = settings if settings is not None else QSettings("nn-playground", "app")
        self.controller = TrainingController(self)
        self.dataset: Dataset | None = None
        self.spec: dict | None = None
        self.run_session: Session | ImageSession | None = None  # what the current run came from
        self.last_snapshot: Snapshot | None = None
        self._applying = False
        self._setup_edits = 0  # point edits in the data the run was set up with
        # per mode: the preset last chosen, and its settings as the panels showed them
        self._presets: dict[str, str | None] = {PLANE: None, IMAGES: None}
        self._preset_shown: dict[str, Session | ImageSession | None] = {PLANE: None, IMAGES: None}

        self.data_panel = DataPanel()
        self.network_panel = NetworkPanel()
        self.training_panel = TrainingPanel()
        self.network_view = NetworkView()
        self.output_view = OutputView()
        self.curves_view = CurvesView()
        self.stats_view = StatsView()
        self.images = ImageWorkspace(folders=DataFolders(self.settings))
        # Each costly view on its own schedule, the views taking turns to redraw at once, so
        # their redraws fall in different event-loop turns instead of one long one.
        self._slow_views = [
            Throttled(view.show_snapshot, SLOW_VIEW_INTERVAL, self)
            for view in (self.curves_view, self.stats_view)
        ]
        self._slow_turn = 0
        self._build_layout()
        self.files = FileActions(self)
        self.kept = KeptRuns(self)  # parked runs, Edit ▸ Undo, the question on quitting
        self._build_actions(preset)
        self.setAcceptDrops(True)

        self.data_panel.changed.connect(self._settings_changed)
        self.data_panel.csvRequested.connect(self.import_csv)
        self.network_panel.changed.connect(self._settings_changed)
        self.training_panel.changed.connect(self._settings_changed)
        self.training_panel.lrChanged.connect(self.controller.set_lr)
        self.training_panel.regularizationChanged.connect(self.controller.set_regularization)
        self.output_view.pointAdded.connect(self._point_added)
        self.output_view.pointRemoved.connect(self._point_removed)
        self.network_view.neuronClicked.connect(self.output_view.show_neuron)
        self.images.changed.connect(self._settings_changed)
        self.runReset.connect(self._run_was_set_up)
        self.images.lrChanged.connect(self.controller.set_lr)
        self.images.regularizationChanged.connect(self.controller.set_regularization)
        self.controller.snapshotReady.connect(self.show_snapshot)
        self.controller.stateChanged.connect(self._state_changed)
        self.controller.failed.connect(self._show_banner)

        self._restore_sessions(preset)
        self._restore_layout()

    # -- layout --------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        scroll = scroll_column(
            [group("Data", self.data_panel), group("Training", self.training_panel)]
        )
        middle = EditorAndView(group("Network", self.network_panel), self.network_view)
        splits = workspace(
            [scroll, middle, self.output_view],
            [0, 520, 450],
            [0, 3, 3],
            [self.curves_view.with_options(), self.stats_view],
        )
        self.top_split, self.bottom_split, self.main_split = splits.top, splits.bottom, splits.main

        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "#banner { background: #fde2e1; color: #8a1c13; padding: 8px; border-radius: 4px; }"
        )
        self.banner.hide()
        self.hint = HintBar()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.main_split)
        self.stack.addWidget(self.images)
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(2)
        central_layout.addWidget(self.banner)
        central_layout.addWidget(self.hint)
        central_layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.status_metrics = QLabel()
        self.status_speed = QLabel()
        self.status_note = QLabel()  # why the run stopped, until the next action
        self.status_note.setObjectName("stopNote")
        self.status_note.setContentsMargins(0, 0, 12, 0)
        self.statusBar().addWidget(self.status_note)
        # The metrics give way (clipped) to the note when the bar is short of room.
        self.status_metrics.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.statusBar().addWidget(self.status_metrics, 1)
        self.statusBar().addPermanentWidget(self.status_speed)

    def _build_actions(self, preset: str | None = None) -> None:
        tb = self.addToolBar("Run")
        tb.setObjectName("runToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reset_action = QAction("Reset", self)
        self.reset_action.setShortcut(QKeySequence("R"))
        self.reset_action.setToolTip("Start over with new initial weights from the seed (R).")
        self.reset_action.triggered.connect(self.reset_run)
        self.play_action = QAction("Play", self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.setToolTip("Train continuously, or pause (Space).")
        self.play_action.triggered.connect(self.toggle_play)
        self.step_action = QAction("Step", self)
        self.step_action.setShortcut(QKeySequence("S"))
        self.step_action.setToolTip("Train exactly one epoch, then pause (S).")
        self.step_action.triggered.connect(self.step_epoch)
        self._tint_icons()
        for action in (self.reset_action, self.play_action, self.step_action):
            tb.addAction(action)
        for action in (self.reset_action, self.step_action):  # Play, the main action, keeps words
            tb.widgetForAction(action).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        play = tb.widgetForAction(self.play_action)  # as wide as "Pause": nothing moves
        self.play_action.setText("Pause")
        play.setFixedWidth(max(play.sizeHint().width(), play.minimumSizeHint().width()))
        self.play_action.setText("Play")
        tb.addSeparator()
        self.epoch_label = QLabel()
        self.epoch_label.setObjectName("counter")
        self.epoch_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.epoch_label.setFixedWidth(
            self.epoch_label.fontMetrics().horizontalAdvance(WIDEST_COUNTER)
        )
        tb.addWidget(self.epoch_label)
        tb.addSeparator()
        tb.addWidget(QLabel(" Mode "))
        self.mode_box = QComboBox()
        self.mode_box.addItem("Plane", PLANE)
        self.mode_box.addItem("Images", IMAGES)
        self.mode_box.setToolTip(
            "Plane: learn to separate points of toy 2D data sets and watch every neuron. "
            "Images: learn to recognize handwritten digits or clothes (28×28 pixels), then draw "
            "your own."
        )
        self.mode_box.activated.connect(self._mode_chosen)
        tb.addWidget(self.mode_box)
        tb.addWidget(QLabel(" Preset "))
        self.preset_box = QComboBox()
        self.preset_box.addItem("—", None)
        for name in all_presets():
            self.preset_box.addItem(name, name)
        self.preset_box.setToolTip("Load a ready-made data set and network that learns it.")
        self.preset_box.activated.connect(self._preset_chosen)
        longest = CHANGED.format(max(all_presets(), key=len))
        arrow = (
            self.preset_box.sizeHint().width()
            - self.preset_box.fontMetrics().horizontalAdvance(
                max((self.preset_box.itemText(i) for i in range(self.preset_box.count())), key=len)
            )
        )
        self.preset_box.setFixedWidth(
            self.preset_box.fontMetrics().horizontalAdvance(longest) + arrow
        )
        tb.addWidget(self.preset_box)
        # Last in the toolbar: it never moves Mode and Preset, and a narrow window hides it first.
        tb.addSeparator()
        self.speed_control = SpeedControl(self.settings, preset_speed(preset or DEFAULT))
        self.speed_control.speedChanged.connect(self.controller.set_speed)
        self.controller.set_speed(self.speed_control.speed())
        tb.addWidget(self.speed_control)

        file_menu = self.menuBar().addMenu("&File")
        self.files.populate(file_menu)
        file_menu.addSeparator()
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.quit)
        file_menu.addAction(quit_action)
        self.kept.populate(self.menuBar().addMenu("&Edit"))
        run_menu = self.menuBar().addMenu("&Run")
        for action in (self.play_action, self.step_action, self.reset_action):
            run_menu.addAction(action)
        self._build_view_menu()

    def _build_view_menu(self) -> None:
        """View ▸ Theme: follow the system, light or dark; remembered for the next launch."""
        theme_menu = self.menuBar().addMenu("&View").addMenu("Theme")
        self.theme_actions: dict[str, QAction] = {}
        group_ = QActionGroup(self)
        for name, label in THEMES.items():
            action = QAction(label, self, checkable=True)
            action.setChecked(name == current_theme())
            action.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            group_.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[name] = action

    def _tint_icons(self) -> None:
        """Reset, Play/Pause and Step drawn in the theme's text colour, so they read in the dark
        theme too (the style's own icons are drawn for light backgrounds)."""
        color = self.palette().color(QPalette.ColorRole.WindowText)

        def icon(kind: QStyle.StandardPixmap) -> QIcon:
            return tinted(self.style().standardIcon(kind), color)

        self.play_icon = icon(QStyle.StandardPixmap.SP_MediaPlay)
        self.pause_icon = icon(QStyle.StandardPixmap.SP_MediaPause)
        self.reset_action.setIcon(icon(QStyle.StandardPixmap.SP_BrowserReload))
        self.step_action.setIcon(icon(QStyle.StandardPixmap.SP_MediaSkipForward))
        running = self.play_action.text() == "Pause"
        self.play_action.setIcon(self.pause_icon if running else self.play_icon)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "step_action"):
            self._tint_icons()  # a theme change, chosen or the system's
        super().changeEvent(event)

    def set_theme(self, name: str) -> None:
        """Show the window in theme ``name`` (one of THEMES) and remember it."""
        apply_theme(QApplication.instance(), name, self)
        self.theme_actions[name].setChecked(True)
        self.settings.setValue("theme", name)

    # -- sessions ------------------------------------------------------------------------------
    def _restore_sessions(self, preset: str | None) -> None:
        """Show the saved sessions of both modes (or the preset's) and set up a run in the
        mode last used (or the preset's)."""
        plane = self._saved_session("session", Session) or presets()[DEFAULT]
        images = self._saved_session("session/images", ImageSession)
        images = images or image_presets()["fashion-mlp"]
        mode = IMAGES if self.settings.value("mode") == IMAGES else PLANE
        if preset is not None:
            chosen = all_presets()[preset]
            mode = IMAGES if isinstance(chosen, ImageSession) else PLANE
            plane, images = (plane, chosen) if mode == IMAGES else (chosen, images)
            self._presets[mode], self._preset_shown[mode] = preset, None
        self._applying = True
        try:
            self._show_session(plane)
            self._show_session(images)
        finally:
            self._applying = False
        self.set_mode(mode)

    def _saved_session(self, key: str, kind: type) -> Session | ImageSession | None:
        saved = self.settings.value(key)
        if saved:
            try:
                session = session_from_json(str(saved))
            except ValueError:
                return None  # an older or damaged saved session: start from the default
            return session if isinstance(session, kind) else None
        return None

    @property
    def mode(self) -> str:
        return IMAGES if self.stack.currentWidget() is self.images else PLANE

    def _mode_chosen(self, index: int) -> None:
        mode = self.mode_box.itemData(index)
        if mode != self.mode:  # choosing the mode on screen again keeps its run
            self.set_mode(mode)

    def set_mode(self, mode: str) -> None:
        """Show the plane or the image workspace and set up a run there."""
        self.stack.setCurrentWidget(self.images if mode == IMAGES else self.main_split)
        self.mode_box.setCurrentIndex(self.mode_box.findData(mode))
        self.reset_run(**self.kept.resume_parked(mode))  # the run left there, if any

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
        self.settings.setValue("session", self.plane_session().to_json())
        self.settings.setValue("session/images", self.images.session().to_json())
        self.settings.setValue("mode", self.mode)
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("split/top", self.top_split.saveState())
        self.settings.setValue("split/bottom", self.bottom_split.saveState())
        self.settings.setValue("split/main", self.main_split.saveState())
        self.settings.sync()

    def session(self) -> Session | ImageSession:
        """The settings shown in the current mode."""
        return self.images.session() if self.mode == IMAGES else self.plane_session()

    def plane_session(self) -> Session:
        return Session(
            self.data_panel.settings(), self.network_panel.settings(), self.training_panel.config()
        )

    @property
    def current_training_panel(self) -> TrainingPanel:
        return self.images.training_panel if self.mode == IMAGES else self.training_panel

    def apply_session(self, session: Session | ImageSession, **start) -> None:
        """Show ``session`` in its mode's panels, switch to that mode and set up one run for it
        (``start``: see reset_run)."""
        mode = IMAGES if isinstance(session, ImageSession) else PLANE
        self.kept.drop_parked(mode)  # that mode's panels change: Undo can bring its run back
        self._applying = True
        try:
            self._show_session(session)
            mode = IMAGES if isinstance(session, ImageSession) else PLANE
            self.stack.setCurrentWidget(self.images if mode == IMAGES else self.main_split)
            self.mode_box.setCurrentIndex(self.mode_box.findData(mode))
        finally:
            self._applying = False
        self.reset_run(**start)

    def _show_session(self, session: Session | ImageSession) -> None:
        if isinstance(session, ImageSession):
            self.images.apply_session(session)
            return
        self.data_panel.set_settings(session.data)
        self.network_panel.set_settings(session.network)
        self.training_panel.set_config(session.training)

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        if name:
            self.kept.next_label = "Preset"
            self.speed_control.set_speed(preset_speed(name))
            chosen = all_presets()[name]
            mode = IMAGES if isinstance(chosen, ImageSession) else PLANE
            self._presets[mode], self._preset_shown[mode] = name, None
            self.apply_session(chosen)

    def _show_preset(self) -> None:
        """The Preset box names the current mode's preset, marked when its settings were
        changed since (an edit, an imported CSV file, an opened file)."""
        name = self._presets[self.mode]
        for i in range(1, self.preset_box.count()):
            self.preset_box.setItemText(i, self.preset_box.itemData(i))
        if name is None:
            self.preset_box.setCurrentIndex(0)
            self.preset_box.setToolTip("Load a ready-made data set and network that learns it.")
            return
        index = self.preset_box.findData(name)
        self.preset_box.setCurrentIndex(index)
        if self._preset_shown[self.mode] is None:  # just loaded (the panels fill in defaults)
            self._preset_shown[self.mode] = self.session()
        if self.session() == self._preset_shown[self.mode]:
            self.preset_box.setToolTip(f"The preset {name}, as loaded.")
        else:
            self.preset_box.setItemText(index, CHANGED.format(name))
            self.preset_box.setToolTip(
                f"The settings were changed since the preset {name} was loaded; "
                "choose it again to go back to it."
            )

    # -- runs ----------------------------------------------------------------------------------
    def reset_run(self, **start) -> None:
        """Build the data set and network from the panels and set up a fresh run, or one that
        starts as ``start`` says (RunSetup's ``resume`` or ``initial_state``)."""
        if self._applying:
            return
        self.kept.before_reset(self.sender(), start)  # the current run is parked or undoable
        self._show_preset()
        self.hint.clear()
        for view in self._slow_views:
            view.cancel()
        if self.mode == IMAGES:
            self._reset_image_run(**start)
            return
        session = self.plane_session()
        try:
            dataset = session.build_dataset()
            spec = session.build_spec(dataset)
            session.training.validate()
            n_params = Sequential(spec).n_params
        except ValueError as exc:
            self._refuse_run(exc)
            self.network_panel.set_param_count(None, "invalid network")
            return
        self.banner.hide()
        self.training_panel.set_max_batch(len(dataset.x_train))
        session.training = self.training_panel.config()  # with the batch size as clamped
        self.dataset, self.spec, self.last_snapshot = dataset, spec, None
        self.run_session = session
        features = session.data.features
        points = grid_points(GRID_RESOLUTION, DOMAIN)
        inputs = feature_map(points, features)
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

    def _reset_image_run(self, **start) -> None:
        try:
            run = self.images.prepare_run()
        except ValueError as exc:
            self._refuse_run(exc)
            return
        self.banner.hide()
        self.dataset, self.spec, self.last_snapshot = None, run.spec, None
        self.run_session = self.images.session()
        self.images.start_run(run)
        self.controller.setup(
            RunSetup(
                spec=run.spec,
                config=run.config,
                images=run.data,
                interval=IMAGE_SNAPSHOT_INTERVAL,
                dead_samples=IMAGE_DEAD_SAMPLES,
                **start,
            )
        )
        self.save_settings()
        self.runReset.emit()

    def _refuse_run(self, exc: ValueError) -> None:
        """The panels don't build a run: say why, and drop the old run so that Play can't
        train something other than what the panels show."""
        self._show_banner(f"Can't build this run: {exc}")
        self.controller.discard()
        self.dataset = self.spec = self.last_snapshot = self.run_session = None

    @property
    def run_mode(self) -> str | None:
        """The mode the current run belongs to (None without a run)."""
        if self.run_session is None:
            return None
        return IMAGES if isinstance(self.run_session, ImageSession) else PLANE

    @property
    def run_name(self) -> str:
        """A short name of the current run's data (default file names)."""
        if self.mode == IMAGES:
            return self.images.session().data.dataset
        return self.dataset.name if self.dataset is not None else "run"

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

    def _edits_full(self) -> bool:
        """Whether the data panel holds as many point edits as a saved file may (say so)."""
        if len(self.data_panel.settings().edits) < point_edits.MAX_EDITS:
            return False
        self.statusBar().showMessage(
            f"No more points: {point_edits.MAX_EDITS:,} clicks are the most a data set "
            "keeps (Remove my points starts over)",
            8000,
        )
        return True

    def _point_added(self, x1: float, x2: float, label: float) -> None:
        """A click on the output view: the point joins the training or the test set (drawn
        with the test ratio, see :func:`playground.point_edits.edit_split`) and the run goes on."""
        if self._edits_full():
            return
        if self.dataset is not None and self.dataset.task == "classification":
            label = int(label)
        if not isinstance(self.run_session, Session) or self.dataset is None:
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
        if not isinstance(self.run_session, Session) or self.dataset is None:
            self.data_panel.add_edit(["remove", x1, x2])
            return
        split = removal_split(self.dataset, x1, x2)
        if split is None:
            self.statusBar().showMessage("No point to remove there: right-click on a point", 5000)
            return
        self._edit_run(["remove", x1, x2, split])

    def _edit_run(self, edit: list) -> None:
        """Apply a point edit to the run's data: shown at once, trained on from the next epoch
        boundary (the engine keeps the weights); the data panel records it."""
        try:
            dataset = apply_edits(self.dataset, [edit])
        except ValueError as exc:
            self._show_banner(f"Can't change the points: {exc}")
            return
        refused = self._untrainable(dataset)
        if refused:  # checked here as the trainer would: the app and the run keep the same points
            self._show_banner(f"Can't change the points: {refused}")
            return
        with QSignalBlocker(self.data_panel):  # no reset: the run goes on
            self.data_panel.add_edit(edit)
        session = self.run_session
        session.data.edits.append(edit)
        self.dataset = dataset
        self.output_view.set_points(dataset)
        features = session.data.features
        arrays = (
            feature_map(dataset.x_train, features),
            dataset.y_train,
            feature_map(dataset.x_test, features),
            dataset.y_test,
        )
        self.controller.edit_points(arrays, len(session.data.edits), self._setup_edits)
        self.save_settings()
        where = "training" if edit[-1] == "train" else "test"
        done = "added to" if edit[0] == "add" else "removed from"
        self.statusBar().showMessage(
            f"Point {done} the {where} set: training goes on, and the change counts from the "
            "next epoch on",
            8000,
        )
        self._show_preset()

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

    def _run_was_set_up(self) -> None:
        """Note the point edits the new run's data holds; a reopened experiment's edits that
        waited for its epoch to end (``queued_edits``) are queued again."""
        run = self.run_session
        self.kept.run_set_up()
        self._setup_edits = len(run.data.edits) if isinstance(run, Session) else 0
        setup = self.controller.last_setup
        experiment = setup.resume if setup is not None else None
        if isinstance(run, Session) and experiment is not None:
            for edit in experiment.data.get("data", {}).get("queued_edits") or []:
                self._edit_run(list(edit))

    def _settings_changed(self) -> None:
        """A panel changed: a new run only when the network's shape or the data set changed
        (or the batch size or seed, which shape a run from its start), said in the status bar;
        other training settings (another optimizer, say) apply to the run, which goes on."""
        if self._applying:
            return
        run, now = self.run_session, self.session()
        reason = reset_reason(run, now) if run is not None else ""
        if reason is None:
            self._go_on_with(now.training)
            return
        self.reset_run()
        if reason and self.run_session is not None:
            self.statusBar().showMessage(f"Reset: {reason}", 8000)

    def _go_on_with(self, training) -> None:
        """Let the run go on with other training settings (the weights stay; another optimizer
        starts with a fresh state)."""
        old = self.run_session.training
        if training == old:
            return
        try:
            training.validate()
        except ValueError:
            self.reset_run()  # refused there, with the reason
            return
        self.run_session.training = training
        self.controller.set_config(training)
        self.save_settings()
        if (training.optimizer, training.optimizer_params) != (old.optimizer, old.optimizer_params):
            text = (
                f"Optimizer {training.optimizer}: training goes on from the current weights, "
                "the optimizer's state starts fresh"
            )
        else:
            text = "Training settings changed: training goes on with them"
        self.statusBar().showMessage(text, 8000)
        self._show_preset()

    # -- snapshots and state -------------------------------------------------------------------
    def show_snapshot(self, snap: Snapshot) -> None:
        if self.run_mode != self.mode:
            return  # a run of the other mode (its views are not on screen)
        self.last_snapshot = snap
        self.hint.show_hint(snap.hint)
        if self.mode == IMAGES:
            self.images.show_snapshot(snap)
        else:
            self.output_view.show_snapshot(snap)
            self.network_view.show_snapshot(snap)
            for i, view in enumerate(self._slow_views):
                if i == self._slow_turn:
                    view(snap)
                else:
                    view.later(snap)
            self._slow_turn = (self._slow_turn + 1) % len(self._slow_views)
        self.epoch_label.setText(f" Epoch {count(snap.epoch)}  Step {count(snap.step)} ")
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

    def flush_views(self) -> None:
        """Bring the rate-limited views up to the newest snapshot (before reading them)."""
        for view in self._slow_views:
            view.flush()
        self.images.flush_views()

    def _state_changed(self, state: str, reason: str) -> None:
        running = state == RUNNING
        self.play_action.setText("Pause" if running else "Play")
        self.play_action.setIcon(self.pause_icon if running else self.play_icon)
        if state == DONE and reason.startswith("diverged"):
            what = reason.split(":", 1)[1].split(";")[0].strip()  # without the advice: given here
            self._show_banner(
                f"Training stopped: it diverged: {what}. "
                "Lower the learning rate (or clip gradients) and press Reset."
            )
        if state == DONE and reason:
            snap, session = self.last_snapshot, self.run_session
            self.status_note.setText(
                stop_message(
                    reason,
                    snap.epoch if snap is not None else 0,
                    session.training if session is not None else None,
                    snap is None or snap.test_loss is not None,
                )
            )
        else:
            self.status_note.clear()  # the next action: Play, Step, Reset or a settings change

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
    def quit(self) -> None:
        """File ▸ Quit: asks first about a trained, unsaved run."""
        if self.kept.confirm_quit():
            self.close()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        # The window's close button asks about unsaved work too; a close() from code doesn't.
        if event.spontaneous() and not self.kept.confirm_quit():
            event.ignore()
            return
        self.images.data_panel.stop_download()
        self.save_settings()
        self.controller.shutdown()
        super().closeEvent(event)

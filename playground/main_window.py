"""The main window: the chrome around the workspaces, one per mode.

The toolbar (Reset, Play, Step, the counters, the Mode and Preset boxes, the speed), the menus
(File: :mod:`playground.file_actions`, Edit: :mod:`playground.kept_runs`, Run, View, Help:
:mod:`playground.about`), the status bar, the banner and the hint bar, the theme, dropped files
and closing. The modes themselves are workspaces (:mod:`playground.workspaces`): each owns its
panels, views and run; the window switches between them, hands them the training controller
(the engine process) and shows what they report, and work they do off the GUI thread (a busy
indicator with Cancel in the status bar). A new mode is a workspace class and one entry of
:data:`WORKSPACES`.

Over 400 lines: each part of the chrome takes a few lines here; what a part does is already
apart (the File and Edit menus, the toolbar, the runs' status texts, the modes).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.training.snapshot import Snapshot
from playground.about import add_help_menu
from playground.background import stop_jobs
from playground.busy_indicator import BusyIndicator
from playground.file_actions import FileActions
from playground.hint_bar import Banner, HintBar
from playground.icon import app_icon
from playground.kept_runs import KeptRuns
from playground.panels.sweep_dialog import SweepDialog
from playground.presets import DEFAULT, all_presets, preset_speed
from playground.run_status import metrics_message, speed_message, stop_message
from playground.theme import THEMES, apply_theme, current_theme
from playground.toolbar import RunToolbar
from playground.worker import DONE, RUNNING, TrainingController
from playground.workspaces.base import Workspace
from playground.workspaces.images import ImageWorkspace
from playground.workspaces.lab import LabWorkspace
from playground.workspaces.plane import PlaneWorkspace

#: The modes, in the Mode box's order (the first is the one shown at first).
WORKSPACES: tuple[type[Workspace], ...] = (PlaneWorkspace, ImageWorkspace, LabWorkspace)


class MainWindow(QMainWindow):
    """The workspaces are ``workspaces`` (mode -> workspace), each also an attribute named
    after its mode (``window.plane``, ``window.images``)."""

    runReset = Signal()  # a new run was set up (after any structural change)

    def __init__(self, settings: QSettings | None = None, preset: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("NN Playground")
        self.setWindowIcon(app_icon())
        self.settings = settings if settings is not None else QSettings("nn-playground", "app")
        self.controller = TrainingController(self)
        self.workspaces: dict[str, Workspace] = {}
        for kind in WORKSPACES:
            ws = kind(self.controller, self.settings)
            self.workspaces[kind.mode] = ws
            setattr(self, kind.mode, ws)
        self._build_layout()
        self.files = FileActions(self)
        self.kept = KeptRuns(self, self.files)  # parked runs, Edit ▸ Undo, the quit question
        self._build_toolbar(preset)
        self._build_menus()
        self.setAcceptDrops(True)

        self.files.jobStarted.connect(self.busy.watch)
        for ws in self.workspaces.values():
            ws.jobStarted.connect(self.busy.watch)
            ws.statusMessage.connect(self.statusBar().showMessage)
            ws.banner.connect(self._show_banner)
            ws.resetNeeded.connect(self._reset_needed)
            ws.runSetUp.connect(self._run_set_up)
            ws.settingsChanged.connect(self._run_settings_changed)
            ws.restoreRun.connect(lambda s, start: self.apply_session(s, "Restore", **start))
        self.controller.snapshotReady.connect(self.show_snapshot)
        self.controller.stateChanged.connect(self._state_changed)
        self.controller.failed.connect(self._show_banner)

        self._restore_sessions(preset)
        self._restore_layout()

    # -- layout --------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        self.banner = Banner()
        self.hint = HintBar()
        self.stack = QStackedWidget()
        for ws in self.workspaces.values():
            self.stack.addWidget(ws)
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
        self.busy = BusyIndicator()  # work off the GUI thread: reading a file, loading images
        self.statusBar().addPermanentWidget(self.busy)
        self.statusBar().addPermanentWidget(self.status_speed)

    def _build_toolbar(self, preset: str | None) -> None:
        modes = [(kind.mode, kind.title, kind.tooltip) for kind in WORKSPACES]
        speed = preset_speed(preset or DEFAULT)
        self.toolbar = RunToolbar(self.settings, speed, modes, list(all_presets()), self)
        self.addToolBar(self.toolbar)
        self.toolbar.reset_action.triggered.connect(self._reset_pressed)
        self.toolbar.play_action.triggered.connect(self.toggle_play)
        self.toolbar.step_action.triggered.connect(self.step_epoch)
        self.toolbar.mode_box.activated.connect(self._mode_chosen)
        self.toolbar.preset_box.activated.connect(self._preset_chosen)
        self.toolbar.speed_control.speedChanged.connect(self.controller.set_speed)
        self.controller.set_speed(self.toolbar.speed_control.speed())

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.files.populate(file_menu)
        file_menu.addSeparator()
        file_menu.addAction("Quit", QKeySequence(QKeySequence.StandardKey.Quit), self.quit)
        self.kept.populate(self.menuBar().addMenu("&Edit"))
        run_menu = self.menuBar().addMenu("&Run")
        tb = self.toolbar
        for action in (tb.play_action, tb.step_action, tb.reset_action):
            run_menu.addAction(action)
        run_menu.addSeparator()
        self.sweep_dialog = SweepDialog(  # its runs fill their mode's Runs tab live
            lambda: self.workspace.session(),
            self,
            controller=self.controller,  # the sweep leaves its run a core
            runs_for=lambda session: self._workspace_of(session).runs,
        )
        self.sweep_action = run_menu.addAction("Sweep…", self.sweep_dialog.show_session)
        self._build_view_menu()
        add_help_menu(self)

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

    def set_theme(self, name: str) -> None:
        """Show the window in theme ``name`` (one of THEMES) and remember it."""
        apply_theme(QApplication.instance(), name, self)
        self.theme_actions[name].setChecked(True)
        self.settings.setValue("theme", name)

    # -- modes and sessions --------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace:
        """The workspace on screen."""
        return self.stack.currentWidget()

    @property
    def mode(self) -> str:
        return self.workspace.mode

    def workspace_for(self, mode: str) -> Workspace:
        return self.workspaces[mode]

    @property
    def run_workspace(self) -> Workspace | None:
        """The workspace whose run the engine has (None without a run)."""
        return next((ws for ws in self.workspaces.values() if ws.run_session is not None), None)

    @property
    def run_mode(self) -> str | None:
        """The mode the current run belongs to (None without a run)."""
        ws = self.run_workspace
        return None if ws is None else ws.mode

    def _workspace_of(self, session: Any) -> Workspace:
        """The workspace that shows ``session``'s kind of settings."""
        return next(ws for ws in self.workspaces.values() if isinstance(session, ws.session_type))

    def _restore_sessions(self, preset: str | None) -> None:
        """Show every mode's saved session (or the preset's, or its default preset) and set up
        a run in the mode last used (or the preset's)."""
        mode = self.settings.value("mode")
        mode = mode if mode in self.workspaces else WORKSPACES[0].mode
        chosen = all_presets()[preset] if preset is not None else None
        for ws in self.workspaces.values():
            session = self._saved_session(ws)
            if isinstance(chosen, ws.session_type):
                session, mode, ws.preset = chosen, ws.mode, preset
            ws.apply_session(session or ws.default_session())
        self.set_mode(mode)

    def _saved_session(self, ws: Workspace) -> Any:
        saved = self.settings.value(ws.settings_key)
        if saved:
            try:
                return ws.parse_session(str(saved))
            except ValueError:
                return None  # an older or damaged saved session: start from the default
        return None

    def _mode_chosen(self, index: int) -> None:
        mode = self.toolbar.mode_box.itemData(index)
        if mode != self.mode:  # choosing the mode on screen again keeps its run
            self.set_mode(mode)

    def _show_mode(self, mode: str) -> None:
        ws = self.workspaces[mode]
        self.stack.setCurrentWidget(ws)
        self.toolbar.show_mode(mode, ws.trains)
        self.sweep_action.setEnabled(ws.trains)
        if not ws.trains:  # no run's figures on screen
            for label in (self.status_metrics, self.status_speed, self.status_note):
                label.clear()

    def set_mode(self, mode: str) -> None:
        """Show the workspace of ``mode`` and set up a run there."""
        self._show_mode(mode)
        self.reset_run(**self.kept.resume_parked(mode))  # the run left there, if any

    def apply_session(self, session: Any, label: str | None = None, **start: Any) -> None:
        """Show ``session`` in its mode's panels, switch to that mode and set up one run for it
        (``start``: see reset_run); ``label``: the action, if it discards a trained run
        (Edit ▸ Undo names it)."""
        ws = self._workspace_of(session)
        if label is not None:
            self.kept.next_label = label
        self.kept.drop_parked(ws.mode)  # that mode's panels change: Undo can bring its run back
        with ws.applying():
            ws.apply_session(session)
            self._show_mode(ws.mode)
        self.reset_run(**start)

    def _preset_chosen(self, index: int) -> None:
        name = self.toolbar.preset_box.itemData(index)
        if name:
            self.kept.next_label = "Preset"  # before the speed: it is the preset's, not the run's
            self.toolbar.speed_control.set_speed(preset_speed(name))
            chosen = all_presets()[name]
            ws = self._workspace_of(chosen)
            ws.preset, ws.preset_shown = name, None
            self.apply_session(chosen)

    def _show_preset(self) -> None:
        """The Preset box names the current mode's preset, marked when its settings were
        changed since (an edit, an imported CSV file, an opened file)."""
        self.toolbar.show_preset(*self.workspace.preset_state())

    def _restore_layout(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        for ws in self.workspaces.values():
            ws.restore_layout(self.settings)

    def save_settings(self) -> None:
        for ws in self.workspaces.values():
            self.settings.setValue(ws.settings_key, ws.session().to_json())
            ws.save_layout(self.settings)
        self.settings.setValue("mode", self.mode)
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()

    # -- runs ----------------------------------------------------------------------------------
    def _reset_pressed(self) -> None:
        """Reset: the mode starts its own work over (a Lab page), else a new run is set up."""
        if not self.workspace.start_over():
            self.reset_run()

    def reset_run(self, **start: Any) -> None:
        """Set up a fresh run from the current workspace's panels, or one that starts as
        ``start`` says (RunSetup's ``resume`` or ``initial_state``); the run it replaces is
        parked or kept for Undo."""
        label = "Reset" if self.sender() is self.toolbar.reset_action else "Edit"
        self.kept.before_reset(label, start)  # the current run is parked or undoable
        for ws in self.workspaces.values():
            if ws is not self.workspace:
                ws.drop_run()
        self._show_preset()
        self.hint.clear()
        self.workspace.reset_run(**start)

    def _reset_needed(self, reason: str) -> None:
        """A panel change needs a new run: set it up, and say why in the status bar. Changes in
        a mode not on screen wait until it is shown (set_mode sets its run up then)."""
        if self.sender() is not self.workspace:
            return
        self.reset_run()
        if reason and self.workspace.run_session is not None:
            self.statusBar().showMessage(f"Reset: {reason}", 8000)

    def _run_set_up(self) -> None:
        self.save_settings()
        self.kept.run_set_up()
        self.runReset.emit()

    def _run_settings_changed(self) -> None:
        """The run goes on with changed settings (a point edit, another optimizer)."""
        self.save_settings()
        self._show_preset()

    def toggle_play(self) -> None:
        if self.controller.state == RUNNING:
            self.controller.pause()
        elif not self._still_loading():
            self.banner.hide()
            self.controller.start()

    def step_epoch(self) -> None:
        if self.controller.state == RUNNING:
            self.controller.pause()
        if not self._still_loading():
            self.controller.step_epoch()

    def _still_loading(self) -> bool:
        """Whether the run on screen waits for its data (Play and Step then say so)."""
        if self.workspace.loading:
            self.statusBar().showMessage("Still loading the data: press Play when it is in", 5000)
        return self.workspace.loading

    # -- snapshots and state -------------------------------------------------------------------
    def show_snapshot(self, snap: Snapshot) -> None:
        ws = self.workspace
        if ws is not self.run_workspace:
            return  # a run of another mode (its views are not on screen)
        ws.show_snapshot(snap)
        self.hint.show_hint(snap.hint)
        self.toolbar.show_counts(snap.epoch, snap.step)
        self.status_metrics.setText(metrics_message(snap))
        self.status_speed.setText(speed_message(snap))

    def flush_views(self) -> None:
        """Bring the rate-limited views up to the newest snapshot (before reading them)."""
        for ws in self.workspaces.values():
            ws.flush_views()

    def _state_changed(self, state: str, reason: str) -> None:
        self.toolbar.show_running(state == RUNNING)
        if state == DONE and reason.startswith("diverged"):
            what = reason.split(":", 1)[1].split(";")[0].strip()  # without the advice: given here
            self._show_banner(
                f"Training stopped: it diverged: {what}. "
                "Lower the learning rate (or clip gradients) and press Reset."
            )
        if state == DONE and reason:
            ws = self.run_workspace
            snap = ws.last_snapshot if ws is not None else None
            self.status_note.setText(
                stop_message(
                    reason,
                    snap.epoch if snap is not None else 0,
                    ws.run_session.training if ws is not None else None,
                    snap is None or snap.test_loss is not None,
                )
            )
        else:
            self.status_note.clear()  # the next action: Play, Step, Reset or a settings change

    def _show_banner(self, text: str) -> None:
        """Show a problem above the workspace ("": hide it)."""
        self.banner.show_text(text)

    # -- dropped files and closing -------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.files.dropped_file(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt name)
        path = self.files.dropped_file(event.mimeData())
        if path:
            event.acceptProposedAction()
            # Opened after the drop returns: a message box inside it would hold the drag source.
            QTimer.singleShot(0, lambda: self.files.open(path))

    def quit(self) -> None:
        """File ▸ Quit: asks first about a trained, unsaved run."""
        if self.kept.confirm_quit():
            self.close()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        # The window's close button asks about unsaved work too; a close() from code doesn't.
        if event.spontaneous() and not self.kept.confirm_quit():
            event.ignore()
            return
        self.sweep_dialog.end()  # a sweep's runs stay in the Runs tab as they are now
        stop_jobs(self)  # a file being read or images being loaded: cancelled, nothing changes
        for ws in self.workspaces.values():
            ws.stop_work()
        self.save_settings()
        self.controller.shutdown()
        super().closeEvent(event)

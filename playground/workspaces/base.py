"""A workspace: one mode of the window (its panels and views), its session and its run.

Every mode has the same face, so the window (the chrome: toolbar, menus, status bar) and the
File and Edit menus work with any of them:

- a session in and out: :meth:`Workspace.session`, :meth:`Workspace.apply_session`;
- runs: :meth:`Workspace.reset_run` builds one from the panels and sets it up on the
  controller the workspace was given; the run's state (``run_session``, ``spec``,
  ``last_snapshot``) stays here, and :meth:`Workspace.drop_run` forgets it when another mode's
  run takes the engine;
- snapshots of its own runs: :meth:`Workspace.show_snapshot`, :meth:`Workspace.flush_views`;
- for the files: :meth:`Workspace.views` (Export plots), ``training_panel`` (the rates that
  apply live), :attr:`Workspace.run_name`, :meth:`Workspace.metadata` (what a model file says);
- the preset its settings came from (:meth:`Workspace.preset_state`) and its splitters'
  positions (:meth:`Workspace.save_layout`, :meth:`Workspace.restore_layout`);
- whether it trains a network with the toolbar (``trains``: Play, Step, the presets, sweeps
  and the files of a run apply to it; the Lab's pages have controls of their own), and what
  Reset does in it (:meth:`Workspace.start_over`).

A workspace tells the window things through signals only: ``statusMessage``, ``banner`` (a
problem, "" hides it), ``resetNeeded`` (a panel change needs a new run: the window parks or
keeps the old one first), ``runSetUp`` and ``settingsChanged`` (the run goes on with them),
``restoreRun`` (a kept run's settings, and how its run starts: its weights, if kept),
``jobStarted`` (work off the GUI thread, such as loading images: the window shows it busy).

The window makes each workspace as ``kind(controller, settings)`` (the engine's controller and
the app's QSettings) and knows it by its class attributes (``mode``, ``title``...). A mode that
trains one network on one data set builds on :class:`TrainingWorkspace`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from core.training.config import TrainConfig
from core.training.snapshot import Snapshot
from playground.image_session import session_from_json
from playground.layout import mode_splits
from playground.panels.network_panel import NetworkPanel
from playground.panels.training_panel import TrainingPanel
from playground.presets import all_presets
from playground.run_list import RunList
from playground.session import reset_reason
from playground.views.curves_view import CurvesView
from playground.views.stats_view import StatsView
from playground.worker import TrainingController

#: The splitters kept under a layout key (``<layout_key>/top``...), as ``mode_splits`` names them.
SPLITS = ("top", "bottom", "main")


class Workspace(QWidget):
    """The interface of a mode and what every mode does alike; see the module docstring."""

    #: the mode's name in settings and files ("plane", "images")
    mode: ClassVar[str]
    #: its name in the Mode box, and what the box's tooltip says of it
    title: ClassVar[str]
    tooltip: ClassVar[str]
    #: the settings key of its session, and the preset shown at first
    settings_key: ClassVar[str]
    default_preset: ClassVar[str]
    #: the type of its sessions (a session opens in the mode of its type)
    session_type: ClassVar[type]
    #: where its splitters' positions are kept (None: not kept)
    layout_key: ClassVar[str | None] = None
    #: whether it trains a network with the toolbar (Play, Step, presets, sweeps, run files)
    trains: ClassVar[bool] = True
    #: what File says when asked to save or export a run it has not got
    nothing_to_save: ClassVar[str] = "The current settings don't build a network."

    statusMessage = Signal(str, int)  # text, milliseconds
    banner = Signal(str)  # a problem to show ("" hides it)
    resetNeeded = Signal(str)  # a panel change needs a new run: why ("" says nothing)
    runSetUp = Signal()  # a run of this workspace was set up on the controller
    settingsChanged = Signal()  # the run goes on with changed settings (save them)
    restoreRun = Signal(object, dict)  # a session and how to start it (RunSetup's fields)
    jobStarted = Signal(object)  # work off the GUI thread began (a background.Job: show it)

    training_panel: TrainingPanel

    def __init__(self, controller: TrainingController) -> None:
        super().__init__()
        self.controller = controller
        self.run_session: Any = None  # what the current run came from (None: no run here)
        self.spec: dict[str, Any] | None = None
        self.last_snapshot: Snapshot | None = None
        #: the preset last chosen in this mode, and its settings as the panels showed them
        self.preset: str | None = None
        self.preset_shown: Any = None
        self._applying = False

    # -- to implement ----------------------------------------------------------------------------
    def session(self) -> Any:
        """The settings the panels show."""
        raise NotImplementedError

    def _show_session(self, session: Any) -> None:
        """Fill the panels with ``session`` (``apply_session`` keeps their changes quiet)."""
        raise NotImplementedError

    def reset_run(self, **start: Any) -> None:
        """Build a run from the panels and set it up on the controller (``start``: RunSetup's
        ``resume`` or ``initial_state``), then emit ``runSetUp``; or refuse it, saying why."""
        raise NotImplementedError

    def show_snapshot(self, snap: Snapshot) -> None:
        raise NotImplementedError

    def flush_views(self) -> None:
        """Bring rate-limited views up to the newest snapshot (before reading them)."""

    def views(self) -> tuple[tuple[str, QWidget], ...]:
        """(name, widget) of the views Export plots offers."""
        raise NotImplementedError

    @property
    def run_name(self) -> str:
        """A short name of the run's data (default file names)."""
        raise NotImplementedError

    def metadata(self, session: Any) -> dict[str, Any]:
        """What a model file of ``session``'s run says about its data (see core.io)."""
        raise NotImplementedError

    def show_trained_edits(self, session: Any) -> None:
        """Before a parked run of ``session`` is set up again: show the data its state was
        trained with (the plane's point edits); nothing in other modes."""

    @property
    def loading(self) -> bool:
        """Whether the next run waits for its data, read off the GUI thread (no run meanwhile)."""
        return False

    def stop_work(self) -> None:
        """The window closes: stop any work of the workspace's own (a download)."""

    def start_over(self) -> bool:
        """Reset was pressed: start the mode's own work over and return True, or return False
        for the window to set up a new run (the training modes)."""
        return False

    def save_problem(self) -> str:
        """Why what the workspace keeps on its own (its run list) could not be saved, after
        trying once more ("" when all is saved)."""
        return ""

    # -- sessions ----------------------------------------------------------------------------
    def default_session(self) -> Any:
        """The session shown when none was saved: the mode's default preset's."""
        return all_presets()[self.default_preset]

    @classmethod
    def parse_session(cls, text: str) -> Any:
        """A session of this mode from its saved JSON; raises ValueError for another mode's or
        bad content."""
        session = session_from_json(text)
        if not isinstance(session, cls.session_type):
            raise ValueError(f"session: not a {cls.title} session")
        return session

    def apply_session(self, session: Any) -> None:
        """Show ``session`` in the panels without asking for a run."""
        with self.applying():
            self._show_session(session)

    @contextmanager
    def applying(self) -> Iterator[None]:
        """Panel changes made inside are the program's: they ask for no run (nests)."""
        before, self._applying = self._applying, True
        try:
            yield
        finally:
            self._applying = before

    def connect_panels(self, panels: Sequence[QWidget]) -> None:
        """Panel changes ask for a new run or go on with the run (see ``_settings_changed``);
        the training panel's rates go to the engine at once."""
        for panel in panels:
            panel.changed.connect(self._settings_changed)
        self.training_panel.lrChanged.connect(self.controller.set_lr)
        self.training_panel.regularizationChanged.connect(self.controller.set_regularization)

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
        else:
            self.resetNeeded.emit(reason)

    def _go_on_with(self, training: TrainConfig) -> None:
        """Let the run go on with other training settings (the weights stay; another optimizer
        starts with a fresh state)."""
        old = self.run_session.training
        if training == old:
            return
        try:
            training.validate()
        except ValueError:
            self.resetNeeded.emit("")  # refused there, with the reason
            return
        self.run_session.training = training
        self.controller.set_config(training)
        if (training.optimizer, training.optimizer_params) != (old.optimizer, old.optimizer_params):
            text = (
                f"Optimizer {training.optimizer}: training goes on from the current weights, "
                "the optimizer's state starts fresh"
            )
        else:
            text = "Training settings changed: training goes on with them"
        self.settingsChanged.emit()
        self.statusMessage.emit(text, 8000)

    # -- the run -----------------------------------------------------------------------------
    def drop_run(self) -> None:
        """Another run took the engine (or none could be built): this workspace has none."""
        self.run_session = self.last_snapshot = self.spec = None

    def _refuse_run(self, exc: ValueError) -> None:
        """The panels don't build a run: say why, and drop the old run so that Play can't
        train something other than what the panels show."""
        self.banner.emit(f"Can't build this run: {exc}")
        self.controller.discard()
        self.drop_run()

    # -- presets and layout ------------------------------------------------------------------
    def preset_state(self) -> tuple[str | None, bool]:
        """The preset the settings came from (None: none) and whether they were changed since
        (an edit, an imported CSV file, an opened file)."""
        if self.preset is None:
            return None, False
        if self.preset_shown is None:  # just loaded (the panels fill in defaults)
            self.preset_shown = self.session()
        return self.preset, self.session() != self.preset_shown

    def splitters(self) -> tuple[QSplitter, ...]:
        """The splitters whose positions are kept, in :data:`SPLITS` order."""
        return ()

    def save_layout(self, settings: QSettings) -> None:
        if self.layout_key is not None:
            for name, split in zip(SPLITS, self.splitters(), strict=True):
                settings.setValue(f"{self.layout_key}/{name}", split.saveState())

    def restore_layout(self, settings: QSettings) -> None:
        if self.layout_key is not None:
            for name, split in zip(SPLITS, self.splitters(), strict=True):
                state = settings.value(f"{self.layout_key}/{name}")
                if state is not None:
                    split.restoreState(state)


class TrainingWorkspace(Workspace):
    """A workspace that trains one network on one data set: its ``data_panel``, the network
    editor and the training settings, the curves below, beside the statistics and the runs
    kept (:class:`playground.run_list.RunList`, in tabs)."""

    def __init__(self, controller: TrainingController, data_panel: QWidget) -> None:
        super().__init__(controller)
        self.data_panel = data_panel
        self.network_panel = NetworkPanel()
        self.training_panel = TrainingPanel()
        self.curves_view = CurvesView()
        self.stats_view = StatsView()
        self.runs = RunList(self, self.curves_view)
        self.runSetUp.connect(self.runs.run_set_up)
        self.runs.restoreRequested.connect(self.restoreRun)

    def _lay_out(self, columns: Sequence[QWidget], widths: Sequence[int], stretch: Sequence[int]):
        """``columns`` above (see :func:`playground.layout.mode_splits`), the curves and the
        statistics or the runs below; the panels wired (see ``connect_panels``)."""
        self.below_tabs = QTabWidget()
        self.below_tabs.setDocumentMode(True)
        self.below_tabs.addTab(self.stats_view, "Statistics")
        self.below_tabs.addTab(self.runs.panel, "Runs")
        self.below_tabs.setTabToolTip(1, "Every run trained for an epoch: compare, restore, pin.")
        below = [self.curves_view.with_options(), self.below_tabs]
        splits = mode_splits(columns, widths, stretch, below)
        self.top_split, self.bottom_split, self.main_split = splits.top, splits.bottom, splits.main
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.main_split)
        self.connect_panels([self.data_panel, self.network_panel, self.training_panel])

    def splitters(self) -> tuple[QSplitter, ...]:
        return self.top_split, self.bottom_split, self.main_split

    def drop_run(self) -> None:
        self.runs.finish()  # the run keeps its record as it last was
        super().drop_run()

    def stop_work(self) -> None:
        self.runs.save(wait=True)

    def save_problem(self) -> str:
        return self.runs.save_problem()

    def views(self) -> tuple[tuple[str, QWidget], ...]:
        """The curves and the statistics (a mode puts its own views first)."""
        return (("curves", self.curves_view), ("statistics", self.stats_view))

    def session(self) -> Any:
        return self.session_type(
            self.data_panel.settings(), self.network_panel.settings(), self.training_panel.config()
        )

    def _show_session(self, session: Any) -> None:
        panels = (self.data_panel, self.network_panel, self.training_panel)
        for panel in panels:
            panel.blockSignals(True)
        try:
            self.data_panel.set_settings(session.data)
            self.network_panel.set_settings(session.network)
            self.training_panel.set_config(session.training)
        finally:
            for panel in panels:
                panel.blockSignals(False)

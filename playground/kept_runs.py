"""Runs the app keeps so that trained work is never lost without a word: the run of the mode
that is not on screen (parked when its mode is left, resumed exactly on return), the last
trained run an action discarded (Reset, a preset, File ▸ Open, a structural edit: Edit ▸ Undo
brings it back, one level), and the question on quitting with a trained, unsaved run.

A kept run is what Save experiment writes, held in memory: an
:class:`core.experiment.Experiment` taken from the engine between two training steps
(:meth:`playground.worker.TrainingController.keep`), with the settings it ran with. Setting a
run up from it (``RunSetup(resume=...)``) continues it bit for bit, as reopening a saved
experiment does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from PySide6.QtCore import QEventLoop, QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QStatusBar

from core.experiment import Experiment
from core.pace import Speed
from playground.file_actions import FileActions
from playground.image_session import ImageSession
from playground.session import Session
from playground.toolbar import RunToolbar
from playground.worker import TrainingController
from playground.workspaces.base import Workspace

#: Seconds Quit waits for the engine to write the experiment chosen in the quit question.
SAVE_TIMEOUT = 60.0


@dataclass(frozen=True)
class KeptRun:
    """A run held in memory: its mode, its settings (with the rates it had and the point edits
    its state was trained with: the edits still waiting for their epoch are in the experiment's
    ``queued_edits``), its state, what discarded it (``label``, e.g. "Reset"), its step count
    when it last matched a file (``clean_step``: 0 if never saved), and the preset it came
    from (``preset``, and its settings as loaded: ``preset_shown``) and speed it ran at."""

    mode: str
    session: Session | ImageSession
    experiment: Experiment
    label: str = ""
    clean_step: int = 0
    preset: str | None = None
    preset_shown: Session | ImageSession | None = None
    speed: Speed | None = None

    @property
    def steps(self) -> int:
        return self.experiment.steps


class Host(Protocol):
    """What the kept runs need of the window (the main window is one): its workspaces and
    modes, the engine, the speed, and a status bar to report in. Dialogs open over it."""

    controller: TrainingController
    toolbar: RunToolbar  # its speed control
    workspaces: dict[str, Workspace]  # by mode

    @property
    def mode(self) -> str: ...  # the mode on screen

    @property
    def run_workspace(self) -> Workspace | None: ...  # the one whose run the engine has

    def workspace_for(self, mode: str) -> Workspace: ...

    def set_mode(self, mode: str) -> None: ...

    def apply_session(self, session: Any, label: str | None = None, **start: Any) -> None: ...

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 (Qt name)


class KeptRuns(QObject):
    """The window's kept runs and its Edit ▸ Undo action (``undo_action``); ``files`` saves
    a run before quitting."""

    def __init__(self, window: Host, files: FileActions) -> None:
        super().__init__(window)
        self.window = window
        self.files = files
        #: mode -> the run parked when that mode was left
        self.parked: dict[str, KeptRun] = {}
        #: the last trained run an action discarded (Edit ▸ Undo)
        self.discarded: KeptRun | None = None
        #: what the next run set-up is called if it discards a run (set by the action's caller)
        self.next_label: str | None = None
        #: the current run's step count when it last matched a file (a save, an opened file)
        self.clean_step = 0
        self._next_clean: int | None = None
        #: the current run's preset (name, settings as loaded) and speed, kept with it
        self.run_preset: tuple[str | None, Session | ImageSession | None] = (None, None)
        self.run_speed: Speed | None = None
        self._watching_speed = False
        self.undo_action = QAction("Undo", window)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(lambda _=False: self.undo())
        self._update_action()
        files.experimentSaved.connect(self._saved)

    def populate(self, menu: QMenu) -> None:
        """Add the Edit menu's actions."""
        menu.addAction(self.undo_action)

    # -- the current run -----------------------------------------------------------------------
    def steps(self) -> int:
        """Steps of the current run as last shown (0 without a run)."""
        last = self.window.controller.last
        return 0 if last is None or self.window.run_workspace is None else last.step

    def unsaved(self) -> bool:
        """Whether the current run has trained since it was last saved (or ever, if never)."""
        return self.steps() > self.clean_step

    def take(self, label: str = "") -> KeptRun | None:
        """The current run, kept (None if it never trained or the engine can't give it)."""
        workspace = self.window.run_workspace
        if workspace is None or self.steps() == 0:
            return None
        session = workspace.run_session
        experiment = self.window.controller.keep(session.to_dict())
        if experiment is None or experiment.steps == 0:
            return None
        state = experiment.state
        training = replace(session.training, lr=state["base_lr"], l1=state["l1"], l2=state["l2"])
        session = replace(session, training=training)
        if isinstance(session, Session):  # the edits its state was trained with (see KeptRun)
            trained = experiment.data["data"]["edits"]
            session = replace(session, data=replace(session.data, edits=[*map(list, trained)]))
        return KeptRun(
            workspace.mode,
            session,
            experiment,
            label,
            self.clean_step,
            *self.run_preset,
            self.run_speed,
        )

    def run_set_up(self) -> None:
        """A run was set up: note its preset and speed (what an action that discards it has
        already changed by the time the run is taken)."""
        window = self.window
        if not self._watching_speed:
            window.toolbar.speed_control.speedChanged.connect(self._speed_changed)
            self._watching_speed = True
        workspace = window.run_workspace
        self.run_preset = (workspace.preset, workspace.preset_shown)
        self.run_speed = window.toolbar.speed_control.speed()

    def _speed_changed(self, speed: Speed) -> None:
        if self.next_label is None:  # the user's, not a preset's on its way to a new run
            self.run_speed = speed

    def _saved(self, path: str) -> None:
        """Save experiment wrote the current run: what it has trained so far is safe."""
        self.clean_step = self.steps()

    # -- set-ups -------------------------------------------------------------------------------
    def before_reset(self, label: str, start: dict[str, Any]) -> None:
        """A new run is about to replace the current one: park it if it belongs to the mode
        being left, else keep it for Undo, named after the action that discards it (the one
        set in ``next_label``, else ``label``)."""
        label = self.next_label or label
        self.next_label = None
        kept = self.take(label) if self.window.run_workspace is not None else None
        if kept is not None:
            if kept.mode != self.window.mode:
                self.parked[kept.mode] = kept
            else:
                self._discard(kept)
        resume = start.get("resume")
        if self._next_clean is not None:
            self.clean_step, self._next_clean = self._next_clean, None
        else:
            self.clean_step = 0 if resume is None else resume.steps

    def resume_parked(self, mode: str) -> dict[str, Any]:
        """How to set up ``mode``'s run on returning to it: from its parked run, if any."""
        kept = self.parked.pop(mode, None)
        if kept is None:
            return {}
        self._next_clean = kept.clean_step
        if kept.experiment.data.get("data", {}).get("queued_edits"):
            self.window.workspace_for(mode).show_trained_edits(kept.session)
        return {"resume": kept.experiment}

    def drop_parked(self, mode: str) -> None:
        """New settings replace ``mode``'s panels: its parked run no longer fits them, and is
        kept for Undo instead."""
        kept = self.parked.pop(mode, None)
        if kept is not None:
            self._discard(replace(kept, label=self.next_label or "Edit"))

    def _discard(self, kept: KeptRun) -> None:
        self.discarded = kept
        self._update_action()

    # -- undo ----------------------------------------------------------------------------------
    def undo(self) -> bool:
        """Bring back the last discarded run: its settings, weights, optimizer, position and
        history (the run it replaces, if trained, becomes the one to undo)."""
        kept = self.discarded
        if kept is None:
            return False
        self.discarded = None
        self._update_action()
        self.next_label = "Undo"
        self._next_clean = kept.clean_step
        window = self.window
        workspace = window.workspace_for(kept.mode)
        workspace.preset, workspace.preset_shown = kept.preset, kept.preset_shown
        if kept.speed is not None:
            window.toolbar.speed_control.set_speed(kept.speed)
        window.apply_session(kept.session, resume=kept.experiment)
        self.window.statusBar().showMessage(
            f"Undone: back at epoch {kept.experiment.epoch:,}, step {kept.steps:,}.", 8000
        )
        return True

    def _update_action(self) -> None:
        kept = self.discarded
        self.undo_action.setEnabled(kept is not None)
        if kept is None:
            self.undo_action.setText("Undo")
            self.undo_action.setStatusTip("Nothing to undo.")
            return
        self.undo_action.setText(f"Undo {kept.label}")
        self.undo_action.setStatusTip(
            f"Bring back the run that {kept.label} discarded (epoch {kept.experiment.epoch:,}, "
            f"step {kept.steps:,}) with its settings."
        )

    # -- quitting ------------------------------------------------------------------------------
    def confirm_quit(self) -> bool:
        """Ask, for the current run and a parked one, whether to save it before quitting if it
        has trained since it was last saved: Save (through Save experiment as…, waiting for
        the file), Discard or Cancel. True: go on quitting."""
        if self.unsaved():
            last = self.window.controller.last
            if not self._ask_to_save(self.window.run_workspace.mode, last.epoch, last.step):
                return False
        for mode, kept in list(self.parked.items()):
            if kept.steps > kept.clean_step:
                if not self._ask_to_save(mode, kept.experiment.epoch, kept.steps):
                    return False
        return self._quit_unsaved_lists()

    def _quit_unsaved_lists(self) -> bool:
        """Ask whether to quit when a workspace's run list could not be saved (its last
        changes would be lost). True: go on quitting."""
        for ws in self.window.workspaces.values():
            problem = ws.save_problem()
            if not problem:
                continue
            answer = QMessageBox.question(
                self.window,
                "Quit without the runs?",
                f"The {ws.title} runs could not be saved ({problem}). Their last changes are "
                "lost if you quit now. Quit anyway?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        return True

    def _ask_to_save(self, mode: str, epoch: int, step: int) -> bool:
        """Save / Discard / Cancel for the run of ``mode``; a parked run is set up again to be
        saved. False: Cancel, or the file was not written."""
        answer = QMessageBox.question(
            self.window,
            "Save the run?",
            f"The {self.window.workspace_for(mode).title} run has trained to epoch {epoch:,}, "
            f"step {step:,} and is not saved. Save it as an experiment before quitting?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Discard:
            return True
        if answer != QMessageBox.StandardButton.Save:
            return False
        run = self.window.run_workspace
        if run is None or run.mode != mode:
            self.window.set_mode(mode)  # resumes the parked run, which is then saved
        return self._save_and_wait()

    def _save_and_wait(self) -> bool:
        """Save experiment as… and wait for the engine to write it; False if the dialog was
        cancelled or the file was not written (File's own message says why)."""
        controller = self.window.controller
        result: list[str] = []
        loop = QEventLoop()

        def saved(path: str, error: str) -> None:
            result.append(error)
            loop.quit()

        controller.saved.connect(saved)
        try:
            if not self.files.save_experiment_as():
                return False
            QTimer.singleShot(int(SAVE_TIMEOUT * 1000), loop.quit)
            if not result:
                loop.exec()
        finally:
            controller.saved.disconnect(saved)
        return result == [""]

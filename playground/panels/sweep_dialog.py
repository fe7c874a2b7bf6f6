"""Run ▸ Sweep…: train the session on screen once per combination of one or two settings'
values, side by side in worker processes, with a row per run (its progress, then its test
accuracy and loss) and Cancel stopping them all at once.

The values are checked as they are typed (the preview says how many runs, or what is wrong, in
the app's words); the tasks are built and the workers started off the GUI thread
(:class:`playground.sweep_runner.SweepRunner`). Start sweeps the session on screen at that
moment. While the window's own run trains, the sweep leaves it a core: it uses one worker
process fewer, or, when that would leave none (two cores), the window's run pauses while the
sweep trains and goes on when it ends, so that the window never waits. Each finished run is also
emitted as ``runFinished(RunResult, session)``; given ``runs_for``, the runs fill their mode's
Runs tab live (:class:`playground.sweep_rows.SweepRows`).

Alone (``python -m playground.panels.sweep_dialog [--theme dark] [--screenshot FILE]``) it
sweeps the default plane session; the screenshot is taken once the first run has finished.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.sweep.settings import combinations, run_name
from core.sweep.task import RunProgress, RunResult
from core.training.config import MAX_EPOCHS
from playground.image_session import ImageSession
from playground.panels.sweep_parts import SettingRow, metric, outcome
from playground.panels.widgets import REFUSED_COLOR, spin
from playground.sweep_plan import (
    count_runs,
    default_epochs,
    describe_session,
    run_session,
    sweep_tasks,
)
from playground.sweep_rows import SweepRows
from playground.sweep_runner import SweepRunner
from playground.worker import RUNNING

COLUMNS = ("Run", "Progress", "Test accuracy", "Test loss")


class SweepDialog(QDialog):
    """A sweep of ``session`` (plane or image; or a function giving the session on screen,
        read each time the dialog is shown and at Start, see :meth:`show_session`). ``workers``:
        most worker processes (default: the cores less one); ``cache_dir``: where image data sets
        are found; ``controller``: the window's :class:`playground.worker.TrainingController`
    (its run is left a core while it trains, see :meth:`workers`);
        ``runs_for(session)``: the run list (:class:`playground.run_list.RunList`) a run of that
        session joins."""

    runFinished = Signal(object, object)  # RunResult, the session that run trained

    def __init__(
        self,
        session: Any | Callable[[], Any],
        parent: QWidget | None = None,
        *,
        workers: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        controller: Any | None = None,
        runs_for: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self._session_of = session if callable(session) else lambda: session
        self.cache_dir = cache_dir
        self.controller, self._runs_for = controller, runs_for
        self._paused: Any = None  # the window's run the sweep paused (its setup), to go on
        self.rows: SweepRows | None = None  # the sweep's rows in the Runs tab
        self.setWindowTitle("Sweep")
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.runner = SweepRunner(self, workers)
        self.first = SettingRow("lr", optional=False)
        self.second = SettingRow("optimizer", optional=True)
        self.epochs_box = spin(1, MAX_EPOCHS, "Epochs each run trains")
        self.epochs_box.setMaximumWidth(120)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(1, 150)
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop every run of the sweep at once")
        self.close_button = QPushButton("Close")
        self._lay_out()
        self._read_session()
        self._results: dict[int, RunResult] = {}
        self._runs = 0
        self._training = False  # the workers started
        for edit in (self.first.values_edit, self.second.values_edit):
            edit.textChanged.connect(self._update_preview)
        for box in (self.first.key_box, self.second.key_box):
            box.currentIndexChanged.connect(self._update_preview)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        self.runner.started.connect(self._started)
        self.runner.progress.connect(self._show_progress)
        self.runner.finished.connect(self._show_result)
        self.runner.runFinished.connect(self._run_finished)
        self.runner.done.connect(self._done)
        self.runner.failed.connect(self._failed)
        self._set_running(False)
        self._update_preview()
        self.resize(620, 460)
        QApplication.instance().aboutToQuit.connect(self.cancel)

    def _read_session(self, epochs: bool = True) -> None:
        """Sweep the session on screen now (a copy: the runs don't follow later changes);
        ``epochs``: with its epochs per run."""
        self.session = self._session_of().copy()
        mode = "image" if isinstance(self.session, ImageSession) else "plane"
        self.intro.setText(
            f"Train the {mode} session on screen ({describe_session(self.session)}) once per "
            "combination of these values, several runs at a time."
        )
        if epochs:
            self.epochs_box.setValue(default_epochs(self.session))

    def show_session(self) -> None:
        """Run ▸ Sweep…: show the dialog, for the session on screen now unless a sweep runs."""
        if not self.runner.running:
            self._read_session()
            self._update_preview()
        self.show()
        self.raise_()
        self.activateWindow()

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("Vary", self.first)
        form.addRow("and", self.second)
        form.addRow("Epochs per run", self.epochs_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview, 1)
        for button in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)

    # -- setting up ----------------------------------------------------------------------------
    def sweeps(self) -> list[tuple[str, tuple[Any, ...]]]:
        """The chosen settings and their values; ValueError naming the setting otherwise."""
        sweeps = [s for s in (self.first.sweep(), self.second.sweep()) if s is not None]
        count_runs(sweeps)
        return sweeps

    def _update_preview(self) -> None:
        if self.runner.running:
            return
        try:
            runs = count_runs(self.sweeps())
        except ValueError as exc:
            self._say(str(exc), problem=True)
            self.start_button.setEnabled(False)
            return
        workers, note = self.workers(), ""
        if self._window_trains():
            note = (
                " (one fewer: the window's run is training)"
                if workers < self.runner.workers
                else " (the window's run pauses while they train)"
            )
        self._say(f"{runs} run{'s' if runs > 1 else ''}, {min(runs, workers)} at a time{note}")
        self.start_button.setEnabled(True)

    def workers(self) -> int:
        """Worker processes for a sweep now: the runner's, one fewer while the window's own
        run trains (with one worker, the window's run pauses instead: :meth:`start`)."""
        fewer = self._window_trains() and self.runner.workers > 1
        return self.runner.workers - fewer

    def _window_trains(self) -> bool:
        return self.controller is not None and self.controller.state == RUNNING

    def _pause_window_run(self) -> None:
        """With one worker left, the window's training run pauses while the sweep trains."""
        if self._window_trains() and self.runner.workers == 1:
            self.controller.pause()
            self._paused = self.controller.last_setup

    def _resume_window_run(self) -> None:
        """The run the sweep paused goes on (unless it was replaced or played meanwhile)."""
        paused, self._paused = self._paused, None
        if paused is not None and self.controller.last_setup is paused:
            if self.controller.state != RUNNING:
                self.controller.start()

    def _say(self, text: str, problem: bool = False) -> None:
        self.preview.setText(text)
        self.preview.setStyleSheet(f"color: {REFUSED_COLOR};" if problem else "")

    def _set_running(self, running: bool) -> None:
        for widget in (self.first, self.second, self.epochs_box, self.start_button):
            widget.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    # -- running -------------------------------------------------------------------------------
    def start(self) -> bool:
        """Start the sweep the dialog shows, of the session on screen now (False, with the
        message shown, if its values are refused or a sweep runs); the tasks are built and
        trained off the GUI thread."""
        if self.runner.running:
            return False
        self._read_session(epochs=False)
        try:
            sweeps = self.sweeps()
        except ValueError as exc:
            self._say(str(exc), problem=True)
            return False
        session, epochs, cache_dir = self.session, self.epochs_box.value(), self.cache_dir
        workers = self.workers()
        self._pause_window_run()
        self._swept, self._epochs = session, epochs
        combos = list(combinations(sweeps))
        names = [run_name(settings) for settings in combos]
        self._fill_table(names)
        self._results, self._runs, self._training = {}, len(names), False
        if self._runs_for is not None:
            runs = [
                (n, run_session(session, c, epochs)) for n, c in zip(names, combos, strict=True)
            ]
            self.rows = SweepRows(self._runs_for(session), runs, self)
        self._set_running(True)
        self._say("Starting the worker processes…")
        self.runner.start(
            lambda cancelled: sweep_tasks(session, sweeps, epochs, cache_dir, workers, cancelled),
            workers,
        )
        return True

    def _run_finished(self, result: RunResult) -> None:
        session = run_session(self._swept, result.settings, self._epochs)
        if self.rows is not None:
            self.rows.finished(result, session)
        self.runFinished.emit(result, session)

    def cancel(self) -> None:
        """Stop every run at once."""
        if self.runner.running:
            self.runner.cancel()

    def end(self) -> None:
        """The window closes: stop the sweep, its runs left in the Runs tab as they are now
        (those that trained no epoch leave) before the run lists are saved."""
        self.cancel()
        if self.rows is not None:
            self.rows.ended()
            self.rows = None

    def _fill_table(self, names: list[str]) -> None:
        self.table.setRowCount(0)
        self.table.setRowCount(len(names))
        for row, name in enumerate(names):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            bar = QProgressBar()
            bar.setFormat("waiting")
            bar.setValue(0)
            self.table.setCellWidget(row, 1, bar)
            for column in (2, 3):
                item = QTableWidgetItem("")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)

    def bar(self, index: int) -> QProgressBar:
        return self.table.cellWidget(index, 1)

    def _started(self, runs: int, workers: int) -> None:
        self._training = True
        self._say(f"Training {runs} runs, {workers} at a time…")

    def _show_progress(self, index: int, progress: RunProgress) -> None:
        if self.rows is not None:
            self.rows.progress(progress)
        bar = self.bar(index)
        bar.setRange(0, max(progress.epochs, 1))
        bar.setValue(min(progress.epoch, bar.maximum()))
        bar.setFormat(f"epoch {progress.epoch}/{progress.epochs}")

    def _show_result(self, index: int, result: RunResult) -> None:
        self._results[index] = result
        bar = self.bar(index)
        bar.setRange(0, 1)
        bar.setValue(1)
        bar.setFormat(outcome(result))
        hint = f"\n{result.warning}" if result.warning else ""
        bar.setToolTip(f"Stopped: {result.reason}{hint}")
        self.table.item(index, 0).setToolTip(bar.toolTip())
        self.table.item(index, 2).setText(metric(result.test_acc, percent=True))
        self.table.item(index, 3).setText(metric(result.test_loss))
        self._say(f"{len(self._results)} of {self._runs} runs done…")

    def _ended(self) -> None:
        self._set_running(False)
        self.end()
        self._resume_window_run()

    def _done(self, cancelled: bool) -> None:
        self._ended()
        finished = len(self._results)
        if cancelled:
            for row in range(self._runs):
                if row not in self._results:
                    self.bar(row).setFormat("cancelled")
            self._say(f"Cancelled: {finished} of {self._runs} runs finished.")
        else:
            self._say(f"Done: {finished} runs.")

    def _failed(self, message: str) -> None:
        self._ended()
        if not self._training:
            self.table.setRowCount(0)
            self._say(f"Can't start the sweep: {message}", problem=True)
            return
        for row in range(self._runs):
            if row not in self._results:
                self.bar(row).setFormat("stopped")
        finished = len(self._results)
        self._say(f"Stopped after {finished} of {self._runs} runs: {message}", problem=True)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.cancel()
        super().closeEvent(event)

    def reject(self) -> None:
        self.cancel()
        super().reject()


def main(argv: list[str] | None = None) -> int:
    """The dialog alone on the default plane session (spiral, a few epochs per run)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theme", default="light")
    parser.add_argument("--screenshot", help="save a PNG of the dialog mid-sweep and exit")
    args = parser.parse_args(argv)
    from playground.session import Session
    from playground.views.standalone import show_alone, start_app

    app = start_app(args.theme, args.screenshot)
    session = Session()
    session.training.epochs = 3000
    dialog = SweepDialog(session)
    if not args.screenshot:
        return show_alone(app, dialog)
    dialog.show()
    dialog.start()
    loop = QEventLoop()
    dialog.runner.finished.connect(lambda *_: QTimer.singleShot(300, loop.quit))
    dialog.runner.failed.connect(loop.quit)
    QTimer.singleShot(120_000, loop.quit)
    loop.exec()
    code = show_alone(app, dialog, args.screenshot)
    dialog.runner.done.connect(loop.quit)
    dialog.cancel()
    loop.exec()
    return code


if __name__ == "__main__":
    raise SystemExit(main())

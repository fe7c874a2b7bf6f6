"""The GUI's handle on training: ``TrainingController`` starts the engine process
(:mod:`playground.engine_process`), sends it commands and turns its messages into GUI-thread
signals. Messages are read when the pipe becomes readable (a QSocketNotifier), and commands are
written by a thread that only waits for the pipe (:mod:`playground.engine_sender`), so nothing
blocks the GUI. Snapshots arrive with only the history rows the GUI has not acknowledged and
leave here whole again (:mod:`playground.history_rows`).
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import replace

from PySide6.QtCore import QObject, QSocketNotifier, Signal, Slot

from core.blas_threads import one_blas_thread
from core.experiment import Experiment
from core.pace import MAX, Speed
from core.training.config import TrainConfig
from core.training.snapshot import Snapshot
from playground.engine import DONE, IDLE, PAUSED, RUNNING
from playground.engine_process import engine_main
from playground.engine_sender import CommandSender
from playground.history_rows import HistoryRows
from playground.run_setup import RunSetup

__all__ = ["DONE", "IDLE", "PAUSED", "RUNNING", "RunSetup", "TrainingController"]


class TrainingController(QObject):
    """Commands go to the engine process; ``snapshotReady``, ``stateChanged`` and ``failed``
    are emitted on the GUI thread, only for the current run; ``saved`` for every save."""

    snapshotReady = Signal(object)  # Snapshot
    stateChanged = Signal(str, str)  # state, reason (e.g. "diverged: ...")
    failed = Signal(str)
    saved = Signal(str, str)  # path, error ("" when the file was written)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = IDLE
        self.last: Snapshot | None = None
        self.last_setup: RunSetup | None = None
        self._run_id = 0
        self._keep_token = 0
        self._history = HistoryRows()  # the current run's history, from the rows sent
        self.speed = MAX
        self._start_engine()

    def _start_engine(self) -> None:
        if getattr(self, "_sender", None) is not None:
            self._sender.close(0)  # the old engine's
        if getattr(self, "_notifier", None) is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
        context = multiprocessing.get_context("spawn")  # never fork a process that runs Qt
        self._conn, child = context.Pipe(duplex=True)
        self._sender = CommandSender(self._conn)
        self._process = context.Process(
            target=engine_main, args=(child,), name="nn-engine", daemon=True
        )
        # One BLAS thread in the engine: the GUI process needs the other core, and idle BLAS
        # threads spinning beside it cost more than a second thread gains on small layers.
        with one_blas_thread():
            self._process.start()
        child.close()
        self._notifier = QSocketNotifier(self._conn.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._read)

    # -- commands ------------------------------------------------------------------------------
    def _send(self, *command) -> None:
        if self._process.is_alive():
            self._sender.send(command)  # written by its own thread: the GUI thread never waits

    def setup(self, run: RunSetup) -> None:
        """Start a new run (the engine drops the old one); messages about older runs that are
        still on their way are ignored."""
        if not self._process.is_alive():  # it stopped unexpectedly: a new run gets a new one
            self._conn.close()
            self._start_engine()
            self._send("speed", self.speed)
        self._run_id += 1
        self.last = None
        self.last_setup = run  # what the current run was set up with
        self.state = IDLE  # as every new run starts: right away, not when the engine says so
        self._send("setup", replace(run, run_id=self._run_id))

    def discard(self) -> None:
        """Drop the current run (the settings don't build one): the engine forgets it and its
        messages still on their way are ignored."""
        self._run_id += 1
        self.last = None
        self.state = IDLE
        self._send("discard")
        self.stateChanged.emit(IDLE, "")

    def start(self) -> None:
        self._send("start")

    def pause(self) -> None:
        self._send("pause")

    def step_epoch(self) -> None:
        self._send("step")

    def set_lr(self, lr: float) -> None:
        """Applied by the engine before its next step."""
        self._send("lr", float(lr))

    def set_regularization(self, l1: float, l2: float) -> None:
        self._send("reg", float(l1), float(l2))

    def edit_points(self, arrays: tuple, edits: int, setup_edits: int) -> None:
        """Train on ``arrays`` (x_train, y_train, x_test, y_test: the run's data with its first
        ``edits`` point edits; the run was set up with ``setup_edits``) from the next epoch
        boundary, keeping the weights."""
        self._send("edit_points", *arrays, int(edits), int(setup_edits))

    def set_config(self, config: TrainConfig) -> None:
        """Go on training with ``config`` (another optimizer starts with a fresh state); the
        batch size and seed must be the run's."""
        self._send("set_config", config)

    def set_speed(self, speed: Speed) -> None:
        """Train at ``speed`` (steps or epochs per second, or max) from the next step on; kept
        for later runs and for a new engine."""
        self.speed = speed
        self._send("speed", speed)

    def save_experiment(self, path: str, data: dict, metadata: dict, runs: list = ()) -> None:
        """Save the current run as an experiment file (between two steps), with the run list
        ``runs`` (:class:`core.runs.RunRecord`); ``saved`` follows."""
        self._save(path, "save_experiment", path, data, metadata, list(runs))

    def export(self, kind: str, path: str, metadata: dict) -> None:
        """Export the current model: ``kind`` "weights" (model file), "onnx" or "python";
        ``saved`` follows."""
        self._save(path, "export", kind, path, metadata)

    def keep(self, data: dict, timeout: float = 10.0) -> Experiment | None:
        """The current run's state as an in-memory experiment (what Save experiment writes:
        weights, optimizer, generator, position, history, and the settings ``data``, a
        ``Session.to_dict()``, with the edits still waiting apart), taken between two steps;
        ``RunSetup(resume=...)`` sets a run up from it. Waits for the engine's answer (it comes
        within one training chunk), handling the messages before it as usual; None without a
        run, or if the engine does not answer in ``timeout`` seconds."""
        if not self._process.is_alive():
            return None
        self._keep_token += 1
        token = self._keep_token
        self._send("keep", token, data)
        deadline = time.monotonic() + timeout
        try:
            while self._conn.poll(max(0.0, deadline - time.monotonic())):
                message = self._conn.recv()
                if message[0] == "kept" and message[2] == token:
                    return message[3] if message[1] == self._run_id else None
                snap = self._handle(message)
                if snap is not None:
                    self._show(snap)
        except (EOFError, OSError):
            self._engine_lost()
        return None

    def _save(self, path: str, *command) -> None:
        if self._process.is_alive():
            self._send(*command)
        else:
            self.saved.emit(path, "The training engine has stopped; nothing was saved.")

    @property
    def running(self) -> bool:
        """Whether the engine process is alive."""
        return self._process.is_alive()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop the engine process; True if it ended in time (it is killed otherwise)."""
        self._notifier.setEnabled(False)
        ended = True
        if self._process.is_alive():
            self._send("quit")
            self._sender.close(timeout)
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(1.0)
                ended = False
        self._sender.close(0)
        self._conn.close()
        return ended

    # -- engine -> GUI -------------------------------------------------------------------------
    @Slot()
    def _read(self) -> None:
        latest = None
        try:
            while self._conn.poll():
                latest = self._handle(self._conn.recv(), latest)
        except (EOFError, OSError):
            self._engine_lost()
            return
        if latest is not None:
            self._show(latest)

    def _handle(self, message: tuple, latest: Snapshot | None = None) -> Snapshot | None:
        """Act on one message from the engine; returns the newest snapshot of the current run
        still to be shown (the message's, else ``latest``)."""
        kind, run_id = message[0], message[1]
        if kind == "saved":  # reported whatever run it was: a file was written or not
            self.saved.emit(message[2], message[3])
            return latest
        if kind == "kept":  # an answer nobody waits for any more
            return latest
        if run_id != self._run_id:
            if kind == "snapshot":
                self._send("ack", run_id, 0)
            return latest
        if kind == "snapshot":
            snap = self._history.whole(run_id, message[2], message[3])
            if snap is None:  # rows are missing: this ack has the engine send them again
                self._send("ack", run_id, self._history.rows(run_id))
                return latest
            return snap
        if kind == "state":
            # The engine sends the newest snapshot before a state change: show it first.
            if latest is not None:
                self._show(latest)
                latest = None
            self.state = message[2]
            self.stateChanged.emit(message[2], message[3])
        elif kind == "failed":
            self.failed.emit(message[2])
        return latest

    def _show(self, snap: Snapshot) -> None:
        self.last = snap
        self.snapshotReady.emit(snap)
        # Views are updated: the engine may send the next one, with the rows after these.
        self._send("ack", self._run_id, self._history.rows(self._run_id))

    def _engine_lost(self) -> None:
        self._notifier.setEnabled(False)
        if self.state != DONE:
            self.state = DONE
            self.failed.emit("The training engine stopped unexpectedly; press Reset.")
            self.stateChanged.emit(DONE, "engine stopped")

"""The training engine's side of the app: a child process that owns the Trainer.

Why a process and not a thread: training is CPU-bound Python, and a training thread holding the
GIL starves the GUI thread (measured: 31% of headless speed, 12 view refreshes/s and a 10 ms
timer 2 s late). In its own process the engine gets a core of its own and the GUI stays fluid.

Protocol over a duplex ``multiprocessing`` pipe (both sides pickle plain data):
  GUI -> engine: ("setup", RunSetup) ("start",) ("pause",) ("step",) ("lr", x) ("reg", l1, l2)
                 ("save_experiment", path, data, metadata) ("export", kind, path, metadata)
                 ("ack",) ("quit",)
  engine -> GUI: ("snapshot", run_id, Snapshot) ("state", run_id, state, reason)
                 ("failed", run_id, message) ("saved", run_id, path, error or "")
Snapshots are flow-controlled: after sending one the engine sends no other until the GUI acks
it, keeping only the newest, so a busy GUI never has a backlog and training never blocks on it.
Saves and exports are handled like every command, between two training steps, so a file always
holds a consistent state of the run (weights, optimizer, generator and position together).

This module imports no Qt: it is what the child process runs.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.experiment import Experiment, save_experiment
from core.io import save_model
from core.onnx_export import export_onnx
from core.pyexport import export_python
from core.training import (
    Grid,
    Snapshot,
    TrainConfig,
    TrainControl,
    build_trainer,
    take_snapshot,
    train_iter,
)

IDLE, RUNNING, PAUSED, DONE = "idle", "running", "paused", "done"

#: ("export", kind, ...) -> writer(model, path, metadata); each writes its file atomically.
EXPORTS = {
    "weights": lambda model, path, metadata: save_model(model, path, metadata),
    "onnx": lambda model, path, metadata: export_onnx(model, path, metadata=metadata),
    "python": lambda model, path, metadata: export_python(model, path, metadata=metadata),
}


@dataclass(frozen=True)
class RunSetup:
    """Everything the engine needs to build a run."""

    spec: dict[str, Any]
    config: TrainConfig
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    grid: Grid | None
    run_id: int = 0
    #: Continue this saved run (its weights, optimizer, generator, position and history) on
    #: the arrays above, which must be the data it was trained on.
    resume: Experiment | None = None
    #: Start from these weights (``Sequential.get_state`` layout) instead of fresh ones.
    initial_state: dict[str, np.ndarray] | None = None


class Engine:
    """The child process's state machine; ``handle`` takes one command."""

    def __init__(self, send) -> None:
        self.send = send
        self.control = TrainControl()
        self.state = IDLE
        self.trainer = None
        self.iter = None
        self.grid: Grid | None = None
        self.run_id = 0
        self.awaiting_ack = False
        self.pending: tuple[int, Snapshot] | None = None
        self.lock = threading.Lock()  # guards the pipe's sending end and the hand-over state

    def publish(self, snap: Snapshot) -> None:
        with self.lock:
            if self.awaiting_ack:
                self.pending = (self.run_id, snap)  # newest wins
            else:
                self.send(("snapshot", self.run_id, snap))
                self.awaiting_ack = True

    def ack(self) -> None:
        """The GUI has shown the last snapshot: send the newest waiting one at once. Called from
        the command-reading thread, so a snapshot never waits for the training loop."""
        with self.lock:
            self.awaiting_ack = False
            self._flush()

    def _flush(self) -> None:
        """Send the waiting snapshot, if any (the caller holds the lock)."""
        if self.pending is not None:
            (run_id, snap), self.pending = self.pending, None
            self.send(("snapshot", run_id, snap))
            self.awaiting_ack = True

    def set_state(self, state: str, reason: str = "") -> None:
        """Announce a state change, after the newest snapshot: once the GUI sees "paused" or
        "done", no snapshot of that run follows until training resumes."""
        self.state = state
        with self.lock:
            self._flush()
            self.send(("state", self.run_id, state, reason))

    def handle(self, command: tuple) -> None:
        kind = command[0]
        if kind == "ack":
            self.ack()
        elif kind == "setup":
            self.setup(command[1])
        elif kind == "start" and self.iter is not None and self.state != RUNNING:
            self.set_state(RUNNING)
        elif kind == "pause" and self.state == RUNNING:
            self.set_state(PAUSED)
        elif kind == "step" and self.iter is not None and self.state != RUNNING:
            self.control.apply(self.trainer)  # a rate change made while paused
            self.trainer.run_epoch()
            self.publish(take_snapshot(self.trainer, self.grid))
            self.set_state(PAUSED)
        elif kind == "save_experiment":
            path, data, metadata = command[1:]
            self.write(path, lambda: save_experiment(path, self.trainer, data, metadata))
        elif kind == "export":
            export, path, metadata = EXPORTS[command[1]], command[2], command[3]
            self.write(path, lambda: export(self.trainer.model, path, metadata))

    def write(self, path: str, save) -> None:
        """Run ``save()`` on the current trainer and report ("saved", run_id, path, error)."""
        error = ""
        if self.trainer is None:
            error = "There is no network to save: the current settings do not build one."
        else:
            self.control.apply(self.trainer)  # rates changed while paused belong to the run
            try:
                save()
            except Exception as exc:  # a failed save is reported, never the end of the engine
                error = str(exc) or type(exc).__name__
        with self.lock:
            self.send(("saved", self.run_id, path, error))

    def setup(self, run: RunSetup) -> None:
        self.run_id, self.iter, self.pending = run.run_id, None, None
        if run.resume is not None and self.trainer is not None:
            # Rate requests not yet applied belong to the previous run: the saved one keeps its own.
            self.control.apply(self.trainer)
        try:
            if run.resume is not None:
                self.trainer = run.resume.build_trainer(
                    run.x_train, run.y_train, run.x_test, run.y_test, config=run.config
                )
            else:
                self.trainer = build_trainer(
                    run.spec, run.config, run.x_train, run.y_train, run.x_test, run.y_test
                )
                if run.initial_state is not None:
                    self.trainer.model.set_state(run.initial_state)
        except ValueError as exc:
            self.trainer = None
            with self.lock:
                self.send(("failed", self.run_id, str(exc)))
            self.set_state(IDLE, str(exc))
            return
        self.grid = run.grid
        self.control.apply(self.trainer)  # settle requests made for the previous run
        self.iter = train_iter(self.trainer, grid=self.grid, control=self.control)
        self.publish(next(self.iter))  # the untrained state
        self.set_state(IDLE)

    def advance(self) -> None:
        """Train until the next snapshot (about 40 ms, or sooner if asked for one)."""
        snap = next(self.iter)
        self.publish(snap)
        if snap.done:
            self.iter = None
            self.set_state(DONE, snap.reason or "")


def engine_main(conn) -> None:
    """Entry point of the child process: serve commands until "quit" or the pipe closes."""
    np.seterr(all="ignore")  # a diverging run is reported as a reason, not as warnings
    commands: queue.Queue = queue.Queue()
    engine = Engine(conn.send)

    def read() -> None:
        # Urgent requests act on the running loop at once (before its next step); all commands
        # are then handled in order by the main loop.
        try:
            while True:
                command = conn.recv()
                kind = command[0]
                if kind == "ack":
                    engine.ack()
                    continue
                if kind == "pause":
                    engine.control.request_snapshot()
                elif kind == "lr":
                    engine.control.set_lr(command[1])
                elif kind == "reg":
                    engine.control.set_regularization(command[1], command[2])
                elif kind in ("quit", "setup"):
                    engine.control.request_snapshot()
                commands.put(command)
                if kind == "quit":
                    return
        except (EOFError, OSError):
            os._exit(0)  # the app has gone

    threading.Thread(target=read, name="commands", daemon=True).start()
    while True:
        try:
            command = commands.get(block=engine.state != RUNNING)
        except queue.Empty:
            command = None
        if command is not None:
            if command[0] == "quit":
                return
            if command[0] not in ("lr", "reg"):  # those went straight to the control
                engine.handle(command)
            continue
        if engine.state == RUNNING:
            engine.advance()

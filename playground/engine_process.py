"""The engine process: a child process that reads the GUI's commands and runs the Engine.

Why a process and not a thread: training is CPU-bound Python, and a training thread holding the
GIL starves the GUI thread (measured: 31% of headless speed, 12 view refreshes/s and a 10 ms
timer 2 s late). In its own process the engine gets a core of its own and the GUI stays fluid.

Protocol over a duplex ``multiprocessing`` pipe (both sides pickle plain data):
  GUI -> engine: ("setup", RunSetup) ("discard",) ("start",) ("pause",) ("step",) ("lr", x)
                 ("reg", l1, l2) ("speed", Speed)
                 ("edit_points", x_train, y_train, x_test, y_test, edits, setup_edits)
                 ("set_config", TrainConfig)
                 ("save_experiment", path, data, metadata) ("export", kind, path, metadata)
                 ("keep", token, data) ("ack", run_id, rows) ("quit",)
  engine -> GUI: ("snapshot", run_id, Snapshot, start) ("state", run_id, state, reason)
                 ("failed", run_id, message) ("saved", run_id, path, error or "")
                 ("kept", run_id, token, Experiment or None)
Messages are sent by a thread of their own (:class:`playground.outbox.Outbox`), snapshots
flow-controlled by the GUI's acks. An ack says how many history rows of the run the GUI holds;
a snapshot's history then holds only the rows from ``start`` on (the GUI puts it back together:
:mod:`playground.history_rows`). Commands are read by another thread and handled in order
between two pieces of training (see :mod:`playground.engine`); urgent ones act on the running
loop at once. Rate changes ("lr", "reg") do too, unless a run asked for earlier is still to be
built: then they wait their turn behind it, so they reach that run.
A command that fails in an unforeseen way is reported ("failed"), never the end of the engine.

This module imports no Qt: it is what the child process runs.
"""

from __future__ import annotations

import os
import queue
import threading

import numpy as np

from core.training.control import TrainControl
from playground.engine import Engine


def change_rates(control: TrainControl, command: tuple) -> None:
    """Pass ("lr", x) or ("reg", l1, l2) to the control (applied before the next step)."""
    if command[0] == "lr":
        control.set_lr(command[1])
    else:
        control.set_regularization(command[1], command[2])


def serve(engine: Engine, command: tuple) -> None:
    """Handle one command of the main loop; any failure is reported to the GUI ("failed"),
    never the end of the engine."""
    try:
        if command[0] == "ordered":
            change_rates(engine.control, command[1])
        elif command[0] not in ("lr", "reg"):  # those went straight to the control
            engine.handle(command)
    except Exception as exc:
        report(engine, exc)


def report(engine: Engine, exc: Exception) -> None:
    """Tell the GUI a command failed (it shows the message in its banner)."""
    reason = str(exc) or type(exc).__name__
    engine.send(("failed", engine.run_id, f"The training engine could not do that: {reason}"))


def engine_main(conn) -> None:
    """Entry point of the child process: serve commands until "quit" or the pipe closes."""
    np.seterr(all="ignore")  # a diverging run is reported as a reason, not as warnings
    commands: queue.Queue = queue.Queue()
    engine = Engine(conn.send)
    # Runs asked for ("setup"/"discard") and not yet handled by the main loop. While there are
    # any, a rate change is meant for the newest run: it waits in the queue behind it, or the
    # run being built now would use it up.
    building = [0]
    building_lock = threading.Lock()

    def read() -> None:
        # Urgent requests act on the running loop at once (before its next step); all commands
        # are then handled in order by the main loop.
        try:
            while True:
                command = conn.recv()
                kind = command[0]
                if kind == "ack":
                    engine.ack(*command[1:])
                    continue
                if kind == "pause":
                    engine.control.request_snapshot()
                elif kind in ("lr", "reg"):
                    with building_lock:
                        if building[0]:
                            commands.put(("ordered", command))
                            continue
                    try:
                        change_rates(engine.control, command)
                    except ValueError as exc:  # a bad rate: said, and the reading goes on
                        report(engine, exc)
                elif kind in ("quit", "setup", "discard", "keep"):
                    engine.control.request_snapshot()
                if kind in ("setup", "discard"):
                    with building_lock:
                        building[0] += 1
                commands.put(command)
                if kind == "quit":
                    return
        except (EOFError, OSError):
            os._exit(0)  # the app has gone

    threading.Thread(target=read, name="commands", daemon=True).start()
    while True:
        # Idle: wait for a command. Training: take one if there is one, else train on; a paced
        # run waits for its next piece on the queue, so a command cuts the wait short.
        wait = engine.wait_time()
        try:
            command = commands.get(block=wait != 0, timeout=wait)
        except queue.Empty:
            if wait == 0:
                engine.advance()
            continue
        if command[0] == "quit":
            return
        try:
            serve(engine, command)
        finally:
            if command[0] in ("setup", "discard"):
                with building_lock:
                    building[0] -= 1

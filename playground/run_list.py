"""The runs a training workspace keeps: every run that trained an epoch becomes a record in its
Runs panel (:mod:`playground.panels.runs_panel`), named after what differs from the run before
it (:func:`playground.run_names.run_name`), updated live from the run's snapshots (throttled)
and kept when the run is replaced. A run set up again from a kept state (a parked run, Edit ▸
Undo, an experiment whose runs were saved with it) goes on in its own record: records are
matched by their first epoch's history row.

The list lives in ``<runs folder>/<mode>.npz`` (:func:`core.runs_archive.runs_folder`), saved
atomically from a thread after each change (the newest list wins) and when the window closes
(waited for), read in a thread when the workspace is made and shown when read, run by run: runs
that can't be read (or a file that can't) are left out, the panel says why, and the file is
set aside as ``<mode>.damaged.npz`` (``-2``, ``-3``… beside an earlier one).

Only pinned runs keep their weights there; in memory, the last
:data:`UNPINNED_WEIGHTS` unpinned runs keep theirs too, so pinning a recent run keeps them.

Over 400 lines as one class: the live run, the runs added from files and sweeps, restoring and
loading all change the same list, its save timer and the current run's record (the writing
thread is apart, :mod:`playground.runs_saver`).
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from core.io import state_shapes
from core.runs import COLUMNS, MAX_PINNED, MAX_RUNS, MAX_SETTINGS_CHARS, RunRecord, kept_columns
from core.runs_archive import load_runs, runs_folder
from core.sweep.task import RunResult
from core.training.snapshot import Snapshot
from playground.image_session import session_from_dict
from playground.panels.runs_model import RunsModel
from playground.panels.runs_panel import RunsPanel
from playground.run_names import run_name
from playground.runs_saver import RunsSaver, set_aside
from playground.throttle import Throttled

#: The live run's record follows its snapshots at most this often (ms).
UPDATE_INTERVAL = 500
#: Changes are saved this long after the last one (ms).
SAVE_DELAY = 1000
#: Seconds the last save waits for when the window closes.
QUIT_WAIT = 10.0
#: Unpinned runs that keep their weights in memory (the most recent ones).
UNPINNED_WEIGHTS = 10
#: The mark in a record's data settings that its point edits were left out (too long).
EDITS_LEFT_OUT = "edits_left_out"


class RunList(QObject):
    """``workspace``: a :class:`playground.workspaces.base.TrainingWorkspace` (its mode,
    controller, run and status messages); ``curves``: the view the ticked runs overlay.
    ``restoreRequested(session, start)`` asks for a run's settings in the editor (``start``:
    ``{"initial_state": weights}`` for a pinned run with weights, else empty)."""

    restoreRequested = Signal(object, dict)
    _readDone = Signal()

    def __init__(self, workspace: Any, curves: Any) -> None:
        super().__init__(workspace)
        self.workspace, self.curves = workspace, curves
        self.model = RunsModel(self)
        self.panel = RunsPanel(self.model)
        self.path = runs_folder() / f"{workspace.mode}.npz"
        self.live_id: str | None = None  # the current run's record, once it has one
        self._session: Any = None  # the current run's session (its settings change live)
        self._spec: dict | None = None
        self._update = Throttled(self._show, UPDATE_INTERVAL, self)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY)
        self._save_timer.timeout.connect(self.save)
        self._saver = RunsSaver(self)
        self._saver.saved.connect(self._saved)  # queued: it is emitted by the saving thread
        self._said = ""  # the last save error said
        self.loaded = True  # the runs file is read (or there is none)
        self._reading: threading.Thread | None = None
        self._readDone.connect(self._show_read)
        self.model.changed.connect(self._save_timer.start)
        self.model.overlayChanged.connect(self._overlay)
        self.model.refused.connect(lambda text: workspace.statusMessage.emit(text, 8000))
        self.panel.restoreRequested.connect(self.restore)
        workspace.controller.snapshotReady.connect(self.snapshot)
        self.load()

    # -- the current run -----------------------------------------------------------------------
    def run_set_up(self) -> None:
        """The workspace set a run up: the run before it keeps its record as it last was."""
        self.finish()
        self._session, self._spec = self.workspace.run_session, self.workspace.spec

    def finish(self) -> None:
        """The current run is replaced or dropped: its record is brought up to its last
        snapshot and kept (saved soon)."""
        self._update.flush()
        if self.live_id is not None:
            self._save_timer.start()
        self.live_id = self._session = None
        self._prune_weights()

    def snapshot(self, snap: Snapshot) -> None:
        """A snapshot of the engine's run: this workspace's run updates its record."""
        if self._session is not None and self.workspace.run_session is self._session:
            self._update(snap)

    def _show(self, snap: Snapshot) -> None:
        session = self._session
        if session is None or snap.epoch < 1 or not len(snap.history["epoch"]):
            return
        rows = kept_columns(snap.history)
        if self.live_id is None:
            record = self._match(rows) or self._new_record(settings_of(session), rows)
            self.live_id = record.id
        else:
            record = self.model.record(self.live_id)
            if record is None:
                return  # deleted while it trained: it stays deleted
        self.model.update(
            replace(
                record,
                settings=settings_of(session),
                history=rows,
                epochs=snap.epoch,
                steps=snap.step,
                wall_time=float(snap.elapsed),
                spec=self._spec,
                weights=dict(snap.weights) if snap.weights else record.weights,
            )
        )

    def _match(self, rows: np.ndarray) -> RunRecord | None:
        """The record of a run whose first epoch was this one (the same run, set up again)."""
        mode = self.workspace.mode
        return next(
            (
                r
                for r in reversed(self.model.records)
                if r.mode == mode and len(r.history) and np.array_equal(r.history[0], rows[0], True)
            ),
            None,
        )

    def _new_record(self, settings: dict[str, Any], rows: np.ndarray) -> RunRecord:
        previous = self.model.records[-1].settings if self.model.records else None
        return RunRecord(
            id=uuid.uuid4().hex,
            name=self.unique_name(run_name(previous, settings)),
            mode=self.workspace.mode,
            settings=settings,
            history=rows,
            epochs=0,
            steps=0,
            wall_time=0.0,
            n_params=param_count(self._spec),
            created=time.time(),
        )

    def unique_name(self, name: str) -> str:
        """``name``, or ``name (2)``, ``name (3)``... if a run is called so already."""
        names = {r.name for r in self.model.records}
        k = 2
        unique = name
        while unique in names:
            unique, k = f"{name} ({k})", k + 1
        return unique

    def _prune_weights(self) -> None:
        """Weights stay with pinned runs and the most recent unpinned ones only."""
        unpinned = [r for r in self.model.records if not r.pinned and r.weights is not None]
        for record in unpinned[:-UNPINNED_WEIGHTS] if len(unpinned) > UNPINNED_WEIGHTS else []:
            self.model.update(replace(record, weights=None))

    # -- runs from elsewhere, restoring, the overlay -------------------------------------------
    def add_runs(self, records: list[RunRecord] | tuple[RunRecord, ...]) -> None:
        """Add runs made elsewhere (an experiment file, a sweep); those already here stay.
        Pinned runs past :data:`core.runs.MAX_PINNED` keep their pin but not their weights,
        and the oldest unpinned runs leave past :data:`core.runs.MAX_RUNS`: the status bar
        says how many."""
        before = {r.id for r in self.model.records}
        new = [r for r in records if r.id not in before]
        unweighted = sum(not self.model.add(record) for record in new)
        if len(new) < 2 and not unweighted and len(self.model.records) > len(before):
            return  # one run (a sweep's) in a list with room: nothing to say
        left = len(before - {r.id for r in self.model.records})
        text = f"Added {runs_count(len(new))} to the Runs tab"
        if left:
            text += f"; the {runs_count(left)} oldest unpinned left (at most {MAX_RUNS:,} are kept)"
        if unweighted:
            text += f"; {runs_count(unweighted)} pinned came without weights"
            text += f" (at most {MAX_PINNED} keep them)"
        self.workspace.statusMessage.emit(text + ".", 10000)

    #: The end of the name of a sweep's run that has not started yet.
    SWEEP_WAITING = " (waiting)"

    @classmethod
    def sweep_name(cls, name: str) -> str:
        """A sweep run's name once it trains (the user's own name, if renamed, stays)."""
        return name.removesuffix(cls.SWEEP_WAITING)

    def add_sweep_run(self, result: RunResult, session: Any, run_id: str | None = None) -> None:
        """A finished run of a sweep (Run ▸ Sweep…), trained with ``session``'s settings, with
        its final weights (pinning it keeps them); it takes the place of its row ``run_id``
        (:meth:`add_sweep_rows`: its name and pin stay). A run that failed or trained no epoch
        leaves the list, as does one whose row was deleted while it trained."""
        row = self.model.record(run_id) if run_id is not None else None
        if run_id is not None and row is None:
            return
        if result.epochs < 1 or not result.history:
            self.drop_sweep_rows([] if row is None else [row.id])
            return
        record = RunRecord(
            id=uuid.uuid4().hex if row is None else row.id,
            name=self.unique_name(result.name) if row is None else self.sweep_name(row.name),
            mode=self.workspace.mode,
            settings=settings_of(session),
            history=kept_columns(result.history),
            epochs=result.epochs,
            steps=result.steps,
            wall_time=result.seconds,
            n_params=result.params,
            pinned=row is not None and row.pinned,
            created=time.time() if row is None else row.created,
            spec=result.spec,
            weights=result.weights,
        )
        self.model.update(record)
        self._prune_weights()
        self._save_timer.start()  # (an update alone is not saved: the live run's is too often)

    def add_sweep_rows(self, runs: list[tuple[str, Any]]) -> list[str]:
        """A sweep starts: a row per run ((name, the session it trains)), named
        "… (waiting)" until its progress arrives; their ids, in order."""
        ids = []
        for name, session in runs:
            record = RunRecord(
                id=uuid.uuid4().hex,
                name=self.unique_name(name) + self.SWEEP_WAITING,
                mode=self.workspace.mode,
                settings=settings_of(session),
                history=np.zeros((0, len(COLUMNS))),
                epochs=0,
                steps=0,
                wall_time=0.0,
                n_params=0,
                created=time.time(),
            )
            self.model.add(record)
            ids.append(record.id)
        return ids

    def update_sweep_row(
        self, run_id: str, rows: np.ndarray, epochs: int, steps: int, seconds: float
    ) -> None:
        """A sweep's run progressed: its row shows ``rows`` (its history so far, ``(n,
        len(COLUMNS))``), unless it was deleted meanwhile."""
        record = self.model.record(run_id)
        if record is not None:
            self.model.update(
                replace(
                    record,
                    name=self.sweep_name(record.name),
                    history=rows,
                    epochs=epochs,
                    steps=steps,
                    wall_time=float(seconds),
                )
            )

    def drop_sweep_rows(self, ids: list[str]) -> None:
        """The rows of sweep runs that end without an epoch trained leave the list."""
        if ids:
            self.model.remove(ids)

    def records(self) -> list[RunRecord]:
        """Every run as it is now (the current one brought up to its last snapshot)."""
        self._update.flush()
        return list(self.model.records)

    def to_save(self) -> list[RunRecord]:
        """Every run as a file keeps it: weights only with pinned runs."""
        return [r if r.pinned else replace(r, weights=None) for r in self.records()]

    def restore(self, run_id: str) -> None:
        """Ask for a run's settings (and a pinned run's weights) in the editor."""
        record = self.model.record(run_id)
        if record is None:
            return
        try:
            session = session_from_dict(record.settings)
        except ValueError as exc:
            self.workspace.statusMessage.emit(f"Can't restore {record.name}: {exc}", 10000)
            return
        if not isinstance(session, self.workspace.session_type):
            self.workspace.statusMessage.emit(f"{record.name} is a run of another mode", 8000)
            return
        weights = record.weights if record.pinned else None
        other = weights is not None and not same_spec(record.spec, session_spec(session))
        if other:
            weights = None  # they would not fit the network its settings build now
        self.restoreRequested.emit(session, {} if weights is None else {"initial_state": weights})
        what = "settings and weights" if weights is not None else "settings"
        text = f"Restored the {what} of {record.name}"
        if other:
            text += "; its weights are for another network, so it starts afresh"
        if record.settings.get("data", {}).get(EDITS_LEFT_OUT):
            text += "; its point edits were not kept (they took more than 64 KiB)"
        self.workspace.statusMessage.emit(text, 10000)

    def _overlay(self) -> None:
        self.curves.set_overlays([(r.name, color, r) for r, color in self.model.ticked()])

    # -- the runs file -------------------------------------------------------------------------
    def load(self) -> None:
        """Read the runs file, if any, in a thread; the list shows it when read
        (:meth:`_show_read`), merged with any run kept meanwhile."""
        if not self.path.exists():
            return
        self.loaded = False
        self._reading = threading.Thread(target=self._read, name="runs-read", daemon=True)
        self._reading.start()

    def _read(self) -> None:
        """(The reading thread.) The file's runs, or why it can't be read."""
        try:
            result: tuple[list[RunRecord], list[str]] | ValueError = load_runs(self.path)
        except ValueError as exc:
            result = exc
        self._read_result = result
        self._readDone.emit()  # queued to the window's thread

    def wait_loaded(self, timeout: float = QUIT_WAIT) -> None:
        """Until the runs file is read and shown (at most ``timeout`` seconds)."""
        if self._reading is not None:
            self._reading.join(timeout)
            if not self._reading.is_alive():
                self._show_read()

    def _show_read(self) -> None:
        """Show the runs read, run by run: a file that can't be read leaves the list as it is,
        one with runs that can't be read leaves them out; either way the panel and the status
        bar say why, and the file is set aside (:func:`set_aside`)."""
        if self.loaded:
            return
        self.loaded, self._reading, result = True, None, self._read_result
        if isinstance(result, ValueError):
            records, skipped = [], [str(result)]
            text = f"The saved runs could not be read ({result}); the list starts empty."
        else:
            (records, skipped), reasons = (
                result,
                "; ".join(s.removeprefix(f"{self.path}: ") for s in result[1][:3]),
            )
            text = f"Saved runs left out as they could not be read: {len(skipped)} ({reasons})."
        if skipped:
            aside = set_aside(self.path)
            text += f" The file was kept as {aside}." if aside is not None else ""
            self.panel.show_problem(text)
            self.workspace.statusMessage.emit(text, 15000)
        ids = {r.id for r in self.model.records}
        meanwhile = list(self.model.records)  # kept while the file was read: they win
        self.model.beginResetModel()
        self.model.records = [r for r in records if r.id not in ids] + meanwhile
        self.model.endResetModel()
        if meanwhile:
            self._save_timer.start()

    def save(self, wait: bool = False) -> None:
        """Write the list (pinned runs with their weights) from the saving thread: records are
        frozen, the newest list wins. ``wait``: until it is written (at most
        :data:`QUIT_WAIT` seconds; the window is closing), saying why if it was not."""
        self._save_timer.stop()
        if wait:
            self.wait_loaded()
        if not self.loaded:
            return  # saved once the file is read (_show_read)
        if not self.model.records and not self.path.exists():
            return  # nothing to keep, nothing to empty
        self._saver.save(self.path, self.to_save())
        if wait:
            self._saver.wait(QUIT_WAIT)
            self._saved()

    def _saved(self) -> None:
        """A save ended: say why if it failed (once per failure)."""
        error = self._saver.error
        if error and error != self._said:
            self.workspace.statusMessage.emit(f"The runs could not be saved: {error}", 10000)
        self._said = error

    def save_problem(self) -> str:
        """Why the runs could not be saved ("" when they were): the list is saved first,
        waiting at most :data:`QUIT_WAIT` seconds."""
        self.save(wait=True)
        if self._saver.busy():
            return f"the runs are still being written to {self.path}"
        return self._saver.error


def runs_count(n: int) -> str:
    """ "1 run", "2 runs"..."""
    return f"{n:,} run{'s' * (n != 1)}"


def settings_of(session: Any) -> dict[str, Any]:
    """A session's ``to_dict()`` as a record keeps it: without its point edits when they would
    make it longer than :data:`core.runs.MAX_SETTINGS_CHARS`."""
    settings = session.to_dict()
    if len(json.dumps(settings)) > MAX_SETTINGS_CHARS and "edits" in settings.get("data", {}):
        data = {**settings["data"], "edits": [], "queued_edits": [], EDITS_LEFT_OUT: True}
        settings["data"] = data  # the mark is ignored by the session, read by restore
    return settings


def session_spec(session: Any) -> dict[str, Any] | None:
    """The architecture ``session``'s settings build now (None if they build none): a plane
    session's for its data set, an image session's for the digits."""
    try:
        if hasattr(session, "build_dataset"):
            return session.build_spec(session.build_dataset())
        return session.build_spec()
    except (ValueError, OSError):
        return None


def same_spec(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two specs are the same architecture (as JSON: a tuple equals a list)."""
    as_json = lambda spec: json.dumps(spec, sort_keys=True)  # noqa: E731
    return a is not None and b is not None and as_json(a) == as_json(b)


def param_count(spec: dict[str, Any] | None) -> int:
    """Trainable parameters of ``spec`` (0 without one), counted without building it."""
    if spec is None:
        return 0
    shapes = state_shapes("run", spec)
    return sum(math.prod(s) for k, s in shapes.items() if k.startswith("param/"))

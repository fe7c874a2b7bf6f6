"""The training engine: a state machine over one run's Trainer that takes the GUI's commands one
at a time (set up, start, pause, step, point edits, settings, save, export, keep).

Image runs carry a recipe (:class:`playground.image_data.ImageDataSettings`) rather than arrays:
the engine loads the images itself, once per recipe.
A paced run (:class:`core.pace.Speed`, e.g. 20 epochs/s) trains in pieces: one step, each with
its snapshot, when steps are slow, else an epoch (:data:`STEP_PIECES_UP_TO`); between pieces the
engine waits on the command queue with a timeout, so commands still act at once. "max" trains
as before, never waiting.
A run that finished at its epoch limit trains on (without a limit) on "start" or "step".
Saves and exports are handled like every command, between two training steps, so a file always
holds a consistent state of the run (weights, optimizer, generator and position together).
Point edits ("edit_points": the run's data with its first ``edits`` point edits) join the data at
the next epoch boundary; an experiment saved before that keeps the waiting edits apart
(``queued_edits``), since its state was trained without them. "set_config" goes on with other
training settings (another optimizer starts with a fresh state), see ``Trainer.set_config``.
"keep" sends that same state back instead of writing it (an in-memory :class:`Experiment`, as
Save experiment would write it, its waiting edits kept apart), so the GUI can park a run and later
set up a run from it.

This module imports no Qt: the engine process (:mod:`playground.engine_process`) runs it.
"""

from __future__ import annotations

from collections.abc import Callable

from core.data.augment import augment_images
from core.experiment import Experiment, save_experiment
from core.io import save_model
from core.onnx_export import export_onnx
from core.pace import MAX, Pace, Speed
from core.pyexport import export_python
from core.torch_export import export_torch
from core.training.config import TrainConfig
from core.training.control import TrainControl
from core.training.loop import train_iter
from core.training.snapshot import DEAD_UNIT_SAMPLES, Grid, Snapshot
from core.training.trainer import build_trainer
from playground.image_data import layout_for, load_image_data
from playground.outbox import Outbox
from playground.run_setup import RunSetup

IDLE, RUNNING, PAUSED, DONE = "idle", "running", "paused", "done"
#: Paced runs at most this many steps per second train one step at a time, a snapshot after
#: each (the GUI shows every stage)...
STEP_PIECES_UP_TO = 100.0
#: ...and up to this many epochs per second an epoch at a time; faster ones as the training loop
#: goes (a snapshot every ``interval``): a snapshot per epoch would hold the pace back.
EPOCH_PIECES_UP_TO = 50.0

#: The name of a kept run (``Engine.kept``), and what the app says if it can't be set up again.
KEPT_RUN = "The kept run"
KEPT_RUN_LOST = "The run could not be brought back: its points changed since it was kept."

#: ("export", kind, ...) -> writer(model, path, metadata); each writes its file atomically.
EXPORTS = {
    "weights": lambda model, path, metadata: save_model(model, path, metadata),
    "onnx": lambda model, path, metadata: export_onnx(model, path, metadata=metadata),
    "python": lambda model, path, metadata: export_python(model, path, metadata=metadata),
    "torch": lambda model, path, metadata: export_torch(
        model, path, metadata=metadata, config=_config(metadata)
    ),
}


def _config(metadata: dict) -> TrainConfig | None:
    """The run's training settings a model file's metadata carries (its "config")."""
    config = metadata.get("config")
    return TrainConfig.from_dict(config) if isinstance(config, dict) else None


class Engine:
    """The child process's state machine; ``handle`` takes one command."""

    def __init__(self, send: Callable[[tuple], None]) -> None:
        self.outbox = Outbox(send)
        self.control = TrainControl()
        self.state = IDLE
        self.trainer = None
        self.iter = None
        self.grid: Grid | None = None
        self.dead_samples = DEAD_UNIT_SAMPLES
        self.step_target: int | None = None  # stepping: the epoch to pause at
        self.run_id = 0
        self._images: tuple[tuple, tuple] | None = None  # (recipe key, arrays) of the last load
        #: Point edits in the trainer's data (None: as the run was set up) and in data waiting
        #: for the epoch to end (None: none waits).
        self.data_edits: int | None = None
        self.queued_edits: int | None = None
        self.speed = MAX
        self.pace = Pace()  # in steps per second
        self.paced_per_epoch = 1  # the steps per epoch the pace was converted with
        self.interval = 0.04  # the run's snapshot interval (to train on past its epoch limit)
        self.done_reason = ""  # why the run ended ("" while it can train)
        self.past_limit = False  # the loop trains on past the run's epoch limit

    def send(self, message: tuple) -> None:
        self.outbox.message(message)

    def publish(self, snap: Snapshot) -> None:
        self.outbox.snapshot(self.run_id, snap)

    def ack(self, run_id: int | None = None, rows: int = 0) -> None:
        """The GUI has shown the last snapshot and holds ``rows`` history rows of run
        ``run_id``: the newest waiting snapshot may go, with the rows after those."""
        self.outbox.ack(run_id, rows)

    def set_state(self, state: str, reason: str = "") -> None:
        """Announce a state change, after the newest snapshot: once the GUI sees "paused" or
        "done", no snapshot of that run follows until training resumes."""
        self.state = state
        self.send(("state", self.run_id, state, reason))

    def handle(self, command: tuple) -> None:
        kind = command[0]
        if kind in ("start", "step") and self.iter is None and self.done_reason == "epochs":
            self._train_past_limit()  # finished at the epoch limit: Play or Step trains on
        if kind == "ack":
            self.ack(*command[1:])
        elif kind == "setup":
            self.setup(command[1])
        elif kind == "discard":
            self.control.forget_changes()  # they were meant for the dropped run
            self._end_step()
            self.trainer = self.iter = None
            self.state, self.done_reason = IDLE, ""
            self.outbox.drop_snapshot()
        elif kind == "speed":
            self.set_speed(command[1])
        elif kind == "start" and self.iter is not None and self.state != RUNNING:
            self._end_step()
            self.pace.restart()
            self.set_state(RUNNING)
        elif kind == "pause" and self.busy:
            self._end_step()
            self.set_state(PAUSED)
        elif kind == "step" and self.iter is not None and not self.busy:
            # Trains in the main loop's usual chunks, so other commands (pause, reset, quit)
            # still act within a chunk even when an epoch takes seconds.
            self.step_target = self.trainer.epoch + 1
            self.control.epoch_end_snapshots = True
            self.pace.restart()
        elif kind == "save_experiment":
            path, data, metadata, *runs = command[1:]  # the run list: sent by the app
            data = self.with_queued_edits(data)
            runs = runs[0] if runs else ()
            self.write(path, lambda: save_experiment(path, self.trainer, data, metadata, runs))
        elif kind == "edit_points":
            self.edit_points(command[1:5], command[5], command[6])
        elif kind == "set_config":
            self.set_config(command[1])
        elif kind == "export":
            export, path, metadata = EXPORTS[command[1]], command[2], command[3]
            self.write(path, lambda: export(self.trainer.model, path, metadata))
        elif kind == "keep":
            self.send(("kept", self.run_id, command[1], self.kept(command[2])))

    def kept(self, data: dict) -> Experiment | None:
        """The current run as an in-memory experiment (what Save experiment writes: weights,
        optimizer, generator, position, history, and the settings ``data`` with the edits
        still waiting for the epoch to end apart), to set a run up from later; None without
        a run."""
        if self.trainer is None:
            return None
        self.control.apply(self.trainer)  # rates changed while paused belong to the run
        model = self.trainer.model
        return Experiment(
            path=KEPT_RUN,
            spec=model.spec,
            dtype=str(model.dtype),
            config=self.trainer.config,
            data=self.with_queued_edits(data),
            metadata={},
            state=self.trainer.state_dict(),
        )

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
        self.send(("saved", self.run_id, path, error))

    @property
    def busy(self) -> bool:
        """Training (running, or stepping through one epoch)."""
        return self.state == RUNNING or self.step_target is not None

    def _end_step(self) -> None:
        self.step_target = None
        self.control.epoch_end_snapshots = False

    def setup(self, run: RunSetup) -> None:
        self._end_step()
        self.run_id, self.iter, self.done_reason = run.run_id, None, ""
        self.data_edits = self.queued_edits = None
        self.outbox.drop_snapshot()
        if run.resume is not None:
            # Rate requests not yet applied belong to the previous run: the saved one keeps its own.
            self.control.forget_changes()
        try:
            arrays, augment = self.arrays(run)
            if run.resume is not None:
                self.trainer = run.resume.build_trainer(*arrays, config=run.config, augment=augment)
                if self.trainer.epoch:  # the last epoch's test predictions, shown at once
                    self.trainer.evaluate("test")
            else:
                self.trainer = build_trainer(run.spec, run.config, *arrays, augment=augment)
                if run.initial_state is not None:
                    self.trainer.model.set_state(run.initial_state)
            # Fingerprinted now, while the GUI is not waiting: a "keep" (which the GUI waits
            # for when it parks a run) then only copies the state.
            self.trainer.data_fingerprint()
        except Exception as exc:  # reported, never the end of the engine (e.g. MemoryError)
            self.trainer = None
            message = str(exc) or type(exc).__name__
            if (
                isinstance(exc, ValueError)
                and run.resume is not None
                and run.resume.path == KEPT_RUN
            ):
                message = KEPT_RUN_LOST
            self.send(("failed", self.run_id, message))
            self.set_state(IDLE, message)
            return
        self.grid, self.dead_samples = run.grid, run.dead_samples
        self.interval = run.interval
        self.set_speed(self.speed)
        self.control.apply(self.trainer)  # settle requests made for the previous run
        self._train_on()  # publishes the untrained state
        self.set_state(IDLE)

    def _train_on(self, max_epochs: int | None = None) -> None:
        """A training loop over the current trainer (``max_epochs``: see ``train_iter``);
        publishes its first snapshot."""
        self.iter = train_iter(
            self.trainer,
            grid=self.grid,
            control=self.control,
            interval=self.interval,
            max_epochs=max_epochs,
            dead_samples=self.dead_samples,
        )
        self.past_limit = max_epochs == 0
        self.publish(next(self.iter))

    def edit_points(self, arrays: tuple, edits: int, setup_edits: int) -> None:
        """Train on ``arrays`` (x_train, y_train, x_test, y_test: the run's data with its first
        ``edits`` point edits) from the next epoch boundary, keeping the weights;
        ``setup_edits`` is how many edits the arrays the run was set up with held."""
        if self.trainer is None:
            return
        self._settle_edits()
        if self.data_edits is None:
            self.data_edits = setup_edits
        try:
            now = self.trainer.set_data(*arrays)
        except ValueError as exc:  # e.g. too few points left for batch norm
            self.send(("failed", self.run_id, f"The points can't be trained on: {exc}"))
            return
        if now:
            self.data_edits, self.queued_edits = edits, None
        else:
            self.queued_edits = edits
        self._go_on()

    def _go_on(self) -> None:
        """A run that had ended (its epochs done, say) can go on after a change: Play
        continues it from where it stopped (past its epoch limit if it is still reached)."""
        self.match_speed()
        # A loop trained on past its limit takes a limit raised beyond the epoch it is at.
        limited_again = self.past_limit and self.trainer.config.epochs and not self._limit_reached()
        if self.iter is None or limited_again:
            if self.iter is None and self.done_reason == "epochs" and self._limit_reached():
                self._train_past_limit()
                return
            self._train_on()
            self.done_reason = ""
            if self.state != RUNNING:
                self.set_state(PAUSED)

    def _limit_reached(self) -> bool:
        epochs = self.trainer.config.epochs
        return bool(epochs) and self.trainer.epoch >= epochs

    def _settle_edits(self) -> None:
        """Count queued edits as in the data once the trainer has taken them."""
        if self.queued_edits is not None and not self.trainer.data_queued:
            self.data_edits, self.queued_edits = self.queued_edits, None

    def with_queued_edits(self, data: dict) -> dict:
        """An experiment's settings (``Session.to_dict()``) as its state was trained: edits
        still waiting for the epoch to end move from ``edits`` to ``queued_edits``."""
        if self.trainer is None or not isinstance(data.get("data"), dict):
            return data
        self._settle_edits()
        if self.queued_edits is None or self.data_edits is None:
            return data
        edits = list(data["data"].get("edits", []))
        settings = {
            **data["data"],
            "edits": edits[: self.data_edits],
            "queued_edits": edits[self.data_edits :],
        }
        return {**data, "data": settings}

    def set_config(self, config: TrainConfig) -> None:
        """Go on with other training settings (see ``Trainer.set_config``); a run that had
        ended (e.g. its epochs were done) can go on again, from where it stopped."""
        if self.trainer is None:
            return
        try:
            self.trainer.set_config(config)
        except ValueError as exc:
            self.send(("failed", self.run_id, str(exc)))
            return
        self._go_on()

    def arrays(self, run: RunSetup) -> tuple[tuple, Callable | None]:
        """(x_train, y_train, x_test, y_test) and the augmentation of ``run``: its own arrays,
        or its images, loaded once per recipe (flat or image layout are views of them)."""
        if run.images is None:
            return (run.x_train, run.y_train, run.x_test, run.y_test), None
        key = tuple(sorted(run.images.to_dict().items()))
        if self._images is None or self._images[0] != key:
            self._images = None  # free the old images before loading new ones
            d = load_image_data(run.images, layout="flat")
            self._images = (key, (d.x_train, d.y_train, d.x_test, d.y_test))
        x_train, y_train, x_test, y_test = self._images[1]
        if layout_for(run.spec) == "image":
            x_train, x_test = (x.reshape(len(x), 1, 28, 28) for x in (x_train, x_test))
        augment = augment_images if run.images.augment else None
        return (x_train, y_train, x_test, y_test), augment

    def set_speed(self, speed: Speed) -> None:
        """Train at ``speed`` from now on (the run's steps per epoch turn epochs into steps)."""
        self.speed = speed
        per_epoch = self.trainer.steps_per_epoch if self.trainer is not None else 1
        self.paced_per_epoch = per_epoch
        self.pace.set_rate(speed.steps_per_second(per_epoch))

    def match_speed(self) -> None:
        """Keep the speed in epochs when a point edit changed the epoch's length."""
        if self.trainer is not None and self.trainer.steps_per_epoch != self.paced_per_epoch:
            self.set_speed(self.speed)

    def wait_time(self) -> float | None:
        """Seconds until the next piece of training is due (0.0: now; None: not training)."""
        return self.pace.delay() if self.busy else None

    def _train_past_limit(self) -> None:
        """Go on past the epoch limit the run stopped at, without a limit (until paused)."""
        self._train_on(max_epochs=0)
        self.done_reason = ""
        self.set_state(PAUSED)

    def advance(self) -> None:
        """Train until the next snapshot (about 40 ms, or sooner if asked for one); a paced run
        trains one piece (a step or an epoch, see :data:`STEP_PIECES_UP_TO`)."""
        rate = self.pace.rate
        one_step = rate is not None and rate <= STEP_PIECES_UP_TO
        if one_step:
            self.control.request_snapshot()  # the loop yields before the step after this one
        by_epoch = rate is not None and rate <= EPOCH_PIECES_UP_TO * self.trainer.steps_per_epoch
        self.control.epoch_end_snapshots = self.step_target is not None or by_epoch
        steps = self.trainer.steps
        snap = next(self.iter)
        if one_step and self.control.snapshot_requested:
            self.control.apply(self.trainer)  # it yielded at an epoch's end: the step is done
        self.pace.done(self.trainer.steps - steps)
        self.match_speed()  # queued data may have joined at an epoch boundary
        self.publish(snap)
        if snap.done:
            self._end_step()
            self.iter = None
            self.done_reason = snap.reason or "stopped"
            self.set_state(DONE, snap.reason or "")
        elif self.step_target is not None and snap.epoch >= self.step_target:
            self._end_step()
            self.set_state(PAUSED)

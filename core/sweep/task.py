"""One run of a sweep as a plain, picklable function call: :func:`run_task` trains a
:class:`RunTask` (data recipe, network spec, training configuration with its seed and epochs)
and returns a :class:`RunResult`. ``nn-playground-train`` trains its single run through the
same :func:`execute`, so a sweep's run and a single run with the same options are equal bit
for bit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.data.augment import augment_images
from core.recipe import Recipe, TrainingData
from core.training.config import TrainConfig
from core.training.history import history_rows
from core.training.loop import train_iter
from core.training.snapshot import Snapshot
from core.training.trainer import Trainer, build_trainer

#: Seconds between progress reports of a run (the command line's progress bar and the workers').
PROGRESS_INTERVAL = 0.25
#: A result carries its run's final weights only below this many parameters (20 MB of float32):
#: enough for every plane network and the image presets, small enough to pass between processes.
MAX_WEIGHT_PARAMS = 5_000_000


@dataclass(frozen=True)
class RunTask:
    """What to train: ``recipe`` builds the data where the run trains, ``spec`` is the network
    (:mod:`core.spec`), ``config`` how to train it (seed and epochs included). ``index``,
    ``name`` and ``settings`` (the swept values, e.g. ``{"lr": 0.01}``) label the result.
    ``initial_state`` (:meth:`core.model.Sequential.get_state` of the spec's model), when
    given, replaces the initial weights the spec's initializers draw: a run that starts from
    chosen weights (weights of a fixed spread, as the Lab's batch-norm page compares)."""

    recipe: Recipe | None
    spec: dict[str, Any]
    config: TrainConfig
    index: int = 0
    name: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    initial_state: dict[str, np.ndarray] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RunProgress:
    """Where a running run is: ``epoch`` of ``epochs`` (0: no limit), its last metrics (None
    before the first epoch ends), its training seconds and steps so far, and ``rows``: the
    history rows ``(new epochs, len(History.COLUMNS))`` completed since the run's previous
    report (so a live curve gets every epoch while a report stays small; None when not
    known)."""

    index: int
    epoch: int
    epochs: int
    train_loss: float | None
    test_loss: float | None
    test_acc: float | None
    seconds: float
    step: int = 0
    train_acc: float | None = None
    rows: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RunResult:
    """What a run gave. ``history`` maps each :class:`core.training.history.History` column
    to ``(epochs,)`` float64 (nan where not applicable); ``seconds`` is the training time;
    ``params`` the number of trainable parameters; ``reason`` why it stopped (``"epochs"``,
    ``"diverged: ..."``, ``"failed: ..."`` when it could not run); ``warning`` the hint of a
    run that does not learn. ``config`` is :meth:`TrainConfig.to_dict`. ``weights`` are the
    final model's (:meth:`core.model.Sequential.get_state`), None for a run that could not run
    or has :data:`MAX_WEIGHT_PARAMS` parameters or more."""

    index: int
    name: str
    settings: dict[str, Any]
    reason: str
    epochs: int
    steps: int
    seconds: float
    params: int
    train_loss: float | None
    train_acc: float | None
    test_loss: float | None
    test_acc: float | None
    warning: str | None
    history: dict[str, np.ndarray]
    spec: dict[str, Any]
    config: dict[str, Any]
    weights: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @property
    def diverged(self) -> bool:
        return self.reason.startswith("diverged")

    @property
    def usable(self) -> bool:
        """True when the run trained to a stop other than divergence or failure."""
        return not self.reason.startswith(("diverged", "failed"))


def train(
    trainer: Trainer,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    interval: float = PROGRESS_INTERVAL,
) -> Snapshot:
    """Train until a stopping rule ends the run; returns the final light snapshot
    (:func:`core.training.loop.train_iter` with ``detail=False``), calling ``on_snapshot``
    with every snapshot on the way."""
    last = None
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported as a reason
        for snap in train_iter(trainer, interval=interval, detail=False):
            if on_snapshot is not None:
                on_snapshot(snap)
            last = snap
    return last


def execute(
    task: RunTask,
    data: TrainingData | None = None,
    on_snapshot: Callable[[Snapshot], None] | None = None,
) -> tuple[Trainer, Snapshot]:
    """Build the task's data (unless given, already built from its recipe) and trainer, and
    train it; returns the trainer and the final snapshot."""
    data = task.recipe.build() if data is None else data
    augment = augment_images if data.augment else None
    trainer = build_trainer(
        task.spec,
        task.config,
        data.x_train,
        data.y_train,
        data.x_test,
        data.y_test,
        augment=augment,
    )
    if task.initial_state is not None:
        trainer.model.set_state(task.initial_state)
    return trainer, train(trainer, on_snapshot)


def run_task(
    task: RunTask,
    on_progress: Callable[[RunProgress], None] | None = None,
    data: TrainingData | None = None,
) -> RunResult:
    """Train ``task`` (see :func:`execute`) and describe the run; ``on_progress`` receives a
    :class:`RunProgress` about four times a second."""
    report = None
    if on_progress is not None:
        sent = 0  # history rows reported so far

        def report(snap: Snapshot) -> None:
            nonlocal sent
            progress = progress_of(task, snap, sent)
            sent += len(progress.rows)
            on_progress(progress)

    trainer, last = execute(task, data, report)
    params = int(trainer.model.n_params)
    return RunResult(
        index=task.index,
        name=task.name,
        settings=dict(task.settings),
        reason=last.reason,
        epochs=last.epoch,
        steps=last.step,
        seconds=last.elapsed,
        params=params,
        train_loss=last.train_loss,
        train_acc=last.train_acc,
        test_loss=last.test_loss,
        test_acc=last.test_acc,
        warning=last.hint,
        history=trainer.history.columns(),
        spec=task.spec,
        config=task.config.to_dict(),
        weights=trainer.model.get_state() if params < MAX_WEIGHT_PARAMS else None,
    )


def progress_of(task: RunTask, snap: Snapshot, sent: int = 0) -> RunProgress:
    """The progress report of ``task`` at ``snap``, with the history rows from row ``sent``."""
    return RunProgress(
        task.index,
        snap.epoch,
        int(task.config.epochs),
        snap.train_loss,
        snap.test_loss,
        snap.test_acc,
        snap.elapsed,
        snap.step,
        snap.train_acc,
        history_rows(snap.history)[sent:],
    )


def failed_result(task: RunTask, message: str) -> RunResult:
    """The result of a task that could not run (its data missing, the worker gone, ...)."""
    return RunResult(
        index=task.index,
        name=task.name,
        settings=dict(task.settings),
        reason=f"failed: {message}",
        epochs=0,
        steps=0,
        seconds=0.0,
        params=0,
        train_loss=None,
        train_acc=None,
        test_loss=None,
        test_acc=None,
        warning=None,
        history={},
        spec=task.spec,
        config=task.config.to_dict(),
    )

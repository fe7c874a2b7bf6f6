"""Snapshots: immutable pictures of a run for live views, and the Grid of inputs they map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import metrics
from core.training.trainer import Trainer

#: Samples whose hidden activations decide which units are dead (a snapshot statistic).
DEAD_UNIT_SAMPLES = 512


@dataclass(frozen=True)
class Grid:
    """Model inputs for a square grid over the input plane: ``inputs`` is
    ``(resolution², features)`` in row-major image order
    (see :func:`core.data.features.grid_points`)."""

    inputs: np.ndarray
    resolution: int
    #: Neuron maps keep every ``neuron_stride``-th grid point along each axis (smaller
    #: snapshots when many neurons are shown as thumbnails).
    neuron_stride: int = 1


@dataclass(frozen=True)
class Snapshot:
    """An immutable picture of a run; arrays are read-only: copies, and for ``history`` views
    of the run's :class:`core.training.history.History` that later epochs never change (so a
    snapshot costs the same however long the run has been going).

    ``grid_output`` is ``(res, res, classes)`` probabilities (classification) or ``(res, res)``
    predicted values (regression); ``neuron_grids`` maps a hidden activation layer's index to its
    units' outputs ``(units, res // stride, res // stride)``. ``weight_norms``/``grad_norms``
    (last step's gradient) and ``dead_fraction`` are by layer index. ``reason`` says why a run
    ended (``done``); ``hint`` is advice for a run that goes on but does not learn
    (:func:`core.health.not_learning`, None otherwise). ``trace_steps``/``trace_loss`` are the
    per-step losses as kept by :class:`core.trace.LossTrace`; ``test_pred``/``test_conf`` the
    last evaluation's predicted class and its probability for the first test samples
    (classification, after an epoch).
    """

    step: int
    epoch: int
    progress: float
    elapsed: float
    samples_per_second: float
    lr: float
    l1: float
    l2: float
    batch_loss: float | None
    train_loss: float | None
    train_acc: float | None
    test_loss: float | None
    test_acc: float | None
    history: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    weight_norms: dict[int, float]
    grad_norms: dict[int, float]
    dead_fraction: dict[int, float]
    grid_output: np.ndarray | None = None
    neuron_grids: dict[int, np.ndarray] | None = None
    steps_per_epoch: int = 1
    trace_steps: np.ndarray | None = None
    trace_loss: np.ndarray | None = None
    test_pred: np.ndarray | None = None
    test_conf: np.ndarray | None = None
    done: bool = False
    reason: str | None = None
    hint: str | None = None


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def _frozen_or_none(a: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else _frozen(a)


def take_snapshot(
    trainer: Trainer,
    grid: Grid | None = None,
    *,
    done: bool = False,
    reason: str | None = None,
    detail: bool = True,
    dead_samples: int = DEAD_UNIT_SAMPLES,
) -> Snapshot:
    """Build a Snapshot of the trainer's current state (forward passes for statistics and the
    grid happen here, on the caller's thread). ``detail=False`` leaves out the weight copies,
    norms, dead-unit fractions, loss trace and predictions (progress reports that need only
    the metrics). ``dead_samples`` training samples decide which units are dead (fewer make
    snapshots of large convolutional networks cheaper; 0 skips the statistic)."""
    model = trainer.model
    detail_dead = detail and dead_samples > 0
    outputs = model.forward_collect(trainer.x_train[:dead_samples]) if detail_dead else None
    grid_output = neuron_grids = None
    if grid is not None:
        res = grid.resolution
        with np.errstate(all="ignore"):
            layer_outs = model.forward_collect(grid.inputs.astype(model.dtype, copy=False))
            probs = model.loss.output(layer_outs[-1].reshape(len(grid.inputs), -1))
        grid_output = _frozen(
            probs.reshape(res, res, -1) if trainer.classification else probs[:, 0].reshape(res, res)
        )
        k = grid.neuron_stride
        neuron_grids = {
            i: _frozen(layer_outs[i].reshape(res, res, -1)[::k, ::k].transpose(2, 0, 1))
            for i in metrics.hidden_unit_layers(model)
        }
    history = trainer.history
    trace = trainer.loss_trace.arrays() if detail else (None, None)
    return Snapshot(
        step=trainer.steps,
        epoch=trainer.epoch,
        progress=trainer.progress,
        elapsed=trainer.train_time,
        samples_per_second=(
            trainer.steps * trainer.batch_size / trainer.train_time if trainer.train_time else 0.0
        ),
        lr=trainer.lr,
        l1=trainer.l1,
        l2=trainer.l2,
        batch_loss=trainer.batch_loss,
        train_loss=history.last("train_loss"),
        train_acc=history.last("train_acc"),
        test_loss=history.last("test_loss"),
        test_acc=history.last("test_acc"),
        history=history.view(),
        weights={k: _frozen(v) for k, v in model.get_state().items()} if detail else {},
        weight_norms=metrics.layer_norms(model, "params") if detail else {},
        grad_norms=metrics.layer_norms(model, "grads") if detail else {},
        dead_fraction=metrics.dead_fractions(model, outputs) if detail_dead else {},
        grid_output=grid_output,
        neuron_grids=neuron_grids,
        steps_per_epoch=trainer.steps_per_epoch,
        trace_steps=_frozen_or_none(trace[0]),
        trace_loss=_frozen_or_none(trace[1]),
        test_pred=_frozen_or_none(trainer.test_pred) if detail else None,
        test_conf=_frozen_or_none(trainer.test_conf) if detail else None,
        done=done,
        reason=reason,
        hint=trainer.hint,
    )

"""The training loop: ``train_iter`` trains and yields Snapshots until a stopping rule ends
the run."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

from core.training.control import TrainControl
from core.training.snapshot import DEAD_UNIT_SAMPLES, Grid, Snapshot, take_snapshot
from core.training.trainer import Trainer


def train_iter(
    trainer: Trainer,
    *,
    grid: Grid | None = None,
    interval: float = 0.04,
    max_epochs: int | None = None,
    control: TrainControl | None = None,
    detail: bool = True,
    dead_samples: int = DEAD_UNIT_SAMPLES,
) -> Iterator[Snapshot]:
    """Train and yield Snapshots: one at the start, then at most one every ``interval`` seconds
    (25 per second by default, so training speed does not depend on the display), and always a
    final one with ``done=True`` and a ``reason``:

    ``"epochs"`` (``max_epochs``, default the config's ``epochs``; 0 = no limit), ``"target_loss"``,
    ``"early_stopping"``, ``"diverged: ..."`` (a NaN/inf loss, or :func:`core.health.divergence`
    at an epoch's end) or ``"stopped"`` (``control.stop()``). A run that does not learn goes on;
    its snapshots carry the hint (:func:`core.health.not_learning`).
    ``detail=False`` makes light snapshots and ``dead_samples`` sets the dead-unit statistic's
    sample count (see :func:`take_snapshot`).
    """

    def snapshot(done: bool = False, reason: str | None = None) -> Snapshot:
        return take_snapshot(
            trainer, grid, done=done, reason=reason, detail=detail, dead_samples=dead_samples
        )

    limit = max_epochs
    monitor = "test_loss" if trainer.x_test is not None else "train_loss"
    best, waited = _patience_state(trainer, monitor, trainer.config.min_delta)
    yield snapshot()
    last = time.perf_counter()
    while True:
        if control is not None and control.pending:
            snap_now, stop = control.apply(trainer)
            if stop:
                yield snapshot(True, "stopped")
                return
            if snap_now:
                yield snapshot()
                last = time.perf_counter()
        config = trainer.config  # read each step: Trainer.set_config may change it
        max_epochs = config.epochs if limit is None else limit
        if max_epochs and trainer.epoch >= max_epochs:
            yield snapshot(True, "epochs")
            return
        epoch_before = trainer.epoch
        loss = trainer.step()
        reason = None
        if not math.isfinite(loss):
            reason = (
                f"diverged: the loss became {loss} at step {trainer.steps}; "
                "try a lower learning rate"
            )
        elif trainer.epoch != epoch_before:
            train_loss = trainer.history.last("train_loss")
            current = trainer.history.last(monitor)
            if current is not None and not math.isfinite(current):
                reason = (
                    f"diverged: the {monitor.replace('_', ' ')} became {current}; "
                    "try a lower learning rate"
                )
            elif trainer.divergence is not None:
                reason = f"diverged: {trainer.divergence}"
            elif config.target_loss is not None and train_loss <= config.target_loss:
                reason = "target_loss"
            elif config.patience is not None and current is not None:
                if current < best - config.min_delta:
                    best, waited = current, 0
                else:
                    waited += 1
                    if waited >= config.patience:
                        reason = "early_stopping"
        if reason is not None:
            yield snapshot(True, reason)
            return
        now = time.perf_counter()
        epoch_end = control is not None and control.epoch_end_snapshots
        if now - last >= interval or (epoch_end and trainer.epoch != epoch_before):
            last = now  # a steady cadence: the snapshot's own cost is inside the interval
            yield snapshot()


def _patience_state(trainer: Trainer, monitor: str, min_delta: float) -> tuple[float, int]:
    """Early stopping's (best loss, epochs without improvement) replayed over the history, so a
    run continued from a saved state stops where the uninterrupted run would have."""
    best, waited = math.inf, 0
    for current in trainer.history.column(monitor):
        if math.isnan(current):
            continue
        if current < best - min_delta:
            best, waited = float(current), 0
        else:
            waited += 1
    return best, waited

"""Training data as mini-batches: arrays checked against the model, the smallest batch batch
norm allows, and the step counts that epochs of batches give."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from core.layers import BatchNorm, Layer
from core.model import Sequential


def check_sets(
    model: Sequential,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray | None,
    y_test: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(x_train, y_train, x_test, y_test)`` checked by :func:`check_data` (an empty or
    missing test set becomes None, None)."""
    x_train, y_train = check_data(model, "train", x_train, y_train)
    if x_test is None or len(x_test) == 0:
        return x_train, y_train, None, None
    return (x_train, y_train, *check_data(model, "test", x_test, y_test))


def check_data(
    model: Sequential, which: str, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(n, *model.input_shape)`` in the model's dtype and targets ``(n,)`` int64 class
    labels (classification) or ``(n,)``/``(n, outputs)`` in the model's dtype, contiguous;
    ValueError naming ``x_<which>``/``y_<which>`` for arrays the model can't train on."""
    x, y = np.asarray(x), np.asarray(y)
    if x.shape[1:] != model.input_shape:
        raise ValueError(
            f"x_{which}: shape {x.shape} does not fit the model's input {model.input_shape}"
        )
    if len(y) != len(x):
        raise ValueError(f"y_{which}: {len(y)} targets for {len(x)} samples")
    if which == "train" and len(x) < 1:
        raise ValueError("x_train: the training set is empty")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x_{which}: contains NaN or infinite values")
    if model.loss.task == "classification":
        n_classes = 2 if model.loss.name == "sigmoid_bce" else model.n_outputs
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y_{which}: class labels must be integers, got {y.dtype}")
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(
                f"y_{which}: labels span {y.min()}..{y.max()}, but the network's output "
                f"has {n_classes} classes (0..{n_classes - 1})"
            )
        y = y.astype(np.int64, copy=False)
    else:
        y = y.astype(model.dtype, copy=False)
    return np.ascontiguousarray(x, dtype=model.dtype), y


def min_batch(layers: Iterable[Layer]) -> int:
    """The fewest samples a training batch through ``layers`` (shapes set) may hold: 2 when a
    batch norm layer normalizes features of one value per sample (dense layers, or 1×1
    images), else 1."""
    for layer in layers:
        if isinstance(layer, BatchNorm) and math.prod(layer.input_shape[1:]) == 1:
            return 2
    return 1


def epoch_sizes(n: int, batch_size: int, smallest_batch: int) -> tuple[int, int, int]:
    """(training samples, batch size, steps per epoch) for ``n`` training samples and batches
    of ``batch_size``; ValueError if batch norm can't train on batches that small (fewer than
    ``smallest_batch``, see :func:`min_batch`)."""
    batch = min(int(batch_size), n)
    if batch < smallest_batch:
        raise ValueError(
            f"batch_size: batch norm normalizes over at least {smallest_batch} samples; "
            f"batches of {batch} (training samples: {n}) can't train it"
        )
    return n, batch, steps_per_epoch(n, batch, smallest_batch)


def steps_per_epoch(n_train: int, batch: int, smallest_batch: int) -> int:
    """``ceil(n_train / batch)``, one fewer when a last batch smaller than ``smallest_batch``
    joins the one before."""
    return -(-n_train // batch) - (0 < n_train % batch < smallest_batch)


def check_step_count(
    steps: int,
    epoch: int,
    position: int,
    n_train: int,
    batch: int,
    optimizer_steps: int,
    where: str,
    smallest_batch: int = 1,
    data_start: tuple[int, int] = (0, 0),
    optimizer_start: int = 0,
) -> None:
    """Refuse counters that no run gives: each epoch since the training set took effect (at
    ``data_start``, (epoch, steps)) takes ``ceil(n_train / batch)`` steps (one fewer when a last
    batch smaller than ``smallest_batch``, see :func:`min_batch`, joins the one before), a run
    stopped mid-epoch (``position < n_train``) has taken ``ceil(position / batch)`` of the
    current one and has at least ``smallest_batch`` samples left, and the optimizer has taken
    as many steps as the trainer since it took over (at step ``optimizer_start``). ValueError
    naming ``where``'s field otherwise."""
    start_epoch, start_steps = data_start
    if start_epoch > epoch or start_steps > steps or optimizer_start > steps:
        raise ValueError(
            f"{where}['data_start']: the data (epoch {start_epoch:,}, step {start_steps:,}) or "
            f"the optimizer (step {optimizer_start:,}) took over after the run's epoch "
            f"{epoch:,}, step {steps:,}"
        )
    if optimizer_steps != steps - optimizer_start:
        since = f" since step {optimizer_start:,}" if optimizer_start else ""
        raise ValueError(
            f"{where}['steps']: {steps - optimizer_start:,} training steps{since}, but the "
            f"optimizer's state counts {optimizer_steps:,}"
        )
    per_epoch = steps_per_epoch(n_train, batch, smallest_batch)
    if 0 < n_train - position < smallest_batch:
        raise ValueError(
            f"{where}['position']: {position:,} of {n_train:,} samples leaves a last batch "
            f"smaller than {smallest_batch}, which no run takes"
        )
    epochs = epoch - start_epoch
    partial = -(-position // batch) if position < n_train else 0
    expected = start_steps + epochs * per_epoch + partial
    if steps != expected:
        before = f" after {start_steps:,} on other data" if start_steps else ""
        raise ValueError(
            f"{where}['steps']: {steps:,} training steps do not fit {epochs:,} epochs of "
            f"{per_epoch:,} steps{before} and {position:,} of {n_train:,} samples of the next; "
            f"expected {expected:,}"
        )

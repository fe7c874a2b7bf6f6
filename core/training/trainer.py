"""The Trainer: mini-batch steps on in-memory arrays, with its counters and saved state.

One ``np.random.Generator`` per run (the model's, seeded from ``TrainConfig.seed``) drives
initialization, shuffling and dropout, so the same seed gives the same run bit for bit.

Over 400 lines: one class whose methods share the run's counters, epoch order and data (the
saved state's checks live in :mod:`core.training.state`); split it and that state leaks across
files.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from core import health, metrics
from core.cancel import update_hash
from core.model import Sequential
from core.optimizer import MAX_LR
from core.optimizers import clip_grad_norm, make_optimizer
from core.schedules import make_schedule
from core.trace import LossTrace
from core.training.batches import check_sets, epoch_sizes, min_batch
from core.training.config import MAX_REGULARIZATION, TrainConfig
from core.training.history import History
from core.training.state import check_state
from core.validation import check_number

#: Evaluation and statistics use at most this many samples of each set (a fixed subset: the
#: first ones, which are already shuffled), so a snapshot stays cheap on large data sets.
EVAL_LIMIT = 10_000
#: Test samples whose predictions a snapshot carries (confusion matrix, example images).
PREDICTION_LIMIT = 10_000


class Trainer:
    """Mini-batch training of a model on in-memory arrays.

    Parameters
    ----------
    model : Sequential
        Trained in place; its ``rng`` is the run's generator (shuffling, dropout).
    config : TrainConfig
    x_train : (n, *input_shape) array; y_train : (n,) labels or (n,)/(n, outputs) targets.
    x_test, y_test : optional held-out set, same layout (may be empty).
    augment : optional ``f(x, rng) -> x`` applied to each epoch's shuffled training inputs
        (e.g. random shifts of images); it must keep the shape.
    """

    def __init__(
        self,
        model: Sequential,
        config: TrainConfig,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
        augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    ) -> None:
        self.model, self.config = model, config.validate()
        self.augment = augment
        self.rng = model.rng
        self.classification = model.loss.task == "classification"
        self.x_train, self.y_train, self.x_test, self.y_test = check_sets(
            model, x_train, y_train, x_test, y_test
        )
        self.optimizer = make_optimizer(config.optimizer, config.lr, **config.optimizer_params)
        self.schedule = make_schedule(config.schedule)
        self.base_lr = float(config.lr)
        self.l1, self.l2 = float(config.l1), float(config.l2)
        self.history = History()
        self.steps = 0
        self.epoch = 0  # completed epochs
        self.batch_loss: float | None = None  # exponential moving average of mini-batch losses
        self.loss_trace = LossTrace()
        #: The last evaluation's predicted class and its probability for the first test samples
        #: (classification; None before the first epoch ends).
        self.test_pred: np.ndarray | None = None
        self.test_conf: np.ndarray | None = None
        self.train_time = 0.0
        #: The loss of the best constant prediction on the evaluated training samples, and the
        #: verdicts of :mod:`core.health` at the last epoch's end (None: healthy).
        self.chance_loss = health.chance_loss(self.classification, self.y_train[:EVAL_LIMIT])
        self.divergence: str | None = None
        self.hint: str | None = None
        self._largest_output = 0.0  # of the last evaluation on the training set
        #: Regression targets may be large: weights and outputs count relative to them.
        self._magnitude_scale = health.target_scale(self.classification, self.y_train[:EVAL_LIMIT])
        #: Batch norm over dense features needs 2 samples a batch: a last batch of 1 sample then
        #: joins the one before (the usual remedy; every epoch sees every sample).
        self._min_batch = min_batch(model.layers)
        self._n, self._batch, self._steps_per_epoch = self._epoch_sizes(len(self.x_train))
        #: (completed epochs, steps) when the current training set took effect: epochs before
        #: it may have taken another number of steps. (0, 0) unless the data changed mid-run.
        self._data_start = (0, 0)
        #: Steps taken when the current optimizer took over (its state counts the steps since).
        self._optimizer_start = 0
        #: Data waiting for the current epoch to end (:meth:`set_data`).
        self._queued: tuple[np.ndarray, ...] | None = None
        self._pos = self._n  # forces a shuffle at the first step
        self._xp = self._yp = None
        #: The current epoch's order of the training samples, and the generator state the
        #: augmentation started from (what state_dict needs to rebuild ``_xp``/``_yp``).
        self._perm: np.ndarray | None = None
        self._augment_state: dict[str, Any] | None = None
        self._fingerprint: str | None = None

    def _epoch_sizes(self, n: int) -> tuple[int, int, int]:
        """(training samples, batch size, steps per epoch) for ``n`` training samples."""
        return epoch_sizes(n, self.config.batch_size, self._min_batch)

    # -- properties ------------------------------------------------------------------------------
    @property
    def steps_per_epoch(self) -> int:
        return self._steps_per_epoch

    @property
    def progress(self) -> float:
        """Training progress in epochs, fractional within the current epoch (counted from where
        the current training set took effect: earlier epochs may have had other sizes)."""
        epoch, steps = self._data_start
        return epoch + (self.steps - steps) / self._steps_per_epoch

    @property
    def lr(self) -> float:
        """The learning rate the next step will use (base rate times the schedule's factor)."""
        if self.schedule.flat:
            return self.base_lr
        return self.base_lr * self.schedule.factor(self.progress)

    @property
    def batch_size(self) -> int:
        """Samples a step takes (the configured size, at most the training set's)."""
        return self._batch

    # -- training --------------------------------------------------------------------------------
    def _shuffle(self) -> None:
        self._perm = perm = self.rng.permutation(self._n)
        if self.augment is not None:
            self._augment_state = self.rng.bit_generator.state
        self._xp, self._yp = self._arranged(perm, self.rng)
        self._pos = 0

    def _arranged(
        self, perm: np.ndarray, generator: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """The training samples in the order ``perm``, augmented with ``generator``."""
        xp = np.take(self.x_train, perm, axis=0)  # 4x faster than x_train[perm] on rows
        yp = self.model.loss.targets(self.y_train[perm], self.model.dtype)
        if self.augment is not None:
            xp = np.ascontiguousarray(self.augment(xp, generator), self.model.dtype)
        return xp, yp

    def step(self) -> float:
        """One mini-batch update; returns the batch loss (before the update, without the
        regularization term). At the end of an epoch, records the epoch's metrics."""
        if self._pos >= self._n:
            self._shuffle()
        t0 = time.perf_counter()
        i = self._pos
        j = i + self._batch
        if self._n - j < self._min_batch:
            j = self._n  # a last batch too small for batch norm joins this one
        self._pos = j
        model = self.model
        loss = model.loss_and_grad(self._xp[i:j], self._yp[i:j])
        theta, grad = model.theta, model.grad
        k = model.n_regularized
        if self.l2:
            grad[:k] += self.l2 * theta[:k]
        if self.config.clip_norm is not None:
            clip_grad_norm(grad, self.config.clip_norm)
        lr = self.optimizer.lr = self.lr
        self.optimizer.step(theta, grad)
        if self.l1:
            soft_threshold(theta[:k], lr * self.l1)
        self.steps += 1
        self.loss_trace.add(self.steps, loss)
        ema = self.batch_loss
        self.batch_loss = (
            loss if ema is None or not math.isfinite(ema) else 0.95 * ema + 0.05 * loss
        )
        self.train_time += time.perf_counter() - t0
        if self._pos >= self._n:
            self._end_epoch()
        return loss

    def run_epoch(self) -> float:
        """Train until the current epoch ends; returns the last batch loss."""
        loss = self.step()
        while self._pos < self._n:
            loss = self.step()
        return loss

    @property
    def at_epoch_start(self) -> bool:
        return self._pos >= self._n

    def _end_epoch(self) -> None:
        self.epoch += 1
        train, test = self.evaluate("train"), self.evaluate("test")
        self.history.append(self.epoch, self.steps, self.train_time, self.lr, *train, *test)
        self._judge()
        if self._queued is not None:
            self._take_queued()

    def _judge(self) -> None:
        """Apply :mod:`core.health`'s rules to the history and the current weights."""
        # np.maximum keeps a nan from either side.
        largest = (
            float(np.maximum(np.max(np.abs(self.model.theta), initial=0.0), self._largest_output))
            / self._magnitude_scale
        )
        losses = self.history.column("train_loss")
        self.divergence = health.divergence(losses, self.chance_loss, largest)
        self.hint = health.not_learning(losses, self.chance_loss)

    def evaluate(self, which: str = "test") -> tuple[float | None, float | None]:
        """Inference-mode (loss, accuracy) on the train or test set (at most EVAL_LIMIT samples);
        accuracy is None for regression, both None for an empty set."""
        x, y = (self.x_train, self.y_train) if which == "train" else (self.x_test, self.y_test)
        if x is None:
            return None, None
        x, y = x[:EVAL_LIMIT], y[:EVAL_LIMIT]
        out = self.model.predict_raw(x)
        with np.errstate(all="ignore"):
            loss = self.model.loss.forward(out, y)
            if which == "train":
                self._largest_output = float(np.max(np.abs(out), initial=0.0))
        if not self.classification:
            return loss, None
        probs = self.model.loss.output(out)
        pred = probs.argmax(axis=1)
        if which == "test":
            n = min(len(pred), PREDICTION_LIMIT)
            self.test_pred = pred[:n].astype(np.int16)
            self.test_conf = probs[np.arange(n), pred[:n]].astype(np.float16)
        return loss, metrics.accuracy(y, pred)

    def set_lr(self, lr: float) -> None:
        """Change the base learning rate; the next step uses it."""
        self.base_lr = float(check_number("lr", lr, low=0.0, high=MAX_LR, low_open=True))

    def set_regularization(self, l1: float | None = None, l2: float | None = None) -> None:
        """Change the L1/L2 rates; the next step uses them."""
        if l1 is not None:
            self.l1 = float(check_number("l1", l1, low=0.0, high=MAX_REGULARIZATION))
        if l2 is not None:
            self.l2 = float(check_number("l2", l2, low=0.0, high=MAX_REGULARIZATION))

    # -- changes during a run --------------------------------------------------------------------
    def set_data(
        self,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
    ) -> bool:
        """Go on training, from the current weights, on other data (e.g. with points added or
        removed): same layouts as the constructor's. Checked now (ValueError, nothing changes);
        it takes effect at once at an epoch boundary, else when the current epoch ends (its
        metrics are still those of the old data), and the next epoch's order is drawn for the
        new training set. A later call replaces data still waiting. Returns whether it took
        effect now (see :attr:`data_queued`)."""
        queued = check_sets(self.model, x_train, y_train, x_test, y_test)
        self._epoch_sizes(len(queued[0]))  # refuses batches too small for batch norm
        self._queued = queued
        if self.at_epoch_start:
            self._take_queued()
        return self._queued is None

    @property
    def data_queued(self) -> bool:
        """Whether data given to :meth:`set_data` waits for the current epoch to end."""
        return self._queued is not None

    def _take_queued(self) -> None:
        """Switch to the queued data (at an epoch boundary)."""
        self.x_train, self.y_train, self.x_test, self.y_test = self._queued
        self._queued = None
        self._n, self._batch, self._steps_per_epoch = self._epoch_sizes(len(self.x_train))
        self._data_start = (self.epoch, self.steps)
        self._pos = self._n
        self._perm = self._xp = self._yp = self._augment_state = self._fingerprint = None
        self.chance_loss = health.chance_loss(self.classification, self.y_train[:EVAL_LIMIT])
        self._magnitude_scale = health.target_scale(self.classification, self.y_train[:EVAL_LIMIT])

    def set_config(self, config: TrainConfig) -> None:
        """Go on training with ``config`` from the next step, keeping the weights, history and
        counters. Another optimizer (or other hyper-parameters of it) starts with a fresh
        state; the schedule, clipping and stopping rules apply as they are. The learning and
        regularization rates stay as they are (:meth:`set_lr` and :meth:`set_regularization`
        change them, so a rate changed meanwhile is not undone). The batch size and the seed
        shape the whole run: ValueError if they differ (nothing changes)."""
        config.validate()
        for name in ("batch_size", "seed"):
            if getattr(config, name) != getattr(self.config, name):
                raise ValueError(
                    f"{name}: {getattr(config, name)!r}; a run keeps its "
                    f"{getattr(self.config, name)!r} (changing it needs a new run)"
                )
        old = self.config
        if (config.optimizer, config.optimizer_params) != (old.optimizer, old.optimizer_params):
            self.optimizer = make_optimizer(
                config.optimizer, self.base_lr, **config.optimizer_params
            )
            self._optimizer_start = self.steps
        self.schedule = make_schedule(config.schedule)
        self.config = config

    # -- state -----------------------------------------------------------------------------------
    #: The keys of :meth:`state_dict`.
    STATE_KEYS = (
        "model",
        "optimizer",
        "rng",
        "augment_rng",
        "steps",
        "epoch",
        "position",
        "permutation",
        "batch_loss",
        "base_lr",
        "l1",
        "l2",
        "train_time",
        "history",
        "n_train",
        "batch_size",
        "data_sha256",
        "data_start",
        "optimizer_start",
        "trace",
    )
    #: Keys a state saved before they existed may lack, and their values then.
    STATE_DEFAULTS: dict[str, Any] = {"data_start": (0, 0), "optimizer_start": 0, "trace": None}

    def data_fingerprint(self) -> str:
        """SHA-256 (hex) over the training and test arrays: dtypes, shapes and bytes."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            for a in (self.x_train, self.y_train, self.x_test, self.y_test):
                if a is None:
                    h.update(b"none;")
                    continue
                h.update(f"{a.dtype.str}{a.shape};".encode())
                update_hash(h, np.ascontiguousarray(a))  # cancellable (core.cancel)
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue this run bit for bit (copies; the data not included).

        Keys (:data:`STATE_KEYS`): ``model`` (:meth:`Sequential.get_state`: parameters and
        buffers by ``"<i>.<name>"``), ``optimizer`` (its ``state_dict()`` plus ``"name"``;
        buffers ``(n_params,)`` in the order of ``model.theta``), ``rng`` (the generator's
        ``bit_generator.state``, a JSON-able dict), ``steps``, ``epoch`` (completed),
        ``position`` (samples of the current epoch already used; ``n_train`` at an epoch
        boundary), ``permutation`` (the current epoch's sample order ``(n_train,)`` int64, None
        at an epoch boundary), ``augment_rng`` (generator state the current epoch's augmentation
        started from, or None), ``batch_loss`` (moving average or None), ``base_lr``, ``l1``,
        ``l2``, ``train_time`` (seconds), ``history`` (``(epochs, len(History.COLUMNS))``
        float64), ``n_train``, ``batch_size``, ``data_sha256`` (:meth:`data_fingerprint`),
        ``data_start`` (``[epoch, steps]`` when the current training set took effect, see
        :meth:`set_data`), ``optimizer_start`` (steps taken when the current optimizer took
        over, see :meth:`set_config`) and ``trace`` (the per-step losses,
        :meth:`core.trace.LossTrace.state`; None: start a new one). Data waiting for the
        epoch to end is not part of it: a caller that saves mid-epoch keeps what it queued.
        """
        mid_epoch = self._pos < self._n
        optimizer = {"name": self.optimizer.name, **self.optimizer.state_dict()}
        return {
            "model": self.model.get_state(),
            "optimizer": optimizer,
            "rng": self.rng.bit_generator.state,
            "augment_rng": (
                self._augment_state if mid_epoch and self.augment is not None else None
            ),
            "steps": int(self.steps),
            "epoch": int(self.epoch),
            "position": int(min(self._pos, self._n)),
            "permutation": self._perm.astype(np.int64) if mid_epoch else None,
            "batch_loss": None if self.batch_loss is None else float(self.batch_loss),
            "base_lr": float(self.base_lr),
            "l1": float(self.l1),
            "l2": float(self.l2),
            "train_time": float(self.train_time),
            "history": self.history.rows(),
            "n_train": int(self._n),
            "batch_size": int(self._batch),
            "data_sha256": self.data_fingerprint(),
            "data_start": [int(self._data_start[0]), int(self._data_start[1])],
            "optimizer_start": int(self._optimizer_start),
            "trace": self.loss_trace.state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from a :meth:`state_dict` taken on a trainer with the same architecture,
        configuration and data: the next steps give exactly the losses the saved run would
        have given.

        Everything is validated first (keys, every array's shape, dtype and finite values, the
        optimizer's state, the generator state, counters and their ranges, the permutation, the
        data fingerprint; :func:`core.training.state.check_state`); on any problem a ValueError
        names it and nothing has changed.
        """
        values = check_state(
            state,
            self.STATE_KEYS,
            self.STATE_DEFAULTS,
            model=self.model,
            optimizer=self.optimizer,
            rng=self.rng,
            batches=(self._n, self._batch, self._min_batch),
            data_sha256=self.data_fingerprint(),
            augmented=self.augment is not None,
        )
        perm, augment_state = values["permutation"], values["augment_rng"]
        xp = yp = None
        if perm is not None:  # the current epoch's (augmented) samples, as they were drawn
            generator = np.random.Generator(type(self.rng.bit_generator)())
            if augment_state is not None:
                generator.bit_generator.state = augment_state
            xp, yp = self._arranged(perm, generator)
        # All valid: commit.
        self.model.set_state(values["model"])
        self.optimizer.load_state_dict(values["optimizer"])
        self.rng.bit_generator.state = values["rng"]
        self.steps, self.epoch = values["steps"], values["epoch"]
        self._data_start, self._optimizer_start = values["data_start"], values["optimizer_start"]
        self._queued = None
        self._pos = values["position"]
        self._perm, self._augment_state = perm, augment_state
        self._xp, self._yp = xp, yp
        self.batch_loss = values["batch_loss"]
        self.base_lr, self.l1, self.l2 = values["base_lr"], values["l1"], values["l2"]
        self.train_time = values["train_time"]
        self.loss_trace = values["trace"]
        self.history = History.from_rows(values["history"])
        self._largest_output = 0.0
        self._judge()


def soft_threshold(w: np.ndarray, threshold: float) -> None:
    """The proximal step of ``threshold·Σ|w|``, in place: ``w ← sign(w)·max(|w| − threshold, 0)``
    (weights within ``threshold`` of zero become exactly zero). ``w`` is any float array."""
    shrunk = np.abs(w)
    shrunk -= threshold
    np.maximum(shrunk, 0.0, out=shrunk)
    np.copysign(shrunk, w, out=w)


def build_trainer(
    spec: dict[str, Any],
    config: TrainConfig,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    dtype: Any = np.float32,
    augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
) -> Trainer:
    """A model from ``spec`` and its trainer, sharing one generator seeded from ``config.seed``."""
    config.validate()
    model = Sequential(spec, rng=np.random.default_rng(config.seed), dtype=dtype)
    return Trainer(model, config, x_train, y_train, x_test, y_test, augment=augment)

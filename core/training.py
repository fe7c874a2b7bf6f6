"""Training: a configuration, a Trainer that takes mini-batch steps, and ``train_iter``, a
generator that trains and yields immutable Snapshots for live views.

One ``np.random.Generator`` per run (the model's, seeded from ``TrainConfig.seed``) drives
initialization, shuffling and dropout, so the same seed gives the same run bit for bit.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from core import health, metrics
from core.layers import BatchNorm, Layer
from core.model import Sequential
from core.optimizer import MAX_LR
from core.optimizers import OPTIMIZERS, clip_grad_norm, make_optimizer
from core.schedules import make_schedule
from core.trace import LossTrace
from core.validation import check_choice, check_number

#: Evaluation and statistics use at most this many samples of each set (a fixed subset: the
#: first ones, which are already shuffled), so a snapshot stays cheap on large data sets.
EVAL_LIMIT = 10_000
#: Samples whose hidden activations decide which units are dead (a snapshot statistic).
DEAD_UNIT_SAMPLES = 512
#: Test samples whose predictions a snapshot carries (confusion matrix, example images).
PREDICTION_LIMIT = 10_000
#: Most epochs a configuration may ask for (the app's Epochs box goes this far).
MAX_EPOCHS = 10**7
#: Largest L1 or L2 regularization rate accepted (from the app, the command line and files).
MAX_REGULARIZATION = 10.0


@dataclass
class TrainConfig:
    """Everything about *how* to train (the *what* is the architecture spec).

    ``epochs`` (0 = no limit), ``target_loss`` (stop once the train loss is at or below it) and
    ``patience`` (early stopping: epochs without the monitored loss improving by ``min_delta``;
    the test loss when there is a test set, else the train loss) end a run. ``l1``/``l2`` add
    ``l1·Σ|w|`` and ``l2/2·Σw²`` over weights (not biases) to the objective. L2 joins the
    gradient (before clipping); L1 is a proximal step after each optimizer step, with ``lr`` the
    step's scheduled learning rate: ``w ← sign(w)·max(|w| − lr·l1, 0)``. So weights whose pull
    from the data is weaker than L1's become exactly zero, with every optimizer (adding
    ``l1·sign(w)`` to the gradient would let adaptive optimizers rescale it away); with SGD this
    is proximal gradient descent on ``loss + l1·Σ|w|``. The step keeps no state, so resuming and
    changing ``l1`` live stay exact. ``clip_norm`` clips the global gradient norm. ``schedule``
    is a :func:`core.schedules.make_schedule` spec.
    """

    optimizer: str = "adam"
    lr: float = 0.01
    optimizer_params: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, Any] | None = None
    batch_size: int = 32
    epochs: int = 100
    target_loss: float | None = None
    patience: int | None = None
    min_delta: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    clip_norm: float | None = None
    seed: int = 0

    def validate(self) -> TrainConfig:
        """Raise ValueError naming the first bad field; return self."""
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_number("lr", self.lr, low=0.0, high=MAX_LR, low_open=True)
        check_number("batch_size", self.batch_size, integer=True, low=1)
        check_number("epochs", self.epochs, integer=True, low=0, high=MAX_EPOCHS)
        if self.target_loss is not None:
            check_number("target_loss", self.target_loss, low=0.0)
        if self.patience is not None:
            check_number("patience", self.patience, integer=True, low=1)
        check_number("min_delta", self.min_delta, low=0.0)
        check_number("l1", self.l1, low=0.0, high=MAX_REGULARIZATION)
        check_number("l2", self.l2, low=0.0, high=MAX_REGULARIZATION)
        if self.clip_norm is not None:
            check_number("clip_norm", self.clip_norm, low=0.0, low_open=True)
        check_number("seed", self.seed, integer=True, low=0, high=2**63 - 1)
        make_optimizer(self.optimizer, self.lr, **self.optimizer_params)
        make_schedule(self.schedule)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"config: unknown fields {unknown}; allowed: {', '.join(sorted(known))}"
            )
        return cls(**data).validate()


class History:
    """Per-epoch records in growable NumPy columns (cheap to copy into a snapshot)."""

    COLUMNS = ("epoch", "step", "time", "lr", "train_loss", "train_acc", "test_loss", "test_acc")

    def __init__(self) -> None:
        self._data = np.full((64, len(self.COLUMNS)), np.nan)
        self.size = 0

    def append(self, **values: float) -> None:
        if self.size == len(self._data):
            self._data = np.concatenate([self._data, np.full_like(self._data, np.nan)])
        row = self._data[self.size]
        for i, name in enumerate(self.COLUMNS):
            value = values.get(name)
            row[i] = np.nan if value is None else value
        self.size += 1

    def columns(self) -> dict[str, np.ndarray]:
        """A copy of every column, ``(epochs,)`` float64 each (nan where not applicable)."""
        data = self._data[: self.size]
        return {name: data[:, i].copy() for i, name in enumerate(self.COLUMNS)}

    def column(self, name: str) -> np.ndarray:
        """One column ``(epochs,)`` as a read-only view (valid until the next append)."""
        view = self._data[: self.size, self.COLUMNS.index(name)]
        view.flags.writeable = False
        return view

    def last(self, name: str) -> float | None:
        if not self.size:
            return None
        value = float(self._data[self.size - 1, self.COLUMNS.index(name)])
        return None if math.isnan(value) else value


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
        self.x_train, self.y_train = self._check_data("train", x_train, y_train)
        if x_test is None or len(x_test) == 0:
            self.x_test = self.y_test = None
        else:
            self.x_test, self.y_test = self._check_data("test", x_test, y_test)
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

    def _check_data(
        self, which: str, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        x, y = np.asarray(x), np.asarray(y)
        if x.shape[1:] != self.model.input_shape:
            raise ValueError(
                f"x_{which}: shape {x.shape} does not fit the model's input "
                f"{self.model.input_shape}"
            )
        if len(y) != len(x):
            raise ValueError(f"y_{which}: {len(y)} targets for {len(x)} samples")
        if which == "train" and len(x) < 1:
            raise ValueError("x_train: the training set is empty")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"x_{which}: contains NaN or infinite values")
        if self.classification:
            n_out = self.model.n_outputs
            n_classes = 2 if self.model.loss.name == "sigmoid_bce" else n_out
            if not np.issubdtype(y.dtype, np.integer):
                raise ValueError(f"y_{which}: class labels must be integers, got {y.dtype}")
            if y.size and (y.min() < 0 or y.max() >= n_classes):
                raise ValueError(
                    f"y_{which}: labels span {y.min()}..{y.max()}, but the network's output "
                    f"has {n_classes} classes (0..{n_classes - 1})"
                )
            y = y.astype(np.int64, copy=False)
        else:
            y = y.astype(self.model.dtype, copy=False)
        return np.ascontiguousarray(x, dtype=self.model.dtype), y

    def _epoch_sizes(self, n: int) -> tuple[int, int, int]:
        """(training samples, batch size, steps per epoch) for ``n`` training samples;
        ValueError if batch norm can't train on batches that small."""
        batch = min(int(self.config.batch_size), n)
        if batch < self._min_batch:
            raise ValueError(
                f"batch_size: batch norm normalizes over at least {self._min_batch} samples; "
                f"batches of {batch} (training samples: {n}) can't train it"
            )
        steps = math.ceil(n / batch)
        if 0 < n % batch < self._min_batch:
            steps -= 1
        return n, batch, steps

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
        return self.base_lr * self.schedule.factor(self.progress)

    # -- training --------------------------------------------------------------------------------
    def _shuffle(self) -> None:
        self._perm = perm = self.rng.permutation(self._n)
        self._xp, self._yp = self.x_train[perm], self.y_train[perm]
        if self.augment is not None:
            self._augment_state = self.rng.bit_generator.state
            self._xp = np.ascontiguousarray(self.augment(self._xp, self.rng), self.model.dtype)
        self._pos = 0

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
        train_loss, train_acc = self.evaluate("train")
        test_loss, test_acc = self.evaluate("test")
        self.history.append(
            epoch=self.epoch,
            step=self.steps,
            time=self.train_time,
            lr=self.lr,
            train_loss=train_loss,
            train_acc=train_acc,
            test_loss=test_loss,
            test_acc=test_acc,
        )
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
        x_train, y_train = self._check_data("train", x_train, y_train)
        if x_test is None or len(x_test) == 0:
            x_test = y_test = None
        else:
            x_test, y_test = self._check_data("test", x_test, y_test)
        self._epoch_sizes(len(x_train))  # refuses batches too small for batch norm
        self._queued = (x_train, y_train, x_test, y_test)
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
                h.update(np.ascontiguousarray(a).data)
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
            "history": self.history._data[: self.history.size].copy(),
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
        data fingerprint); on any problem a ValueError names it and nothing has changed.
        """
        restored = self._check_state(state)
        model_state, optimizer_state, values, xp, yp = restored
        # All valid: commit.
        self.model.set_state(model_state)
        self.optimizer.load_state_dict(optimizer_state)
        self.rng.bit_generator.state = values["rng"]
        self.steps, self.epoch = values["steps"], values["epoch"]
        self._data_start, self._optimizer_start = values["data_start"], values["optimizer_start"]
        self._queued = None
        self._pos = values["position"]
        self._perm, self._augment_state = values["permutation"], values["augment_rng"]
        self._xp, self._yp = xp, yp
        self.batch_loss = values["batch_loss"]
        self.base_lr, self.l1, self.l2 = values["base_lr"], values["l1"], values["l2"]
        self.train_time = values["train_time"]
        self.loss_trace = values["trace"]
        history = History()
        rows = values["history"]
        history._data = np.full((max(64, len(rows)), len(History.COLUMNS)), np.nan)
        history._data[: len(rows)] = rows
        history.size = len(rows)
        self.history = history
        self._largest_output = 0.0
        self._judge()

    def _check_state(self, state: Mapping[str, Any]) -> tuple:
        if not isinstance(state, Mapping):
            raise ValueError(f"state: expected a mapping, got {type(state).__name__}")
        missing = sorted(set(self.STATE_KEYS) - set(state) - set(self.STATE_DEFAULTS))
        state = {**self.STATE_DEFAULTS, **state}
        unknown = sorted(set(state) - set(self.STATE_KEYS))
        if missing or unknown:
            raise ValueError(f"state: missing keys {missing}, unknown keys {unknown}")
        values: dict[str, Any] = {}
        model = self.model

        # The model's parameters and buffers.
        raw = state["model"]
        if not isinstance(raw, Mapping):
            raise ValueError("state['model']: expected a mapping of arrays")
        targets = dict(model.named_params())
        targets.update(model.buffers())
        missing = sorted(set(targets) - set(raw))
        unknown = sorted(set(raw) - set(targets))
        if missing or unknown:
            raise ValueError(f"state['model']: missing {missing}, unexpected {unknown}")
        model_state = {}
        for name, target in targets.items():
            value = _float_array(f"state['model'][{name!r}]", raw[name], target.shape)
            model_state[name] = value.astype(model.dtype)
            if not np.all(np.isfinite(model_state[name])):
                raise ValueError(f"state['model'][{name!r}]: contains NaN or infinite values")

        # The optimizer: validated by a scratch instance of the same kind.
        raw = state["optimizer"]
        if not isinstance(raw, Mapping):
            raise ValueError("state['optimizer']: expected a mapping")
        name = self.optimizer.name
        if raw.get("name") != name:
            raise ValueError(
                f"state['optimizer']: saved for optimizer {raw.get('name')!r}, this run uses "
                f"{name!r}"
            )
        optimizer_state = {k: v for k, v in raw.items() if k != "name"}
        try:
            OPTIMIZERS[name](1.0).load_state_dict(optimizer_state)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"state['optimizer']: {exc}") from None
        for key in type(self.optimizer).buffer_names:
            buf = optimizer_state.get(key)
            if buf is None:
                continue
            if buf.shape != model.theta.shape:
                raise ValueError(
                    f"state['optimizer'][{key!r}]: shape {buf.shape}, expected "
                    f"{model.theta.shape} (one value per parameter)"
                )
            with np.errstate(over="ignore"):
                if not np.all(np.isfinite(buf.astype(model.dtype))):
                    raise ValueError(
                        f"state['optimizer'][{key!r}]: values beyond {model.dtype}'s range"
                    )

        # Counters and settings.
        values["steps"] = _whole("steps", state["steps"], 0, 2**62)
        values["epoch"] = _whole("epoch", state["epoch"], 0, 2**62)
        n = _whole("n_train", state["n_train"], 0, 2**62)
        if n != self._n:
            raise ValueError(
                f"state['n_train']: saved with {n} training samples, this run has {self._n}"
            )
        batch = _whole("batch_size", state["batch_size"], 1, 2**62)
        if batch != self._batch:
            raise ValueError(
                f"state['batch_size']: saved with batches of {batch}, this run uses {self._batch}"
            )
        position = values["position"] = _whole("position", state["position"], 0, self._n)
        start = state["data_start"]
        if isinstance(start, np.ndarray):
            start = start.tolist() if start.ndim == 1 else None
        if not isinstance(start, (list, tuple)) or len(start) != 2:
            raise ValueError(f"state['data_start']: {start!r} is not a pair [epoch, steps]")
        values["data_start"] = tuple(
            _whole(f"data_start[{i}]", v, 0, 2**62) for i, v in enumerate(start)
        )
        values["optimizer_start"] = _whole("optimizer_start", state["optimizer_start"], 0, 2**62)
        trace = state["trace"]
        try:
            values["trace"] = LossTrace() if trace is None else LossTrace.from_state(trace)
        except ValueError as exc:
            raise ValueError(f"state[{exc}]") from None
        check_step_count(
            values["steps"],
            values["epoch"],
            position,
            n,
            batch,
            _whole("optimizer.step", raw.get("step"), 0, 2**62),
            "state",
            self._min_batch,
            values["data_start"],
            values["optimizer_start"],
        )
        batch_loss = state["batch_loss"]
        if batch_loss is not None:
            batch_loss = _real("batch_loss", batch_loss, finite=False)
        values["batch_loss"] = batch_loss
        values["base_lr"] = float(
            check_number(
                "state['base_lr']",
                _real("base_lr", state["base_lr"]),
                low=0.0,
                high=MAX_LR,
                low_open=True,
            )
        )
        for key in ("l1", "l2"):
            values[key] = float(
                check_number(
                    f"state[{key!r}]", _real(key, state[key]), low=0.0, high=MAX_REGULARIZATION
                )
            )
        values["train_time"] = float(
            check_number("state['train_time']", _real("train_time", state["train_time"]), low=0.0)
        )
        history = state["history"]
        if not _is_float_array(history):
            raise ValueError("state['history']: expected a float32 or float64 array")
        if history.shape != (values["epoch"], len(History.COLUMNS)):
            raise ValueError(
                f"state['history']: shape {history.shape}, expected "
                f"({values['epoch']}, {len(History.COLUMNS)}) (one row per completed epoch)"
            )
        values["history"] = history.astype(np.float64)
        fingerprint = state["data_sha256"]
        if fingerprint != self.data_fingerprint():
            raise ValueError(
                "state['data_sha256']: the training or test data differ from the data this "
                "state was saved with"
            )

        # The generators, the permutation and the current epoch's (augmented) samples.
        values["rng"] = self._check_rng_state("rng", state["rng"])
        perm, aug = state["permutation"], state["augment_rng"]
        xp = yp = None
        if position < self._n:
            if (
                not isinstance(perm, np.ndarray)
                or perm.dtype.kind not in "iu"
                or perm.shape != (self._n,)
            ):
                raise ValueError(
                    f"state['permutation']: expected an integer array of shape ({self._n},) "
                    "in the middle of an epoch"
                )
            perm = perm.astype(np.int64)
            if not np.array_equal(np.sort(perm), np.arange(self._n)):
                raise ValueError("state['permutation']: not a permutation of the samples")
            xp, yp = self.x_train[perm], self.y_train[perm]
            if self.augment is not None:
                aug = self._check_rng_state("augment_rng", aug)
                generator = np.random.Generator(type(self.rng.bit_generator)())
                generator.bit_generator.state = aug
                xp = np.ascontiguousarray(self.augment(xp, generator), model.dtype)
            elif aug is not None:
                raise ValueError(
                    "state['augment_rng']: the state was saved with data augmentation; this "
                    "run has none"
                )
        elif perm is not None or aug is not None:
            raise ValueError(
                "state['permutation']: given at an epoch boundary (position == n_train)"
            )
        else:
            perm = None
        values["permutation"], values["augment_rng"] = perm, aug
        return model_state, optimizer_state, values, xp, yp

    def _check_rng_state(self, field: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ValueError(f"state[{field!r}]: expected a generator state (a mapping)")
        try:
            scratch = type(self.rng.bit_generator)()
            scratch.state = dict(value)
            return scratch.state
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
            raise ValueError(f"state[{field!r}]: not a valid generator state ({exc})") from None


def min_batch(layers: Iterable[Layer]) -> int:
    """The fewest samples a training batch through ``layers`` (shapes set) may hold: 2 when a
    batch norm layer normalizes features of one value per sample (dense layers, or 1×1
    images), else 1."""
    for layer in layers:
        if isinstance(layer, BatchNorm) and math.prod(layer.input_shape[1:]) == 1:
            return 2
    return 1


def soft_threshold(w: np.ndarray, threshold: float) -> None:
    """The proximal step of ``threshold·Σ|w|``, in place: ``w ← sign(w)·max(|w| − threshold, 0)``
    (weights within ``threshold`` of zero become exactly zero). ``w`` is any float array."""
    shrunk = np.abs(w)
    shrunk -= threshold
    np.maximum(shrunk, 0.0, out=shrunk)
    np.copysign(shrunk, w, out=w)


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
    per_epoch = -(-n_train // batch) - (0 < n_train % batch < smallest_batch)
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


def _whole(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"state[{field!r}]: {value!r} is not a whole number")
    if not low <= int(value) <= high:
        raise ValueError(f"state[{field!r}]: {value!r} is out of range; allowed: {low}..{high}")
    return int(value)


def _real(field: str, value: Any, finite: bool = True) -> float:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"state[{field!r}]: {value!r} is not a number")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"state[{field!r}]: {value!r} is out of range") from None
    if finite and not math.isfinite(number):
        raise ValueError(f"state[{field!r}]: {value!r} is not finite")
    return number


def _float_array(field: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    if not _is_float_array(value):
        got = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
        raise ValueError(f"{field}: expected a float32 or float64 array, got {got}")
    if value.shape != shape:
        raise ValueError(f"{field}: shape {value.shape}, expected {shape}")
    return value


def _is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype in (np.float32, np.float64)


def _patience_state(trainer: Trainer, monitor: str, min_delta: float) -> tuple[float, int]:
    """Early stopping's (best loss, epochs without improvement) replayed over the history, so a
    run continued from a saved state stops where the uninterrupted run would have."""
    best, waited = math.inf, 0
    for current in trainer.history.columns()[monitor]:
        if math.isnan(current):
            continue
        if current < best - min_delta:
            best, waited = float(current), 0
        else:
            waited += 1
    return best, waited


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


# -- snapshots -----------------------------------------------------------------------------------
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
    """An immutable picture of a run; arrays are read-only copies.

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
            trainer.steps * trainer._batch / trainer.train_time if trainer.train_time else 0.0
        ),
        lr=trainer.lr,
        l1=trainer.l1,
        l2=trainer.l2,
        batch_loss=trainer.batch_loss,
        train_loss=history.last("train_loss"),
        train_acc=history.last("train_acc"),
        test_loss=history.last("test_loss"),
        test_acc=history.last("test_acc"),
        history={k: _frozen(v) for k, v in history.columns().items()},
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


class TrainControl:
    """Thread-safe requests from another thread (a GUI) to a running ``train_iter``: change the
    learning rate or regularization, ask for a snapshot now (to pause promptly), or stop.
    Applied before the next step; checking costs one attribute read per step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: dict[str, float] = {}
        self.pending = False
        self.stop_requested = False
        self.snapshot_requested = False
        #: Also yield a snapshot at the end of every epoch (set by the thread that iterates,
        #: e.g. to stop exactly at an epoch's end).
        self.epoch_end_snapshots = False

    def set_lr(self, lr: float) -> None:
        check_number("lr", lr, low=0.0, high=MAX_LR, low_open=True)
        self._request(lr=float(lr))

    def set_regularization(self, l1: float | None = None, l2: float | None = None) -> None:
        changes = {
            k: float(check_number(k, v, low=0.0, high=MAX_REGULARIZATION))
            for k, v in (("l1", l1), ("l2", l2))
            if v is not None
        }
        self._request(**changes)

    def request_snapshot(self) -> None:
        with self._lock:
            self.snapshot_requested = self.pending = True

    def stop(self) -> None:
        with self._lock:
            self.stop_requested = self.pending = True

    def forget_changes(self) -> None:
        """Drop rate changes not yet applied (their run was replaced)."""
        with self._lock:
            self._changes = {}

    def _request(self, **changes: float) -> None:
        with self._lock:
            self._changes.update(changes)
            self.pending = True

    def apply(self, trainer: Trainer) -> tuple[bool, bool]:
        """Apply pending changes; return (snapshot requested, stop requested) and clear them."""
        with self._lock:
            changes, self._changes = self._changes, {}
            snap, stop = self.snapshot_requested, self.stop_requested
            self.snapshot_requested = self.stop_requested = self.pending = False
        if "lr" in changes:
            trainer.set_lr(changes["lr"])
        trainer.set_regularization(changes.get("l1"), changes.get("l2"))
        return snap, stop


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

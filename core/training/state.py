"""A saved trainer state checked against the run it is loaded into, before anything changes.

The layout is :meth:`core.training.trainer.Trainer.state_dict`'s; :func:`check_state` returns
its values in the trainer's own types, or raises a ValueError naming the first bad field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.model import Sequential
from core.optimizer import MAX_LR, Optimizer
from core.optimizers import OPTIMIZERS
from core.trace import LossTrace
from core.training.batches import check_step_count
from core.training.config import MAX_REGULARIZATION
from core.training.history import History
from core.validation import check_number

#: Largest step and epoch counter accepted.
MAX_COUNT = 2**62


def check_state(
    state: Any,
    keys: tuple[str, ...],
    defaults: Mapping[str, Any],
    *,
    model: Sequential,
    optimizer: Optimizer,
    rng: np.random.Generator,
    batches: tuple[int, int, int],
    data_sha256: str,
    augmented: bool,
) -> dict[str, Any]:
    """The values of ``state`` by key (``keys``; those in ``defaults`` may be missing), checked
    against the run: the model's parameters and buffers, an optimizer state of ``optimizer``'s
    kind, counters that the run's ``batches`` (training samples, batch size, smallest batch)
    give (see :func:`core.training.batches.check_step_count`), the data fingerprint, the
    generator states and the current epoch's permutation (``augment_rng`` only when
    ``augmented``). ``model`` and ``optimizer`` (without ``"name"``) are ready for
    ``set_state``/``load_state_dict``, ``trace`` is a :class:`LossTrace`, ``history`` float64;
    ``n_train``, ``batch_size`` and ``data_sha256`` are left out (they equal the run's)."""
    if not isinstance(state, Mapping):
        raise ValueError(f"state: expected a mapping, got {type(state).__name__}")
    missing = sorted(set(keys) - set(state) - set(defaults))
    state = {**defaults, **state}
    unknown = sorted(set(state) - set(keys))
    if missing or unknown:
        raise ValueError(f"state: missing keys {missing}, unknown keys {unknown}")
    values = {
        "model": _model_state(state["model"], model),
        "optimizer": _optimizer_state(state["optimizer"], optimizer, model),
    }
    n_train = batches[0]
    values.update(_counters(state, batches, state["optimizer"].get("step")))
    values.update(_rates(state))
    values["history"] = _history(state["history"], values["epoch"])
    if state["data_sha256"] != data_sha256:
        raise ValueError(
            "state['data_sha256']: the training or test data differ from the data this "
            "state was saved with"
        )
    values["rng"] = _rng_state("rng", state["rng"], rng)
    values.update(_epoch_order(state, values["position"], n_train, rng, augmented))
    return values


def _model_state(raw: Any, model: Sequential) -> dict[str, np.ndarray]:
    """Finite float arrays of the model's dtype for every parameter and buffer."""
    if not isinstance(raw, Mapping):
        raise ValueError("state['model']: expected a mapping of arrays")
    model_state = {}
    for name, target in model.state_targets(raw, "state['model']").items():
        value = _float_array(f"state['model'][{name!r}]", raw[name], target.shape)
        model_state[name] = value.astype(model.dtype)
        if not np.all(np.isfinite(model_state[name])):
            raise ValueError(f"state['model'][{name!r}]: contains NaN or infinite values")
    return model_state


def _optimizer_state(raw: Any, optimizer: Optimizer, model: Sequential) -> dict[str, Any]:
    """The optimizer's state without its name, validated by a scratch instance of the same
    kind; buffers ``(n_params,)`` within the model's dtype."""
    if not isinstance(raw, Mapping):
        raise ValueError("state['optimizer']: expected a mapping")
    name = optimizer.name
    if raw.get("name") != name:
        raise ValueError(
            f"state['optimizer']: saved for optimizer {raw.get('name')!r}, this run uses {name!r}"
        )
    optimizer_state = {k: v for k, v in raw.items() if k != "name"}
    try:
        OPTIMIZERS[name](1.0).load_state_dict(optimizer_state)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"state['optimizer']: {exc}") from None
    for key in type(optimizer).buffer_names:
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
    return optimizer_state


def _counters(
    state: Mapping[str, Any], batches: tuple[int, int, int], optimizer_steps: Any
) -> dict[str, Any]:
    """``steps``, ``epoch``, ``position``, ``data_start``, ``optimizer_start`` and ``trace``,
    checked against each other and the run's ``batches`` (training samples, batch size,
    smallest batch)."""
    n_train, batch_size, smallest_batch = batches
    values: dict[str, Any] = {
        "steps": _whole("steps", state["steps"], 0, MAX_COUNT),
        "epoch": _whole("epoch", state["epoch"], 0, MAX_COUNT),
    }
    n = _whole("n_train", state["n_train"], 0, MAX_COUNT)
    if n != n_train:
        raise ValueError(
            f"state['n_train']: saved with {n} training samples, this run has {n_train}"
        )
    batch = _whole("batch_size", state["batch_size"], 1, MAX_COUNT)
    if batch != batch_size:
        raise ValueError(
            f"state['batch_size']: saved with batches of {batch}, this run uses {batch_size}"
        )
    values["position"] = _whole("position", state["position"], 0, n_train)
    start = state["data_start"]
    if isinstance(start, np.ndarray):
        start = start.tolist() if start.ndim == 1 else None
    if not isinstance(start, (list, tuple)) or len(start) != 2:
        raise ValueError(f"state['data_start']: {start!r} is not a pair [epoch, steps]")
    values["data_start"] = tuple(
        _whole(f"data_start[{i}]", v, 0, MAX_COUNT) for i, v in enumerate(start)
    )
    values["optimizer_start"] = _whole("optimizer_start", state["optimizer_start"], 0, MAX_COUNT)
    trace = state["trace"]
    try:
        values["trace"] = LossTrace() if trace is None else LossTrace.from_state(trace)
    except ValueError as exc:
        raise ValueError(f"state[{exc}]") from None
    check_step_count(
        values["steps"],
        values["epoch"],
        values["position"],
        n,
        batch,
        _whole("optimizer.step", optimizer_steps, 0, MAX_COUNT),
        "state",
        smallest_batch,
        values["data_start"],
        values["optimizer_start"],
    )
    return values


def _rates(state: Mapping[str, Any]) -> dict[str, Any]:
    """``batch_loss`` (any number or None), ``base_lr``, ``l1``, ``l2`` and ``train_time``
    within their ranges."""
    batch_loss = state["batch_loss"]
    if batch_loss is not None:
        batch_loss = _real("batch_loss", batch_loss, finite=False)
    values: dict[str, Any] = {"batch_loss": batch_loss}
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
    return values


def _history(history: Any, epoch: int) -> np.ndarray:
    """One float64 row of :attr:`History.COLUMNS` per completed epoch."""
    if not _is_float_array(history):
        raise ValueError("state['history']: expected a float32 or float64 array")
    if history.shape != (epoch, len(History.COLUMNS)):
        raise ValueError(
            f"state['history']: shape {history.shape}, expected "
            f"({epoch}, {len(History.COLUMNS)}) (one row per completed epoch)"
        )
    return history.astype(np.float64)


def _epoch_order(
    state: Mapping[str, Any],
    position: int,
    n_train: int,
    rng: np.random.Generator,
    augmented: bool,
) -> dict[str, Any]:
    """``permutation`` (``(n_train,)`` int64 in the middle of an epoch, else None) and
    ``augment_rng`` (the generator state the epoch's augmentation started from, or None)."""
    perm, aug = state["permutation"], state["augment_rng"]
    if position < n_train:
        if (
            not isinstance(perm, np.ndarray)
            or perm.dtype.kind not in "iu"
            or perm.shape != (n_train,)
        ):
            raise ValueError(
                f"state['permutation']: expected an integer array of shape ({n_train},) "
                "in the middle of an epoch"
            )
        perm = perm.astype(np.int64)
        if not np.array_equal(np.sort(perm), np.arange(n_train)):
            raise ValueError("state['permutation']: not a permutation of the samples")
        if augmented:
            aug = _rng_state("augment_rng", aug, rng)
        elif aug is not None:
            raise ValueError(
                "state['augment_rng']: the state was saved with data augmentation; this "
                "run has none"
            )
    elif perm is not None or aug is not None:
        raise ValueError("state['permutation']: given at an epoch boundary (position == n_train)")
    return {"permutation": perm, "augment_rng": aug}


def _rng_state(field: str, value: Any, rng: np.random.Generator) -> dict[str, Any]:
    """A valid state for a bit generator of ``rng``'s kind."""
    if not isinstance(value, Mapping):
        raise ValueError(f"state[{field!r}]: expected a generator state (a mapping)")
    try:
        scratch = type(rng.bit_generator)()
        scratch.state = dict(value)
        return scratch.state
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise ValueError(f"state[{field!r}]: not a valid generator state ({exc})") from None


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

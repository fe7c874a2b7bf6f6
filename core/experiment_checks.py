"""The checks an experiment file's ``meta.json``, history and sample order pass before a run is
rebuilt from them (:func:`core.experiment.load_experiment`); each problem is a ModelFileError
naming the file and the entry."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.archive import ModelFileError
from core.io import VALUE_ERRORS, check_dtype, check_spec
from core.optimizer import MAX_LR
from core.spec import shaped_layers
from core.trace import LossTrace
from core.training.batches import check_step_count, min_batch
from core.training.config import MAX_REGULARIZATION, TrainConfig
from core.training.history import History
from core.training.trainer import Trainer

META_KEYS = {
    "format",
    "version",
    "spec",
    "dtype",
    "config",
    "data",
    "metadata",
    "optimizer",
    "trainer",
    "history_columns",
}
#: Trainer state entries kept in meta.json (the rest are arrays).
TRAINER_KEYS = (
    "steps",
    "epoch",
    "position",
    "n_train",
    "batch_size",
    "batch_loss",
    "base_lr",
    "l1",
    "l2",
    "train_time",
    "data_sha256",
    "rng",
    "augment_rng",
    "data_start",
    "optimizer_start",
)


def check_trace_meta(path, meta: dict[str, Any]) -> int | None:
    """The number of per-step loss points a version 2 or 3 file holds (None for version 1)."""
    if meta["version"] < 2:
        return None
    trace = meta.get("trace")
    if not isinstance(trace, dict) or set(trace) != {"width", "sum", "count", "points"}:
        raise ModelFileError(
            f"{path}: meta.json's 'trace' is {_short(trace)}; expected width, sum, count, points"
        )
    return _whole(path, "trace.points", trace["points"], low=0, high=LossTrace().capacity - 1)


def check_meta(path, meta: dict[str, Any]) -> tuple:
    """Validate meta.json's parts; returns ``(spec, dtype, config, counters, optimizer)`` with
    ``counters`` the trainer's whole-number entries and ``optimizer`` a copy of its JSON part."""
    missing = sorted(META_KEYS - set(meta))  # other keys are ignored (later additions)
    if missing:
        raise ModelFileError(f"{path}: meta.json lacks {', '.join(missing)}")
    for field in ("data", "metadata", "optimizer", "trainer", "config"):
        if not isinstance(meta[field], dict):
            raise ModelFileError(f"{path}: meta.json's {field!r} must be an object")
    spec = check_spec(path, meta["spec"])
    dtype = check_dtype(path, meta["dtype"])
    try:
        config = TrainConfig.from_dict(meta["config"])
    except VALUE_ERRORS as exc:
        raise ModelFileError(f"{path}: invalid training configuration: {exc}") from None
    if meta["history_columns"] != list(History.COLUMNS):
        raise ModelFileError(
            f"{path}: history columns {_short(meta['history_columns'])} are not "
            f"{list(History.COLUMNS)!r}"
        )
    counters = _check_trainer(path, meta["trainer"])
    opt_meta = dict(meta["optimizer"])
    name = opt_meta.get("name")
    if name != config.optimizer:
        raise ModelFileError(
            f"{path}: the optimizer state is for {_short(name)}, the configuration uses "
            f"{config.optimizer!r}"
        )
    opt_meta["step"] = _whole(path, "optimizer.step", opt_meta.get("step"))
    try:
        check_step_count(
            counters["steps"],
            counters["epoch"],
            counters["position"],
            counters["n_train"],
            counters["batch_size"],
            opt_meta["step"],
            "trainer",
            min_batch(shaped_layers(spec)),
            counters["data_start"],
            counters["optimizer_start"],
        )
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return spec, dtype, config, counters, opt_meta


def _check_trainer(path, trainer_meta: dict[str, Any]) -> dict[str, int]:
    """Check meta.json's trainer entries; returns its whole-number counters by name."""
    missing = sorted(set(TRAINER_KEYS) - set(trainer_meta) - set(Trainer.STATE_DEFAULTS))
    if missing:
        raise ModelFileError(f"{path}: meta.json's 'trainer' lacks {', '.join(missing)}")
    counters = {
        "steps": _whole(path, "trainer.steps", trainer_meta["steps"]),
        "epoch": _whole(path, "trainer.epoch", trainer_meta["epoch"]),
        "n_train": _whole(path, "trainer.n_train", trainer_meta["n_train"], low=1),
    }
    counters["position"] = _whole(
        path, "trainer.position", trainer_meta["position"], high=counters["n_train"]
    )
    counters["batch_size"] = _whole(
        path, "trainer.batch_size", trainer_meta["batch_size"], low=1, high=counters["n_train"]
    )
    start = trainer_meta.get("data_start", [0, 0])
    if not isinstance(start, list) or len(start) != 2:
        raise ModelFileError(
            f"{path}: trainer.data_start is {_short(start)}; expected [epoch, steps]"
        )
    counters["data_start"] = tuple(
        _whole(path, f"trainer.data_start[{i}]", v) for i, v in enumerate(start)
    )
    counters["optimizer_start"] = _whole(
        path, "trainer.optimizer_start", trainer_meta.get("optimizer_start", 0)
    )
    for key, high in (
        ("base_lr", MAX_LR),
        ("l1", MAX_REGULARIZATION),
        ("l2", MAX_REGULARIZATION),
        ("train_time", None),
    ):
        _real(path, f"trainer.{key}", trainer_meta[key], high)
    if trainer_meta["batch_loss"] is not None:
        _real(path, "trainer.batch_loss", trainer_meta["batch_loss"], None)
    fingerprint = trainer_meta["data_sha256"]
    if not (
        isinstance(fingerprint, str)
        and len(fingerprint) == 64
        and all(c in "0123456789abcdef" for c in fingerprint)
    ):
        raise ModelFileError(f"{path}: trainer.data_sha256 is not a SHA-256 hex digest")
    for key in ("rng", "augment_rng"):
        value = trainer_meta[key]
        if key == "augment_rng" and value is None:
            continue
        _check_generator_state(path, key, value)
    return counters


def check_history(path, history: np.ndarray, steps: int) -> None:
    """Each row is a completed epoch: its number (1, 2, ...) and a step count that grows up to
    ``steps``; times and rates are finite where given."""
    if not len(history):
        return
    epochs, step, elapsed, lr = history[:, 0], history[:, 1], history[:, 2], history[:, 3]
    if not np.array_equal(epochs, np.arange(1, len(history) + 1)):
        raise ModelFileError(f"{path}: history's epoch column is not 1, 2, ... {len(history)}")
    if not (np.all(np.diff(step) > 0) and step[0] > 0 and step[-1] <= steps):
        raise ModelFileError(
            f"{path}: history's step column does not grow from 1 to at most {steps:,} (the "
            "run's steps)"
        )
    if not (np.all(np.isfinite(elapsed)) and np.all(elapsed >= 0) and np.all(lr >= 0)):
        raise ModelFileError(f"{path}: history's time or rate column is negative or not finite")


def is_permutation(perm: np.ndarray) -> bool:
    """Whether ``perm`` (n,) holds each of 0..n-1 once (n bytes of work space)."""
    n = len(perm)
    if n and (perm.min() < 0 or perm.max() >= n):
        return False
    seen = np.zeros(n, dtype=bool)
    seen[perm] = True
    return bool(seen.all())


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _whole(path, field: str, value: Any, low: int = 0, high: int = 2**62) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ModelFileError(
            f"{path}: {field} is {_short(value)}; expected a whole number in {low}..{high}"
        )
    return value


def _real(path, field: str, value: Any, high: float | None) -> float:
    allowed = f"0..{high}" if high is not None else ">= 0"
    try:
        number = float(value) if isinstance(value, (int, float)) else math.nan
    except OverflowError:
        number = math.nan
    if (
        isinstance(value, bool)
        or not math.isfinite(number)
        or number < 0
        or (high is not None and number > high)
    ):
        raise ModelFileError(f"{path}: {field} is {_short(value)}; expected a number in {allowed}")
    return number


def _check_generator_state(path, field: str, value: Any) -> None:
    try:
        if not isinstance(value, dict):
            raise TypeError("not an object")
        np.random.PCG64().state = value
    except VALUE_ERRORS as exc:
        raise ModelFileError(
            f"{path}: trainer.{field} is not a valid generator state ({exc})"
        ) from None

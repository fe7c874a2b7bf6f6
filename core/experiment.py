"""Experiment files: a training run saved so that it can be reopened and continued exactly.

An experiment holds the architecture, the training configuration, the parameters of the data
set (so the caller can rebuild the same arrays), the weights and BatchNorm statistics, the
optimizer's state, the generator state, the position in the current epoch with its sample order,
and the metric history. Continuing a reopened experiment gives bit for bit the losses the
uninterrupted run would have given (same platform and NumPy).

The file is an ``.npz`` archive like a model file (:mod:`core.io`; the container is
:mod:`core.archive`), readable with plain NumPy (``np.load(path, allow_pickle=False)``); format
version 3 with a runs section, else 2 (versions 1, without ``trace``, and 2 still open)::

    meta.json            0-d unicode array, JSON:
                         {"format": "nn-playground/experiment", "version": 2 or 3,
                          "spec": {...}, "dtype": "float32",
                          "config": {...},         # TrainConfig.to_dict()
                          "data": {...},           # data-set parameters (the caller's)
                          "metadata": {...},       # as in a model file: class names, features...
                          "optimizer": {"name": "adam", "step": 120, "lr": 0.01,
                                        "betas": [0.9, 0.999], "eps": 1e-08, ...},
                          "trainer": {"steps", "epoch", "position", "n_train", "batch_size",
                                      "batch_loss", "base_lr", "l1", "l2", "train_time",
                                      "data_sha256", "rng": {...}, "augment_rng": {...} | null,
                                      "data_start": [epoch, steps], "optimizer_start": steps},
                          "history_columns": ["epoch", "step", "time", "lr", ...],
                          "trace": {"width", "sum", "count", "points"},  (version 2)
                          "runs": [{...}, ...]}  (version 3: the run list, see below)
    param/<i>.<name>     weights, as in a model file
    buffer/<i>.<name>    BatchNorm running statistics, as in a model file
    optimizer/<name>     optimizer buffers, e.g. optimizer/exp_avg (n_params,) float, in the order
                         of the model's flat parameter vector (regularized weights first)
    history              (epochs, 8) float64, one row per completed epoch (columns as listed)
    permutation          (n_train,) int64: the current epoch's sample order (mid-epoch only)
    trace/steps          (points,) int64, trace/loss (points,) float64: the per-step loss curve
                         (version 2; :class:`core.trace.LossTrace`, continued exactly)
    runs/<i>/history     (rows, 8) float64: run i's per-epoch history (version 3, with "runs")
    runs/<i>/param/...   a pinned run's weights (its "spec" in meta.json gives their shapes)

``runs`` is the app's run list saved with the experiment (:mod:`core.runs_archive`): each
run's settings, name, counters and whether it keeps weights; at most
:data:`core.runs.MAX_RUNS` runs of at most :data:`core.runs.MAX_HISTORY_ROWS` rows each, and
weights for at most :data:`core.runs.MAX_PINNED` pinned runs. Only version 3 has it (version 2
shipped without it, so a version 2 program refuses such a file by its version rather than by
members it does not know); a file without runs is written as version 2, which every program
since version 2 opens. Files of versions 1 and 2 open with no runs; a ``runs`` key in them is
refused.

``rng`` is NumPy's ``bit_generator.state`` of the run's generator (PCG64; JSON integers);
``position`` is how many samples of the current epoch were used (``n_train`` at a boundary);
``data_sha256`` fingerprints the training and test arrays, so continuing on other data is
refused. ``data_start`` is where the current training set took effect (data changed during the
run: epochs before it may have had other sizes) and ``optimizer_start`` the step at which the
current optimizer took over (its state counts the steps since); files written before they
existed lack them, which means ``[0, 0]`` and ``0``. Loading validates everything before
anything is built (:mod:`core.experiment_checks`) and raises
:class:`core.archive.ModelFileError` for any problem.

The data-set parameters are a JSON-able dict that the caller defines and uses to rebuild its
data, e.g. ``{"kind": "toy", "name": "spiral", "n_samples": 500, ...}``, or for a CSV file its
path and :func:`file_sha256`, so a changed file is detected.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.archive import (
    Archive,
    Expected,
    ModelFileError,
    meta_array,
    open_regular,
    read_meta,
    write_npz,
)
from core.cancel import check as check_cancel
from core.data.csv import MAX_FILE_BYTES as MAX_CSV_BYTES
from core.experiment_checks import (
    TRAINER_KEYS,
    check_history,
    check_meta,
    check_trace_meta,
    is_permutation,
)
from core.io import (
    VALUE_ERRORS,
    check_values,
    model_arrays,
    model_members,
    read_state,
    state_shapes,
)
from core.model import Sequential
from core.optimizers import OPTIMIZERS
from core.runs import RunRecord
from core.runs_archive import EXPERIMENT_PREFIX, expected_runs, read_runs, runs_arrays
from core.trace import LossTrace
from core.training.config import TrainConfig
from core.training.history import History
from core.training.trainer import Trainer

FORMAT = "nn-playground/experiment"
VERSION = 2
#: The version of a file with a runs section.
RUNS_VERSION = 3
#: Versions this program reads: 1 (before the per-step loss trace was saved), 2, and 3 (2 with
#: the run list).
READABLE = (1, 2, 3)


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file, not yet attached to data.

    ``state`` has the layout of :meth:`core.training.Trainer.state_dict`; :meth:`build_trainer`
    rebuilds the trainer on the caller's arrays and restores it.
    """

    path: str
    spec: dict[str, Any]
    dtype: str
    config: TrainConfig
    data: dict[str, Any]
    metadata: dict[str, Any]
    state: dict[str, Any]
    #: the run list saved with it (empty when the file has none)
    runs: tuple[RunRecord, ...] = ()

    @property
    def epoch(self) -> int:
        """Completed epochs."""
        return self.state["epoch"]

    @property
    def steps(self) -> int:
        return self.state["steps"]

    def history(self) -> dict[str, np.ndarray]:
        """The metric history by column, ``(epochs,)`` float64 each (nan where not applicable)."""
        rows = self.state["history"]
        return {name: rows[:, i].copy() for i, name in enumerate(History.COLUMNS)}

    def model(self) -> Sequential:
        """A new model with the saved weights (for inference or export)."""
        model = Sequential(self.spec, dtype=self.dtype)
        model.set_state(self.state["model"])
        return model

    def build_trainer(
        self,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
        *,
        config: TrainConfig | None = None,
        augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    ) -> Trainer:
        """A trainer on the given data (rebuilt from :attr:`data` the way it was first built),
        restored to the saved state, so its next steps continue the run exactly.

        ``config`` replaces the saved configuration (e.g. more ``epochs``); settings that shape
        the run (optimizer, batch size, seed) should stay as saved. ``augment`` must be the
        same function the run used, if any.

        Raises ModelFileError when the saved state does not fit this data or configuration
        (other data, another batch size or optimizer); ValueError for invalid data.
        """
        config = self.config if config is None else config
        model = Sequential(self.spec, rng=np.random.default_rng(config.seed), dtype=self.dtype)
        trainer = Trainer(model, config, x_train, y_train, x_test, y_test, augment=augment)
        try:
            trainer.load_state_dict(self.state)
        except ValueError as exc:
            raise ModelFileError(f"{self.path}: cannot continue this run: {exc}") from None
        return trainer


#: Largest data file :func:`file_sha256` reads: the largest CSV the importer accepts.
MAX_DATA_FILE_BYTES = MAX_CSV_BYTES


def file_sha256(path: str | os.PathLike, max_bytes: int = MAX_DATA_FILE_BYTES) -> str:
    """SHA-256 (hex) of a file's bytes: store it with a data file's path to detect changes.
    Reads 1 MiB at a time; ModelFileError (a ValueError) for a file that is not regular (a
    pipe would never end), missing, unreadable or larger than ``max_bytes``."""
    h = hashlib.sha256()
    with open_regular(path, "data file") as f:
        if os.fstat(f.fileno()).st_size > max_bytes:
            raise ModelFileError(f"{path}: larger than {max_bytes:,} bytes; refusing")
        size = 0
        for block in iter(lambda: f.read(1 << 20), b""):
            check_cancel()
            size += len(block)
            if size > max_bytes:
                raise ModelFileError(f"{path}: larger than {max_bytes:,} bytes; refusing")
            h.update(block)
    return h.hexdigest()


# -- saving --------------------------------------------------------------------------------------
def save_experiment(
    path: str | os.PathLike,
    trainer: Trainer,
    data: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    runs: list[RunRecord] | tuple[RunRecord, ...] = (),
) -> None:
    """Write ``trainer``'s run to ``path`` atomically, with the run list ``runs`` (if any).

    ``data`` are the data-set parameters the caller needs to rebuild the same arrays
    (JSON-able); ``metadata`` is what a model file would carry (class names, features...).
    Raises ValueError if the weights are not finite (a diverged run cannot be continued) or
    ``data``/``metadata`` are not JSON-serializable.
    """
    state = trainer.state_dict()
    model = trainer.model
    if not all(np.all(np.isfinite(v)) for v in state["model"].values()):
        raise ValueError("trainer: the weights contain NaN or infinite values; not saved")
    for field, value in (("data", data), ("metadata", metadata or {})):
        if not isinstance(value, dict):
            raise ValueError(f"{field}: expected a dict, got {type(value).__name__}")
        meta_array(value, field)  # JSON-serializable, or ValueError now rather than at the end
    opt_cls = OPTIMIZERS[state["optimizer"]["name"]]
    optimizer = {}
    arrays: dict[str, np.ndarray] = {}
    for key, value in state["optimizer"].items():
        if key in opt_cls.buffer_names:
            arrays[f"optimizer/{key}"] = value
        elif isinstance(value, np.ndarray):
            optimizer[key] = value.tolist()
        else:
            optimizer[key] = value
    trainer_meta = {key: state[key] for key in TRAINER_KEYS}
    loss = trainer_meta["batch_loss"]
    if loss is not None and not math.isfinite(loss):
        trainer_meta["batch_loss"] = None  # the trainer treats both alike
    meta = {
        "format": FORMAT,
        "version": RUNS_VERSION if runs else VERSION,
        "spec": model.spec,
        "dtype": str(model.dtype),
        "config": trainer.config.to_dict(),
        "data": data,
        "metadata": metadata or {},
        "optimizer": optimizer,
        "trainer": trainer_meta,
        "history_columns": list(History.COLUMNS),
    }
    trace = state["trace"]  # the per-step losses: points as arrays, the rest in meta.json
    meta["trace"] = {k: trace[k] for k in ("width", "sum", "count")}
    meta["trace"]["points"] = len(trace["steps"])
    if runs:
        meta["runs"], run_arrays = runs_arrays(list(runs), EXPERIMENT_PREFIX)
        arrays.update(run_arrays)
    arrays["meta.json"] = meta_array(meta, "experiment")
    arrays.update(model_arrays(model))
    arrays["history"] = state["history"]
    if state["permutation"] is not None:
        arrays["permutation"] = state["permutation"].astype(np.int64)
    arrays["trace/steps"], arrays["trace/loss"] = trace["steps"], trace["loss"]
    write_npz(path, arrays)


# -- loading -------------------------------------------------------------------------------------
def load_experiment(path: str | os.PathLike) -> Experiment:
    """Read and validate an experiment file (everything that can be checked without the data:
    format, version, architecture, every array's name, shape, dtype and values, the
    configuration, the optimizer and generator states, counters, history and permutation).

    ``meta.json`` is read first; it gives every array the file must hold and its exact shape
    (weights and buffers from the architecture, optimizer buffers from its step count, the
    history from the epochs, the permutation from the training-set size), so unknown or
    oversized arrays are refused before any is decompressed. Nothing is built or changed.
    Raises ModelFileError for any problem.
    """
    with Archive(path, "experiment file") as archive:
        meta = read_meta(archive, FORMAT, READABLE)
        spec, dtype, config, counters, opt_meta = check_meta(path, meta)
        points = check_trace_meta(path, meta)
        shapes = state_shapes(path, spec)
        n_params = sum(math.prod(s) for k, s in shapes.items() if k.startswith("param/"))
        epoch, position, n_train = counters["epoch"], counters["position"], counters["n_train"]
        buffers = OPTIMIZERS[config.optimizer].buffer_names if opt_meta["step"] > 0 else ()
        expected = model_members(shapes)
        expected.update({f"optimizer/{b}": Expected((n_params,)) for b in buffers})
        expected["history"] = Expected((epoch, len(History.COLUMNS)))
        if position < n_train:
            expected["permutation"] = Expected((n_train,), "iu")
        if points is not None:
            expected["trace/steps"] = Expected((points,), "iu")
            expected["trace/loss"] = Expected((points,))
        run_entries: list[dict[str, Any]] = []
        if "runs" in meta and meta["version"] < RUNS_VERSION:
            raise ModelFileError(
                f"{path}: a version {meta['version']} file with runs; runs need version 3"
            )
        if "runs" in meta:
            run_entries, run_members = expected_runs(path, meta["runs"], EXPERIMENT_PREFIX)
            expected.update(run_members)
        archive.expect(expected)  # before any array is decompressed

        model_state = read_state(archive, shapes, dtype)
        for name in buffers:
            key = f"optimizer/{name}"
            opt_meta[name] = check_values(path, key, archive.read(key, expected[key]), dtype)
        history = archive.read("history", expected["history"]).astype(np.float64)
        perm = None
        if position < n_train:
            perm = archive.read("permutation", expected["permutation"]).astype(np.int64)
        trace = None
        if points is not None:
            trace = {k: meta["trace"][k] for k in ("width", "sum", "count")}
            trace["steps"] = archive.read("trace/steps", expected["trace/steps"]).astype(np.int64)
            trace["loss"] = archive.read("trace/loss", expected["trace/loss"]).astype(np.float64)
            try:
                LossTrace.from_state(trace)
            except ValueError as exc:
                raise ModelFileError(f"{path}: {exc}") from None
        runs = tuple(read_runs(archive, run_entries, EXPERIMENT_PREFIX))
    try:
        OPTIMIZERS[config.optimizer](1.0).load_state_dict(
            {k: v for k, v in opt_meta.items() if k != "name"}
        )
    except VALUE_ERRORS as exc:
        raise ModelFileError(f"{path}: invalid optimizer state: {exc}") from None
    check_history(path, history, counters["steps"])
    if perm is not None and not is_permutation(perm):
        raise ModelFileError(f"{path}: 'permutation' is not a permutation of the samples")

    saved = {**Trainer.STATE_DEFAULTS, **meta["trainer"]}
    state = {key: saved[key] for key in TRAINER_KEYS}
    state.update(
        model=model_state, optimizer=opt_meta, history=history, permutation=perm, trace=trace
    )
    return Experiment(
        path=str(path),
        spec=spec,
        dtype=str(dtype),
        config=config,
        data=meta["data"],
        metadata=meta["metadata"],
        state=state,
        runs=runs,
    )

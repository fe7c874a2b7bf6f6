"""A data set of 2-D points split into train and test parts, and the seeded split that makes one.

Generated sets (:mod:`core.data.toy2d`) and CSV files (:mod:`core.data.csv`) both end here.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.validation import check_choice, check_number

TASKS = ("classification", "regression")
#: Fewest points a data set may have (two to train on, at least one to test).
MIN_SAMPLES = 4
MAX_TEST_RATIO = 0.9


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of 2-D points.

    The arrays are copied on construction and made read-only, so a data set can be shared
    between threads (GUI and training worker) safely. Equality is identity.

    Attributes
    ----------
    name : str
        Data set name (a key of :data:`core.data.toy2d.DATASETS`, or a file stem for CSV data).
    task : str
        ``"classification"`` or ``"regression"``.
    x_train : np.ndarray
        ``(n_train, 2)`` float32 points.
    y_train : np.ndarray
        ``(n_train,)`` int64 class indices in ``0..n_classes-1`` (classification) or float32
        targets (regression).
    x_test, y_test : np.ndarray
        ``(n_test, 2)`` and ``(n_test,)``, as the train arrays; ``n_test`` may be 0.
    n_classes : int
        Number of classes K for classification; 1 for regression.
    class_names : tuple of str
        K display names for classification (``("0", "1")`` for generated sets); empty for
        regression.
    """

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    class_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name: {self.name!r} is not a string; allowed: a string")
        check_choice("task", self.task, TASKS)
        classification = self.task == "classification"
        y_dtype = np.int64 if classification else np.float32
        arrays = {}
        for split in ("train", "test"):
            try:
                x = np.array(getattr(self, f"x_{split}"), dtype=np.float32, copy=True)
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"x_{split}: not numeric ({err}); allowed: (n, 2) numbers"
                ) from err
            y_raw = np.asarray(getattr(self, f"y_{split}"))
            if y_raw.dtype.kind not in "iufb" and y_raw.size:
                raise ValueError(f"y_{split}: dtype {y_raw.dtype}; allowed: numbers")
            if x.ndim != 2 or x.shape[1] != 2:
                raise ValueError(f"x_{split}: shape {x.shape}; allowed: (n, 2)")
            if y_raw.shape != (x.shape[0],):
                raise ValueError(
                    f"y_{split}: shape {y_raw.shape}; allowed: ({x.shape[0]},) to match x_{split}"
                )
            if not np.all(np.isfinite(x)):
                raise ValueError(f"x_{split}: contains NaN or inf; allowed: finite values")
            if classification:
                if y_raw.size and not (
                    np.issubdtype(y_raw.dtype, np.integer)
                    or np.all(np.asarray(y_raw, dtype=np.float64) % 1 == 0)
                ):
                    raise ValueError(
                        f"y_{split}: dtype {y_raw.dtype} with non-integer values; "
                        "allowed: class indices"
                    )
            y = np.array(y_raw, dtype=y_dtype, copy=True)
            if not classification and not np.all(np.isfinite(y)):
                raise ValueError(f"y_{split}: contains NaN or inf; allowed: finite values")
            x.flags.writeable = False
            y.flags.writeable = False
            arrays[f"x_{split}"] = x
            arrays[f"y_{split}"] = y
        if arrays["x_train"].shape[0] < 1:
            raise ValueError("x_train: 0 rows; allowed: at least 1")
        n_classes = self.n_classes
        if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
            raise TypeError(f"n_classes: {n_classes!r} is not an integer; allowed: an integer")
        names = tuple(self.class_names)
        if classification:
            check_number("n_classes", n_classes, low=2, integer=True)
            for split in ("train", "test"):
                y = arrays[f"y_{split}"]
                if y.size and (y.min() < 0 or y.max() >= n_classes):
                    raise ValueError(
                        f"y_{split}: labels from {y.min()} to {y.max()}; "
                        f"allowed: 0..{n_classes - 1} (n_classes={n_classes})"
                    )
            if not names:
                names = tuple(str(k) for k in range(n_classes))
            if len(names) != n_classes or not all(isinstance(n, str) for n in names):
                raise ValueError(
                    f"class_names: {names!r}; allowed: {n_classes} strings (one per class)"
                )
        else:
            if n_classes != 1:
                raise ValueError(f"n_classes: {n_classes!r}; allowed: 1 for regression")
            if names:
                raise ValueError(f"class_names: {names!r}; allowed: () for regression")
        for key, value in arrays.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "n_classes", int(n_classes))
        object.__setattr__(self, "class_names", names)

    @property
    def n_features(self) -> int:
        """Number of input coordinates: always 2."""
        return 2

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    @property
    def is_classification(self) -> bool:
        return self.task == "classification"

    @property
    def x_all(self) -> np.ndarray:
        """``(n_train + n_test, 2)`` float32: train points followed by test points (a copy)."""
        return np.concatenate([self.x_train, self.x_test], axis=0)

    @property
    def y_all(self) -> np.ndarray:
        """``(n_train + n_test,)``: train labels followed by test labels (a copy)."""
        return np.concatenate([self.y_train, self.y_test], axis=0)


def check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed: {seed!r} is not an integer; allowed: a whole number >= 0")
    if seed < 0:
        raise ValueError(f"seed: {seed!r} is negative; allowed: a whole number >= 0")
    return operator.index(seed)


def check_ratio(test_ratio: object) -> float:
    return float(check_number("test_ratio", test_ratio, low=0.0, high=MAX_TEST_RATIO))


def _split_counts(n: int, test_ratio: float, keep: int = 2) -> int:
    """Test-part size for ``n`` rows: ``round(n * ratio)``, at least 1 when the ratio is above
    zero, and leaving at least ``keep`` rows for training."""
    if test_ratio == 0.0:
        return 0
    return int(min(max(round(n * test_ratio), 1), n - keep))


def split_dataset(
    name: str,
    task: str,
    x: np.ndarray,
    y: np.ndarray,
    test_ratio: float = 0.5,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
) -> Dataset:
    """Shuffle ``x`` and ``y`` (seeded) and split them into a :class:`Dataset`.

    Classification splits are stratified: each class with at least two rows has at least one
    row in each part (when ``test_ratio > 0``), and the test part holds about ``test_ratio`` of
    every class. The order inside each part is shuffled.

    Parameters
    ----------
    name : str
        Stored as ``Dataset.name``.
    task : str
        ``"classification"`` or ``"regression"``.
    x : np.ndarray
        ``(n, 2)`` finite points, ``n >= 4``.
    y : np.ndarray
        ``(n,)`` class indices ``>= 0`` (classification) or finite targets (regression).
    test_ratio : float
        Share of rows for the test part, in ``[0, 0.9]``; 0 gives an empty test part. The train
        part always keeps at least 2 rows.
    seed : int
        Seed of the shuffle (``>= 0``).
    class_names : sequence of str, optional
        One name per class; by default ``"0", "1", ...`` up to the largest label.

    Returns
    -------
    Dataset
    """
    check_choice("task", task, TASKS)
    ratio = check_ratio(test_ratio)
    seed = check_seed(seed)
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x: shape {x.shape}; allowed: (n, 2)")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y: shape {y.shape}; allowed: ({x.shape[0]},) to match x")
    n = x.shape[0]
    if n < MIN_SAMPLES:
        raise ValueError(f"x: {n} rows; allowed: at least {MIN_SAMPLES}")
    # A SeedSequence child keeps the shuffle independent of a generator made from the same seed.
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    if task == "classification":
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y: dtype {y.dtype}; allowed: integer class indices")
        if y.min() < 0:
            raise ValueError(f"y: label {y.min()}; allowed: class indices >= 0")
        n_classes = len(class_names) if class_names is not None else int(y.max()) + 1
        if y.max() >= n_classes:
            raise ValueError(
                f"y: label {y.max()}; allowed: 0..{n_classes - 1} (one per class name)"
            )
        train_parts, test_parts = [], []
        for k in range(n_classes):
            idx = np.flatnonzero(y == k)
            rng.shuffle(idx)
            n_test = 0 if len(idx) < 2 else _split_counts(len(idx), ratio, keep=1)
            test_parts.append(idx[:n_test])
            train_parts.append(idx[n_test:])
        train = rng.permutation(np.concatenate(train_parts))
        test = rng.permutation(np.concatenate(test_parts))
        names = tuple(class_names) if class_names is not None else ()
        return Dataset(name, task, x[train], y[train], x[test], y[test], n_classes, names)
    order = rng.permutation(n)
    n_test = _split_counts(n, ratio)
    test, train = order[:n_test], order[n_test:]
    return Dataset(name, task, x[train], y[train], x[test], y[test], 1, ())

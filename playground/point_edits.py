"""Point edits: the user's clicks on the output view (a point added to, or removed from, the
training or test set), checked, drawn to a set, and replayed on a data set."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import numpy as np

from core.data.dataset import Dataset
from core.validation import check_number, short_repr

#: Radius (in data units) within which a right-click removes the nearest point.
REMOVE_RADIUS = 0.4
#: Most point edits a session keeps, and the largest coordinate an edit may have.
MAX_EDITS = 50_000
MAX_COORDINATE = 1e6
#: The sets a point edit may record: where an added point went, whence a removed one came.
SPLITS = ("train", "test")


class SplitSettings(Protocol):
    """What draws an added point's set: the data settings' seed and test ratio."""

    seed: int
    test_ratio: float


def check_edits(edits: Any, name: str = "edits", most: int = MAX_EDITS) -> None:
    """Raise ValueError naming the first bad edit unless ``edits`` is a list of at most ``most``
    ``["add", x1, x2, label, split]`` / ``["remove", x1, x2, split]`` entries (``split`` one of
    :data:`SPLITS`, or left out as in older files) with finite coordinates of magnitude at most
    :data:`MAX_COORDINATE` (and finite labels)."""
    if not isinstance(edits, list):
        raise ValueError(
            f"{name}: {short_repr(edits)} is not a list; allowed: a list of point edits"
        )
    if len(edits) > most:
        raise ValueError(f"{name}: {len(edits):,} edits; allowed: at most {most:,}")
    for i, edit in enumerate(edits, 1):
        where = f"{name}, entry {i}"
        kind = edit[0] if isinstance(edit, list) and edit and isinstance(edit[0], str) else None
        size = {"add": 4, "remove": 3}.get(kind)
        if size is None or len(edit) not in (size, size + 1):
            raise ValueError(
                f'{where}: {short_repr(edit)}; allowed: ["add", x1, x2, label, "train" or "test"] '
                'or ["remove", x1, x2, "train" or "test"]'
            )
        for field_name, value in zip(("x1", "x2"), edit[1:3], strict=True):
            check_number(f"{where}, {field_name}", value, low=-MAX_COORDINATE, high=MAX_COORDINATE)
        if kind == "add":
            check_number(f"{where}, label", edit[3])
        if len(edit) == size + 1 and edit[-1] not in SPLITS:
            raise ValueError(f'{where}, set: {short_repr(edit[-1])}; allowed: "train" or "test"')


def edit_split(data: SplitSettings, index: int) -> str:
    """Where the point of edit number ``index`` (0-based) goes: ``"test"`` with probability
    ``data.test_ratio``, else ``"train"``, drawn from a generator seeded with the data set's seed
    and ``index``. Recorded in the edit, so replaying edits never draws again, and independent
    of the run's generator, whose sequence (shuffling, dropout) the click leaves untouched."""
    rng = np.random.default_rng([int(data.seed), int(index)])
    return "test" if rng.random() < data.test_ratio else "train"


def removal_split(dataset: Dataset, x1: float, x2: float) -> str | None:
    """The set whose point a click at (x1, x2) removes: the nearest point within REMOVE_RADIUS
    of either set, a training point only while more than 2 remain; None if none is removed."""
    return _removal_split(dataset.x_train, dataset.x_test, np.array([x1, x2]))


def _removal_split(x_train: np.ndarray, x_test: np.ndarray, target: np.ndarray) -> str | None:
    best_tr, best_te = (_nearest(x, target)[1] for x in (x_train, x_test))
    if min(best_tr, best_te) > REMOVE_RADIUS:
        return None
    if best_tr <= best_te:
        return "train" if len(x_train) > 2 else None
    return "test"


def _nearest(x: np.ndarray, target: np.ndarray) -> tuple[int, float]:
    """Index and distance of the row of ``x`` ``(n, 2)`` nearest ``target``; (-1, inf) if none."""
    if not len(x):
        return -1, np.inf
    d = np.hypot(*(x - target).T)
    i = int(d.argmin())
    return i, float(d[i])


def apply_edits(base: Dataset, edits: list[list[Any]]) -> Dataset:
    """Replay point additions (to the set each records, the training set if none) and removals
    (the nearest point of the set each records, or of either set; see :func:`removal_split`);
    ValueError for edits :func:`check_edits` refuses or a label the data set doesn't have."""
    if not edits:
        return base
    check_edits(edits)
    x_tr, y_tr = base.x_train.copy(), base.y_train.copy()
    x_te, y_te = base.x_test.copy(), base.y_test.copy()
    for edit in edits:
        if edit[0] == "add":
            label = edit[3]
            if base.task == "classification" and (
                label != int(label) or not 0 <= int(label) < base.n_classes
            ):
                raise ValueError(
                    f"added point: class {label!r} is not one of the data set's (0 to "
                    f"{base.n_classes - 1})"
                )
            point = np.array([edit[1:3]], dtype=x_tr.dtype)
            if edit[4:] == ["test"]:
                x_te, y_te = np.vstack([x_te, point]), np.append(y_te, [label]).astype(y_te.dtype)
            else:
                x_tr, y_tr = np.vstack([x_tr, point]), np.append(y_tr, [label]).astype(y_tr.dtype)
        elif edit[0] == "remove":
            target = np.array(edit[1:3], dtype=np.float64)
            split = edit[3] if len(edit) == 4 else _removal_split(x_tr, x_te, target)
            if split == "train" and len(x_tr) > 2:
                i, distance = _nearest(x_tr, target)
                if distance <= REMOVE_RADIUS:
                    x_tr, y_tr = np.delete(x_tr, i, axis=0), np.delete(y_tr, i)
            elif split == "test":
                i, distance = _nearest(x_te, target)
                if distance <= REMOVE_RADIUS:
                    x_te, y_te = np.delete(x_te, i, axis=0), np.delete(y_te, i)
    return dataclasses.replace(base, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)

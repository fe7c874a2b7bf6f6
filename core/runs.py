"""A run record: what is kept of one training run to compare it with others (its settings,
per-epoch history, final metrics, epochs, wall time, parameter count, and for a pinned run its
weights), and the checks a record read from a file passes.

A record is plain data, made by whoever trained the run (the app's live runs, a sweep) and
kept in a run list, a runs file or an experiment file (:mod:`core.runs_archive`). Its bounds
keep every such file small: at most :data:`MAX_RUNS` runs, :data:`MAX_HISTORY_ROWS` rows of
history each (longer histories are thinned, keeping the first and last epochs), and weights
only for pinned runs.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.training.history import History

#: Most runs a list, a runs file or an experiment file keeps.
MAX_RUNS = 200
#: Most rows of history a run keeps (a longer history is thinned evenly).
MAX_HISTORY_ROWS = 500
#: Most pinned runs that keep their weights.
MAX_PINNED = 20
#: Longest run name and settings (JSON characters) a record holds.
MAX_NAME_CHARS = 200
MAX_SETTINGS_CHARS = 64 * 1024
#: Run ids: 1 to 64 letters, digits, "-" or "_".
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: The app's modes, the only ones a run can be of.
MODES = ("plane", "images")
#: Control characters, refused in names (they would break tables, tooltips and CSV rows).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: First characters a spreadsheet reads as a formula; CSV cells starting so get a "'".
FORMULA_STARTS = ("=", "+", "-", "@")
COLUMNS = History.COLUMNS
#: The table's columns as CSV writes them (:func:`runs_csv`).
CSV_COLUMNS = (
    "name",
    "mode",
    "epochs",
    "steps",
    "train_loss",
    "test_loss",
    "train_acc",
    "test_acc",
    "wall_time",
    "params",
    "pinned",
    "settings",
)


@dataclass(frozen=True)
class RunRecord:
    """One run. ``history`` is ``(rows, len(COLUMNS))`` float64 (columns as
    :attr:`core.training.history.History.COLUMNS`, nan where not applicable), at most
    :data:`MAX_HISTORY_ROWS` rows; ``settings`` the settings it ran with (a session's
    ``to_dict()``); ``wall_time`` seconds of training; ``weights`` (pinned runs) keyed as
    :meth:`core.model.Sequential.get_state`, for the architecture ``spec``."""

    id: str
    name: str
    mode: str
    settings: dict[str, Any]
    history: np.ndarray
    epochs: int
    steps: int
    wall_time: float
    n_params: int
    pinned: bool = False
    created: float = 0.0
    spec: dict[str, Any] | None = None
    weights: dict[str, np.ndarray] | None = field(default=None, repr=False)

    def last(self, column: str) -> float:
        """The column's value at the last epoch (nan without one)."""
        if not len(self.history):
            return math.nan
        return float(self.history[-1, COLUMNS.index(column)])

    def curve(self, column: str, x: str = "epoch") -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of one column against ``x`` ("epoch" or "time"), finite points only."""
        xs = self.history[:, COLUMNS.index(x)]
        ys = self.history[:, COLUMNS.index(column)]
        ok = np.isfinite(xs) & np.isfinite(ys)
        return xs[ok], ys[ok]


def kept_history(rows: np.ndarray, limit: int = MAX_HISTORY_ROWS) -> np.ndarray:
    """What a record keeps of a history ``(n, k)``: all rows, or ``limit`` evenly spread ones
    that include the first and the last; infinite values (a diverged run) as nan."""
    rows = np.asarray(rows, dtype=np.float64)[_kept_rows(len(rows), limit)]
    return np.where(np.isinf(rows), np.nan, rows)


def kept_columns(columns: dict[str, np.ndarray], limit: int = MAX_HISTORY_ROWS) -> np.ndarray:
    """:func:`kept_history` of a history given as its :data:`COLUMNS` ``(n,)`` each (as a
    snapshot has it), reading only the rows it keeps: as cheap at 100,000 epochs as at 500."""
    picked = _kept_rows(len(columns[COLUMNS[0]]), limit)
    return kept_history(np.column_stack([columns[c][picked] for c in COLUMNS]), limit)


def _kept_rows(n: int, limit: int) -> np.ndarray | slice:
    """Which of ``n`` rows a record keeps (see :func:`kept_history`)."""
    if n <= limit:
        return slice(None)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def check_history_rows(rows: np.ndarray) -> None:
    """A kept history: epochs that grow from 1, steps that grow, finite times >= 0; ValueError
    naming the column otherwise. ``rows`` is ``(n, len(COLUMNS))``."""
    if rows.ndim != 2 or rows.shape[1] != len(COLUMNS) or len(rows) > MAX_HISTORY_ROWS:
        raise ValueError(f"history has shape {rows.shape}; expected (rows, {len(COLUMNS)})")
    if not len(rows):
        return
    epoch, step, time = rows[:, 0], rows[:, 1], rows[:, 2]
    if not (np.all(np.isfinite(rows[:, :3])) and epoch[0] >= 1 and np.all(np.diff(epoch) > 0)):
        raise ValueError("history's epoch column does not grow from 1")
    if not (np.all(np.diff(step) > 0) and step[0] > 0 and np.all(time >= 0)):
        raise ValueError("history's step or time column is not whole and growing")
    if np.any(np.isinf(rows)):
        raise ValueError("history holds infinite values")


def check_record_meta(entry: Any) -> dict[str, Any]:
    """Check one run's JSON part (all of a record but its arrays); returns it with its fields
    typed. ValueError naming the field and what is allowed."""
    if not isinstance(entry, dict):
        raise ValueError("a run is not an object")
    need = {"id", "name", "mode", "settings", "rows", "epochs", "steps", "wall_time", "n_params"}
    missing = sorted(need - set(entry))
    if missing:
        raise ValueError(f"a run lacks {', '.join(missing)}")
    if not isinstance(entry["id"], str) or not ID_PATTERN.fullmatch(entry["id"]):
        raise ValueError("a run's id is not 1 to 64 letters, digits, '-' or '_'")
    name = entry["name"]
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS or CONTROL.search(name):
        raise ValueError(
            f"run {entry['id']}: name is not a text of at most {MAX_NAME_CHARS} characters "
            "without control characters"
        )
    if entry["mode"] not in MODES:
        raise ValueError(
            f"run {entry['id']}: mode is {str(entry['mode'])[:40]!r}; allowed: {', '.join(MODES)}"
        )
    check_settings(entry["id"], entry["settings"])
    out = dict(entry)
    for key, high in (("rows", MAX_HISTORY_ROWS), ("epochs", 2**62), ("steps", 2**62)):
        out[key] = _whole(entry, key, high)
    out["n_params"] = _whole(entry, "n_params", 2**40)
    for key in ("wall_time", "created"):
        value = entry.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"run {entry['id']}: {key} is not a number")
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"run {entry['id']}: {key} is {value!r}; allowed: a number >= 0")
        out[key] = float(value)
    out["pinned"] = entry.get("pinned", False)
    if not isinstance(out["pinned"], bool):
        raise ValueError(f"run {entry['id']}: pinned is not true or false")
    weights = entry.get("weights", False)
    if not isinstance(weights, bool) or (weights and not isinstance(entry.get("spec"), dict)):
        raise ValueError(f"run {entry['id']}: weights must be true (with a spec) or false")
    out["weights"] = weights
    return out


def check_settings(run_id: str, settings: Any) -> None:
    """A run's settings: a JSON object of finite numbers, at most :data:`MAX_SETTINGS_CHARS`
    characters; ValueError naming the run otherwise."""
    if not isinstance(settings, dict):
        raise ValueError(f"run {run_id}: settings is not an object")
    try:
        text = json.dumps(settings, allow_nan=False)
    except ValueError:
        raise ValueError(f"run {run_id}: settings hold a value that is not finite") from None
    except (TypeError, RecursionError):
        raise ValueError(f"run {run_id}: settings are not plain JSON of a few levels") from None
    if len(text) > MAX_SETTINGS_CHARS:
        raise ValueError(f"run {run_id}: settings take more than {MAX_SETTINGS_CHARS:,} chars")


def _whole(entry: dict[str, Any], key: str, high: int) -> int:
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        allowed = f"a whole number 0..{high:,}"
        raise ValueError(f"run {entry['id']}: {key} is {value!r}; allowed: {allowed}")
    return value


def record_meta(record: RunRecord) -> dict[str, Any]:
    """The JSON part of ``record`` (its arrays apart), as :func:`check_record_meta` reads it."""
    meta = {
        "id": record.id,
        "name": record.name,
        "mode": record.mode,
        "settings": record.settings,
        "rows": len(record.history),
        "epochs": record.epochs,
        "steps": record.steps,
        "wall_time": float(record.wall_time),
        "n_params": record.n_params,
        "pinned": record.pinned,
        "created": float(record.created),
        "weights": record.weights is not None and record.pinned,
    }
    if meta["weights"]:
        meta["spec"] = record.spec
    return meta


def _cell(value: float) -> str:
    """A number at full precision (it reads back as the same float); "" for nan."""
    return "" if math.isnan(value) else repr(float(value))


def _text_cell(text: str) -> str:
    """A text a spreadsheet shows as text: one that would start a formula gets a "'"."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def runs_csv(records: list[RunRecord]) -> str:
    """The runs as CSV text: one row per run, columns :data:`CSV_COLUMNS` (settings as JSON)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for r in records:
        metrics = [_cell(r.last(k)) for k in ("train_loss", "test_loss", "train_acc", "test_acc")]
        writer.writerow(
            [_text_cell(r.name), r.mode, r.epochs, r.steps, *metrics, _cell(r.wall_time)]
            + [r.n_params, int(r.pinned), json.dumps(r.settings, sort_keys=True)]
        )
    return text.getvalue()

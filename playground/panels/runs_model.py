"""The run list as a Qt table model: one row per run record (:class:`core.runs.RunRecord`),
its name (ticked to overlay its curves, in its colour; edited to rename it), pin, epochs, final
metrics, wall time and parameter count. Records come in whole through :meth:`RunsModel.add`
and :meth:`RunsModel.update` (the live run, a sweep, a file), keyed by their ``id``.
"""

from __future__ import annotations

import html
import math
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QColor

from core.runs import MAX_NAME_CHARS, MAX_PINNED, MAX_RUNS, RunRecord

#: (header, what the column shows, tooltip)
COLUMNS = (
    ("Run", "name", "Tick to overlay its curves; F2 renames; double-click restores its settings"),
    ("Pin", "pinned", "A pinned run keeps its weights: restoring it restores them too"),
    ("Epochs", "epochs", "Epochs trained"),
    ("Train loss", "train_loss", "Training loss at the last epoch"),
    ("Test loss", "test_loss", "Test loss at the last epoch"),
    ("Train acc", "train_acc", "Training accuracy at the last epoch"),
    ("Test acc", "test_acc", "Test accuracy at the last epoch"),
    ("Time", "wall_time", "Seconds of training"),
    ("Params", "n_params", "Trainable parameters"),
)
NAME, PIN = 0, 1
#: The first overlay colours, apart from the live run's blue and orange; more are made by
#: :func:`overlay_color`.
PALETTE = (
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (23, 190, 207),
    (188, 189, 34),
    (127, 127, 127),
)
#: Why a run without weights can't be pinned.
NO_WEIGHTS = (
    "Its weights are no longer kept (only pinned runs and the last few runs keep theirs): "
    "restoring it restores its settings only"
)


def overlay_color(k: int) -> QColor:
    """The ``k``-th overlay colour: :data:`PALETTE`, then hues a golden angle apart (each new
    one far from the ones before), at three levels of brightness."""
    if k < len(PALETTE):
        return QColor(*PALETTE[k])
    k -= len(PALETTE)
    hue = (0.07 + k * 0.618034) % 1.0
    return QColor.fromHsvF(hue, 0.85, (0.95, 0.7, 0.5)[(k // 12) % 3])


_ROOT = QModelIndex()
#: The role that sorts: raw numbers (nan last), names as text.
SORT_ROLE = Qt.ItemDataRole.UserRole


def cell_value(record: RunRecord, what: str) -> Any:
    """The raw value a column shows (a number, a name, a pin)."""
    if what in ("train_loss", "test_loss", "train_acc", "test_acc"):
        return record.last(what)
    return getattr(record, what)


def cell_text(value: Any, what: str) -> str:
    if what == "pinned":
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "—"
    if what.endswith("acc"):
        return f"{value:.1%}"
    if what.endswith("loss"):
        return f"{value:.4g}"
    if what == "wall_time":
        return f"{value:.1f} s"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class RunsModel(QAbstractTableModel):
    """``changed`` follows every change worth saving (a run added, renamed, pinned, deleted);
    ``overlayChanged`` every change of the ticked runs or their data; ``refused`` says why
    an edit was refused (too many pins)."""

    changed = Signal()
    overlayChanged = Signal()
    refused = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self.colors: dict[str, QColor] = {}  # ticked run id -> its colour

    # -- records in and out --------------------------------------------------------------------
    def add(self, record: RunRecord) -> bool:
        """Add a run (or replace the one with its id); the oldest unpinned runs leave beyond
        :data:`core.runs.MAX_RUNS`. A pinned run with weights past :data:`core.runs.MAX_PINNED`
        keeps its pin but not its weights: False then."""
        if self.row_of(record.id) is not None:
            self.update(record)
            return True
        kept = not (record.pinned and record.weights is not None and self.pins_full())
        if not kept:
            record = replace(record, weights=None, spec=None)
        self.beginInsertRows(QModelIndex(), len(self.records), len(self.records))
        self.records.append(record)
        self.endInsertRows()
        while len(self.records) > MAX_RUNS:
            unpinned = [r.id for r in self.records if not r.pinned] or [self.records[0].id]
            self.remove([unpinned[0]])
        self.changed.emit()
        return kept

    def pins_full(self) -> bool:
        """Whether :data:`core.runs.MAX_PINNED` runs keep their weights already."""
        return sum(r.pinned and r.weights is not None for r in self.records) >= MAX_PINNED

    def update(self, record: RunRecord) -> None:
        """Replace the run with ``record``'s id (added if it is not in the list)."""
        row = self.row_of(record.id)
        if row is None:
            self.add(record)
            return
        self.records[row] = record
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        if record.id in self.colors:
            self.overlayChanged.emit()

    def remove(self, ids: list[str]) -> None:
        for run_id in ids:
            row = self.row_of(run_id)
            if row is None:
                continue
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.records[row]
            self.endRemoveRows()
            if self.colors.pop(run_id, None) is not None:
                self.overlayChanged.emit()
        self.changed.emit()

    def row_of(self, run_id: str) -> int | None:
        return next((i for i, r in enumerate(self.records) if r.id == run_id), None)

    def record(self, run_id: str) -> RunRecord | None:
        row = self.row_of(run_id)
        return None if row is None else self.records[row]

    def ticked(self) -> list[tuple[RunRecord, QColor]]:
        """The ticked runs with their colours, in list order."""
        return [(r, self.colors[r.id]) for r in self.records if r.id in self.colors]

    def set_ticked(self, run_id: str, on: bool) -> None:
        row = self.row_of(run_id)
        if row is None or on == (run_id in self.colors):
            return
        if on:
            used = {c.rgb() for c in self.colors.values()}
            k = next(k for k in range(len(used) + 1) if overlay_color(k).rgb() not in used)
            self.colors[run_id] = overlay_color(k)
        else:
            del self.colors[run_id]
        self.dataChanged.emit(self.index(row, NAME), self.index(row, NAME))
        self.overlayChanged.emit()

    def set_pinned(self, run_id: str, on: bool) -> bool:
        """Pin or unpin a run; False (and ``refused``) beyond :data:`core.runs.MAX_PINNED`."""
        record = self.record(run_id)
        if record is None:
            return False
        if on and record.weights is None:
            self.refused.emit(f"{record.name}: {NO_WEIGHTS.lower()}.")
            return False
        if on and self.pins_full():
            self.refused.emit(f"At most {MAX_PINNED} runs keep their weights: unpin one first.")
            return False
        self.update(replace(record, pinned=on))
        self.changed.emit()
        return True

    def rename(self, run_id: str, name: str) -> None:
        record, name = self.record(run_id), name.strip()[:MAX_NAME_CHARS]
        if record is not None and name and name != record.name:
            self.update(replace(record, name=name))
            self.changed.emit()
            if run_id in self.colors:
                self.overlayChanged.emit()

    # -- Qt's model interface ------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = _ROOT) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: QModelIndex = _ROOT) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][2]
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() in (NAME, PIN):
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        if index.column() == PIN and not self._can_pin(self.records[index.row()]):
            flags &= ~Qt.ItemFlag.ItemIsEnabled
        if index.column() == NAME:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        record, what = self.records[index.row()], COLUMNS[index.column()][1]
        value = cell_value(record, what)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return cell_text(value, what)
        if role == SORT_ROLE:
            if isinstance(value, float) and math.isnan(value):
                return None  # runs without the value: last either way (RunsProxy)
            return value.lower() if isinstance(value, str) else float(value)
        checked = Qt.CheckState.Checked, Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == NAME:
            return checked[0] if record.id in self.colors else checked[1]
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == PIN:
            return checked[0] if record.pinned else checked[1]
        if role == Qt.ItemDataRole.DecorationRole and index.column() == NAME:
            return self.colors.get(record.id)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == NAME:
            return html.escape(record.name)  # a tooltip may be read as rich text
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == PIN:
            return None if self._can_pin(record) else NO_WEIGHTS
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > PIN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _can_pin(record: RunRecord) -> bool:
        """A run can be pinned if it still has its weights (and unpinned always)."""
        return record.pinned or record.weights is not None

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid():
            return False
        run_id = self.records[index.row()].id
        if role == Qt.ItemDataRole.CheckStateRole:
            on = Qt.CheckState(value) == Qt.CheckState.Checked
            if index.column() == NAME:
                self.set_ticked(run_id, on)
                return True
            if index.column() == PIN:
                return self.set_pinned(run_id, on)
        if role == Qt.ItemDataRole.EditRole and index.column() == NAME:
            self.rename(run_id, str(value))
            return True
        return False

"""The Runs panel: a sortable table of the runs kept (:class:`playground.panels.runs_model.
RunsModel`), ticked to overlay their curves, with Restore, Delete and Export CSV….

Double-click (or Restore) asks for a run's settings in the editor (``restoreRequested``: the
run's id); F2 or the context menu renames; the Pin column keeps a run's weights; Delete
removes the selected runs. Export CSV… writes the table (every run, full precision) through
the file dialogs, atomically.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.atomic import atomic_write
from core.runs import runs_csv
from playground import file_dialogs
from playground.panels.runs_model import NAME, SORT_ROLE, RunsModel

#: Pixels the name column starts with.
NAME_WIDTH = 220


class RunsProxy(QSortFilterProxyModel):
    """Sorts by :data:`SORT_ROLE`; runs without a value (None) come last in either order."""

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:  # noqa: N802 (Qt name)
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is None or b is None:
            # Qt reverses the comparison for a descending sort: missing is "least" then
            descending = self.sortOrder() == Qt.SortOrder.DescendingOrder
            return a is not b and (a is None) == descending
        return a < b


class RunsPanel(QWidget):
    """``restoreRequested(id)``: restore that run's settings (and a pinned run's weights)."""

    restoreRequested = Signal(str)

    def __init__(self, model: RunsModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model if model is not None else RunsModel(self)
        self.proxy = RunsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # list order until a click
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The name is read first: wide enough for a name of a few settings; the table
        # scrolls sideways in a narrow panel.
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(NAME, NAME_WIDTH)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.customContextMenuRequested.connect(self._menu)
        self.note = QLabel()  # why the saved runs could not be read, until a run is added
        self.note.setWordWrap(True)
        self.note.hide()
        self.empty = QLabel("Every run you train for an epoch is kept here.")
        self.empty.setEnabled(False)
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip("Put the selected run's settings in the editor.")
        self.restore_button.clicked.connect(self.restore_selected)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setToolTip("Write the table of runs as a CSV file.")
        self.csv_button.clicked.connect(lambda: self.export_csv())
        delete = QAction(self)
        delete.setShortcut(QKeySequence.StandardKey.Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        delete.triggered.connect(self.delete_selected)
        self.table.addAction(delete)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.empty)
        buttons.addStretch(1)
        for button in (self.restore_button, self.delete_button, self.csv_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._show_empty)
        self._show_empty()

    def _show_empty(self, *_) -> None:
        has_runs = bool(self.model.records)
        self.empty.setVisible(not has_runs)
        for button in (self.restore_button, self.delete_button, self.csv_button):
            button.setEnabled(has_runs)

    def show_problem(self, text: str) -> None:
        """Say above the table why the saved runs were not read ("" hides it)."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    # -- selection and actions -----------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.records[r].id for r in sorted(rows)]

    def _double_clicked(self, index) -> None:
        self.restoreRequested.emit(self.model.records[self.proxy.mapToSource(index).row()].id)

    def restore_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.restoreRequested.emit(ids[0])

    def delete_selected(self) -> None:
        """Delete the selected runs; asks first when a pinned run with weights is among them."""
        ids = self.selected_ids()
        kept = [r.name for r in map(self.model.record, ids) if r.pinned and r.weights is not None]
        if kept:
            answer = QMessageBox.question(
                self,
                "Delete pinned runs?",
                f"{len(kept)} of the selected runs {'are' if len(kept) > 1 else 'is'} pinned "
                f"and keep{'s' * (len(kept) == 1)} {'their' if len(kept) > 1 else 'its'} "
                f"weights ({', '.join(kept[:3])}{', …' if len(kept) > 3 else ''}). Delete "
                "them with the others?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.model.remove(ids)

    def rename_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            row = self.proxy.mapFromSource(self.model.index(self.model.row_of(ids[0]), NAME))
            self.table.edit(row)

    def _menu(self, pos: QPoint) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        record = self.model.record(ids[0])
        menu = QMenu(self)
        menu.addAction("Restore settings", self.restore_selected)
        menu.addAction("Rename", self.rename_selected)
        pin = "Unpin" if record.pinned else "Pin (keep its weights)"
        menu.addAction(pin, lambda: self.model.set_pinned(record.id, not record.pinned))
        menu.addAction("Delete", self.delete_selected)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def export_csv(self, path: str | None = None) -> bool:
        """Write every run as a CSV row (see :func:`core.runs.runs_csv`), atomically."""
        if not self.model.records:
            return False
        if path is None:
            path, _ = file_dialogs.save_file(self, "csv", "Export runs", "runs.csv", "CSV (*.csv)")
        if not path:
            return False
        text = runs_csv(self.model.records).encode()
        try:
            atomic_write(path, lambda f: f.write(text))
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return False
        return True

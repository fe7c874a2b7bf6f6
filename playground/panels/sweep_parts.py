"""The parts of Run ▸ Sweep… (:mod:`playground.panels.sweep_dialog`): a row choosing a setting
to vary and its values, and what the table of runs says of a run."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QWidget

from core.sweep.task import RunResult
from playground.sweep_plan import SWEEP_SETTINGS, parse_values

NOTHING = "Nothing else"


def metric(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if percent else f"{value:.4g}"


class SettingRow(QWidget):
    """A setting to vary (a box of the settings) and its values (a comma-separated list)."""

    def __init__(self, first: str | None, optional: bool) -> None:
        super().__init__()
        self.key_box = QComboBox()
        if optional:
            self.key_box.addItem(NOTHING, None)
        for key, (label, _) in SWEEP_SETTINGS.items():
            self.key_box.addItem(label, key)
        self.values_edit = QLineEdit()
        self.values_edit.setToolTip("Values separated by commas, e.g. 0.003, 0.01, 0.03")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.key_box)
        layout.addWidget(self.values_edit, 1)
        self.key_box.currentIndexChanged.connect(self._key_changed)
        self.key_box.setCurrentIndex(max(0, self.key_box.findData(first)))
        self._key_changed()

    @property
    def key(self) -> str | None:
        return self.key_box.currentData()

    def _key_changed(self) -> None:
        """Another setting: its usual values, to edit."""
        key = self.key
        self.values_edit.setEnabled(key is not None)
        self.values_edit.setText(SWEEP_SETTINGS[key][1] if key else "")

    def sweep(self) -> tuple[str, tuple[Any, ...]] | None:
        """(key, values), None when nothing is chosen; ValueError naming the setting."""
        key = self.key
        return None if key is None else (key, parse_values(key, self.values_edit.text()))


def outcome(result: RunResult) -> str:
    """What the progress column says of a finished run: its epochs and seconds, or why it
    stopped (e.g. "diverged"; the whole reason for a run that trained no epoch, which does not
    join the Runs tab)."""
    if result.epochs < 1:
        return result.reason if result.reason != "epochs" else "no epoch trained"
    if result.reason != "epochs":
        return result.reason.split(":")[0]
    return f"{result.epochs} epochs, {result.seconds:.1f} s"

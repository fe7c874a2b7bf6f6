"""Small input widgets shared by the panels."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

LEARNING_RATES = (1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)


def spin(lo: int, hi: int, tip: str, step: int = 1) -> QSpinBox:
    """An integer box that reports a value only when editing is finished."""
    w = QSpinBox()
    w.setRange(lo, hi)
    w.setSingleStep(step)
    w.setToolTip(tip)
    w.setKeyboardTracking(False)
    return w


def dspin(lo: float, hi: float, step: float, decimals: int, tip: str) -> QDoubleSpinBox:
    w = QDoubleSpinBox()
    w.setRange(lo, hi)
    w.setSingleStep(step)
    w.setDecimals(decimals)
    w.setToolTip(tip)
    w.setKeyboardTracking(False)
    return w


class RateBox(QComboBox):
    """An editable list of log-spaced rates that also accepts any number typed in.

    ``valueChanged(float)`` fires for a valid new value; invalid text is refused and the last
    value restored."""

    valueChanged = Signal(float)

    def __init__(self, choices: tuple[float, ...], low: float, high: float, tip: str) -> None:
        super().__init__()
        self.setEditable(True)
        self.low, self.high = low, high
        for value in choices:
            self.addItem(f"{value:g}", value)
        validator = QDoubleValidator(low, high, 8, self)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        self.lineEdit().setValidator(validator)
        self.setToolTip(tip)
        self._value = choices[0]
        self.activated.connect(lambda _: self._commit(self.currentText()))
        self.lineEdit().editingFinished.connect(lambda: self._commit(self.currentText()))

    def value(self) -> float:
        return self._value

    def setValue(self, value: float) -> None:  # noqa: N802 (Qt naming)
        self._value = float(value)
        self.setEditText(f"{value:g}")

    def _commit(self, text: str) -> None:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and self.low <= value <= self.high):
            self.setEditText(f"{self._value:g}")
            return
        if value != self._value:
            self._value = value
            self.valueChanged.emit(value)


def choice_box(items: list[tuple[str, str, str]], tip: str) -> QComboBox:
    """A combo box of ``(value, text, tooltip)`` items; ``currentData()`` is the value."""
    w = QComboBox()
    for value, text, item_tip in items:
        w.addItem(text, value)
        w.setItemData(w.count() - 1, item_tip, Qt.ItemDataRole.ToolTipRole)
    w.setToolTip(tip)
    return w

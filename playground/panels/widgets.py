"""Small input widgets shared by the panels.

Every box a number can be typed in checks it when the entry is committed (Enter, or leaving the
box), against the range the engine accepts (:class:`Limits`, built from the engine's constants).
A refused entry is shown, never dropped silently: the box gets a red frame and its tooltip says
what was typed and what is allowed, and the box goes back to the value in use. The allowed range
is always part of the tooltip. Keys are never swallowed while typing, so "15" in a box whose
maximum is 11 stays "15" until it is committed and refused (a plain QSpinBox would keep "1").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QPainter, QPaintEvent, QPen, QValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolTip,
    QWidget,
)

LEARNING_RATES = (1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
REFUSED_COLOR = "#d03030"
_COMMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


@dataclass(frozen=True)
class Limits:
    """The values a field accepts: ``[low, high]``, an end open with ``low_open``/``high_open``,
    whole numbers only with ``integer``. Panels build them from the engine's own bounds."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def contains(self, value: float) -> bool:
        if not math.isfinite(value) or (self.integer and value != int(value)):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def allowed(self) -> str:
        """In words, e.g. "a whole number from 1 to 11", "a number above 0, up to 100"."""
        kind = "a whole number" if self.integer else "a number"
        low = f"above {self.low:g}" if self.low_open else f"from {self.low:g}"
        high = f"up to {self.high:g}" if self.low_open else f"to {self.high:g}"
        if self.high_open:
            high = f"below {self.high:g}" if self.low_open else f"to below {self.high:g}"
        return f"{kind} {low}{',' if self.low_open else ''} {high}"


def refusal_message(text: str, limits: Limits, kept: str) -> str:
    """What a refused box says: the entry, what is allowed and the value still in use."""
    entry = f"“{text.strip()}”" if text.strip() else "An empty entry"
    return f"{entry} is not allowed here: type {limits.allowed()}. Still using {kept}."


class _Refusable:
    """Mixin for a Qt input widget: shows a refused entry (red frame, reason as tooltip) until
    the user edits the box again or another value is put in use. Call :meth:`set_tip` instead of
    ``setToolTip``."""

    limits: Limits
    _tip = ""
    _refusal = ""

    def set_tip(self, tip: str) -> None:
        """Show ``tip`` followed by the allowed range."""
        self._tip = tip
        self._show_tip()

    def _show_tip(self) -> None:
        tip = f"{self._tip} Allowed: {self.limits.allowed()}."
        self.setToolTip(f"{self._refusal}\n\n{tip}" if self._refusal else tip)

    def refusal(self) -> str:
        """The reason the last entry was refused ("" once an entry was accepted)."""
        return self._refusal

    def _refuse(self, message: str) -> None:
        self._refusal = message
        self._show_tip()
        self.update()
        if self.isVisible():  # at once, not only on hover
            QToolTip.showText(self.mapToGlobal(QPoint(0, self.height())), message, self)

    def _clear_refusal(self) -> None:
        if self._refusal:
            self._refusal = ""
            self._show_tip()
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt naming)
        super().paintEvent(event)
        if self._refusal:
            painter = QPainter(self)
            painter.setPen(QPen(QColor(REFUSED_COLOR), 2))
            painter.drawRect(self.rect().adjusted(1, 1, -1, -1))


class _CheckedSpin(_Refusable):
    """Mixin for QSpinBox/QDoubleSpinBox: out-of-range numbers may be typed in full, and are
    refused visibly when committed (Qt then restores the value in use)."""

    def validate(self, text: str, pos: int) -> object:
        result = super().validate(text, pos)
        state = result[0] if isinstance(result, tuple) else result
        if state == QValidator.State.Invalid and self._typed_number(text) is not None:
            return QValidator.State.Intermediate, text, pos  # refused on commit, with a reason
        return result

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        if event.key() in _COMMIT_KEYS:
            self._check_entry()
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt naming)
        self._check_entry()
        super().focusOutEvent(event)

    def _typed_number(self, text: str) -> float | None:
        core = text.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()
        value, ok = self.locale().toDouble(core)
        return value if ok else None

    def _check_entry(self) -> None:
        text = self.lineEdit().text()
        if self.specialValueText() and text == self.specialValueText():
            return
        value = self._typed_number(text)
        if value is None or not self.limits.contains(value):
            shown = text.removeprefix(self.prefix()).removesuffix(self.suffix())
            special = self.specialValueText() and self.value() == self.minimum()
            kept = self.specialValueText() if special else self.textFromValue(self.value())
            self._refuse(refusal_message(shown, self.limits, kept))


def _checked_spin(w: _CheckedSpin, tip: str) -> None:
    """What every checked box shares: value reported when editing is finished, the allowed
    range in the tooltip, a refusal shown until the box is edited or its value changes."""
    w.set_tip(tip)
    w.setKeyboardTracking(False)
    w.lineEdit().textEdited.connect(w._clear_refusal)
    w.valueChanged.connect(w._clear_refusal)


class IntBox(_CheckedSpin, QSpinBox):
    """A whole-number box that reports a value only when editing is finished; it accepts its
    range (which a panel may narrow, e.g. the batch size to the training set's size)."""

    @property
    def limits(self) -> Limits:
        return Limits(self.minimum(), self.maximum(), integer=True)

    def setMaximum(self, value: int) -> None:  # noqa: N802 (Qt naming)
        super().setMaximum(value)
        self._show_tip()


class FloatBox(_CheckedSpin, QDoubleSpinBox):
    """A decimal box that reports a value only when editing is finished."""


def spin(lo: int, hi: int, tip: str, step: int = 1) -> IntBox:
    """An integer box for ``[lo, hi]``; the tooltip ``tip`` gets the allowed range."""
    w = IntBox()
    w.setRange(lo, hi)
    w.setSingleStep(step)
    _checked_spin(w, tip)
    return w


def dspin(limits: Limits, step: float, decimals: int, tip: str) -> FloatBox:
    """A decimal box for ``limits``: its arrows stop at the last value ``decimals`` can show
    inside an open end (e.g. 0.999 for [0, 1) with 3 decimals)."""
    w = FloatBox()
    w.limits = limits
    w.setDecimals(decimals)
    unit = 10.0**-decimals
    w.setRange(
        limits.low + unit if limits.low_open else limits.low,
        limits.high - unit if limits.high_open else limits.high,
    )
    w.setSingleStep(step)
    _checked_spin(w, tip)
    return w


class RateBox(_Refusable, QComboBox):
    """An editable list of log-spaced rates that also accepts any number of ``limits`` typed in.

    ``valueChanged(float)`` fires for an accepted new value; anything else is refused visibly
    and the box shows the value in use again."""

    valueChanged = Signal(float)

    def __init__(
        self, choices: tuple[float, ...], limits: Limits, tip: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # typed values stay off the list
        self.setCompleter(None)  # "1" stays 1, not an inline-completed "1e-05"
        self.limits = limits
        for value in choices:
            self.addItem(f"{value:g}", value)
        self.set_tip(tip)
        self._value = choices[0]
        self.activated.connect(lambda _: self._commit(self.currentText()))
        self.lineEdit().editingFinished.connect(lambda: self._commit(self.currentText()))
        self.lineEdit().textEdited.connect(self._clear_refusal)

    def value(self) -> float:
        return self._value

    def setValue(self, value: float) -> None:  # noqa: N802 (Qt naming)
        self._value = float(value)
        self.setEditText(f"{value:g}")
        self._clear_refusal()

    def _commit(self, text: str) -> None:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not self.limits.contains(value):
            self._refuse(refusal_message(text, self.limits, f"{self._value:g}"))
            self.setEditText(f"{self._value:g}")
            return
        if value != self._value:
            self._clear_refusal()
            self._value = value
            self.valueChanged.emit(value)


def push_button(text: str, tip: str, clicked: Callable[[], None]) -> QPushButton:
    """A push button ``text`` with the tooltip ``tip`` that calls ``clicked()``."""
    w = QPushButton(text)
    w.setToolTip(tip)
    w.clicked.connect(lambda: clicked())
    return w


def choice_box(items: list[tuple[str, str, str]], tip: str) -> QComboBox:
    """A combo box of ``(value, text, tooltip)`` items; ``currentData()`` is the value."""
    w = QComboBox()
    for value, text, item_tip in items:
        w.addItem(text, value)
        w.setItemData(w.count() - 1, item_tip, Qt.ItemDataRole.ToolTipRole)
    w.setToolTip(tip)
    return w


def pair_grid() -> QGridLayout:
    """A form of two label/field pairs a row, both fields stretching: it keeps a panel short
    enough to stand beside the others."""
    grid = QGridLayout()
    grid.setHorizontalSpacing(6)
    grid.setColumnStretch(1, 1)
    grid.setColumnStretch(3, 1)
    return grid


def add_pair(
    grid: QGridLayout, row: int, col: int, text: str, widget: QWidget, span: int = 1
) -> QLabel:
    """Put a label ``text`` at (``row``, ``col``) and ``widget`` after it (over ``span``
    columns); the label is the widget's buddy, so its shortcut focuses the widget."""
    label = QLabel(text)
    label.setBuddy(widget)
    grid.addWidget(label, row, col)
    grid.addWidget(widget, row, col + 1, 1, span)
    return label


def add_pairs(grid: QGridLayout, first_row: int, pairs: list[tuple[str, QWidget]]) -> None:
    """Lay ``(label text, widget)`` pairs two a row from ``first_row`` (see :func:`add_pair`)."""
    for i, (text, widget) in enumerate(pairs):
        add_pair(grid, first_row + i // 2, 2 * (i % 2), text, widget)

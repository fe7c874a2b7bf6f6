"""Controls the Lab's pages share: a choice box over named keys and a row of labelled
controls above the pictures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget


def choice_box(names: Mapping[str, str], current: str) -> QComboBox:
    """A combo box showing ``names``' values, each item's data its key, ``current`` chosen."""
    box = QComboBox()
    for key, text in names.items():
        box.addItem(text, key)
    box.setCurrentIndex(list(names).index(current))
    return box


def control_row(controls: Sequence[tuple[str, QWidget]]) -> QHBoxLayout:
    """``(label, control)`` pairs side by side, left-aligned."""
    row = QHBoxLayout()
    for text, widget in controls:
        row.addWidget(QLabel(text))
        row.addWidget(widget)
        row.addSpacing(10)
    row.addStretch(1)
    return row

"""The gradient check's result (:func:`core.lab.backprop.gradient_check`) as a table, one row
per layer: its weights, the relative error between backprop and central differences, and ✓
(below :data:`TOLERANCE`), ≈ (above it, but within what the loss's rounding allows: a point
the network is very sure of) or ✗; a sentence under it says what the rows mean."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.lab.backprop import STEP, LayerCheck
from playground.lab.widgets import set_row, table

#: Relative error below which backprop and central differences agree.
TOLERANCE = 1e-6
ROUNDING_MARK, AMBER = "≈", "#d29922"


class GradientCheckView(QWidget):
    def __init__(self, layers: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table(
            ["layer", "weights", "relative error", ""], rows=layers, widest=["", "", "", " ✓ "]
        )
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(self.note)
        self.show_checks(None)

    def show_checks(self, checks: tuple[LayerCheck, ...] | None) -> None:
        """Fill the table with ``checks`` (None: empty, the check not yet made)."""
        for k in range(self.table.rowCount()):
            set_row(self.table, k, [k + 1, "", "", ""])
        if not checks:
            self.note.setText(
                "Press Gradient check to measure the gradient again by central differences."
            )
            return
        if not all(np.isfinite(c.error) for c in checks):
            self.note.setText(
                "The network's numbers are not finite (the run diverged): nothing to check."
            )
            return
        rounding, wrong = [], []
        for k, c in enumerate(checks):
            ok = c.error < TOLERANCE
            set_row(self.table, k, [k + 1, c.n_params, f"{c.error:.2e}", ok])
            if not ok and c.error <= c.limit:
                self.table.item(k, 3).setText(ROUNDING_MARK)
                self.table.item(k, 3).setForeground(pg.mkColor(AMBER))
                rounding.append(k)
            elif not ok:
                wrong.append(k + 1)
        worst = max(c.error for c in checks)
        if wrong:
            layers = ", ".join(map(str, wrong))
            text = f"Backprop and central differences disagree on layer {layers}."
        elif rounding:
            text = (
                "The network is so sure of this point that its gradient is tiny; the loss is "
                "rounded to about 10⁻¹⁵, which central differences divide by 2h: that rounding, "
                f"not backprop, sets the error ({ROUNDING_MARK}). Choose a point it is less "
                "sure of."
            )
        else:
            text = (
                f"Backprop and central differences (h = {STEP:.0e}) agree to {worst:.0e} on "
                "every layer."
            )
        self.note.setText(text)

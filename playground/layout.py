"""Small layout helpers shared by the window's modes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QGroupBox, QScrollArea, QSplitter, QVBoxLayout, QWidget


def group(title: str, widget: QWidget) -> QGroupBox:
    """``widget`` in a titled box with tight margins."""
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 8, 4, 4)
    layout.addWidget(widget)
    return box


class ScrollColumn(QScrollArea):
    """A vertically scrolling column never narrower than its content needs: panels that grow
    (a wider network editor) widen the column instead of being cut off."""

    def __init__(self, column: QWidget) -> None:
        super().__init__()
        self.setWidget(column)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        column.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        bar = self.verticalScrollBar().sizeHint().width()
        width = self.widget().minimumSizeHint().width() + bar + 2 * self.frameWidth()
        return QSize(width, super().minimumSizeHint().height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the content's needs changed: ask the splitter again
        return super().eventFilter(watched, event)


def scroll_column(widgets: Sequence[QWidget]) -> ScrollColumn:
    """Widgets stacked top-down in a :class:`ScrollColumn`."""
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return ScrollColumn(column)


@dataclass(frozen=True)
class Workspace:
    """A mode's resizable layout: three columns above, views side by side below."""

    top: QSplitter
    bottom: QSplitter
    main: QSplitter


def workspace(
    columns: Sequence[QWidget],
    widths: Sequence[int],
    stretch: Sequence[int],
    below: Sequence[QWidget],
) -> Workspace:
    """The splitters of a mode: ``columns`` left to right with initial ``widths`` (the first
    column at least as wide as it needs) and ``stretch`` factors, ``below`` under them taking
    a quarter of the height."""
    top = QSplitter(Qt.Orientation.Horizontal)
    for i, widget in enumerate(columns):
        top.addWidget(widget)
        top.setStretchFactor(i, stretch[i])
    top.setSizes([max(widths[0], columns[0].minimumSizeHint().width()), *widths[1:]])
    bottom = QSplitter(Qt.Orientation.Horizontal)
    for widget in below:
        bottom.addWidget(widget)
    main = QSplitter(Qt.Orientation.Vertical)
    main.addWidget(top)
    main.addWidget(bottom)
    main.setStretchFactor(0, 3)
    main.setStretchFactor(1, 1)
    main.setSizes([560, 240])
    return Workspace(top, bottom, main)

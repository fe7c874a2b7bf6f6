"""Small layout helpers shared by the window's modes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)


def group(title: str, widget: QWidget) -> QGroupBox:
    """``widget`` in a titled box with tight margins."""
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(2, 8, 2, 2)
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


class SquareBox(QWidget):
    """Holds one widget as the largest centred square that fits (a plot of a square domain
    stays square in a wide or tall column)."""

    def __init__(self, child: QWidget) -> None:
        super().__init__()
        self.child = child
        child.setParent(self)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(120, 120)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(400, 400)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        side = min(self.width(), self.height())
        self.child.setGeometry((self.width() - side) // 2, (self.height() - side) // 2, side, side)


class EditorAndView(QWidget):
    """An editor above a view, the editor never taking more than ``share`` of the height: a
    long editor (many layers) scrolls instead of shrinking the view to thumbnails."""

    def __init__(self, editor: QWidget, view: QWidget, share: float = 0.45) -> None:
        super().__init__()
        self.share = share
        self.editor = QScrollArea()
        self.editor.setWidget(editor)
        self.editor.setWidgetResizable(True)
        self.editor.setFrameShape(QFrame.Shape.NoFrame)
        self.editor.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.editor.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        editor.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor)
        layout.addWidget(view, 1)

    def _fit_editor(self) -> None:
        content = self.editor.widget()
        need = content.sizeHint().height() + 2 * self.editor.frameWidth()
        cap = max(int(self.height() * self.share), 1)
        self.editor.setFixedHeight(min(need, cap))
        bar = self.editor.verticalScrollBar().sizeHint().width() if need > cap else 0
        self.editor.setMinimumWidth(content.minimumSizeHint().width() + bar)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit_editor()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.LayoutRequest:
            self._fit_editor()  # rows were added or removed
        return super().eventFilter(watched, event)


@dataclass(frozen=True)
class Splits:
    """A mode's resizable layout: three columns above, views side by side below."""

    top: QSplitter
    bottom: QSplitter
    main: QSplitter


def mode_splits(
    columns: Sequence[QWidget],
    widths: Sequence[int],
    stretch: Sequence[int],
    below: Sequence[QWidget],
) -> Splits:
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
    return Splits(top, bottom, main)

"""The bars above the workspace: the banner (a problem, e.g. a run that can't be built) and the
hint bar (a non-blocking hint while a run does not learn)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget


class HintBar(QFrame):
    """A non-blocking hint above the workspace (a run that does not learn): it follows the run's
    snapshots, shown while they carry a hint; × hides it until the next run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hint")
        self.setStyleSheet(
            "#hint { background: #fff4ce; border-radius: 4px; } #hint QLabel { color: #5c4400; }"
        )
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Hide this hint until the next run.")
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.dismissed = False
        self.hide()

    def show_hint(self, text: str | None) -> None:
        """Show ``text`` (None: the run learns again, hide it) unless dismissed for this run."""
        if text and not self.dismissed:
            self.label.setText(text)
            self.show()
        else:
            self.hide()

    def dismiss(self) -> None:
        self.dismissed = True
        self.hide()

    def clear(self) -> None:
        """A new run: no hint, and the next one shows."""
        self.dismissed = False
        self.hide()


class Banner(QLabel):
    """A problem shown above the workspace, in red, until it is hidden ("")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.setStyleSheet(
            "#banner { background: #fde2e1; color: #8a1c13; padding: 8px; border-radius: 4px; }"
        )
        self.hide()

    def show_text(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))

"""Help ▸ About: the icon, the version, and the versions of what the app runs on."""

from __future__ import annotations

import platform

import numpy as np
import pyqtgraph
import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

import core
from playground.icon import app_icon


def versions() -> dict[str, str]:
    """What the about box lists: this app and the libraries under it."""
    return {
        "NN Playground": core.__version__,
        "NumPy": np.__version__,
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "pyqtgraph": pyqtgraph.__version__,
        "Python": platform.python_version(),
    }


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About NN Playground")
        self.icon = QLabel()
        self.icon.setPixmap(app_icon().pixmap(96, 96))
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        rows = "".join(
            f"<tr><td>{k}</td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in versions().items()
        )
        self.text = QLabel(
            f"<h2>NN Playground {core.__version__}</h2>"
            "<p>Build a neural network, watch it learn, and see why it does: a desktop "
            "playground over an engine written in NumPy.</p>"
            f"<table>{rows}</table>"
        )
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.icon)
        top.addSpacing(12)
        top.addWidget(self.text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)


def show_about(parent: QWidget) -> AboutDialog:
    """Help ▸ About over ``parent``, closed and deleted by the user."""
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def add_help_menu(window: QMainWindow) -> None:
    """The window's Help menu: About NN Playground."""
    menu = window.menuBar().addMenu("&Help")
    menu.addAction("About NN Playground", lambda: show_about(window))

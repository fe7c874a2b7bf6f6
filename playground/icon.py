"""The application icon: ``assets/icon.svg``, shipped inside the package.

A wheel carries it as ``playground/assets/icon.svg`` (the repository's ``assets/`` mapped into
the package at build time, see ``setup.py``); a source checkout reads ``assets/`` beside
``playground/``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

NAME = "icon.svg"


def icon_path() -> Path:
    """The icon's SVG file, installed or in the source tree."""
    installed = Path(__file__).with_name("assets") / NAME
    return installed if installed.is_file() else Path(__file__).parents[1] / "assets" / NAME


def app_icon() -> QIcon:
    """The application's icon (window, task bar, About box); null only if the file is gone."""
    return QIcon(str(icon_path()))

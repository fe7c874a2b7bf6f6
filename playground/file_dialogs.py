"""File dialogs that open in the last folder used for each kind of file.

Kinds: "models" (File ▸ Open…, Export weights), "experiments" (Save experiment as…), "exports"
(ONNX, Python), "csv" (Import CSV…, Export history), "data" (Load from folder…: IDX folders and
mnist.npz), "pictures" (views as PNG/SVG). The folders are kept in the window's settings under
``lastFolder/<kind>``; a folder that no longer exists is forgotten (the dialog then opens where
Qt opens it by default).
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

KINDS = ("models", "experiments", "exports", "csv", "data", "pictures")


def _settings(widget: QWidget) -> QSettings:
    """The settings of ``widget``'s main window (its ``settings``), else the app's own."""
    settings = getattr(widget.window(), "settings", None)
    return settings if isinstance(settings, QSettings) else QSettings("nn-playground", "app")


def _key(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind of file: {kind!r}; allowed: {', '.join(KINDS)}")
    return f"lastFolder/{kind}"


def last_folder(widget: QWidget, kind: str) -> str:
    """The folder last used for ``kind`` ("" if none, or if it is gone)."""
    folder = _settings(widget).value(_key(kind), "", type=str)
    return folder if folder and os.path.isdir(folder) else ""


def remember(widget: QWidget, kind: str, path: str) -> None:
    """Keep the folder of ``path`` (``path`` itself if it is a folder) for ``kind``."""
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    _settings(widget).setValue(_key(kind), folder)


def open_file(parent: QWidget, kind: str, title: str, filters: str) -> str:
    """Ask for an existing file, starting in the last folder of ``kind``; "" if cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, title, last_folder(parent, kind), filters)
    if path:
        remember(parent, kind, path)
    return path


def save_file(parent: QWidget, kind: str, title: str, name: str, filters: str) -> tuple[str, str]:
    """Ask where to save; ``name`` is proposed in the last folder of ``kind`` (a full path is
    proposed as it is). Returns (path, chosen filter); path "" if cancelled."""
    folder = last_folder(parent, kind)
    start = os.path.join(folder, name) if folder and not os.path.isabs(name) else name
    path, chosen = QFileDialog.getSaveFileName(parent, title, start, filters)
    if path:
        remember(parent, kind, path)
    return path, chosen


def open_folder(parent: QWidget, kind: str, title: str) -> str:
    """Ask for a folder, starting in the last folder of ``kind``; "" if cancelled."""
    path = QFileDialog.getExistingDirectory(parent, title, last_folder(parent, kind))
    if path:
        remember(parent, kind, path)
    return path

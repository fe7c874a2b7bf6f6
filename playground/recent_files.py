"""File ▸ Open Recent: the files last opened or saved, newest first, kept in the settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

MAX_RECENT = 8
RECENT_KEY = "recentFiles"


class RecentFiles:
    """The list and its ``menu``; ``open`` opens a file of it (False: not opened)."""

    def __init__(
        self, settings: QSettings, open_file: Callable[[str], bool], parent: QWidget
    ) -> None:
        self.settings = settings
        self._open_file = open_file
        self._parent = parent
        self.menu = QMenu("Open &Recent", parent)

    def files(self) -> list[str]:
        """Files last opened or saved, newest first (kept in the settings)."""
        return [str(p) for p in self.settings.value(RECENT_KEY, [], type=list)]

    def remember(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.files() if p != path]
        self._set(files[:MAX_RECENT])

    def open(self, path: str) -> bool:
        if not Path(path).is_file():
            self._set([p for p in self.files() if p != path])
            QMessageBox.warning(
                self._parent,
                "File not found",
                f"{path} no longer exists; it was removed from the recent files.",
            )
            return False
        return self._open_file(path)

    def clear(self) -> None:
        self._set([])

    def _set(self, files: list[str]) -> None:
        self.settings.setValue(RECENT_KEY, files)
        self.settings.sync()
        self.fill_menu()

    def fill_menu(self) -> None:
        menu = self.menu
        menu.clear()
        files = self.files()
        for i, path in enumerate(files, 1):
            action = menu.addAction(f"&{i} {Path(path).name}")
            action.setStatusTip(path)
            action.setData(path)
            action.triggered.connect(lambda _=False, p=path: self.open(p))
        menu.addSeparator()
        clear = QAction("Clear list", menu)
        clear.setEnabled(bool(files))
        clear.triggered.connect(lambda _=False: self.clear())
        menu.addAction(clear)

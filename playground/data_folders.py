"""Where each image data set was loaded from (Images ▸ Data ▸ Load from folder…), remembered by
data set name in the app's settings: a preset, a restart or File ▸ Open that names the data set
finds its images there again. A remembered folder that has gone is forgotten, and said so."""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6.QtCore import QSettings

from playground.image_data import DATASET_NAMES, ImageDataSettings

KEY = "dataFolders/"


class DataFolders:
    """Folders by data set name (``"mnist"``, ``"fashion-mnist"``), kept in ``settings``."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def get(self, name: str) -> str | None:
        value = self.settings.value(KEY + name)
        return str(value) if value else None

    def remember(self, name: str, folder: str) -> None:
        self.settings.setValue(KEY + name, folder)
        self.settings.sync()

    def forget(self, name: str) -> None:
        self.settings.remove(KEY + name)
        self.settings.sync()

    def remembered(self) -> dict[str, str]:
        """Every remembered folder by data set name (a copy: :func:`resolve` in another thread
        reads it, never the settings)."""
        return {name: folder for name in DATASET_NAMES if (folder := self.get(name))}

    def resolve(self, data: ImageDataSettings) -> tuple[ImageDataSettings, str | None]:
        """:func:`resolve` with the folder remembered for ``data``'s data set, which is forgotten
        if it has gone."""
        remembered = self.get(data.dataset)
        if remembered is not None and not os.path.exists(remembered):
            self.forget(data.dataset)  # resolve() says it has gone, once
        return resolve(data, {data.dataset: remembered} if remembered else {})


def resolve(
    data: ImageDataSettings, remembered: dict[str, str]
) -> tuple[ImageDataSettings, str | None]:
    """``data`` with the folder to read: its own if it still exists, else the one its data set
    was last loaded from (``remembered``, by data set name) if that exists, else none (the
    named data set's own copy). Also returns a folder that was named but has gone (None if
    none), to say so."""
    gone = None
    if data.folder is not None:
        if os.path.exists(data.folder):
            return data, None
        gone = data.folder
    folder = remembered.get(data.dataset)
    if folder is not None and not os.path.exists(folder):
        gone, folder = gone or folder, None
    return replace(data, folder=folder), gone

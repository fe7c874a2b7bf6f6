"""A dialog that downloads an image data set into the cache with progress and Cancel.

The download (:func:`core.data.download.download`: mirrors in turn, checksums, atomic writes) runs
as a :class:`playground.background.Job`; its progress and outcome arrive as signals on the GUI
thread. Cancelling sets the job's flag, which the download checks every tenth of a second,
whatever the link does, so the dialog closes at once; the core never leaves a partial or
temporary file behind.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.cancel import Cancelled, cancelled
from core.data.download import DEFAULT_TIMEOUT, DownloadCancelled, download
from core.data.locations import cache_folder
from core.data.registry import DATASETS, DatasetSpec
from core.validation import check_choice
from playground.background import Job

PROGRESS_INTERVAL = 0.05
"""Seconds between progress reports from the download thread (the last one always arrives)."""


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f}"


def short_path(path: str | os.PathLike[str]) -> str:
    """A path with the home folder written as ``~``."""
    text, home = str(path), str(Path.home())
    return "~" + text[len(home) :] if text.startswith(home + os.sep) else text


def _download(
    job: Job,
    spec: DatasetSpec,
    cache_dir: str | os.PathLike[str] | None,
    mirrors: Sequence[str] | None,
    timeout: float,
) -> str:
    """The job's work (its own thread): the download, its progress reported through ``job``;
    returns the folder."""
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done >= total or now - last >= PROGRESS_INTERVAL:
            last = now
            job.report((done, total))

    try:
        folder = download(
            spec, cache_dir, mirrors=mirrors, progress=progress, cancel=cancelled, timeout=timeout
        )
    except DownloadCancelled:
        raise Cancelled(f"Download of {spec.title} cancelled.") from None
    return str(folder)


class DownloadDialog(QDialog):
    """Downloads a data set when :meth:`start` is called.

    Accepted when the data set is in the cache; rejected when cancelled, or closed after a
    failure (the dialog stays open to show what went wrong, with Retry and Close).
    ``downloadFinished(ok, message)`` is emitted on the GUI thread when a download attempt ends,
    after the dialog's result is set: ``(True, cache folder)``, or ``(False, reason)``.
    """

    downloadFinished = Signal(bool, str)
    folderRequested = Signal()  # after a failure: the user chose Load from folder… instead

    def __init__(
        self,
        dataset: str | DatasetSpec,
        parent: QWidget | None = None,
        *,
        mirrors: Sequence[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(parent)
        if isinstance(dataset, DatasetSpec):
            self.spec = dataset
        else:
            self.spec = DATASETS[check_choice("dataset", dataset, DATASETS)]
        self.mirrors = mirrors
        self.cache_dir = cache_dir
        self.timeout = timeout
        self.folder = cache_folder(self.spec, cache_dir)
        self.error = ""
        self.done_bytes = 0
        self.total_bytes = self.spec.download_size
        self._job: Job | None = None

        self.setWindowTitle(f"Download {self.spec.title}")
        self.setMinimumWidth(440)
        self.headline = QLabel()
        self.headline.setObjectName("sectionTitle")
        where = QLabel(f"Into {short_path(self.folder)}")
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        where.setToolTip(
            "The data set cache (set NN_PLAYGROUND_DATA to use another folder). "
            "Files are checked against their SHA-256 checksums as they arrive."
        )
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.amount = QLabel()
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setObjectName("downloadError")
        self.message.setStyleSheet(
            "#downloadError { background: #fde2e1; color: #8a1c13; padding: 8px;"
            " border-radius: 4px; }"
        )
        self.message.hide()
        self.buttons = QDialogButtonBox()
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setToolTip("Stop the download; nothing partial is kept.")
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Try every mirror again.")
        self.buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.folder_button = QPushButton("Load from folder…")
        self.folder_button.setToolTip(
            "Use the four IDX files (or an mnist.npz) copied from another computer."
        )
        self.buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.cancel_button.clicked.connect(self.reject)
        self.close_button.clicked.connect(self.reject)
        self.retry_button.clicked.connect(self.start)
        self.folder_button.clicked.connect(self._load_from_folder)

        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(where)
        layout.addSpacing(4)
        layout.addWidget(self.bar)
        layout.addWidget(self.amount)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._show_state("ready")

    # -- public --------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._job is not None

    @Slot()
    def start(self) -> None:
        """Start (or retry) the download off the GUI thread; no-op while one runs."""
        if self._job is not None:
            return
        self.error = ""
        self.done_bytes = 0
        self._on_progress(0, self.total_bytes)
        args = (self.spec, self.cache_dir, self.mirrors, self.timeout)
        job = Job(f"Downloading {self.spec.title}", lambda: _download(job, *args), self)
        job.progress.connect(lambda value: self._on_progress(*value))
        job.succeeded.connect(lambda folder: self._on_outcome("ok", folder))
        job.failed.connect(lambda exc: self._on_outcome("failed", str(exc) or type(exc).__name__))
        job.cancelled.connect(
            lambda: self._on_outcome("cancelled", f"Download of {self.spec.title} cancelled.")
        )
        self._show_state("running")
        self._job = job.start()

    def stop(self, timeout: float = 3.0) -> bool:
        """Cancel a running download and wait for it to clean up (the app is quitting: a
        daemon thread killed mid-write could leave a temporary file); True if it ended."""
        if self._job is None:
            return True
        self._job.cancel()
        return self._job.wait(timeout)

    def reject(self) -> None:
        """Cancel, Esc or the window's close button: while downloading, ask the download to
        stop (the dialog closes when it has); otherwise close."""
        if self._job is not None:
            self._job.cancel()
            self._show_state("cancelling")
            return
        super().reject()

    # -- slots (GUI thread) --------------------------------------------------------------------
    def _on_progress(self, done: int, total: int) -> None:
        self.done_bytes, self.total_bytes = int(done), int(total)
        self.bar.setValue(round(1000 * done / total) if total > 0 else 1000)
        self.amount.setText(f"{megabytes(done)} of {megabytes(total)} MB")

    def _on_outcome(self, outcome: str, message: str) -> None:
        self._job = None
        if outcome == "ok":
            self.error = ""
            self.folder = Path(message)
            self._show_state("done")
            self.accept()
            self.downloadFinished.emit(True, message)
        elif outcome == "cancelled":
            self.error = message
            super().reject()
            self.downloadFinished.emit(False, message)
        else:
            self.error = message
            # One line per mirror tried: the core writes "<what>: <url>: <why>; <url>: <why>".
            parts = re.split(r"; |: (?=(?:https?|file)://)", message)
            details = "<br>".join(html.escape(part) for part in parts)
            self.message.setText(
                "<b>Download failed.</b> Check the network connection and try again, or get the "
                "four files another way and use <b>Load from folder…</b>.<br>" + details
            )
            self._show_state("failed")
            self._fit_height()
            self.downloadFinished.emit(False, message)

    # -- internals -----------------------------------------------------------------------------
    def _load_from_folder(self) -> None:
        """Close the dialog and let the data panel ask for the folder."""
        super().reject()
        self.folderRequested.emit()

    def _fit_height(self) -> None:
        """Grow to show the whole (word-wrapped) message: a top-level window does not grow for
        a label's height-for-width by itself."""
        self.layout().activate()
        height = self.heightForWidth(self.width())
        self.resize(self.width(), max(self.minimumSizeHint().height(), height))

    def _show_state(self, state: str) -> None:
        title, size = self.spec.title, megabytes(self.spec.download_size)
        headline = {
            "ready": f"Download {title} (about {size} MB)",
            "running": f"Downloading {title} (about {size} MB)…",
            "cancelling": "Cancelling…",
            "done": f"{title} downloaded",
            "failed": f"{title} was not downloaded",
        }
        self.headline.setText(headline[state])
        self.message.setVisible(state == "failed")
        self.bar.setVisible(state != "failed")
        self.amount.setVisible(state != "failed")
        self.cancel_button.setVisible(state in ("ready", "running", "cancelling"))
        self.cancel_button.setEnabled(state != "cancelling")
        self.retry_button.setVisible(state == "failed")
        self.folder_button.setVisible(state == "failed")
        self.close_button.setVisible(state in ("failed", "done"))
        if state == "failed":
            self.close_button.setDefault(True)

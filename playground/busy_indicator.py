"""The status bar's busy indicator: what the work off the GUI thread is doing (a
:class:`playground.background.Job`: reading a file, loading images), with Cancel."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from playground.background import Job

#: Milliseconds a job runs before the indicator shows: quicker ones never flash it.
SHOW_AFTER = 250


class BusyIndicator(QWidget):
    """Shows the newest of the jobs it watches (:meth:`watch`) until each has ended; Cancel
    cancels that one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: no fraction is known
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(80)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop it: what was on screen stays as it was.")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self._delay = QTimer(self, singleShot=True, interval=SHOW_AFTER)
        self._delay.timeout.connect(self._update)
        self.hide()

    @property
    def job(self) -> Job | None:
        """The job shown (the newest still running), None when idle."""
        return self._jobs[-1] if self._jobs else None

    def watch(self, job: Job) -> None:
        """Show ``job`` (after :data:`SHOW_AFTER` ms, if it still runs) until it ends."""
        if not job.running:
            return
        self._jobs.append(job)
        job.progress.connect(lambda value, j=job: self._progress(j, value))
        job.ended.connect(lambda j=job: self._forget(j))
        if self.isHidden():
            self._delay.start()
        else:
            self._update()

    def cancel(self) -> None:
        """Cancel the job shown."""
        if self.job is not None:
            self.job.cancel()
            self.label.setText(f"Cancelling {self.job.title[0].lower()}{self.job.title[1:]}…")
            self.cancel_button.setEnabled(False)

    def _forget(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        self._update()

    def _progress(self, job: Job, value: object) -> None:
        if job is self.job and isinstance(value, str) and self.cancel_button.isEnabled():
            self.label.setText(f"{job.title}: {value}")

    def _update(self) -> None:
        job = self.job
        if job is None:
            self._delay.stop()
            self.hide()
            return
        self.label.setText(f"{job.title}…")
        self.cancel_button.setEnabled(True)
        self.show()

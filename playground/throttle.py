"""Rate-limited view updates: a view that is costly to redraw shows at most a few snapshots a
second, always including the newest, while cheap views follow every snapshot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

_UNSET = object()


class Throttled(QObject):
    """``throttled(value)`` calls ``fn(value)`` at once if the last call was at least
    ``interval_ms`` ago; otherwise it keeps ``value`` and calls ``fn`` with the newest kept
    value when the interval is over. So ``fn`` runs at most once per interval and never misses
    the final value."""

    def __init__(self, fn: Callable[[Any], None], interval_ms: int, parent: QObject) -> None:
        super().__init__(parent)
        self._fn = fn
        self._waiting: Any = _UNSET
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._due)

    def __call__(self, value: Any) -> None:
        if self._timer.isActive():
            self._waiting = value
            return
        self._fn(value)
        self._timer.start()

    def later(self, value: Any) -> None:
        """Like calling, but never at once: ``fn`` gets the newest value when the interval is
        over (spreads several views' redraws over different event-loop turns)."""
        self._waiting = value
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Show a kept value now (e.g. before reading the view's state)."""
        if self._waiting is not _UNSET:
            self._timer.stop()
            self._due()

    def cancel(self) -> None:
        """Forget a kept value (its run was replaced)."""
        self._waiting = _UNSET
        self._timer.stop()

    def _due(self) -> None:
        value, self._waiting = self._waiting, _UNSET
        if value is not _UNSET:
            self._fn(value)
            self._timer.start()

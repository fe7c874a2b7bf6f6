"""TrainControl: requests from another thread (a GUI) to a running training loop."""

from __future__ import annotations

import threading

from core.optimizer import MAX_LR
from core.training.config import MAX_REGULARIZATION
from core.training.trainer import Trainer
from core.validation import check_number


class TrainControl:
    """Thread-safe requests from another thread (a GUI) to a running ``train_iter``: change the
    learning rate or regularization, ask for a snapshot now (to pause promptly), or stop.
    Applied before the next step; checking costs one attribute read per step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: dict[str, float] = {}
        self.pending = False
        self.stop_requested = False
        self.snapshot_requested = False
        #: Also yield a snapshot at the end of every epoch (set by the thread that iterates,
        #: e.g. to stop exactly at an epoch's end).
        self.epoch_end_snapshots = False

    def set_lr(self, lr: float) -> None:
        check_number("lr", lr, low=0.0, high=MAX_LR, low_open=True)
        self._request(lr=float(lr))

    def set_regularization(self, l1: float | None = None, l2: float | None = None) -> None:
        changes = {
            k: float(check_number(k, v, low=0.0, high=MAX_REGULARIZATION))
            for k, v in (("l1", l1), ("l2", l2))
            if v is not None
        }
        self._request(**changes)

    def request_snapshot(self) -> None:
        with self._lock:
            self.snapshot_requested = self.pending = True

    def stop(self) -> None:
        with self._lock:
            self.stop_requested = self.pending = True

    def forget_changes(self) -> None:
        """Drop rate changes not yet applied (their run was replaced)."""
        with self._lock:
            self._changes = {}

    def _request(self, **changes: float) -> None:
        with self._lock:
            self._changes.update(changes)
            self.pending = True

    def apply(self, trainer: Trainer) -> tuple[bool, bool]:
        """Apply pending changes; return (snapshot requested, stop requested) and clear them."""
        with self._lock:
            changes, self._changes = self._changes, {}
            snap, stop = self.snapshot_requested, self.stop_requested
            self.snapshot_requested = self.stop_requested = self.pending = False
        if "lr" in changes:
            trainer.set_lr(changes["lr"])
        trainer.set_regularization(changes.get("l1"), changes.get("l2"))
        return snap, stop

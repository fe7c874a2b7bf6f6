"""Training progress on the command line: a bar redrawn in place on a terminal, a plain line
every few seconds in logs and pipes."""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    """A one-line bar redrawn in place (terminal) or a plain line every few seconds (logs)."""

    def __init__(self, stream: TextIO, mode: str, total_epochs: int) -> None:
        if mode == "auto":
            mode = "bar" if stream.isatty() else "lines"
        self.stream, self.mode, self.total = stream, mode, total_epochs
        self._last_line = -1e9

    def update(self, snap) -> None:
        if self.mode == "none":
            return
        text = (
            f"epoch {snap.epoch}{f'/{self.total}' if self.total else ''}  "
            f"loss {fmt(snap.train_loss)}  acc {fmt(snap.train_acc)}  "
            f"test loss {fmt(snap.test_loss)}  test acc {fmt(snap.test_acc)}  "
            f"{snap.samples_per_second:,.0f} samples/s"
        )
        if self.mode == "bar":
            frac = snap.epoch / self.total if self.total else 0.0
            bar = "#" * int(frac * 24)
            self.stream.write(f"\r[{bar:<24}] {text}\x1b[K")
            if snap.done:
                self.stream.write("\n")
            self.stream.flush()
        elif snap.done or time.monotonic() - self._last_line >= 2.0:
            self._last_line = time.monotonic()
            self.stream.write(text + "\n")
            self.stream.flush()


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"

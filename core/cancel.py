"""Cancelling long reads from another thread: the readers of big files call :func:`check`
between pieces of work, which raises :class:`Cancelled` once the flag of the current thread is
set.

The flag is given with :func:`cancel_on` around the work (a context variable: each thread has its
own), so the readers take no extra argument and a call that sets no flag (a script, a notebook,
the engine) never stops. Readers check at least every few megabytes, so a Cancel acts within a
few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import numpy as np

#: Bytes hashed between two checks (:func:`update_hash`): a few milliseconds of SHA-256.
HASH_PIECE = 4 * 1024 * 1024


class Flag(Protocol):
    def is_set(self) -> bool: ...  # threading.Event is one


class Cancelled(BaseException):
    """The work was cancelled. A BaseException, as KeyboardInterrupt is: the readers turn any
    ``Exception`` met while decoding untrusted bytes into a file error, and this must pass."""


_flag: ContextVar[Flag | None] = ContextVar("cancel_flag", default=None)


@contextmanager
def cancel_on(flag: Flag) -> Iterator[None]:
    """Inside, :func:`check` (in this thread) raises Cancelled once ``flag.is_set()``."""
    token = _flag.set(flag)
    try:
        yield
    finally:
        _flag.reset(token)


def cancelled() -> bool:
    """Whether the current work's flag is set (False without one): for code that takes a
    ``cancel`` callable, such as :func:`core.data.download.download`."""
    flag = _flag.get()
    return flag is not None and flag.is_set()


def check() -> None:
    """Raise :class:`Cancelled` if the current work's flag is set (nothing without one)."""
    if cancelled():
        raise Cancelled("cancelled")


def update_hash(hasher: Any, data: Any) -> None:
    """``hasher.update(data)`` (a hashlib object; ``data`` any contiguous buffer) in pieces of
    :data:`HASH_PIECE` bytes, checking between them: the same digest, cancellable."""
    flat = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, len(flat), HASH_PIECE):
        check()
        hasher.update(flat[start : start + HASH_PIECE])

"""Opening a file a user named: regular files only, and never blocking on a pipe.

Opening a FIFO for reading waits for a writer, and a device may never end, so a path from a
user, a file or a command line is opened without blocking and checked before anything is read.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO


class NotARegularFile(OSError):
    """The path names a folder, a pipe, a device or a socket; ``kind`` says which in words."""

    def __init__(self, path: str | os.PathLike, kind: str) -> None:
        super().__init__(f"{path} is {kind}, not a regular file")
        self.kind = kind


def open_regular(path: str | os.PathLike, buffering: int = -1) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file, without ever blocking.

    ``buffering`` is :func:`open`'s (0 gives a raw ``io.FileIO``). Raises
    :class:`NotARegularFile` for anything but a regular file, and ``OSError`` (e.g.
    ``FileNotFoundError``) when it cannot be opened."""
    nonblocking = getattr(os, "O_NONBLOCK", 0)  # POSIX: opening a FIFO returns at once
    fd = os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a pipe, device or socket"
            raise NotARegularFile(path, kind)
        if nonblocking:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise

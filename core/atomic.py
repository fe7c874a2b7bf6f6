"""Atomic saves: a file is written beside its target and replaced in one step, so a failed or
killed save leaves the previous file whole; temporary files that killed saves left behind are
removed on the next save or load of the same target.

The temporary file is ``.<name>.<pid>.<random>.tmp``, locked while written (POSIX advisory
locks), so a cleaner never takes a file another save (another process, another window) is
still writing.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the age alone decides there
    fcntl = None

#: A temporary file left by a save is removed once it is this old (seconds), even if a process
#: with its writer's PID runs (PIDs are reused).
STALE_TEMP_SECONDS = 600.0


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, flush and fsync it, then
    atomically replace ``path`` (and fsync the folder, where the system allows it). On any
    error the temporary file is removed and ``path`` is left as it was.

    The temporary file is ``.<name>.<pid>.<random>.tmp``, locked while it is written. A process
    killed midway leaves it behind, never a partial ``path``; the next save or load of ``path``
    removes it (:func:`remove_stale_temps`). Several processes may save the same ``path`` at
    once: each writes its own temporary file and the last replace wins.

    A replaced file keeps its permission bits; a new one gets ``0o644``.
    """
    path = Path(path)
    folder = path.parent
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            _lock(f.fileno(), wait=True)  # released on close, or when a killed writer is gone
            write(f)
            f.flush()
            os.fsync(f.fileno())
            try:
                mode = path.stat().st_mode & 0o7777
            except OSError:
                mode = 0o644
            os.chmod(tmp, mode)
            if os.name == "posix":  # replaced while still locked: no cleaner can take it
                os.replace(tmp, path)
        if os.name != "posix":  # Windows renames only closed files (and deletes no open one)
            os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that saves of ``path`` left behind (see :func:`atomic_write`):
    those whose writer process is gone or that are older than :data:`STALE_TEMP_SECONDS`, and
    never one that a save is still writing (it holds a lock on it). Returns the removed files;
    problems (a read-only folder, a file removed meanwhile) are ignored."""
    path = Path(path)
    removed = []
    try:
        candidates = [
            p
            for p in path.parent.iterdir()
            if p.name.startswith(f".{path.name}.") and p.name.endswith(".tmp")
        ]
    except OSError:
        return removed
    for temp in candidates:
        try:
            if _remove_if_stale(temp, path.name):
                removed.append(temp)
        except OSError:
            continue
    return removed


def _remove_if_stale(temp: Path, name: str) -> bool:
    fd = os.open(temp, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _lock(fd, wait=False):
            return False  # not ours, or a save is writing it
        pid = _writer_pid(temp.name, name)
        old = time.time() - info.st_mtime > STALE_TEMP_SECONDS
        if not old and (pid is None or _process_exists(pid)):
            return False
        os.unlink(temp)
        return True
    finally:
        os.close(fd)


def _writer_pid(temp_name: str, name: str) -> int | None:
    """The PID in ``.<name>.<pid>.<random>.tmp``; None for other names (older versions')."""
    pid, _, _ = temp_name[len(name) + 2 :].partition(".")
    return int(pid) if pid.isdigit() else None


def _process_exists(pid: int) -> bool:
    if pid == os.getpid() or os.name != "posix":
        return True  # Windows: os.kill(pid, 0) would send Ctrl+C; the age alone decides there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a system that can't tell: assume it runs
    return True


def _lock(fd: int, *, wait: bool) -> bool:
    """Take an exclusive advisory lock on an open file (released when the process ends); False
    if another open file holds it. Always True where locks are not available."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError:
        return True  # a file system without locks: the PID and the age decide
    return True


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

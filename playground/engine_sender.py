"""Commands to the engine process, written in order by a thread of their own: a command of
megabytes (a run set up from an opened experiment or a parked run) never holds the GUI thread
while the engine, in the middle of a training chunk or on a busy machine, reads it.

The GUI thread pickles each command, so it is sent as it was when given, and queues the bytes;
the thread only writes them (the GIL is free while it waits for the pipe). A broken pipe ends
the thread quietly: the controller's reader sees the engine gone and says so.
"""

from __future__ import annotations

import queue
import threading
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler


class CommandSender:
    """Sends commands (tuples) over ``conn`` as ``conn.send`` would, without waiting."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="engine commands", daemon=True)
        self._thread.start()

    def send(self, command: tuple) -> None:
        self._queue.put(ForkingPickler.dumps(command))

    def close(self, timeout: float = 5.0) -> bool:
        """Write the commands queued, then stop; True if that was done within ``timeout``."""
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _write(self) -> None:
        while (data := self._queue.get()) is not None:
            try:
                self._conn.send_bytes(data)
            except OSError:  # the engine has gone (a broken pipe): the reader tells the GUI
                return

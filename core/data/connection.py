"""One URL read on a helper thread, so that a download can give up on it at once.

The download's thread waits on a queue, so Cancel or a deadline takes effect whatever the link
does."""

from __future__ import annotations

import contextlib
import http.client
import queue
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

CHUNK_SIZE = 64 * 1024
"""Most bytes taken per network read (a read returns what has arrived, never waiting for more)."""
POLL_INTERVAL = 0.1
"""Seconds between two checks of Cancel and the deadlines while a download waits for data."""


class Connection:
    """One URL read on a helper thread, so that the download's thread waits on a queue and can
    give up at once, on Cancel or a deadline, whatever the link does (a server that trickles
    bytes keeps a blocking read going long after Cancel).

    The helper only reads: chunks of at most :data:`CHUNK_SIZE` bytes, ``None`` at the end, or
    the exception that stopped it arrive on :attr:`chunks`. :meth:`close` shuts the connection's
    socket as soon as it is connected, so a read blocked on it (the response's headers or its
    body) returns at once; a helper still connecting ends at its timeout, holding no file."""

    def __init__(self, request: urllib.request.Request, timeout: float) -> None:
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=4)
        self.opened = threading.Event()
        self.length: int | None = None
        self._request, self._timeout = request, timeout
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._run, name="mnist-download", daemon=True).start()

    def _run(self) -> None:
        try:
            handlers = [h(self._keep_socket) for h in _WATCHED_HANDLERS]
            opener = urllib.request.build_opener(*handlers)
            response = opener.open(self._request, timeout=self._timeout)
        except BaseException as exc:
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()
            self._put(exc)
            return
        with response:
            header = response.headers.get("Content-Length")
            self.length = int(header) if header and header.strip().isdigit() else None
            self.opened.set()
            if self._stop.is_set():
                return
            try:
                while chunk := response.read1(CHUNK_SIZE):
                    if not self._put(chunk):
                        return
                self._put(None)
            except BaseException as exc:
                self._put(exc)

    def _put(self, item: Any) -> bool:
        """Hand ``item`` over unless the reader has gone; False once it has."""
        while not self._stop.is_set():
            try:
                self.chunks.put(item, timeout=POLL_INTERVAL)
                return True
            except queue.Full:
                continue
        return False

    def _keep_socket(self, connected: socket.socket) -> None:
        """Keep a duplicate of a new connection's socket, for :meth:`close` to shut down."""
        try:  # fromfd duplicates the descriptor (a socket handle on Windows), TLS or not
            sock = socket.fromfd(connected.fileno(), connected.family, connected.type)
        except OSError:
            return  # Cancel still acts at once; only the helper thread lingers
        with self._lock:
            if not self._stop.is_set():
                self._sock, sock = sock, self._sock  # a redirect's new connection
        if sock is not None:
            _shut(sock)

    def close(self) -> None:
        """Stop the helper: it hands over nothing more, and a read it is blocked in returns."""
        with self._lock:
            self._stop.set()
            sock, self._sock = self._sock, None
        if sock is not None:
            _shut(sock)


class _SocketReporting:
    """Mixin for urllib's HTTP and HTTPS handlers: reports each connection's socket as soon as
    it is connected, before the request is sent."""

    def __init__(self, on_socket: Callable[[socket.socket], Any]) -> None:
        super().__init__()
        self._on_socket = on_socket

    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        def connection(host: str, **options: Any) -> http.client.HTTPConnection:
            conn = http_class(host, **options)
            connect = conn.connect

            def connect_and_report() -> None:
                connect()
                self._on_socket(conn.sock)

            conn.connect = connect_and_report
            return conn

        return super().do_open(connection, req, **kwargs)  # type: ignore[misc]


class _HTTPHandler(_SocketReporting, urllib.request.HTTPHandler):
    pass


_WATCHED_HANDLERS: list[type] = [_HTTPHandler]
if hasattr(urllib.request, "HTTPSHandler"):  # Python built with SSL

    class _HTTPSHandler(_SocketReporting, urllib.request.HTTPSHandler):
        pass

    _WATCHED_HANDLERS.append(_HTTPSHandler)


def _shut(sock: socket.socket) -> None:
    """End a connection (a read blocked on it returns at once) and close this descriptor."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()

"""Test helpers for MNIST-style data: IDX files written in memory, a tiny look-alike data set and
a local HTTP server on 127.0.0.1 that serves them as a download mirror.

Shared by the engine's download tests and the app's download dialog tests; no test reaches the
internet.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import io
import os
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from core.data.registry import DATASETS, DIGITS, DataFile, DatasetSpec
from tests.probe import run_probe

NAMES = [f.name for f in DATASETS["mnist"].files]
"""The four standard file names, in :data:`core.data.registry.ROLES` order."""


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file holding a uint8 array (1-D labels or 3-D images)."""
    array = np.asarray(array, dtype=np.uint8)
    magic = 0x0800 | array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def npy_bytes(header: str, data: bytes = b"", version: int = 1) -> bytes:
    """A ``.npy`` member with a literal header dict (any text) and raw data."""
    text = header.encode("latin1")
    size = 2 if version == 1 else 4
    pad = -(len(text) + 1 + 8 + size) % 64
    text += b" " * pad + b"\n"
    length = struct.pack("<H" if version == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + data


def npy_of(array: np.ndarray) -> bytes:
    f = io.BytesIO()
    np.save(f, array)
    return f.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tiny_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """A tiny MNIST look-alike: 20 train and 10 test random images, labels cycling 0..9."""
    rng = np.random.default_rng(seed)
    return {
        NAMES[0]: rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        NAMES[1]: (np.arange(20) % 10).astype(np.uint8),
        NAMES[2]: rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        NAMES[3]: (np.arange(10)[::-1] % 10).astype(np.uint8),
    }


def tiny_files(seed: int = 0) -> dict[str, bytes]:
    """File name -> decompressed IDX bytes of :func:`tiny_arrays`."""
    return {name: idx_bytes(a) for name, a in tiny_arrays(seed).items()}


def tiny_spec(files: dict[str, bytes], mirrors: tuple[str, ...] = ()) -> DatasetSpec:
    """A registry entry named ``"tiny"`` whose checksums and sizes are those of ``files``."""
    data_files = tuple(
        DataFile(name, sha(raw), len(raw), len(gz(raw))) for name, raw in files.items()
    )
    return DatasetSpec("tiny", "Tiny", DIGITS, data_files, mirrors)


def write_folder(folder: Path, files: dict[str, bytes], compress: bool = True) -> Path:
    """Write ``files`` into ``folder`` (created), as ``<name>.gz`` or decompressed."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in files.items():
        if compress:
            (folder / f"{name}.gz").write_bytes(gz(raw))
        else:
            (folder / name).write_bytes(raw)
    return folder


def npz_file(path: Path, **arrays: Any) -> Path:
    """Write ``arrays`` (None values left out) as an ``.npz`` archive at ``path``."""
    arrays_ = {k: v for k, v in arrays.items() if v is not None}
    with open(path, "wb") as f:
        np.savez(f, **arrays_)
    return path


def good_npz_arrays() -> dict[str, np.ndarray]:
    """The tiny data set as ``mnist.npz`` holds it: ``x_train``, ``y_train``, ``x_test``,
    ``y_test``."""
    a = tiny_arrays()
    return {
        "x_train": a[NAMES[0]],
        "y_train": a[NAMES[1]],
        "x_test": a[NAMES[2]],
        "y_test": a[NAMES[3]].astype(np.int64),
    }


_PROBE = """
import resource, sys, time
from core.data.idx import MnistError, read_idx
from core.data.loading import load_folder
start = time.perf_counter()
try:
    load_folder(sys.argv[1]) if sys.argv[2] == "folder" else read_idx(sys.argv[1])
except MnistError:
    pass
seconds = time.perf_counter() - start
try:  # this process's own peak: ru_maxrss also counts the parent's memory before exec
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0])
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(seconds, peak)
"""


def refusal_cost(path: Path, how: str) -> tuple[float, int]:
    """``(seconds, peak RSS in KiB)`` of a fresh Python process that reads ``path`` with
    :func:`core.data.idx.read_idx` (``how="idx"``) or ``load_folder`` (``"folder"``),
    ignoring an MnistError; the peak includes the interpreter and ``core`` (about 40 MB)."""
    out = run_probe(_PROBE, str(path), how, timeout=60)
    return float(out[0]), int(out[1])


def listing(folder: Path) -> list[str]:
    """Sorted entries of ``folder`` ([] when it does not exist)."""
    return sorted(os.listdir(folder)) if folder.exists() else []


# --------------------------------------------------------------------------- local HTTP server


class _Handler(http.server.BaseHTTPRequestHandler):
    server: IdxServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.log.append(self.path)
        mode, body = self.server.routes.get(self.path, ("404", b""))
        if mode == "404":
            self.send_error(404, "Not Found")
            return
        if mode == "hang":
            self.server.release.wait(5.0)
            return
        if mode == "slow-headers":
            head = f"HTTP/1.0 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send("throttle", head + body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        if mode != "endless":
            length = self.server.announce if mode == "lie" else len(body)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        try:
            self._send(mode, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up: part of what some tests check

    def _send(self, mode: str, body: bytes) -> None:
        if mode == "throttle":
            # A slow link: `piece` bytes at a time; stops early (a truncated body) once released.
            for start in range(0, len(body), self.server.piece):
                if self.server.release.wait(self.server.pace):
                    return
                self.wfile.write(body[start : start + self.server.piece])
                self.wfile.flush()
            return
        if mode == "endless":
            # No Content-Length: `body`, then `filler` until released or the client hangs up.
            self.wfile.write(body)
            while not self.server.release.is_set():
                self.wfile.write(self.server.filler)
            return
        # "truncate": announce the full length, send half and close the connection.
        self.wfile.write(body if mode in ("ok", "lie") else body[: len(body) // 2])
        self.wfile.flush()

    def log_message(self, *args: Any) -> None:
        pass


class IdxServer(http.server.ThreadingHTTPServer):
    """Serves ``routes``: URL path -> ``(mode, body)``; unknown paths get HTTP 404.

    Modes: ``"ok"``; ``"truncate"`` (half the announced body); ``"hang"`` (no response until
    :attr:`release` is set); ``"throttle"`` (:attr:`piece` bytes every :attr:`pace` seconds);
    ``"slow-headers"`` (the status line and headers too, as ``"throttle"`` sends the body);
    ``"lie"`` (the whole body under a Content-Length of :attr:`announce`); ``"endless"`` (no
    Content-Length: the body, then :attr:`filler` over and over until :attr:`release` is set or
    the client hangs up).
    Every requested path is appended to :attr:`log`.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.log: list[str] = []
        self.release = threading.Event()
        self.pace = 0.05
        self.piece = 1024
        self.announce = 0
        self.filler = bytes(4096)

    def url(self, mirror: str) -> str:
        """Base URL of a mirror (a path prefix on this server)."""
        return f"http://127.0.0.1:{self.server_address[1]}/{mirror}/"

    def serve(self, mirror: str, files: dict[str, bytes], mode: str = "ok") -> None:
        """Serve each decompressed file gzip-compressed as ``<mirror>/<name>.gz``."""
        for name, raw in files.items():
            self.routes[f"/{mirror}/{name}.gz"] = (mode, gz(raw))

    def fetched(self) -> list[str]:
        """Requests so far as ``"mirror:file"``."""
        return [p.rsplit("/", 2)[1] + ":" + p.rsplit("/", 1)[1] for p in self.log]


# --------------------------------------------------------------------------- hostile gzip data

GZIP_NAME_HEADER = b"\x1f\x8b\x08\x08" + bytes(6)
"""A gzip member header announcing a file name (FNAME), whose bytes follow until a 0 byte: a
stream of non-zero bytes after it is an endless header field that decompresses to nothing."""
EMPTY_MEMBER = gzip.compress(b"", mtime=0)
"""A complete gzip member holding 0 bytes (20 bytes); repeated, it decompresses to nothing."""


PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy")
"""Unset these (e.g. ``monkeypatch.delenv``) so urllib talks to 127.0.0.1 directly."""


@contextlib.contextmanager
def running_server() -> Iterator[IdxServer]:
    """An :class:`IdxServer` on a free port, serving on a daemon thread until the block ends."""
    srv = IdxServer()
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.release.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)

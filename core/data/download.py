"""Downloading a data set into its cache folder: mirrors in turn, checksums, atomic writes.

Nothing here opens a network connection unless asked: only :func:`download` (or
:func:`core.data.loading.load` with ``download=True`` when no local copy is found). Files are
fetched from each mirror in turn (falling back on a connection or HTTP error, a truncated body,
bad gzip data, a checksum mismatch, a body longer than twice the file's known size or a mirror
that stalls or crawls), checked against the SHA-256 of their decompressed content while they
stream, and written atomically (temporary file in the cache folder, fsync, ``os.replace``): the
cache never holds a partial or unverified file, nor a temporary one after a failure or Cancel.
Cancel takes effect within a tenth of a second, whatever the link does. The cache keeps the
``.gz`` files as downloaded (about 4-5 times smaller than the decompressed files; reading
decompresses them in memory).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from core.atomic import atomic_write
from core.data.connection import POLL_INTERVAL, Connection
from core.data.gunzip import READ_CHUNK, Gunzip
from core.data.locations import cache_folder, find_file, verified
from core.data.registry import DataFile, DatasetSpec, dataset_spec
from core.validation import check_number

DEFAULT_TIMEOUT = 30.0
"""Seconds a download waits to connect and for each read before trying the next mirror."""
MIN_RATE = 4096
"""Bytes per second a mirror must deliver on average: a file's deadline is ``timeout`` plus its
download size at this rate (about 40 minutes for MNIST's training images)."""
MAX_RECEIVED = 2
"""A download stops after this many times the file's known compressed size (plus 64 KiB)."""
USER_AGENT = "nn-playground/0.1 (+python urllib)"

ProgressFn = Callable[[int, int], Any]


class DownloadError(OSError):
    """No mirror delivered a file; the message lists each mirror's failure."""


class DownloadCancelled(Exception):
    """A download was cancelled; nothing partial was left in the cache."""


class _MirrorFailure(Exception):
    """One mirror failed for one file (internal: the next mirror is tried)."""


def _cancel_checker(cancel: Any) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if hasattr(cancel, "is_set"):
        return lambda: bool(cancel.is_set())
    if callable(cancel):
        return lambda: bool(cancel())
    raise TypeError(
        f"cancel: {cancel!r}; allowed: None, a callable returning True to cancel, "
        "or an object with is_set() (threading.Event)"
    )


class _Progress:
    """Reports ``(done, total)`` over all files: monotonic, ending with ``done == total``.

    ``total`` starts as the sum of the registry's estimates and is corrected as each response's
    Content-Length arrives and as each file completes."""

    def __init__(self, callback: ProgressFn | None, estimates: list[int]) -> None:
        self.callback = callback
        self.sizes = estimates
        self.index = 0
        self.completed = 0
        self.current = 0
        self.last = 0

    def report(self) -> None:
        if self.callback is None:
            return
        total = sum(self.sizes)
        self.last = min(max(self.last, self.completed + self.current), total)
        self.callback(self.last, total)

    def start_file(self, length: int | None) -> None:
        self.current = 0
        if length is not None:
            self.sizes[self.index] = length

    def advance(self, n: int) -> None:
        self.current += n
        self.sizes[self.index] = max(self.sizes[self.index], self.current)
        self.report()

    def file_done(self) -> None:
        self.sizes[self.index] = self.current
        self.completed += self.current
        self.current = 0
        self.index += 1
        self.report()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"{exc.reason}"
    return str(exc) or type(exc).__name__


def _fetch(
    url: str,
    out: BinaryIO,
    f: DataFile,
    tracker: _Progress,
    timeout: float,
    cancelled: Callable[[], bool],
) -> None:
    """Stream ``url`` into ``out`` while checking the decompressed size and SHA-256.

    Gives up (for the next mirror) when no data arrives for ``timeout`` seconds, when the file
    takes longer than ``timeout`` plus its size at :data:`MIN_RATE`, or past
    :data:`MAX_RECEIVED` times its known size; Cancel is noticed within
    :data:`POLL_INTERVAL` seconds."""
    request = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    )
    limit = MAX_RECEIVED * f.download_size + 64 * 1024
    sink, digest, received = Gunzip(), hashlib.sha256(), 0
    connection = Connection(request, timeout)
    try:
        for chunk in _chunks(connection, f, timeout, cancelled):
            if received == 0:
                _check_length(connection.length, limit, f)
                tracker.start_file(connection.length)
            received += len(chunk)
            if received > limit:
                raise _MirrorFailure(
                    f"sends more than {limit:,} bytes (expected about {f.download_size:,}); "
                    "refusing"
                )
            out.write(chunk)
            _hash_gunzipped(sink, chunk, digest, f.size)
            tracker.advance(len(chunk))
    finally:
        connection.close()
    if connection.length is not None and received != connection.length:
        raise _MirrorFailure(f"truncated: received {received:,} of {connection.length:,} bytes")
    try:
        sink.finish()
    except zlib.error as exc:
        raise _MirrorFailure(f"not valid gzip data ({exc})") from None
    if sink.size != f.size:
        raise _MirrorFailure(f"decompresses to {sink.size:,} bytes; expected {f.size:,}")
    if digest.hexdigest() != f.sha256:
        raise _MirrorFailure(
            f"checksum mismatch (SHA-256 {digest.hexdigest()}, expected {f.sha256})"
        )


def _chunks(
    connection: Connection, f: DataFile, timeout: float, cancelled: Callable[[], bool]
) -> Iterator[bytes]:
    """The chunks of a response as they arrive, checking Cancel every :data:`POLL_INTERVAL`
    seconds, the time without data against ``timeout`` and the whole against the file's
    deadline."""
    start = last_data = time.monotonic()
    deadline = start + timeout + f.download_size / MIN_RATE
    received = 0
    while True:
        if cancelled():
            raise DownloadCancelled(f"download of {f.name}.gz cancelled")
        now = time.monotonic()
        if now > deadline:
            raise _MirrorFailure(f"too slow: {received:,} bytes in {now - start:.0f} s")
        if now - last_data > timeout:
            raise _MirrorFailure(f"no data for {timeout:g} s after {received:,} bytes")
        try:
            item = connection.chunks.get(timeout=POLL_INTERVAL)
        except queue.Empty:
            continue
        if item is None:
            return
        if isinstance(item, BaseException):
            if not connection.opened.is_set():
                raise _MirrorFailure(_describe(item))
            raise _MirrorFailure(f"connection failed after {received:,} bytes ({_describe(item)})")
        last_data = time.monotonic()
        received += len(item)
        yield item


def _check_length(length: int | None, limit: int, f: DataFile) -> None:
    if length is not None and length > limit:
        raise _MirrorFailure(
            f"announces {length:,} bytes; refusing (expected about {f.download_size:,})"
        )


def _hash_gunzipped(sink: Gunzip, data: bytes, digest: Any, size: int) -> None:
    """Decompress ``data`` into ``digest``, refusing output beyond ``size`` bytes."""
    try:
        sink.feed(data)
        while out := sink.read(READ_CHUNK):
            if sink.size > size:
                raise _MirrorFailure(f"decompresses to more than the expected {size:,} bytes")
            digest.update(out)
    except zlib.error as exc:
        raise _MirrorFailure(f"not valid gzip data ({exc})") from None


def _check_mirrors(mirrors: Sequence[str]) -> tuple[str, ...]:
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    result = tuple(mirrors)
    if not result:
        raise ValueError("mirrors: empty; allowed: one or more base URLs")
    for base in result:
        if not isinstance(base, str) or urllib.parse.urlsplit(base).scheme not in (
            "http",
            "https",
            "file",
        ):
            raise ValueError(f"mirrors: {base!r}; allowed: http://, https:// or file:// URLs")
    return tuple(b if b.endswith("/") else b + "/" for b in result)


def download(
    name: str | DatasetSpec,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    cancel: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Download a data set's files into its cache folder, checking each file's checksum.

    Files already in the cache with the right checksum are kept. Each missing file is fetched
    from the mirrors in turn (starting with the last one that worked); a connection or HTTP
    error, a timeout, a truncated body, bad gzip data, a checksum mismatch, a body longer than
    :data:`MAX_RECEIVED` times the file's known size or a mirror slower than :data:`MIN_RATE`
    moves on to the next mirror. Files are written atomically as ``<name>.gz``: a failure or
    cancellation never leaves a partial or temporary file (files completed before it stay,
    verified).

    Parameters
    ----------
    name : str or DatasetSpec
        ``"mnist"``, ``"fashion-mnist"`` or a custom registry entry.
    cache_dir : str or os.PathLike, optional
        Cache root (default :func:`core.data.locations.default_data_root`); files go to
        ``<root>/<name>/``.
    mirrors : sequence of str, optional
        Base URLs to use instead of the entry's.
    progress : callable, optional
        ``progress(done_bytes, total_bytes)``, called at the start, after every chunk and at
        the end with ``done == total``. ``done`` never decreases; ``total`` (compressed bytes
        still to fetch) starts from the registry's estimates and becomes exact as the server
        reports sizes. Called on the downloading thread.
    cancel : callable or threading.Event-like, optional
        Checked every :data:`POLL_INTERVAL` seconds (0.1) whatever the network does:
        ``cancel()`` or ``cancel.is_set()`` returning True stops the download with
        :class:`DownloadCancelled` at once.
    timeout : float
        Seconds to wait for a connection and for data (> 0); each file must also arrive within
        ``timeout`` plus its size at :data:`MIN_RATE` bytes per second.

    Returns
    -------
    pathlib.Path
        The cache folder, now holding all four files.

    Raises
    ------
    DownloadError
        Some file could not be fetched from any mirror (the message lists each failure).
    DownloadCancelled
        ``cancel`` asked to stop.
    OSError
        The cache folder cannot be written.
    """
    spec = dataset_spec(name)
    bases = _check_mirrors(spec.mirrors if mirrors is None else mirrors)
    timeout = float(check_number("timeout", timeout, low=0.0, low_open=True))
    cancelled = _cancel_checker(cancel)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: {progress!r}; allowed: None or a callable(done, total)")
    folder = cache_folder(spec, cache_dir)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        todo = [f for f in spec.files if not _cached(folder, f)]
        tracker = _Progress(progress, [f.download_size for f in todo])
        tracker.report()
        preferred = 0
        for f in todo:
            if cancelled():
                raise DownloadCancelled(f"download of {spec.title} cancelled")
            failures = []
            order = list(range(preferred, len(bases))) + list(range(preferred))
            for i in order:
                url = bases[i] + f.name + ".gz"
                try:
                    atomic_write(
                        folder / f"{f.name}.gz",
                        lambda out, url=url, f=f: _fetch(url, out, f, tracker, timeout, cancelled),
                    )
                except _MirrorFailure as exc:
                    failures.append(f"{url}: {exc}")
                    continue
                preferred = i
                tracker.file_done()
                break
            else:
                raise DownloadError(
                    f"could not download {f.name}.gz of {spec.title}: " + "; ".join(failures)
                )
        tracker.report()
    finally:
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds when empty
    return folder


def _cached(folder: Path, f: DataFile) -> bool:
    path = find_file(folder, f.name)
    return path is not None and verified(path, f)

"""Downloads against mirrors that trickle, never end or lie: Cancel takes effect at once, slow
or endless mirrors are abandoned, and no temporary file survives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from idx_server import (
    EMPTY_MEMBER,
    GZIP_NAME_HEADER,
    NAMES,
    IdxServer,
    gz,
    listing,
    tiny_spec,
)

from core.data.download import MAX_RECEIVED, DownloadCancelled, DownloadError, download


def cancel_when(condition: Callable[[], bool]) -> tuple[threading.Event, list[float]]:
    """An Event set (and its time noted) as soon as ``condition()`` holds, polled every 10 ms."""
    event, when = threading.Event(), []

    def watch() -> None:
        while not condition():
            time.sleep(0.01)
        when.append(time.perf_counter())
        event.set()

    threading.Thread(target=watch, daemon=True).start()
    return event, when


@pytest.mark.parametrize("mode", ["throttle", "hang", "slow-headers"])
def test_cancel_takes_effect_at_once_on_a_slow_link(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes], mode: str
) -> None:
    """2 bytes per second (well inside the 30 s read timeout), a server that never answers, or
    one that trickles its headers: Cancel ends the download within a second, leaving no file at
    all, and the connection is closed at once (the server notices within a second too)."""
    server.serve("m1", tiny, mode=mode)
    server.piece, server.pace = 1, 0.5
    spec = tiny_spec(tiny, (server.url("m1"),))
    done: list[int] = []
    started = (lambda: any(done)) if mode == "throttle" else (lambda: bool(server.log))
    event, when = cancel_when(started)
    before = set(threading.enumerate())
    with pytest.raises(DownloadCancelled):
        download(spec, tmp_path, cancel=event, progress=lambda d, t: done.append(d))
    latency = time.perf_counter() - when[0]
    assert latency < 1.0
    assert listing(tmp_path) == []
    readers = [t for t in set(threading.enumerate()) - before if t.name == "mnist-download"]
    for thread in readers:  # the read blocked on the socket has returned
        thread.join(1.0)
    assert not any(t.is_alive() for t in readers)


def test_a_trickling_mirror_is_abandoned_at_its_deadline(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never silent for the timeout, yet far too slow: the next mirror gets the file."""
    # The deadline becomes the timeout plus a few milliseconds.
    monkeypatch.setattr("core.data.download.MIN_RATE", 10**6)
    server.serve("slow", tiny, mode="throttle")
    server.serve("m2", tiny)
    server.piece, server.pace = 1, 0.05
    spec = tiny_spec(tiny, (server.url("slow"), server.url("m2")))
    start = time.perf_counter()
    download(spec, tmp_path, timeout=0.5)
    assert time.perf_counter() - start < 5
    assert server.fetched()[:2] == [f"slow:{NAMES[0]}.gz", f"m2:{NAMES[0]}.gz"]
    assert listing(tmp_path / "tiny") == sorted(f"{n}.gz" for n in NAMES)


@pytest.mark.parametrize(
    ("body", "filler", "message"),
    [
        (GZIP_NAME_HEADER, b"a" * 4096, r"sends more than [\d,]+ bytes .*; refusing"),
        (b"", EMPTY_MEMBER * 200, r"sends more than [\d,]+ bytes .*; refusing"),
        (b"", gz(bytes(100_000)), "decompresses to more than the expected"),
        (b"", bytes(4096), "not valid gzip data"),
    ],
    ids=["endless-header-field", "endless-empty-members", "endless-zeros", "endless-junk"],
)
def test_endless_bodies_stop_at_a_small_multiple_of_the_known_size(
    server: IdxServer,
    tmp_path: Path,
    tiny: dict[str, bytes],
    body: bytes,
    filler: bytes,
    message: str,
) -> None:
    spec = tiny_spec(tiny, (server.url("m1"),))
    for name in NAMES:
        server.routes[f"/m1/{name}.gz"] = ("endless", body)
    server.filler = filler
    done: list[int] = []
    start = time.perf_counter()
    with pytest.raises(DownloadError, match=message):
        download(spec, tmp_path, progress=lambda d, t: done.append(d))
    assert time.perf_counter() - start < 5
    limit = MAX_RECEIVED * spec.files[0].download_size + 64 * 1024
    assert max(done) <= limit
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    ("announce", "message"),
    [(10**9, "announces 1,000,000,000 bytes"), (100, "not valid gzip data|truncated")],
)
def test_lying_content_length(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes], announce: int, message: str
) -> None:
    spec = tiny_spec(tiny, (server.url("m1"),))
    server.serve("m1", tiny, mode="lie")
    server.announce = announce
    with pytest.raises(DownloadError, match=message):
        download(spec, tmp_path)
    assert listing(tmp_path) == []


def test_a_failed_or_cancelled_download_never_leaves_a_temporary_file(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    """The first file completes; the second fails on every mirror: only the first stays."""
    server.serve("m1", {NAMES[0]: tiny[NAMES[0]]})
    server.routes[f"/m1/{NAMES[1]}.gz"] = ("truncate", gz(tiny[NAMES[1]]))
    spec = tiny_spec(tiny, (server.url("m1"),))
    with pytest.raises(DownloadError):
        download(spec, tmp_path)
    assert listing(tmp_path / "tiny") == [f"{NAMES[0]}.gz"]

"""Checked downloads against a local HTTP server: mirrors in turn, checksums, progress,
Cancel, and a cache that never holds a partial file."""

from __future__ import annotations

import importlib
import re
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from idx_server import (
    NAMES,
    IdxServer,
    gz,
    listing,
    tiny_arrays,
    tiny_spec,
    write_folder,
)

from core.data.download import DownloadCancelled, DownloadError, download
from core.data.idx import MnistError, read_idx
from core.data.loading import DatasetNotFound, load

# ---------------------------------------------------------------------------------- download


def test_download_success_progress_and_cache(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    server.serve("m1", tiny)
    spec = tiny_spec(tiny, (server.url("m1"),))
    calls: list[tuple[int, int]] = []
    folder = download(spec, tmp_path, progress=lambda d, t: calls.append((d, t)))
    assert folder == tmp_path / "tiny"
    assert listing(folder) == sorted(f"{n}.gz" for n in NAMES)
    total = sum(len(gz(raw)) for raw in tiny.values())
    dones = [d for d, _ in calls]
    assert dones == sorted(dones) and all(0 <= d <= t for d, t in calls)
    assert calls[-1] == (total, total) and calls[0][0] == 0
    d = load(spec, tmp_path)
    assert np.array_equal(d.x_train, tiny_arrays()[NAMES[0]])
    # Everything cached and valid: nothing fetched again.
    server.log.clear()
    calls.clear()
    assert download(spec, tmp_path, progress=lambda d, t: calls.append((d, t))) == folder
    assert server.log == [] and calls[-1] == (0, 0)


def test_download_falls_back_to_the_next_mirror_on_404(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    server.serve("m2", tiny)
    spec = tiny_spec(tiny, ("http://127.0.0.1:1/", server.url("m1")))
    d = load(spec, tmp_path, download=True, mirrors=[server.url("m1"), server.url("m2")])
    assert d.n_train == 20
    # The first file tried m1 (404) then m2; later files start with m2, which worked.
    assert server.fetched() == [f"m1:{NAMES[0]}.gz"] + [f"m2:{n}.gz" for n in NAMES]
    assert listing(tmp_path / "tiny") == sorted(f"{n}.gz" for n in NAMES)


def test_download_connection_refused_then_next_mirror(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    server.serve("m1", tiny)
    download(tiny_spec(tiny, (dead, server.url("m1"))), tmp_path, timeout=5)
    assert len(listing(tmp_path / "tiny")) == 4


def test_download_timeout_then_next_mirror(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    server.serve("slow", tiny, mode="hang")
    server.serve("m1", tiny)
    start = time.perf_counter()
    download(tiny_spec(tiny, (server.url("slow"), server.url("m1"))), tmp_path, timeout=0.3)
    assert time.perf_counter() - start < 3
    assert server.fetched()[:2] == [f"slow:{NAMES[0]}.gz", f"m1:{NAMES[0]}.gz"]


@pytest.mark.parametrize("mode", ["truncate", "checksum", "not-gzip", "404"])
def test_download_failure_leaves_no_file(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes], mode: str
) -> None:
    spec = tiny_spec(tiny, (server.url("m1"), server.url("m2")))
    if mode == "truncate":
        server.serve("m1", tiny, mode="truncate")
        message = r"truncated: received [\d,]+ of [\d,]+ bytes"
    elif mode == "checksum":
        server.serve("m1", {n: raw[:-1] + b"\x07" for n, raw in tiny.items()})
        message = "checksum mismatch"
    elif mode == "not-gzip":
        for n, raw in tiny.items():
            server.routes[f"/m1/{n}.gz"] = ("ok", raw)
        message = "not valid gzip data"
    else:
        message = "HTTP 404"
    with pytest.raises(DownloadError) as info:
        download(spec, tmp_path)
    text = str(info.value)
    assert f"could not download {NAMES[0]}.gz of Tiny" in text
    assert server.url("m1") in text and server.url("m2") in text  # every mirror was tried
    assert re.search(message, text)
    assert listing(tmp_path) == []  # no stray file, not even the empty folder
    with pytest.raises(DatasetNotFound):
        load(spec, tmp_path)


def test_truncated_first_mirror_then_good_second(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    server.serve("m1", tiny, mode="truncate")
    server.serve("m2", tiny)
    calls: list[tuple[int, int]] = []
    spec = tiny_spec(tiny, (server.url("m1"), server.url("m2")))
    download(spec, tmp_path, progress=lambda d, t: calls.append((d, t)))
    dones = [d for d, _ in calls]
    assert dones == sorted(dones)  # monotonic even though the first attempt was thrown away
    total = sum(len(gz(raw)) for raw in tiny.values())
    assert calls[-1] == (total, total)
    assert load(spec, tmp_path).n_test == 10


def test_download_cancelled_midway(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("core.data.connection.CHUNK_SIZE", 1024)  # many chunks per file
    server.serve("m1", tiny)
    spec = tiny_spec(tiny, (server.url("m1"),))
    calls: list[tuple[int, int]] = []
    with pytest.raises(DownloadCancelled):
        download(
            spec,
            tmp_path,
            progress=lambda d, t: calls.append((d, t)),
            cancel=lambda: any(d > 0 for d, _ in calls),
        )
    assert calls[-1][0] == 1024  # stopped after the first chunk
    assert listing(tmp_path) == []
    event = threading.Event()
    event.set()
    with pytest.raises(DownloadCancelled):
        download(spec, tmp_path, cancel=event)
    assert listing(tmp_path) == []


def test_cancel_between_files_keeps_completed_files(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    server.serve("m1", tiny)
    spec = tiny_spec(tiny, (server.url("m1"),))
    first = tmp_path / "tiny" / f"{NAMES[0]}.gz"
    with pytest.raises(DownloadCancelled):
        download(spec, tmp_path, cancel=first.exists)  # cancel once the first file is in
    assert listing(tmp_path / "tiny") == [f"{NAMES[0]}.gz"]  # complete and verified
    assert read_idx(tmp_path / "tiny" / f"{NAMES[0]}.gz", sha256=spec.files[0].sha256).size
    server.log.clear()
    download(spec, tmp_path)  # resumes with the three missing files
    assert server.fetched() == [f"m1:{n}.gz" for n in NAMES[1:]]


def test_download_replaces_a_damaged_cached_file(
    server: IdxServer, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    server.serve("m1", tiny)
    spec = tiny_spec(tiny, (server.url("m1"),))
    folder = write_folder(tmp_path / "tiny", tiny)
    damaged = gz(tiny[NAMES[2]][:-1] + b"\x01")  # same size, wrong content
    (folder / f"{NAMES[2]}.gz").write_bytes(damaged)
    with pytest.raises(MnistError, match="damaged"):
        load(spec, tmp_path)
    d = load(spec, tmp_path, download=True)
    assert server.fetched() == [f"m1:{NAMES[2]}.gz"]
    assert np.array_equal(d.x_test, tiny_arrays()[NAMES[2]])
    assert listing(folder) == sorted(f"{n}.gz" for n in NAMES)


def test_cache_writes_use_the_shared_atomic_write() -> None:
    assert importlib.import_module("core.data.download").atomic_write.__module__ == "core.atomic"

"""MNIST-style data: strict IDX/npz readers, locating, checked downloads (against a local HTTP
server), preparation and augmentation."""

from __future__ import annotations

import dataclasses
import importlib
import re
import socket
import struct
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from idx_server import (
    NAMES,
    IdxServer,
    gz,
    idx_bytes,
    listing,
    sha,
    tiny_arrays,
    tiny_spec,
    write_folder,
)

from core.data.augment import augment, shift_rotate
from core.data.download import DownloadCancelled, DownloadError, download
from core.data.idx import IMAGES_MAGIC, LABELS_MAGIC, MnistError, read_idx, read_npz
from core.data.image_dataset import ImageDataset
from core.data.loading import DatasetNotFound, load, load_folder
from core.data.locations import cache_folder, default_data_root, status
from core.data.prepare import batches, normalize, prepare, shuffle, to_layout
from core.data.registry import DATASETS, DIGITS, FASHION_CLASSES

SHARED_MNIST = Path("/work/shared/data/mnist")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


# ------------------------------------------------------------------------------------ helpers


def raw_header(magic: int, *dims: int) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims)


# ------------------------------------------------------------------------------- IDX reader


def test_read_idx_raw_gz_bytes_and_paths(tmp_path: Path, tiny: dict[str, bytes]) -> None:
    arrays = tiny_arrays()
    images, labels = tiny[NAMES[0]], tiny[NAMES[1]]
    (tmp_path / "img").write_bytes(images)
    (tmp_path / "lab.gz").write_bytes(gz(labels))
    (tmp_path / "img-named-raw.gz").write_bytes(images)  # detected by content, not by name
    for source in (images, gz(images), tmp_path / "img", str(tmp_path / "img-named-raw.gz")):
        x = read_idx(source)
        assert x.dtype == np.uint8 and x.shape == (20, 28, 28)
        assert np.array_equal(x, arrays[NAMES[0]])
    y = read_idx(tmp_path / "lab.gz", sha256=sha(labels))
    assert y.dtype == np.uint8 and np.array_equal(y, arrays[NAMES[1]])


def test_read_idx_checksum_mismatch_names_the_file(tmp_path: Path, tiny: dict[str, bytes]) -> None:
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gz(tiny[NAMES[1]]))
    with pytest.raises(MnistError, match=r"train-labels-idx1-ubyte\.gz: SHA-256 .* expected"):
        read_idx(path, sha256="0" * 64)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_and_trailing_data_refused(tmp_path: Path, compress: bool) -> None:
    good = idx_bytes(np.zeros((3, 28, 28), np.uint8))
    cases = {"short.idx": good[:-1], "long.idx": good + b"\x00"}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(gz(data) if compress else data)
        with pytest.raises(MnistError) as info:
            read_idx(path)
        assert str(path) in str(info.value)
        assert ("truncated" if name == "short.idx" else "unexpected data after") in str(info.value)


def test_short_header_refused() -> None:
    with pytest.raises(MnistError, match="too short"):
        read_idx(b"\x00\x00", name="tiny.idx")
    with pytest.raises(MnistError, match=r"tiny\.idx: header truncated"):
        read_idx(raw_header(IMAGES_MAGIC, 1, 28)[:10], name="tiny.idx")
    with pytest.raises(MnistError, match="too short"):
        read_idx(b"")


@pytest.mark.parametrize(
    "magic",
    [0x00000802, 0x00000903, 0x00000D03, 0x00000804, 0x01000803, 0x0000080A, 0x3C68746D],
)
def test_wrong_magic_refused(tmp_path: Path, magic: int) -> None:
    path = tmp_path / "weird-idx3-ubyte"
    path.write_bytes(struct.pack(">I", magic) + b"\x00\x00\x00\x01" * 3 + b"\x00" * 784)
    with pytest.raises(MnistError, match=r"weird-idx3-ubyte: magic number 0x[0-9a-f]{8}"):
        read_idx(path)


def test_labels_out_of_range_refused() -> None:
    data = idx_bytes(np.array([0, 9, 10, 3, 255], np.uint8))
    with pytest.raises(MnistError, match=r"labels\.idx: label 10 at index 2 \(2 such\)"):
        read_idx(data, name="labels.idx")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (raw_header(IMAGES_MAGIC, 0, 28, 28), "declares 0 images"),
        (raw_header(LABELS_MAGIC, 10_000_001), "declares 10,000,001 labels"),
        (raw_header(IMAGES_MAGIC, 0xFFFFFFFF, 28, 28), "declares 4,294,967,295 images"),
        (raw_header(IMAGES_MAGIC, 10, 2000, 2000), "2000 x 2000 pixels"),
        (raw_header(IMAGES_MAGIC, 10, 0, 28), "0 x 28 pixels"),
        (raw_header(IMAGES_MAGIC, 5_000_000, 28, 28), "refusing"),
    ],
)
def test_absurd_dimensions_refused_before_allocating(header: bytes, message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(MnistError, match=message):
        read_idx(gz(header), name="bomb.gz")
    assert time.perf_counter() - start < 0.5


def test_damaged_gzip_refused(tiny: dict[str, bytes]) -> None:
    packed = gz(tiny[NAMES[0]])
    with pytest.raises(MnistError, match=r"x\.gz: damaged or truncated gzip data"):
        read_idx(packed[:-12], name="x.gz")
    flipped = bytearray(packed)
    flipped[len(flipped) // 2] ^= 0xFF
    with pytest.raises(MnistError, match="x.gz"):
        read_idx(bytes(flipped), name="x.gz")
    crc = bytearray(packed)
    crc[-6] ^= 0x01  # the CRC32 in the trailer
    with pytest.raises(MnistError, match="x.gz"):
        read_idx(bytes(crc), name="x.gz")


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=64), st.integers(0, 63), st.binary(max_size=8), st.booleans())
def test_read_idx_never_fails_otherwise(
    junk: bytes, cut: int, patch: bytes, compress: bool
) -> None:
    """Random bytes, or a valid small file with bytes patched in: an array or MnistError."""
    base = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 2, 2) % 10)
    for data in (junk, base[:cut] + patch + base[cut + len(patch) :]):
        try:
            out = read_idx(gz(data) if compress else data)
        except MnistError:
            continue
        assert out.dtype == np.uint8 and out.ndim in (1, 3)


# ------------------------------------------------------------------------------- npz reader


def npz_file(path: Path, **arrays: Any) -> Path:
    arrays_ = {k: v for k, v in arrays.items() if v is not None}
    with open(path, "wb") as f:
        np.savez(f, **arrays_)
    return path


def good_npz_arrays() -> dict[str, np.ndarray]:
    a = tiny_arrays()
    return {
        "x_train": a[NAMES[0]],
        "y_train": a[NAMES[1]],
        "x_test": a[NAMES[2]],
        "y_test": a[NAMES[3]].astype(np.int64),
    }


def test_npz_good(tmp_path: Path) -> None:
    arrays = good_npz_arrays()
    d = read_npz(npz_file(tmp_path / "mnist.npz", **arrays, extra=np.zeros(3)))
    assert d.name == "mnist" and d.class_names == DIGITS and d.n_classes == 10
    assert d.x_train.shape == (20, 28, 28) and d.x_train.dtype == np.uint8
    assert d.y_train.dtype == np.int64 and d.y_test.dtype == np.int64
    assert np.array_equal(d.x_test, arrays["x_test"]) and np.array_equal(d.y_test, arrays["y_test"])
    assert not d.x_train.flags.writeable and not d.y_train.flags.writeable


def test_npz_object_arrays_refused(tmp_path: Path) -> None:
    arrays = good_npz_arrays()
    arrays["y_train"] = np.array([1, "two", None] * 7, dtype=object)[:20]
    path = npz_file(tmp_path / "evil.npz", **arrays)
    with pytest.raises(MnistError, match=r"evil\.npz: y_train cannot be read without unpickl"):
        read_npz(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x_train": None}, "lacks x_train"),
        ({"x_train": np.zeros((20, 28, 28), np.float32)}, "x_train is float32"),
        ({"x_test": np.zeros((10, 32, 32), np.uint8)}, r"x_test is uint8 \(10, 32, 32\)"),
        ({"y_train": np.full(20, 10)}, "y_train has labels from 10 to 10"),
        ({"y_test": np.full(10, -1)}, "labels from -1 to -1"),
        ({"y_test": np.zeros(9, np.uint8)}, "10 test images but 9 test labels"),
        ({"y_train": np.zeros(20, np.float64)}, "y_train is float64"),
    ],
)
def test_npz_invalid(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    arrays: dict[str, Any] = {**good_npz_arrays(), **change}
    path = npz_file(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(MnistError, match=message):
        read_npz(path)


def test_npz_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(MnistError, match="not a readable .npz archive"):
        read_npz(path)
    np.save(tmp_path / "plain.npy", np.zeros(3))
    with pytest.raises(MnistError, match="not a readable .npz archive"):
        read_npz(tmp_path / "plain.npy")


# ------------------------------------------------------------------------------ load_folder


def test_load_folder_idx_mixed_gz_and_raw(tmp_path: Path, tiny: dict[str, bytes]) -> None:
    folder = tmp_path / "digits"
    write_folder(folder, dict(list(tiny.items())[:2]), compress=True)
    write_folder(folder, dict(list(tiny.items())[2:]), compress=False)
    d = load_folder(folder)
    a = tiny_arrays()
    assert d.name == "digits" and d.n_train == 20 and d.n_test == 10
    assert np.array_equal(d.x_train, a[NAMES[0]]) and np.array_equal(d.y_test, a[NAMES[3]])
    named = load_folder(folder, name="fashion", class_names=FASHION_CLASSES)
    assert named.name == "fashion" and named.class_names[9] == "Ankle boot"


def test_load_folder_npz(tmp_path: Path) -> None:
    npz_file(tmp_path / "mnist.npz", **good_npz_arrays())
    assert load_folder(tmp_path).n_train == 20
    assert load_folder(tmp_path / "mnist.npz").name == "mnist"


def test_load_folder_missing_files(tmp_path: Path, tiny: dict[str, bytes]) -> None:
    with pytest.raises(DatasetNotFound, match="neither the four IDX files"):
        load_folder(tmp_path)
    with pytest.raises(DatasetNotFound, match="no such folder"):
        load_folder(tmp_path / "absent")
    write_folder(tmp_path, dict(list(tiny.items())[:3]))
    with pytest.raises(DatasetNotFound, match="t10k-labels-idx1-ubyte missing"):
        load_folder(tmp_path)


def test_load_folder_wrong_kinds_and_counts(tmp_path: Path, tiny: dict[str, bytes]) -> None:
    swapped = dict(tiny)
    swapped[NAMES[0]] = tiny[NAMES[1]]
    with pytest.raises(MnistError, match="train-images-idx3-ubyte must hold images"):
        load_folder(write_folder(tmp_path / "a", swapped))
    fewer = dict(tiny)
    fewer[NAMES[3]] = idx_bytes(np.zeros(9, np.uint8))
    with pytest.raises(MnistError, match="10 test images but 9 test labels"):
        load_folder(write_folder(tmp_path / "b", fewer))
    small = dict(tiny)
    small[NAMES[2]] = idx_bytes(np.zeros((10, 8, 8), np.uint8))
    with pytest.raises(MnistError, match=r"\(n, 28, 28\)"):
        load_folder(write_folder(tmp_path / "c", small))


# ------------------------------------------------------------------ real data (when present)


@pytest.fixture(scope="module")
def shared_mnist() -> Path:
    if not all((SHARED_MNIST / f"{n}.gz").is_file() for n in NAMES):
        pytest.skip("the MNIST development copy is not available")
    return SHARED_MNIST


def test_real_mnist_test_split_checksums(shared_mnist: Path) -> None:
    files = DATASETS["mnist"].files
    x = read_idx(shared_mnist / f"{files[2].name}.gz", sha256=files[2].sha256)
    y = read_idx(shared_mnist / f"{files[3].name}.gz", sha256=files[3].sha256)
    assert x.shape == (10000, 28, 28) and y.shape == (10000,)
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    spec = dataclasses.replace(DATASETS["mnist"], system_dirs=(str(shared_mnist),))
    loc = status(spec, cache_dir="/nonexistent-cache-root")
    assert loc is not None and loc.source == "system" and loc.folder == shared_mnist


@pytest.mark.slow
def test_real_mnist_full_load_verified(shared_mnist: Path, tmp_path: Path) -> None:
    spec = dataclasses.replace(DATASETS["mnist"], system_dirs=(str(shared_mnist),))
    d = load(spec, cache_dir=tmp_path)  # verifies every SHA-256
    assert d.x_train.shape == (60000, 28, 28) and d.y_train.shape == (60000,)
    assert d.x_test.shape == (10000, 28, 28) and d.y_test.shape == (10000,)
    assert load_folder(shared_mnist).n_train == 60000


def test_debian_fashion_mnist_is_found(tmp_path: Path) -> None:
    if not DEBIAN_FASHION.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    loc = status("fashion-mnist", cache_dir=tmp_path)
    assert loc is not None and loc.source == "system" and loc.folder == DEBIAN_FASHION
    labels = read_idx(loc.files[3], sha256=DATASETS["fashion-mnist"].files[3].sha256)
    assert labels.shape == (10000,) and np.bincount(labels).tolist() == [1000] * 10


@pytest.mark.slow
def test_debian_fashion_mnist_full_load_verified(tmp_path: Path) -> None:
    if not DEBIAN_FASHION.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    assert status("fashion-mnist", cache_dir=tmp_path, verify=True) is not None
    d = load("fashion-mnist", cache_dir=tmp_path)
    assert d.x_train.shape == (60000, 28, 28) and d.class_names == FASHION_CLASSES


# ------------------------------------------------------------------- locating, no network


def test_cache_root_env_and_platforms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(tmp_path / "root"))
    assert default_data_root() == tmp_path / "root"
    assert cache_folder("mnist") == tmp_path / "root" / "mnist"
    assert cache_folder("fashion-mnist", tmp_path) == tmp_path / "fashion-mnist"
    monkeypatch.delenv("NN_PLAYGROUND_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_root() == tmp_path / "xdg" / "nn-playground" / "datasets"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert default_data_root() == tmp_path / "home/.local/share/nn-playground/datasets"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert default_data_root() == (
        tmp_path / "home/Library/Application Support/nn-playground/datasets"
    )
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert default_data_root() == tmp_path / "local" / "nn-playground" / "datasets"


def test_unknown_name_and_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="name: 'cifar10' is not known; allowed: mnist"):
        status("cifar10")
    spec = tiny_spec({n: b"" for n in NAMES}, ("http://127.0.0.1:9/",))
    with pytest.raises(ValueError, match="mirrors: empty"):
        download(spec, tmp_path, mirrors=[])
    with pytest.raises(ValueError, match="mirrors: 'ftp://x/'"):
        download(spec, tmp_path, mirrors=["ftp://x/"])
    with pytest.raises(ValueError, match="timeout"):
        download(spec, tmp_path, timeout=0)
    with pytest.raises(TypeError, match="cancel"):
        download(spec, tmp_path, cancel=5)
    assert listing(tmp_path) == []


def test_locating_never_touches_the_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access")

    monkeypatch.setattr(urllib.request, "urlopen", forbidden)
    monkeypatch.setattr(socket, "create_connection", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(socket.socket, "connect_ex", forbidden)
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(tmp_path / "root"))
    assert status("mnist") is None
    assert status("mnist", cache_dir=tmp_path, verify=True) is None
    status("fashion-mnist", cache_dir=tmp_path)
    with pytest.raises(DatasetNotFound, match=r"download it \(about 12 MB\)"):
        load("mnist")
    spec = tiny_spec(tiny, ("http://127.0.0.1:9/",))
    write_folder(tmp_path / "root" / "tiny", tiny)
    loc = status(spec, verify=True)
    assert loc is not None and loc.source == "cache" and loc.folder == tmp_path / "root" / "tiny"
    assert load(spec, download=True).n_train == 20  # found locally: no download
    assert listing(tmp_path) == ["root"]  # nothing created by looking


def test_status_checks_sizes_and_load_checks_checksums(
    tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    spec = tiny_spec(tiny)
    folder = write_folder(tmp_path / "tiny", tiny, compress=False)
    assert status(spec, tmp_path) is not None
    # Same size, different content: status (sizes only) accepts, verify and load refuse.
    labels = bytearray(tiny[NAMES[1]])
    labels[-1] = (labels[-1] + 1) % 10
    (folder / NAMES[1]).write_bytes(bytes(labels))
    assert status(spec, tmp_path) is not None
    assert status(spec, tmp_path, verify=True) is None
    with pytest.raises(MnistError, match="local copy is damaged.*SHA-256"):
        load(spec, tmp_path)
    # A truncated file fails even the cheap check.
    (folder / NAMES[1]).write_bytes(tiny[NAMES[1]][:-1])
    assert status(spec, tmp_path) is None
    (folder / NAMES[1]).unlink()
    (folder / f"{NAMES[1]}.gz").write_bytes(gz(tiny[NAMES[1]])[:-3])
    assert status(spec, tmp_path) is None
    (folder / f"{NAMES[1]}.gz").write_bytes(gz(tiny[NAMES[1]]))
    assert load(spec, tmp_path).n_test == 10


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


def test_registry_entries() -> None:
    assert set(DATASETS) == {"mnist", "fashion-mnist"}
    for spec in DATASETS.values():
        assert [f.name for f in spec.files] == NAMES
        assert [f.size for f in spec.files] == [47040016, 60008, 7840016, 10008]
        assert all(u.endswith("/") and u.startswith("http") for u in spec.mirrors)
    assert 11e6 < DATASETS["mnist"].download_size < 12e6
    assert DATASETS["fashion-mnist"].class_names[0] == "T-shirt/top"
    assert DATASETS["mnist"].class_names == tuple("0123456789")


IMAGE_DATA_MODULES = (
    "augment",
    "connection",
    "download",
    "gunzip",
    "idx",
    "image_dataset",
    "loading",
    "locations",
    "prepare",
    "registry",
)


@pytest.mark.parametrize("name", IMAGE_DATA_MODULES)
def test_core_module_does_not_mention_the_shared_folder(name: str) -> None:
    text = Path(importlib.import_module(f"core.data.{name}").__file__).read_text(encoding="utf-8")
    assert "/work/shared" not in text and "../shared" not in text


# ------------------------------------------------------------------------------- preparation


def small_dataset(n_per_class: int = 12) -> ImageDataset:
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(10), n_per_class)
    rng.shuffle(y)
    x = rng.integers(0, 256, (len(y), 28, 28), dtype=np.uint8)
    return ImageDataset("toy", x, y, x[:15], y[:15])


def test_image_dataset_validation() -> None:
    x = np.zeros((4, 28, 28), np.uint8)
    y = np.array([0, 1, 2, 9])
    with pytest.raises(ValueError, match="x_train: dtype float64"):
        ImageDataset("d", x.astype(np.float64), y, x, y)
    with pytest.raises(ValueError, match=r"y_test: labels from 0 to 10; allowed: 0..9"):
        ImageDataset("d", x, y, x, np.array([0, 1, 2, 10]))
    with pytest.raises(ValueError, match=r"y_train: shape \(3,\)"):
        ImageDataset("d", x, y[:3], x, y)
    with pytest.raises(ValueError, match="x_test: images of"):
        ImageDataset("d", x, y, np.zeros((4, 14, 14), np.uint8), y)
    d = ImageDataset("d", x, y.astype(np.uint8), x[:0], y[:0])
    assert d.y_train.dtype == np.int64 and d.n_test == 0 and d.image_shape == (28, 28)


def test_normalize_and_layouts() -> None:
    x = np.array([[[0, 255], [51, 128]]], np.uint8)
    z = normalize(x)
    assert z.dtype == np.float32 and z[0, 0, 1] == 1.0 and z[0, 0, 0] == 0.0
    assert z[0, 1, 0] == np.float32(0.2)
    assert normalize(z) is z
    assert to_layout(z, "flat").shape == (1, 4)
    assert to_layout(z, "image").shape == (1, 1, 2, 2)
    with pytest.raises(ValueError, match="layout: 'nchw' is not known"):
        to_layout(z, "nchw")


def test_prepare_split_subsets_and_layout() -> None:
    d = small_dataset()
    p = prepare(d, layout="image", val_fraction=0.25, seed=5)
    assert p.x_train.shape == (90, 1, 28, 28) and p.x_val.shape == (30, 1, 28, 28)
    assert p.input_shape == (1, 28, 28) and p.x_train.dtype == np.float32
    assert 0.0 <= p.x_train.min() and p.x_train.max() <= 1.0
    assert np.bincount(p.y_val).tolist() == [3] * 10  # stratified
    # Train and validation are disjoint and together are the whole training set.
    rows = {r.tobytes() for r in np.concatenate([p.x_train, p.x_val])}
    assert len(rows) == 120
    again = prepare(d, layout="image", val_fraction=0.25, seed=5)
    assert np.array_equal(again.x_val, p.x_val) and np.array_equal(again.y_train, p.y_train)
    other = prepare(d, layout="image", val_fraction=0.25, seed=6)
    assert not np.array_equal(other.x_val, p.x_val)
    flat = prepare(d, n_train=50, n_test=7)
    assert flat.x_train.shape == (50, 784) and flat.x_val.shape == (0, 784)
    assert flat.x_test.shape == (7, 784) and flat.input_shape == (784,)
    assert np.array_equal(flat.x_train[3], d.x_train[3].reshape(-1) / np.float32(255))
    per = prepare(d, per_class=4, seed=1)
    assert np.bincount(per.y_train).tolist() == [4] * 10
    with pytest.raises(ValueError, match="per_class: 13, but class 0 has only 12"):
        prepare(d, per_class=13)
    with pytest.raises(ValueError, match="at most one"):
        prepare(d, n_train=5, per_class=2)
    with pytest.raises(ValueError, match="val_fraction"):
        prepare(d, val_fraction=0.95)


def test_batches_cover_each_sample_once() -> None:
    x = np.arange(23 * 2).reshape(23, 2)
    y = np.arange(23)
    got = list(batches(x, y, 5, np.random.default_rng(0)))
    assert [len(b) for _, b in got] == [5, 5, 5, 5, 3]
    seen = np.concatenate([b for _, b in got])
    assert sorted(seen.tolist()) == list(range(23)) and seen.tolist() != list(range(23))
    assert all(np.array_equal(xb[:, 0] // 2, yb) for xb, yb in got)  # pairs stay together
    again = np.concatenate([b for _, b in batches(x, y, 5, np.random.default_rng(0))])
    assert np.array_equal(seen, again)
    ordered = np.concatenate([b for _, b in batches(x, y, 5, None)])
    assert ordered.tolist() == list(range(23))
    assert [len(b) for _, b in batches(x, y, 5, None, drop_last=True)] == [5] * 4
    with pytest.raises(ValueError, match="batch_size"):
        list(batches(x, y, 0, None))
    shuffled_x, shuffled_y = shuffle(x, y, np.random.default_rng(1))
    assert np.array_equal(shuffled_x[:, 0] // 2, shuffled_y)


# ------------------------------------------------------------------------------ augmentation


def blob_images(n: int = 6) -> np.ndarray:
    """Soft blobs away from the border, so shifts of up to 2 px never cut them."""
    rr, cc = np.mgrid[0:28, 0:28]
    rng = np.random.default_rng(1)
    out = np.empty((n, 28, 28), np.float32)
    for i in range(n):
        r0, c0 = rng.uniform(10, 17, 2)
        out[i] = np.exp(-((rr - r0) ** 2 + (cc - c0) ** 2) / 8.0) * (rr > 3) * (rr < 24)
    return out


def centre_of_mass(x: np.ndarray) -> np.ndarray:
    rr, cc = np.mgrid[0 : x.shape[-2], 0 : x.shape[-1]]
    mass = x.sum(axis=(-2, -1))
    return np.stack([(x * rr).sum(axis=(-2, -1)) / mass, (x * cc).sum(axis=(-2, -1)) / mass], -1)


def test_identity_and_exact_integer_shifts() -> None:
    x = normalize(tiny_arrays()[NAMES[0]])
    assert np.array_equal(shift_rotate(x, 0, 0, 0.0), x)
    assert np.array_equal(augment(x, np.random.default_rng(0), 0, 0.0), x)
    moved = shift_rotate(x, 2, -1)
    assert np.array_equal(moved[:, :-1, 2:], x[:, 1:, :-2])  # right 2, up 1
    assert np.all(moved[:, :, :2] == 0) and np.all(moved[:, -1, :] == 0)


def test_shift_moves_the_centre_of_mass() -> None:
    x = blob_images()
    before = centre_of_mass(x)
    moved = centre_of_mass(shift_rotate(x, np.array([2, -2, 0, 1, -1, 2]), -1))
    assert np.allclose(moved - before, [[-1, d] for d in (2, -2, 0, 1, -1, 2)], atol=1e-4)
    out = augment(x, np.random.default_rng(7), max_shift=2, max_rotation=0.0)
    delta = centre_of_mass(out) - before
    assert np.allclose(delta, np.round(delta), atol=1e-4) and np.abs(np.round(delta)).max() <= 2
    assert len({tuple(d) for d in np.round(delta).astype(int)}) > 1


def test_rotation_direction_and_mass() -> None:
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 13, 20] = 1.0  # right of the centre (13.5, 13.5)
    up = shift_rotate(x, 0, 0, 90.0)
    r, c = np.unravel_index(up[0].argmax(), (28, 28))
    assert c in (13, 14) and r < 10  # anticlockwise as displayed: now above the centre
    blobs = blob_images()
    turned = shift_rotate(blobs, 0, 0, np.full(6, 10.0))
    assert np.allclose(turned.sum(axis=(1, 2)), blobs.sum(axis=(1, 2)), rtol=0.02)


def test_augment_shapes_range_and_determinism() -> None:
    x = normalize(tiny_arrays()[NAMES[0]])
    a = augment(x, np.random.default_rng(3))
    b = augment(x, np.random.default_rng(3))
    c = augment(x, np.random.default_rng(4))
    assert a.shape == x.shape and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() >= 0.0 and a.max() <= 1.0
    img = augment(x[:, None], np.random.default_rng(3))
    assert img.shape == (20, 1, 28, 28) and np.array_equal(img[:, 0], a)
    with pytest.raises(ValueError, match="max_shift"):
        augment(x, np.random.default_rng(0), max_shift=-1)
    with pytest.raises(TypeError, match="rng"):
        augment(x, 0)  # type: ignore[arg-type]


@pytest.mark.slow
def test_augment_speed() -> None:
    x = np.random.default_rng(0).random((10000, 28, 28), dtype=np.float32)
    augment(x[:100], np.random.default_rng(0))
    start = time.perf_counter()
    augment(x, np.random.default_rng(0))
    assert time.perf_counter() - start < 1.0


def test_cache_writes_use_the_shared_atomic_write() -> None:
    assert importlib.import_module("core.data.download").atomic_write.__module__ == "core.atomic"

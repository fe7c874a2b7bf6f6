"""The strict IDX and mnist.npz readers: good files read exactly, every bad one refused
with an MnistError naming the file and the fault."""

from __future__ import annotations

import struct
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from idx_server import (
    NAMES,
    good_npz_arrays,
    gz,
    idx_bytes,
    npz_file,
    sha,
    tiny_arrays,
)

from core.data.idx import IMAGES_MAGIC, LABELS_MAGIC, MnistError, read_idx, read_npz
from core.data.registry import DIGITS

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

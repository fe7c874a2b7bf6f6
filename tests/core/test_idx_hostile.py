"""The IDX and npz readers against hostile input: decompression bombs, lying headers, pipes and
corrupt archives (fuzzed). Every bad file gets an MnistError, with work bounded by what the
file legitimately needs."""

from __future__ import annotations

import gzip
import io
import os
import struct
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from idx_server import (
    EMPTY_MEMBER,
    GZIP_NAME_HEADER,
    NAMES,
    gz,
    idx_bytes,
    npy_bytes,
    npy_of,
    refusal_cost,
    tiny_arrays,
    write_folder,
)

from core.data.gunzip import Gunzip
from core.data.idx import (
    EXPANSION_SLACK,
    IMAGES_MAGIC,
    MAX_EXPANSION,
    MAX_NPZ_MEMBERS,
    MnistError,
    read_idx,
    read_npz,
)
from core.data.loading import load_folder

MB = 1024**2


def idx_header(magic: int, *dims: int) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims)


def zeros_gzip(n_bytes: int, member: int = 16 * MB) -> bytes:
    """``n_bytes`` of zeros as gzip data, built from repeated members (fast at any size)."""
    one = gz(bytes(member))
    full, rest = divmod(n_bytes, member)
    return one * full + (gz(bytes(rest)) if rest else b"")


@pytest.fixture
def decompressed(monkeypatch: pytest.MonkeyPatch) -> list[Gunzip]:
    """Every gzip decompressor the readers make, to count the bytes each produced."""
    made: list[Gunzip] = []

    class Counting(Gunzip):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr("core.data.gunzip.Gunzip", Counting)
    return made


# ------------------------------------------------------------------------- IDX decompression


def test_stream_past_the_declared_images_stops_one_byte_after(
    decompressed: list[Gunzip],
) -> None:
    """A header declaring 10 images, then 64 MiB more zeros: read stops at 10 images + 1 byte."""
    header = idx_header(IMAGES_MAGIC, 10, 28, 28)
    bomb = gz(header + bytes(10 * 784)) + zeros_gzip(64 * MB)
    with pytest.raises(MnistError, match=r"bomb\.gz: unexpected data after the images of 10 x"):
        read_idx(bomb, name="bomb.gz")
    assert [g.size for g in decompressed] == [len(header) + 10 * 784 + 1]


def test_declared_size_beyond_what_the_gzip_file_can_hold_is_refused_unread(
    decompressed: list[Gunzip],
) -> None:
    """1.5 GB declared in 2 MB of gzip data (a bomb expands ~1000 times, real data 2-5 times):
    refused after decompressing the 16-byte header."""
    header = idx_header(IMAGES_MAGIC, 2_000_000, 28, 28)
    bomb = gz(header) + zeros_gzip(64 * MB)
    assert len(bomb) < 2 * MB
    start = time.perf_counter()
    with pytest.raises(
        MnistError,
        match=r"bomb\.gz: declares images of 2000000 x 28 x 28 .*"
        r"refusing \(MNIST-style data expands at most 32 times\)",
    ):
        read_idx(bomb, name="bomb.gz")
    assert time.perf_counter() - start < 1.0
    assert [g.size for g in decompressed] == [len(header)]


def test_raw_file_declaring_more_than_its_size_is_refused_before_allocating(
    tmp_path: Path,
) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_header(IMAGES_MAGIC, 2_000_000, 28, 28) + bytes(784))
    with pytest.raises(MnistError, match=r"truncated: 800 bytes, but the header declares"):
        read_idx(path)


def test_endless_gzip_header_field_and_empty_members_are_bounded_by_the_file() -> None:
    """Data that decompresses to nothing: refused as short, after one pass over the file."""
    for data in (GZIP_NAME_HEADER + b"a" * MB, EMPTY_MEMBER * 50_000):
        start = time.perf_counter()
        with pytest.raises(MnistError, match=r"x\.gz: (0 bytes; too short|damaged)"):
            read_idx(data, name="x.gz")
        assert time.perf_counter() - start < 2.0


def test_gzip_data_reads_as_the_gzip_module_reads_it(tiny: dict[str, bytes]) -> None:
    """Several members, zero padding after a member (both allowed by gzip); garbage after a
    member, padding before the first, a cut member (refused, as gzip refuses them)."""
    raw = tiny[NAMES[0]]
    half = len(raw) // 2
    two = gz(raw[:half]) + gz(raw[half:])
    for data in (two, two + bytes(3), gz(raw[:half]) + bytes(5) + gz(raw[half:])):
        assert gzip.decompress(data) == raw
        assert read_idx(data).tobytes() == raw[16:]
    for data in (two + b"junk", bytes(2) + two, two[:-3]):
        with pytest.raises((OSError, EOFError)):
            gzip.decompress(data)
        with pytest.raises(MnistError, match=r"^x\.gz: "):
            read_idx(data, name="x.gz")


def test_good_gzip_files_decompress_exactly_once(
    decompressed: list[Gunzip], tiny: dict[str, bytes]
) -> None:
    read_idx(gz(tiny[NAMES[0]]))
    assert [g.size for g in decompressed] == [len(tiny[NAMES[0]])]


# ---------------------------------------------------------------------------- npz archives


def images_header(n: int) -> bytes:
    """The ``.npy`` header of ``n`` uint8 28 x 28 images."""
    return npy_bytes(f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({n}, 28, 28)}}")


def good_members() -> dict[str, bytes]:
    a = tiny_arrays()
    return {
        "x_train.npy": npy_of(a[NAMES[0]]),
        "y_train.npy": npy_of(a[NAMES[1]]),
        "x_test.npy": npy_of(a[NAMES[2]]),
        "y_test.npy": npy_of(a[NAMES[3]].astype(np.int64)),
    }


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return f.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_npz_with_a_huge_member_list_is_refused_before_zipfile_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of empty extra members: refused from the zip's end record, no entry read."""
    members = good_members() | {f"junk{i}.npy": b"" for i in range(MAX_NPZ_MEMBERS * 4)}
    path = write(tmp_path / "mnist.npz", zip_bytes(members, zipfile.ZIP_STORED))
    entries: list[int] = []
    original = zipfile.ZipFile._RealGetContents
    monkeypatch.setattr(
        zipfile.ZipFile, "_RealGetContents", lambda self: entries.append(1) or original(self)
    )
    with pytest.raises(MnistError, match=r"260 arrays in the archive; refusing \(limit 64\)"):
        read_npz(path)
    assert entries == []


def test_npz_bomb_refused_from_the_declared_sizes(tmp_path: Path) -> None:
    """x_train declares 64 MiB of zeros stored in 256 KiB: refused before decompressing."""
    side = 28 * 28
    n = 64 * MB // side
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in good_members().items():
            if name != "x_train.npy":
                zf.writestr(name, data)
        with zf.open("x_train.npy", "w", force_zip64=True) as f:
            f.write(
                npy_bytes(f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({n}, 28, 28)}}")
            )
            for _ in range(n // 16384):
                f.write(bytes(16384 * side))
    assert path.stat().st_size < 2 * MB
    reads: list[int] = []
    original = zipfile.ZipExtFile.read

    def counting(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        data = original(self, n)
        reads.append(len(data))
        return data

    zipfile.ZipExtFile.read = counting  # type: ignore[method-assign]
    try:
        with pytest.raises(
            MnistError,
            match=r"x_train declares [\d,]+ bytes stored in [\d,]+; "
            r"refusing \(MNIST-style data expands at most 32 times\)",
        ):
            read_npz(path)
    finally:
        zipfile.ZipExtFile.read = original  # type: ignore[method-assign]
    assert sum(reads) == 0


@pytest.mark.parametrize(
    ("member", "message"),
    [
        # 1e10 float64 declared, 16 bytes stored (was a MemoryError)
        (
            npy_bytes(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000,)}", bytes(16)
            ),
            r"declares shape \(10000000000,\) of float64 \(80,000,000,000 bytes\) but stores 16",
        ),
        # a header Python's tokenizer can't finish (was tokenize.TokenError)
        (npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,"), "not a readable"),
        # a descr that is not a dtype (was AttributeError or TypeError)
        (npy_bytes("{'descr': 5, 'fortran_order': False, 'shape': (3,)}"), "not a readable"),
        (
            npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (-3,)}"),
            r"invalid shape \(-3,\)",
        ),
        (
            npy_bytes("{'descr': 'O', 'fortran_order': False, 'shape': (3,)}", bytes(24)),
            "cannot be read without unpickling",
        ),
        (
            npy_bytes("{'descr': '<U3', 'fortran_order': False, 'shape': (3,)}", bytes(36)),
            r"dtype <U3; allowed: numbers",
        ),
        (
            npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (20,)}", bytes(160), 3),
            r"\.npy format version \(3, 0\); allowed: 1\.0 or 2\.0",
        ),
        (b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 100, "not a readable"),
    ],
)
def test_npz_bad_members_raise_mnist_error_only(
    tmp_path: Path, member: bytes, message: str
) -> None:
    members = {**good_members(), "y_train.npy": member}
    path = write(tmp_path / "bad.npz", zip_bytes(members))
    with pytest.raises(MnistError, match=r"bad\.npz: .*" + message):
        read_npz(path)


def test_npz_damaged_or_unsupported_zip_raises_mnist_error(tmp_path: Path) -> None:
    data = bytearray(zip_bytes(good_members()))
    # An unknown compression method in both headers (was NotImplementedError).
    odd = bytes(data).replace(
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00", b"PK\x03\x04\x14\x00\x00\x00\x63\x00"
    )
    odd = odd.replace(
        b"PK\x01\x02\x14\x03\x14\x00\x00\x00\x08\x00", b"PK\x01\x02\x14\x03\x14\x00\x00\x00\x63\x00"
    )
    with pytest.raises(MnistError, match="compressed with zip method 99; allowed: stored or"):
        read_npz(write(tmp_path / "odd.npz", odd))
    # Damaged deflate data (was zlib.error).
    start = data.index(b"x_train.npy") + len("x_train.npy") + 40
    for i in range(start, start + 200):
        data[i] ^= 0x5A
    with pytest.raises(MnistError, match=r"damaged\.npz: not a readable \.npz archive"):
        read_npz(write(tmp_path / "damaged.npz", bytes(data)))


def test_fortran_order_and_big_endian_members_read_correctly(tmp_path: Path) -> None:
    a = tiny_arrays()
    members = {
        **good_members(),
        "x_train.npy": npy_of(np.asfortranarray(a[NAMES[0]])),
        "y_train.npy": npy_of(a[NAMES[1]].astype(">i4")),
    }
    d = read_npz(write(tmp_path / "mnist.npz", zip_bytes(members)))
    assert np.array_equal(d.x_train, a[NAMES[0]]) and np.array_equal(d.y_train, a[NAMES[1]])


# ---------------------------------------------------------------------- pipes, folders, devices


def finishes(call: Callable[[], Any], fifo: Path, seconds: float = 5.0) -> BaseException | None:
    """Run ``call`` on a thread; the exception it raised (None if none). Fails if it is still
    running after ``seconds`` (then opens ``fifo`` for writing, which frees a reader blocked on
    it)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        with open(fifo, "wb"):
            pass
        pytest.fail(f"still blocked after {seconds} s")
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_pipes_named_like_data_files_are_refused_without_blocking(
    tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    folder = write_folder(tmp_path / "set", {n: tiny[n] for n in NAMES[1:]})
    fifo = folder / f"{NAMES[0]}.gz"
    os.mkfifo(fifo)
    exc = finishes(lambda: read_idx(fifo), fifo)
    assert isinstance(exc, MnistError) and "not a regular file" in str(exc)
    exc = finishes(lambda: load_folder(folder), fifo)
    assert isinstance(exc, MnistError) and f"{fifo}: not a regular file" in str(exc)
    npz = tmp_path / "mnist.npz"
    os.mkfifo(npz)
    exc = finishes(lambda: load_folder(npz), npz)
    assert isinstance(exc, MnistError) and "not a regular file" in str(exc)
    exc = finishes(lambda: read_idx(tmp_path), npz)  # a folder
    assert isinstance(exc, MnistError) and "not a regular file" in str(exc)


# ------------------------------------------------------------------------------- fuzzing


def mutate(data: bytes, cut: int, where: int, patch: bytes) -> bytes:
    """Truncated at ``cut`` (from the end), with ``patch`` written at ``where``."""
    data = data[: max(0, len(data) - cut)]
    where = where % max(1, len(data))
    return data[:where] + patch + data[where + len(patch) :]


MUTATIONS = st.tuples(st.integers(0, 64), st.integers(0, 10**6), st.binary(min_size=1, max_size=8))
SMALL_IDX = idx_bytes(np.arange(40, dtype=np.uint8).reshape(10, 2, 2) % 10)
SMALL_LABELS = idx_bytes(np.arange(10, dtype=np.uint8))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MUTATIONS, st.sampled_from([SMALL_IDX, SMALL_LABELS]), st.booleans())
def test_fuzz_idx_raw_and_gz(mutation: tuple[int, int, bytes], base: bytes, compress: bool) -> None:
    """Any mutated or truncated IDX file (raw, or gzip mutated after compression): an array
    no bigger than the file allows, or MnistError."""
    data = mutate(gz(base) if compress else base, *mutation)
    try:
        out = read_idx(data)
    except MnistError:
        return
    assert out.nbytes <= (EXPANSION_SLACK + MAX_EXPANSION * len(data) if compress else len(data))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MUTATIONS, st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
def test_fuzz_npz(tmp_path_factory: Any, mutation: tuple[int, int, bytes], method: int) -> None:
    """Any mutated or truncated mnist.npz: a data set, or MnistError."""
    path = tmp_path_factory.mktemp("fuzz") / "mnist.npz"
    path.write_bytes(mutate(zip_bytes(good_members(), method), *mutation))
    try:
        d = read_npz(path)
    except MnistError:
        return
    assert d.x_train.dtype == np.uint8 and d.n_train == len(d.y_train)


HEADERS = st.one_of(
    st.text(st.characters(max_codepoint=255), max_size=80),
    st.builds(
        "{{'descr': {!r}, 'fortran_order': {!r}, 'shape': {!r}}}".format,
        st.sampled_from(["|u1", "<i8", ">i4", "<f8", "O", "<U3", "V8", "|b1", "<M8[s]", "x"]),
        st.sampled_from([False, True, 0, None]),
        st.lists(st.integers(-(2**40), 2**40), max_size=4).map(tuple),
    ),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["y_train.npy", "x_test.npy"]), HEADERS, st.binary(max_size=64))
def test_fuzz_npy_headers(tmp_path_factory: Any, key: str, header: str, data: bytes) -> None:
    """Any header in an array member (text, or a dict with odd values): MnistError."""
    path = tmp_path_factory.mktemp("fuzz") / "mnist.npz"
    path.write_bytes(zip_bytes({**good_members(), key: npy_bytes(header, data)}))
    with pytest.raises(MnistError):
        read_npz(path)


# -------------------------------------------------------------------- memory in a fresh process


def idx_bomb(path: Path, images: int, zeros: int) -> Path:
    """A gzip IDX file declaring ``images`` 28 x 28 images, holding ``zeros`` zero bytes."""
    path.write_bytes(gz(idx_header(IMAGES_MAGIC, images, 28, 28)) + zeros_gzip(zeros))
    return path


def npz_bomb(path: Path, zeros: int) -> Path:
    """An mnist.npz whose x_train honestly declares ``zeros`` bytes of zero images."""
    n = zeros // 784
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("x_train.npy", "w", force_zip64=True) as f:
            f.write(
                npy_bytes(f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({n}, 28, 28)}}")
            )
            block = bytes(16 * MB)
            for start in range(0, n * 784, len(block)):
                f.write(block[: n * 784 - start])
        for name in ("y_train.npy", "x_test.npy", "y_test.npy"):
            zf.writestr(name, good_members()[name])
    return path


def test_refusing_bombs_costs_little_memory(tmp_path: Path, tiny: dict[str, bytes]) -> None:
    """Bombs of 160 MiB (a few hundred KiB on disk): peak RSS within 100 MB of reading a tiny
    valid folder (the slow test below repeats this at the 2 GB of the files first reported)."""
    _, base = refusal_cost(write_folder(tmp_path / "good", tiny), "folder")
    idx = idx_bomb(tmp_path / "bomb-idx3-ubyte.gz", 160 * MB // 784, 160 * MB)
    npz = npz_bomb(tmp_path / "bomb.npz", 160 * MB)
    for path, how in ((idx, "idx"), (npz, "folder")):
        seconds, peak = refusal_cost(path, how)
        assert peak - base < 100 * 1024 and seconds < 5, path.name


@pytest.mark.slow
def test_refusing_two_gigabyte_bombs_costs_little_memory(
    tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    _, base = refusal_cost(write_folder(tmp_path / "good", tiny), "folder")
    idx = idx_bomb(tmp_path / "bomb-idx3-ubyte.gz", 2_500_000, 2_500_000 * 784)
    npz = npz_bomb(tmp_path / "bomb.npz", 2_500_000 * 784)
    for path, how in ((idx, "idx"), (npz, "folder")):
        seconds, peak = refusal_cost(path, how)
        assert peak - base < 100 * 1024 and seconds < 5, path.name

"""The IDX and ``mnist.npz`` file formats, read strictly with work bounded by the file.

:func:`read_idx`, :func:`read_npz` and :func:`read_idx_set` raise :class:`MnistError` for every
bad file (never another error type) and bound their work by the file: only regular files are
opened (a pipe or device is refused), declared shapes are checked against the bytes stored
before anything is allocated, and compressed data may expand at most :data:`MAX_EXPANSION`
times (real files expand 2 to 5 times) and is never decompressed past the declared size.
They read a piece at a time and stop with :class:`core.cancel.Cancelled` when the calling
thread's work is cancelled (:mod:`core.cancel`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np

from core import files
from core.archive import check_zip_directory, read_npy_header
from core.cancel import check as check_cancel
from core.cancel import update_hash
from core.data.gunzip import GZIP_MAGIC, READ_CHUNK, GunzipFile
from core.data.image_dataset import ImageDataset
from core.data.registry import DIGITS, IMAGE_SIDE, N_CLASSES, ROLES

IMAGES_MAGIC = 0x00000803
"""IDX magic number of an image file: unsigned bytes, 3 dimensions ``(n, rows, cols)``."""
LABELS_MAGIC = 0x00000801
"""IDX magic number of a label file: unsigned bytes, 1 dimension ``(n,)``."""
MAX_ITEMS = 10_000_000
"""Most items (images or labels) an IDX file may declare."""
MAX_SIDE = 1024
"""Largest image side an IDX file may declare."""
MAX_BYTES = 2 * 1024**3
"""Most payload bytes an IDX file or ``.npz`` archive may declare (checked before allocating)."""
MAX_EXPANSION = 32
"""Most a compressed file (``.gz``, ``.npz`` member) may expand, beyond :data:`EXPANSION_SLACK`:
real MNIST-style files expand 2 to 5 times, a decompression bomb about 1,000 times. Checked
against the declared sizes before anything is decompressed."""
MAX_NPZ_MEMBERS = 64
"""An ``mnist.npz`` holds four arrays; a member list longer than this is refused unread."""
EXPANSION_SLACK = 1024**2
"""Bytes any compressed file may expand to whatever its size (small files compress oddly)."""

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


class MnistError(ValueError):
    """A file is not a valid MNIST-style data file; the message names the file and the fault."""


def _label(source: Source, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<IDX data>"
    return os.fspath(source)


def open_regular(path: str | os.PathLike[str], label: str) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file (a FIFO, device or folder is refused
    without blocking). Raises MnistError for anything but a regular file, OSError when it
    cannot be opened."""
    try:
        return files.open_regular(path)
    except files.NotARegularFile as exc:
        kind = exc.kind
        raise MnistError(f"{label}: not a regular file ({kind}); allowed: a data file") from None


def _read_fully(f: BinaryIO, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``f`` a piece at a time, checking for a Cancel
    (:func:`core.cancel.check`) between pieces; return the number of bytes read (less only at
    end of data)."""
    done = 0
    while done < len(buffer):
        check_cancel()
        n = f.readinto(buffer[done : done + READ_CHUNK])
        if not n:
            break
        done += n
    return done


def read_idx(source: Source, *, sha256: str | None = None, name: str | None = None) -> np.ndarray:
    """Read an MNIST-style IDX file (raw or gzip-compressed) strictly.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        Path of the file, or its content. Gzip data is recognised by its magic bytes, whatever
        the file name.
    sha256 : str, optional
        Expected SHA-256 (lowercase hex) of the decompressed content; checked while reading.
    name : str, optional
        Name used in error messages (default: the path, or ``"<IDX data>"`` for bytes).

    Returns
    -------
    np.ndarray
        uint8 images ``(n, rows, cols)`` for magic ``0x00000803``, or uint8 labels ``(n,)`` in
        ``0..9`` for magic ``0x00000801``.

    Raises
    ------
    MnistError
        Not a regular file (a folder, pipe or device), wrong magic number, a zero or absurd
        dimension (more than :data:`MAX_ITEMS` items, sides above :data:`MAX_SIDE`, more than
        :data:`MAX_BYTES` bytes, more than the file's size holds: its size, or for gzip data
        :data:`MAX_EXPANSION` times its size; all checked before allocating), truncated or
        trailing data, damaged gzip data, a label outside 0..9, or a checksum mismatch. The
        message names the file. Gzip data is decompressed only up to the size the header
        declares (plus one byte to detect trailing data).
    OSError
        The file cannot be opened.
    """
    label = _label(source, name)
    with contextlib.ExitStack() as stack:
        if isinstance(source, (bytes, bytearray, memoryview)):
            raw: BinaryIO = io.BytesIO(bytes(source))
            stored = len(raw.getbuffer())
        else:
            raw = stack.enter_context(open_regular(source, label))
            stored = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        f = GunzipFile(raw) if compressed else raw
        try:
            return _read_idx_stream(f, label, sha256, stored, compressed)
        except (OSError, EOFError, zlib.error) as exc:
            what = "damaged or truncated gzip data" if compressed else "read error"
            raise MnistError(f"{label}: {what} ({exc})") from None
        except MemoryError:
            raise MnistError(f"{label}: too large to fit in memory") from None


def _read_idx_stream(
    f: BinaryIO, label: str, sha256: str | None, stored: int, compressed: bool
) -> np.ndarray:
    """Read an IDX file's content from ``f``; ``stored`` is the file's size in bytes (compressed
    when ``compressed``), which bounds what its header may declare."""
    head = f.read(4)
    if len(head) < 4:
        raise MnistError(f"{label}: {len(head)} bytes; too short for an IDX file")
    magic = int.from_bytes(head, "big")
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise MnistError(
            f"{label}: magic number 0x{magic:08x} is not an MNIST IDX file; allowed: "
            f"0x{IMAGES_MAGIC:08x} (uint8 images, 3-D) or 0x{LABELS_MAGIC:08x} (uint8 labels, 1-D)"
        )
    ndim = head[3]
    dims_raw = f.read(4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise MnistError(f"{label}: header truncated ({4 + len(dims_raw)} of {4 + 4 * ndim} bytes)")
    dims = struct.unpack(f">{ndim}I", dims_raw)
    what = "images" if magic == IMAGES_MAGIC else "labels"
    if not 1 <= dims[0] <= MAX_ITEMS:
        raise MnistError(f"{label}: declares {dims[0]:,} {what}; allowed: 1 to {MAX_ITEMS:,}")
    if any(not 1 <= d <= MAX_SIDE for d in dims[1:]):
        raise MnistError(
            f"{label}: declares images of {dims[1]} x {dims[2]} pixels; "
            f"allowed: sides from 1 to {MAX_SIDE}"
        )
    payload = math.prod(dims)
    if payload > MAX_BYTES:
        raise MnistError(
            f"{label}: declares {payload:,} bytes of {what}; refusing (limit {MAX_BYTES:,})"
        )
    header_size = 4 + 4 * ndim
    expected = header_size + payload
    shape_text = " x ".join(str(d) for d in dims)
    if compressed and expected > EXPANSION_SLACK + MAX_EXPANSION * stored:
        raise MnistError(
            f"{label}: declares {what} of {shape_text} ({expected:,} bytes) in {stored:,} bytes "
            f"of gzip data; refusing (MNIST-style data expands at most {MAX_EXPANSION} times)"
        )
    if not compressed and expected > stored:
        raise MnistError(
            f"{label}: truncated: {stored:,} bytes, but the header declares {what} "
            f"of {shape_text} ({expected:,} bytes)"
        )
    out = np.empty(dims, dtype=np.uint8)
    got = _read_fully(f, memoryview(out.reshape(-1)))
    if got < payload:
        raise MnistError(
            f"{label}: truncated: {header_size + got:,} bytes, but the header declares {what} "
            f"of {shape_text} ({expected:,} bytes)"
        )
    if f.read(1):
        raise MnistError(
            f"{label}: unexpected data after the {what} of {shape_text} "
            f"(the file should be exactly {expected:,} bytes)"
        )
    if sha256 is not None:
        digest = hashlib.sha256(head)
        digest.update(dims_raw)
        update_hash(digest, out.reshape(-1))
        if digest.hexdigest() != sha256:
            raise MnistError(
                f"{label}: SHA-256 {digest.hexdigest()} does not match the expected {sha256} "
                "(the file is damaged or a different file)"
            )
    if magic == LABELS_MAGIC:
        bad = np.flatnonzero(out >= N_CLASSES)
        if bad.size:
            raise MnistError(
                f"{label}: label {out[bad[0]]} at index {bad[0]} ({bad.size} such); "
                f"allowed: 0..{N_CLASSES - 1}"
            )
    return out


def _check_split(
    label: str, x: np.ndarray, y: np.ndarray, split: str, x_key: str, y_key: str
) -> None:
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise MnistError(
            f"{label}: {x_key} is {x.dtype} {x.shape}; "
            f"allowed: uint8 images (n, {IMAGE_SIDE}, {IMAGE_SIDE})"
        )
    if y.ndim != 1 or (y.size and y.dtype.kind not in "iu"):
        raise MnistError(f"{label}: {y_key} is {y.dtype} {y.shape}; allowed: integer labels (n,)")
    if x.shape[0] != y.shape[0]:
        raise MnistError(
            f"{label}: {x.shape[0]:,} {split} images but {y.shape[0]:,} {split} labels; "
            "allowed: one label per image"
        )
    if x.shape[0] < 1 and split == "train":
        raise MnistError(f"{label}: {x_key} holds no images; allowed: at least 1")
    if y.size and (y.min() < 0 or y.max() >= N_CLASSES):
        raise MnistError(
            f"{label}: {y_key} has labels from {y.min()} to {y.max()}; allowed: 0..{N_CLASSES - 1}"
        )


NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_NPZ_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}


def read_npz(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    class_names: Sequence[str] = DIGITS,
) -> ImageDataset:
    """Read the widely used ``mnist.npz`` layout (Keras's): arrays ``x_train``, ``y_train``,
    ``x_test``, ``y_test``; other arrays are ignored (never read).

    Never unpickles: object arrays are refused. Work is bounded by the file: each array's
    declared size is checked against the bytes the archive stores (at most
    :data:`MAX_EXPANSION` times its compressed size) before anything is decompressed, and its
    ``.npy`` header's shape against that size before anything is allocated.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` archive.
    name : str, optional
        Data set name (default: the file stem).
    class_names : sequence of str
        10 display names (default ``"0"``..``"9"``).

    Returns
    -------
    ImageDataset
        ``x_*`` uint8 ``(n, 28, 28)``, ``y_*`` int64 ``(n,)`` in ``0..9``.

    Raises
    ------
    MnistError
        For every bad file, never another error: not a regular file, not a zip/npz archive, a
        missing, pickled or damaged array, a shape that does not match the stored bytes,
        wrong dtypes or shapes, labels outside 0..9, different numbers of images and labels,
        or more than :data:`MAX_BYTES` bytes.
    """
    path = Path(path)
    label = str(path)
    try:
        with open_regular(path, label) as raw:
            check_zip_directory(label, raw, MnistError, MAX_NPZ_MEMBERS)
            with zipfile.ZipFile(raw) as zf:
                members = _npz_members(zf, label)
                arrays = {}
                for key in NPZ_KEYS:
                    with zf.open(members[key]) as f:
                        arrays[key] = _read_npy(f, members[key].file_size, f"{label}: {key}")
        _check_split(label, arrays["x_train"], arrays["y_train"], "train", "x_train", "y_train")
        _check_split(label, arrays["x_test"], arrays["y_test"], "test", "x_test", "y_test")
    except MnistError:
        raise
    except Exception as exc:  # anything else decoding untrusted bytes means a bad file
        raise MnistError(
            f"{label}: not a readable .npz archive ({exc or 'damaged data'})"
        ) from None
    return ImageDataset(
        path.stem if name is None else name,
        arrays["x_train"],
        arrays["y_train"].astype(np.int64),
        arrays["x_test"],
        arrays["y_test"].astype(np.int64),
        tuple(class_names),
    )


def _npz_members(zf: zipfile.ZipFile, label: str) -> dict[str, zipfile.ZipInfo]:
    """The members holding :data:`NPZ_KEYS`, their declared sizes checked (nothing read)."""
    members = {}
    for info in zf.infolist():
        key = info.filename.removesuffix(".npy")
        if key in NPZ_KEYS:
            members[key] = info
    missing = [k for k in NPZ_KEYS if k not in members]
    if missing:
        raise MnistError(
            f"{label}: lacks {', '.join(missing)}; allowed: an archive with {', '.join(NPZ_KEYS)}"
        )
    for key, info in members.items():
        if info.compress_type not in _NPZ_METHODS:
            raise MnistError(
                f"{label}: {key} is compressed with zip method {info.compress_type}; allowed: "
                "stored or deflated (as numpy.savez and numpy.savez_compressed write)"
            )
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise MnistError(
                f"{label}: {key} is stored uncompressed in {info.compress_size:,} bytes but "
                f"declares {info.file_size:,}"
            )
        if info.file_size > EXPANSION_SLACK + MAX_EXPANSION * info.compress_size:
            raise MnistError(
                f"{label}: {key} declares {info.file_size:,} bytes stored in "
                f"{info.compress_size:,}; refusing (MNIST-style data expands at most "
                f"{MAX_EXPANSION} times)"
            )
    total = sum(info.file_size for info in members.values())
    if total > MAX_BYTES:
        raise MnistError(f"{label}: expands to {total:,} bytes; refusing (limit {MAX_BYTES:,})")
    return members


def _read_npy(f: BinaryIO, stored: int, label: str) -> np.ndarray:
    """Read one ``.npy`` member of ``stored`` bytes: a plain numeric dtype, and a shape whose
    size is exactly the bytes stored after the header (checked before allocating)."""
    shape, fortran, dtype = read_npy_header(f, label, MnistError)
    if dtype.kind not in "biuf":
        raise MnistError(f"{label}: dtype {dtype}; allowed: numbers")
    size = math.prod(shape) * dtype.itemsize
    if size != stored - f.tell():
        raise MnistError(
            f"{label}: declares shape {shape} of {dtype} ({size:,} bytes) but stores "
            f"{stored - f.tell():,} bytes"
        )
    out = np.empty(shape[::-1] if fortran else shape, dtype=dtype)
    got = _read_fully(f, memoryview(out.reshape(-1).view(np.uint8)))
    if got < size:
        raise MnistError(f"{label}: truncated ({got:,} of {size:,} bytes)")
    return np.ascontiguousarray(out.T if fortran else out)


def read_idx_set(
    label: str,
    paths: Sequence[Path],
    names: Sequence[str],
    sums: Sequence[str | None],
) -> tuple[np.ndarray, ...]:
    """Read a data set's four IDX files (:data:`ROLES` order): each must hold its kind (images
    or labels) and match its SHA-256 when one is given (None: unchecked), and each split as many
    labels as images. Returns ``x_train (n, H, W)`` uint8, ``y_train (n,)`` int64, ``x_test``,
    ``y_test``; ``label`` names the set in messages."""
    arrays = []
    for role, path, file_name, digest in zip(ROLES, paths, names, sums, strict=True):
        array = read_idx(path, sha256=digest)
        want = 3 if role.endswith("images") else 1
        if array.ndim != want:
            kind = "images" if want == 3 else "labels"
            raise MnistError(f"{path}: holds {array.ndim}-D data; {file_name} must hold {kind}")
        arrays.append(array)
    x_train, y_train, x_test, y_test = arrays
    _check_split(label, x_train, y_train, "train", names[0], names[1])
    _check_split(label, x_test, y_test, "test", names[2], names[3])
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)

"""MNIST-style image data sets: reading, a checked download into a per-user cache, and the
preparation a model needs.

Data sets
---------
:data:`DATASETS` holds ``"mnist"`` (handwritten digits, classes ``"0"``..``"9"``) and
``"fashion-mnist"`` (Zalando's clothing images, classes T-shirt/top .. Ankle boot). Both are
60,000 training and 10,000 test images of 28 x 28 uint8 pixels (0 background, 255 ink), stored
as four IDX files. Each registry entry (:class:`DatasetSpec`) lists the file names, the SHA-256
and size of every *decompressed* file, the approximate compressed download sizes and the mirror
base URLs.

Where a data set is found, in order (:func:`status`, :func:`load`)
------------------------------------------------------------------
1. The cache folder ``<root>/<name>/``, where ``<root>`` is the ``cache_dir`` argument, else the
   environment variable ``NN_PLAYGROUND_DATA``, else the per-user data folder:
   ``$XDG_DATA_HOME/nn-playground/datasets`` (default ``~/.local/share/...``) on Linux and
   other Unix systems, ``%LOCALAPPDATA%\\nn-playground\\datasets`` on Windows and
   ``~/Library/Application Support/nn-playground/datasets`` on macOS.
2. Read-only system folders of the entry (:attr:`DatasetSpec.system_dirs`): Debian's
   ``dataset-fashion-mnist`` package installs ``/usr/share/datasets/fashion-mnist/``.

A folder counts when it holds all four files, each either decompressed (``train-images-idx3-
ubyte``) or gzip-compressed (``train-images-idx3-ubyte.gz``; preferred when both exist).
:func:`status` only looks at file sizes (cheap); :func:`load` checks every file's SHA-256 while
reading it and falls back to the next folder when one is damaged.

Downloads
---------
Nothing here opens a network connection unless asked: only :func:`download`, or :func:`load`
with ``download=True`` when no local copy is found. Files are fetched from each mirror in turn
(falling back on a connection or HTTP error, a truncated body, bad gzip data, a checksum
mismatch, a body longer than twice the file's known size or a mirror that stalls or crawls),
checked against the SHA-256 of their decompressed content while they stream, and written
atomically (temporary file in the cache folder, fsync, ``os.replace``): the cache never holds a
partial or unverified file, nor a temporary one after a failure or Cancel. Cancel takes effect
within a tenth of a second, whatever the link does. The cache keeps the ``.gz`` files as
downloaded (about 4-5 times smaller than the decompressed files; reading decompresses them in
memory).

Reading untrusted files
-----------------------
:func:`read_idx`, :func:`read_npz` and :func:`load_folder` raise :class:`MnistError` for every
bad file (never another error type) and bound their work by the file: only regular files are
opened (a pipe or device is refused), declared shapes are checked against the bytes stored
before anything is allocated, and compressed data may expand at most :data:`MAX_EXPANSION`
times (real files expand 2 to 5 times) and is never decompressed past the declared size.

Preparing data for a model
--------------------------
:func:`prepare` turns an :class:`ImageDataset` into float32 arrays in ``[0, 1]`` shaped
``(n, 784)`` (``layout="flat"``, for MLPs) or ``(n, 1, 28, 28)`` (``layout="image"``, for
CNNs), with an optional seeded subset (first N, or N per class), a seeded stratified
validation split, and :func:`batches` for seeded mini-batches. :func:`augment` applies random
integer shifts and small rotations (bilinear, vectorized) to training images.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import math
import os
import queue
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Union

import numpy as np

from core import files
from core.archive import check_zip_directory, read_npy_header
from core.atomic import atomic_write
from core.validation import check_choice, check_number

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
#: An ``mnist.npz`` holds four arrays; a member list longer than this is refused unread.
MAX_NPZ_MEMBERS = 64
"""Most a compressed file (``.gz``, ``.npz`` member) may expand, beyond :data:`EXPANSION_SLACK`:
real MNIST-style files expand 2 to 5 times, a decompression bomb about 1,000 times. Checked
against the declared sizes before anything is decompressed."""
EXPANSION_SLACK = 1024**2
"""Bytes any compressed file may expand to whatever its size (small files compress oddly)."""
N_CLASSES = 10
IMAGE_SIDE = 28
ENV_VAR = "NN_PLAYGROUND_DATA"
"""Environment variable naming the cache root (data sets in ``<root>/<name>/``)."""
ROLES = ("train_images", "train_labels", "test_images", "test_labels")
LAYOUTS = ("flat", "image")
DEFAULT_TIMEOUT = 30.0
"""Seconds a download waits to connect and for each read before trying the next mirror."""
CHUNK_SIZE = 64 * 1024
"""Most bytes taken per network read (a read returns what has arrived, never waiting for more)."""
POLL_INTERVAL = 0.1
"""Seconds between two checks of Cancel and the deadlines while a download waits for data."""
MIN_RATE = 4096
"""Bytes per second a mirror must deliver on average: a file's deadline is ``timeout`` plus its
download size at this rate (about 40 minutes for MNIST's training images)."""
MAX_RECEIVED = 2
"""A download stops after this many times the file's known compressed size (plus 64 KiB)."""
USER_AGENT = "nn-playground/0.1 (+python urllib)"

DIGITS = tuple(str(k) for k in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]
ProgressFn = Callable[[int, int], Any]

_GZIP_MAGIC = b"\x1f\x8b"
_READ_CHUNK = 1024 * 1024
_RAW_CHUNK = 64 * 1024


# --------------------------------------------------------------------------------------------
# Errors


class MnistError(ValueError):
    """A file is not a valid MNIST-style data file; the message names the file and the fault."""


class DatasetNotFound(FileNotFoundError):
    """A data set is in none of the places searched; the message lists them."""


class DownloadError(OSError):
    """No mirror delivered a file; the message lists each mirror's failure."""


class DownloadCancelled(Exception):
    """A download was cancelled; nothing partial was left in the cache."""


class _MirrorFailure(Exception):
    """One mirror failed for one file (internal: the next mirror is tried)."""


# --------------------------------------------------------------------------------------------
# Registry


@dataclass(frozen=True)
class DataFile:
    """One file of a data set.

    Attributes
    ----------
    name : str
        Decompressed file name, e.g. ``"train-images-idx3-ubyte"``; mirrors serve
        ``name + ".gz"``.
    sha256 : str
        SHA-256 (lowercase hex) of the decompressed file.
    size : int
        Size in bytes of the decompressed file.
    download_size : int
        Approximate size in bytes of the ``.gz`` download (for display).
    """

    name: str
    sha256: str
    size: int
    download_size: int


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: what the data set is and where it comes from.

    Attributes
    ----------
    name : str
        Key and cache folder name, e.g. ``"mnist"``.
    title : str
        Display name, e.g. ``"MNIST"``.
    class_names : tuple of str
        10 display names, one per label.
    files : tuple of DataFile
        The four files in :data:`ROLES` order (train images, train labels, test images, test
        labels).
    mirrors : tuple of str
        Base URLs tried in order (``http``, ``https`` or ``file``); a file's URL is
        ``base + name + ".gz"``.
    system_dirs : tuple of str
        Read-only folders searched after the cache (e.g. a Debian package's folder).
    """

    name: str
    title: str
    class_names: tuple[str, ...]
    files: tuple[DataFile, ...]
    mirrors: tuple[str, ...]
    system_dirs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str) or set(self.name) & set("/\\:"):
            raise ValueError(f"name: {self.name!r}; allowed: a non-empty folder name")
        if len(self.files) != len(ROLES):
            raise ValueError(f"files: {len(self.files)} entries; allowed: 4 ({', '.join(ROLES)})")
        for f in self.files:
            if len(f.sha256) != 64 or set(f.sha256) - set("0123456789abcdef"):
                raise ValueError(f"sha256 of {f.name}: {f.sha256!r}; allowed: 64 lowercase hex")
        if len(self.class_names) != N_CLASSES:
            raise ValueError(f"class_names: {len(self.class_names)} names; allowed: 10")

    @property
    def download_size(self) -> int:
        """Approximate total bytes to download (the four ``.gz`` files)."""
        return sum(f.download_size for f in self.files)


def _files(sizes: Sequence[int], sums: Sequence[str], n_train: int, n_test: int) -> tuple:
    names = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    side = IMAGE_SIDE * IMAGE_SIDE
    decompressed = (16 + n_train * side, 8 + n_train, 16 + n_test * side, 8 + n_test)
    return tuple(
        DataFile(n, s, d, z) for n, s, d, z in zip(names, sums, decompressed, sizes, strict=True)
    )


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        class_names=DIGITS,
        files=_files(
            (9_912_422, 28_881, 1_648_877, 4_542),
            (
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
            60_000,
            10_000,
        ),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        title="Fashion-MNIST",
        class_names=FASHION_CLASSES,
        files=_files(
            (26_421_880, 29_515, 4_422_102, 5_148),
            (
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
            60_000,
            10_000,
        ),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}


def _spec(name: str | DatasetSpec) -> DatasetSpec:
    if isinstance(name, DatasetSpec):
        return name
    return DATASETS[check_choice("name", name, DATASETS)]


# --------------------------------------------------------------------------------------------
# The data set


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Train and test images with integer labels.

    Arrays are stored as read-only views (not copied; labels are converted to int64), so a data
    set can be shared between threads. Equality is identity.

    Attributes
    ----------
    name : str
        Data set name, e.g. ``"mnist"``.
    x_train : np.ndarray
        ``(n_train, H, W)`` uint8 pixels (0..255) or float32 intensities; 28 x 28 for the
        MNIST family.
    y_train : np.ndarray
        ``(n_train,)`` int64 labels in ``0..n_classes-1``.
    x_test, y_test : np.ndarray
        ``(n_test, H, W)`` and ``(n_test,)`` as the train arrays; ``n_test`` may be 0.
    class_names : tuple of str
        One display name per class (10 for the MNIST family).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = field(default=DIGITS)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name: {self.name!r} is not a string; allowed: a string")
        names = tuple(self.class_names)
        if len(names) < 2 or not all(isinstance(n, str) for n in names):
            raise ValueError(f"class_names: {names!r}; allowed: at least 2 strings")
        object.__setattr__(self, "class_names", names)
        shape = None
        for split in ("train", "test"):
            x = np.asarray(getattr(self, f"x_{split}"))
            y = np.asarray(getattr(self, f"y_{split}"))
            if x.dtype not in (np.uint8, np.float32):
                raise ValueError(f"x_{split}: dtype {x.dtype}; allowed: uint8 or float32")
            if x.ndim != 3 or min(x.shape[1:], default=0) < 1:
                raise ValueError(f"x_{split}: shape {x.shape}; allowed: (n, height, width)")
            if shape is not None and x.shape[1:] != shape:
                raise ValueError(
                    f"x_{split}: images of {x.shape[1:]}; allowed: {shape} as in x_train"
                )
            shape = x.shape[1:]
            if x.dtype == np.float32 and not np.all(np.isfinite(x)):
                raise ValueError(f"x_{split}: contains NaN or inf; allowed: finite values")
            if y.shape != (x.shape[0],):
                raise ValueError(f"y_{split}: shape {y.shape}; allowed: ({x.shape[0]},)")
            if y.size and y.dtype.kind not in "iu":
                raise ValueError(f"y_{split}: dtype {y.dtype}; allowed: integer labels")
            if y.size and (y.min() < 0 or y.max() >= len(names)):
                raise ValueError(
                    f"y_{split}: labels from {y.min()} to {y.max()}; "
                    f"allowed: 0..{len(names) - 1} (one per class name)"
                )
            x = x.view()
            y = y.astype(np.int64, copy=False).view()
            x.flags.writeable = False
            y.flags.writeable = False
            object.__setattr__(self, f"x_{split}", x)
            object.__setattr__(self, f"y_{split}", y)
        if self.x_train.shape[0] < 1:
            raise ValueError("x_train: 0 images; allowed: at least 1")

    @property
    def n_classes(self) -> int:
        """Number of classes (``len(class_names)``)."""
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int]:
        """``(height, width)`` of every image."""
        return self.x_train.shape[1], self.x_train.shape[2]

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])


# --------------------------------------------------------------------------------------------
# Readers


def _label(source: Source, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<IDX data>"
    return os.fspath(source)


def _open_regular(path: str | os.PathLike[str], label: str) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file (a FIFO, device or folder is refused
    without blocking). Raises MnistError for anything but a regular file, OSError when it
    cannot be opened."""
    try:
        return files.open_regular(path)
    except files.NotARegularFile as exc:
        kind = exc.kind
        raise MnistError(f"{label}: not a regular file ({kind}); allowed: a data file") from None


class _Gunzip:
    """Decompresses gzip data (one or more members, then perhaps zero bytes of padding) fed in
    pieces; the caller takes the output in pieces of the size it asks for, so nothing is
    decompressed beyond what it needs.

    Damaged data raises ``zlib.error``, and so does :meth:`finish` on data that stops inside a
    member or holds none."""

    def __init__(self) -> None:
        self.size = 0  # decompressed bytes handed out
        self.members = 0
        self._z = zlib.decompressobj(wbits=31)
        self._input = b""
        self._started = False  # the current member has been given input

    def feed(self, data: bytes) -> None:
        self._input = self._input + data if self._input else data

    def read(self, n: int) -> bytes:
        """Up to ``n`` decompressed bytes; ``b""`` when more input is needed."""
        while True:
            if self.members and not self._started:
                self._input = self._input.lstrip(b"\0")  # zero padding, as gzip allows
            self._started = self._started or bool(self._input)
            out = self._z.decompress(self._input, n)
            if self._z.eof:  # end of a member; another may follow
                self.members += 1
                self._input = self._z.unused_data
                self._z = zlib.decompressobj(wbits=31)
                self._started = False
            else:
                self._input = self._z.unconsumed_tail
            if out or not self._input:
                self.size += len(out)
                return out

    def finish(self) -> None:
        """Call when the input has ended: raise unless it ended after a complete member."""
        if self._started or self._input:
            raise zlib.error("gzip data is truncated")
        if self.members == 0:
            raise zlib.error("no gzip data")


class _GunzipFile:
    """The decompressed content of a gzip file, for :func:`_read_idx_stream` (``read``,
    ``readinto``): decompresses only what is asked for, at most 1 MiB per ``readinto``."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.gunzip = _Gunzip()
        self._ended = False

    def read(self, n: int) -> bytes:
        parts = []
        while n > 0:
            out = self.gunzip.read(n)
            if out:
                parts.append(out)
                n -= len(out)
            elif self._ended:
                break
            elif chunk := self.raw.read(_RAW_CHUNK):
                self.gunzip.feed(chunk)
            else:
                self._ended = True
                self.gunzip.finish()
        return b"".join(parts)

    def readinto(self, buffer: memoryview) -> int:
        data = self.read(min(len(buffer), _READ_CHUNK))
        buffer[: len(data)] = data
        return len(data)


def _read_fully(f: BinaryIO, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``f``; return the number of bytes read (less only at end of data)."""
    done = 0
    while done < len(buffer):
        n = f.readinto(buffer[done:])
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
            raw = stack.enter_context(_open_regular(source, label))
            stored = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        f = _GunzipFile(raw) if compressed else raw
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
        digest.update(memoryview(out.reshape(-1)))
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
        with _open_regular(path, label) as raw:
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


def _find_file(folder: Path, file_name: str) -> Path | None:
    """The path of ``file_name`` in ``folder``: ``.gz`` first, then decompressed; or None."""
    for candidate in (folder / f"{file_name}.gz", folder / file_name):
        if candidate.exists():  # a pipe or device is found, and refused by the reader
            return candidate
    return None


def _read_idx_set(
    label: str,
    paths: Sequence[Path],
    names: Sequence[str],
    sums: Sequence[str | None],
) -> tuple[np.ndarray, ...]:
    """Read the four files (ROLES order), check kinds and matching counts."""
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


def load_folder(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    class_names: Sequence[str] = DIGITS,
) -> ImageDataset:
    """Read an MNIST-style data set from a folder or an ``.npz`` file.

    Parameters
    ----------
    path : str or os.PathLike
        A folder holding the four IDX files under their standard names
        (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
        ``t10k-labels-idx1-ubyte``, each optionally ``.gz``), or else ``mnist.npz``; or the path
        of an ``.npz`` archive.
    name : str, optional
        Data set name (default: the folder name, or the archive's stem).
    class_names : sequence of str
        10 display names (default ``"0"``..``"9"``; use :data:`FASHION_CLASSES` for
        Fashion-MNIST).

    Returns
    -------
    ImageDataset
        ``x_*`` uint8 ``(n, 28, 28)``, ``y_*`` int64 ``(n,)``.

    Raises
    ------
    DatasetNotFound
        The path does not exist, or the folder holds neither a complete IDX set nor
        ``mnist.npz`` (the message lists what is missing).
    MnistError
        A file is invalid (see :func:`read_idx`, :func:`read_npz`).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        if path.suffix.lower() != ".npz":
            raise MnistError(f"{path}: not a folder or an .npz archive")
        return read_npz(path, name=name, class_names=class_names)
    if not path.is_dir():
        raise DatasetNotFound(f"{path}: no such folder")
    names = [f.name for f in DATASETS["mnist"].files]
    found = [_find_file(path, n) for n in names]
    if all(found):
        arrays = _read_idx_set(str(path), found, names, [None] * 4)  # type: ignore[arg-type]
        return ImageDataset(path.name if name is None else name, *arrays, tuple(class_names))
    if (path / "mnist.npz").exists():
        return read_npz(
            path / "mnist.npz", name=path.name if name is None else name, class_names=class_names
        )
    missing = [n for n, p in zip(names, found, strict=True) if p is None]
    if len(missing) < 4:
        raise DatasetNotFound(
            f"{path}: incomplete IDX set: {', '.join(missing)} missing (each may end in .gz)"
        )
    raise DatasetNotFound(
        f"{path}: holds neither the four IDX files ({', '.join(names)}, each may end in .gz) "
        "nor mnist.npz"
    )


# --------------------------------------------------------------------------------------------
# Where data sets live


def default_data_root() -> Path:
    """The cache root: ``$NN_PLAYGROUND_DATA`` if set, else the per-user data folder
    (``$XDG_DATA_HOME/nn-playground/datasets``, ``~/.local/share/nn-playground/datasets``;
    ``%LOCALAPPDATA%\\nn-playground\\datasets`` on Windows;
    ``~/Library/Application Support/nn-playground/datasets`` on macOS). Nothing is created."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        # The XDG spec says relative paths are invalid and must be ignored.
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "nn-playground" / "datasets"


def cache_folder(name: str | DatasetSpec, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder of a data set: ``<cache_dir or default_data_root()>/<name>``."""
    spec = _spec(name)
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_data_root()
    return root / spec.name


@dataclass(frozen=True)
class Location:
    """Where a data set was found.

    Attributes
    ----------
    name : str
        Data set name.
    folder : pathlib.Path
        The folder holding the four files.
    source : str
        ``"cache"`` (the cache folder) or ``"system"`` (a read-only system folder).
    files : tuple of pathlib.Path
        The four files in :data:`ROLES` order (``.gz`` or decompressed).
    """

    name: str
    folder: Path
    source: str
    files: tuple[Path, ...]


def _plausible(path: Path, f: DataFile) -> bool:
    """Cheap size check: a decompressed file's size, or a ``.gz`` file's magic bytes and its
    trailer's ISIZE (decompressed size modulo 2**32)."""
    try:
        st = path.stat()
        if path.suffix != ".gz":
            return st.st_size == f.size
        if st.st_size < 18:
            return False
        with _open_regular(path, str(path)) as fh:
            if fh.read(2) != _GZIP_MAGIC:
                return False
            fh.seek(-4, os.SEEK_END)
            return int.from_bytes(fh.read(4), "little") == f.size % 2**32
    except (OSError, MnistError):
        return False


def _locations(spec: DatasetSpec, cache_dir: str | os.PathLike[str] | None) -> list[Location]:
    """Folders holding all four files with plausible sizes, in search order (no network)."""
    candidates = [(cache_folder(spec, cache_dir), "cache")]
    candidates += [(Path(d), "system") for d in spec.system_dirs]
    found = []
    for folder, source in candidates:
        paths = [_find_file(folder, f.name) for f in spec.files]
        if all(p is not None and _plausible(p, f) for p, f in zip(paths, spec.files, strict=True)):
            found.append(Location(spec.name, folder, source, tuple(paths)))  # type: ignore[arg-type]
    return found


def _file_ok(path: Path, f: DataFile) -> bool:
    """True if the decompressed content of ``path`` has ``f``'s size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    try:
        with _open_regular(path, str(path)) as raw:
            fh = _GunzipFile(raw) if raw.read(2) == _GZIP_MAGIC else raw
            raw.seek(0)
            while chunk := fh.read(_READ_CHUNK):
                size += len(chunk)
                if size > f.size:
                    return False
                digest.update(chunk)
    except (OSError, zlib.error, MnistError):
        return False
    return size == f.size and digest.hexdigest() == f.sha256


def status(
    name: str | DatasetSpec,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    verify: bool = False,
) -> Location | None:
    """Where a data set can be loaded from without downloading, or None. Never uses the network.

    Parameters
    ----------
    name : str or DatasetSpec
        ``"mnist"``, ``"fashion-mnist"`` or a custom registry entry.
    cache_dir : str or os.PathLike, optional
        Cache root (default :func:`default_data_root`).
    verify : bool
        Also check every file's SHA-256 (reads and decompresses about 55 MB; under a second).
        Without it only file sizes are checked; :func:`load` verifies checksums anyway.

    Returns
    -------
    Location or None
        The first folder (cache, then system folders) holding all four files; None when the data
        set must be downloaded (about ``DATASETS[name].download_size`` bytes).
    """
    spec = _spec(name)
    for loc in _locations(spec, cache_dir):
        if not verify or all(_file_ok(p, f) for p, f in zip(loc.files, spec.files, strict=True)):
            return loc
    return None


def load(
    name: str | DatasetSpec,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    mirrors: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    cancel: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ImageDataset:
    """Load a registered data set from the cache or a system folder, verifying checksums;
    download it first only when ``download=True`` and no valid local copy exists.

    Parameters
    ----------
    name : str or DatasetSpec
        ``"mnist"``, ``"fashion-mnist"`` or a custom registry entry.
    cache_dir : str or os.PathLike, optional
        Cache root (default :func:`default_data_root`).
    download : bool
        Allow a download (see :func:`download`) when no valid local copy is found.
    mirrors, progress, cancel, timeout
        Passed to :func:`download`.

    Returns
    -------
    ImageDataset
        ``x_*`` uint8 ``(n, 28, 28)``, ``y_*`` int64 ``(n,)``, the entry's class names.

    Raises
    ------
    DatasetNotFound
        No local copy and ``download`` is False (the message says how much to download).
    MnistError
        Every local copy is damaged and ``download`` is False.
    DownloadError, DownloadCancelled
        From the download.
    """
    spec = _spec(name)
    problems = []
    for loc in _locations(spec, cache_dir):
        try:
            return _read_location(spec, loc)
        except MnistError as exc:
            problems.append(str(exc))
    if download:
        folder = _download(spec, cache_dir, mirrors, progress, cancel, timeout)
        loc = _locations(spec, cache_dir)
        if not loc or loc[0].folder != folder:
            raise MnistError(f"{folder}: the downloaded files could not be found again")
        return _read_location(spec, loc[0])
    if problems:
        raise MnistError(
            f"{spec.title}: the local copy is damaged: {'; '.join(problems)}. Download it again "
            "(download() or load(..., download=True)) or delete the file"
        )
    searched = [str(cache_folder(spec, cache_dir)), *spec.system_dirs]
    raise DatasetNotFound(
        f"{spec.title} is not available locally (searched {', '.join(searched)}); download it "
        f"(about {spec.download_size / 1e6:.0f} MB) with download({spec.name!r}) or "
        "load(..., download=True)"
    )


def _read_location(spec: DatasetSpec, loc: Location) -> ImageDataset:
    arrays = _read_idx_set(
        str(loc.folder),
        loc.files,
        [f.name for f in spec.files],
        [f.sha256 for f in spec.files],
    )
    return ImageDataset(spec.name, *arrays, spec.class_names)


# --------------------------------------------------------------------------------------------
# Download


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


class _Connection:
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
    sink, digest, received = _Gunzip(), hashlib.sha256(), 0
    connection = _Connection(request, timeout)
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
    connection: _Connection, f: DataFile, timeout: float, cancelled: Callable[[], bool]
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


def _hash_gunzipped(sink: _Gunzip, data: bytes, digest: Any, size: int) -> None:
    """Decompress ``data`` into ``digest``, refusing output beyond ``size`` bytes."""
    try:
        sink.feed(data)
        while out := sink.read(_READ_CHUNK):
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
        Cache root (default :func:`default_data_root`); files go to ``<root>/<name>/``.
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
    spec = _spec(name)
    return _download(spec, cache_dir, mirrors, progress, cancel, timeout)


def _download(
    spec: DatasetSpec,
    cache_dir: str | os.PathLike[str] | None,
    mirrors: Sequence[str] | None,
    progress: ProgressFn | None,
    cancel: Any,
    timeout: float,
) -> Path:
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
    path = _find_file(folder, f.name)
    return path is not None and _file_ok(path, f)


# --------------------------------------------------------------------------------------------
# Preparing data for a model


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Model-ready arrays made by :func:`prepare`.

    Attributes
    ----------
    x_train, x_val, x_test : np.ndarray
        float32 in ``[0, 1]``, ``(n, H*W)`` for ``layout="flat"`` or ``(n, 1, H, W)`` for
        ``layout="image"``; ``x_val`` has 0 rows without a validation split.
    y_train, y_val, y_test : np.ndarray
        ``(n,)`` int64 labels.
    class_names : tuple of str
    layout : str
        ``"flat"`` or ``"image"``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    layout: str

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample: ``(H*W,)`` or ``(1, H, W)`` (a spec's ``input_shape``)."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def normalize(x: np.ndarray) -> np.ndarray:
    """Pixels as float32 intensities in ``[0, 1]``.

    Parameters
    ----------
    x : np.ndarray
        uint8 pixels ``(n, H, W)`` (0..255, divided by 255), or float32 intensities (assumed
        already in ``[0, 1]``; returned unchanged).

    Returns
    -------
    np.ndarray
        float32, same shape.
    """
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    if x.dtype == np.float32:
        return x
    raise ValueError(f"x: dtype {x.dtype}; allowed: uint8 pixels or float32 intensities")


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """Reshape images ``(n, H, W)`` to ``(n, H*W)`` (``"flat"``) or ``(n, 1, H, W)``
    (``"image"``); a view when possible."""
    check_choice("layout", layout, LAYOUTS)
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x: shape {x.shape}; allowed: (n, height, width)")
    n, h, w = x.shape
    return x.reshape(n, h * w) if layout == "flat" else x.reshape(n, 1, h, w)


def _check_xy(x: np.ndarray, y: np.ndarray) -> None:
    if y.ndim != 1 or x.shape[:1] != y.shape:
        raise ValueError(f"y: shape {y.shape}; allowed: ({x.shape[0]},) to match x")


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: {rng!r}; allowed: a numpy.random.Generator")
    return rng


def subset(
    x: np.ndarray,
    y: np.ndarray,
    *,
    first: int | None = None,
    per_class: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the first ``first`` samples, or ``per_class`` random samples of every class.

    Parameters
    ----------
    x : np.ndarray
        ``(n, ...)`` samples.
    y : np.ndarray
        ``(n,)`` integer labels.
    first : int, optional
        Keep ``x[:first]`` (at most ``n``).
    per_class : int, optional
        Keep ``per_class`` samples of each class present, drawn with ``rng`` (required), in
        their original order. Every class must have that many.
    rng : np.random.Generator, optional
        Needed for ``per_class``.

    Returns
    -------
    tuple of np.ndarray
        ``(x_subset, y_subset)``; with neither option, ``(x, y)`` unchanged.
    """
    x, y = np.asarray(x), np.asarray(y)
    _check_xy(x, y)
    if first is not None and per_class is not None:
        raise ValueError("first, per_class: both given; allowed: at most one of them")
    if first is not None:
        k = int(check_number("first", first, low=1, integer=True))
        return x[:k], y[:k]
    if per_class is None:
        return x, y
    k = int(check_number("per_class", per_class, low=1, integer=True))
    rng = _check_rng(rng)
    picks = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if idx.size < k:
            raise ValueError(f"per_class: {k}, but class {c} has only {idx.size} samples")
        picks.append(rng.choice(idx, size=k, replace=False))
    keep = np.sort(np.concatenate(picks))
    return x[keep], y[keep]


def split_validation(
    x: np.ndarray, y: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out about ``fraction`` of every class (seeded) as a validation set.

    Parameters
    ----------
    x : np.ndarray
        ``(n, ...)`` samples.
    y : np.ndarray
        ``(n,)`` integer labels.
    fraction : float
        In ``[0, 0.9]``; each class gives ``round(count * fraction)`` samples (leaving at least
        one in training).
    rng : np.random.Generator

    Returns
    -------
    tuple of np.ndarray
        ``(x_train, y_train, x_val, y_val)``; both parts keep the original order.
    """
    x, y = np.asarray(x), np.asarray(y)
    _check_xy(x, y)
    fraction = float(check_number("val_fraction", fraction, low=0.0, high=0.9))
    rng = _check_rng(rng)
    val = np.zeros(len(y), dtype=bool)
    if fraction > 0:
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            k = min(round(idx.size * fraction), idx.size - 1)
            val[rng.choice(idx, size=k, replace=False)] = True
    return x[~val], y[~val], x[val], y[val]


def shuffle(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The same random permutation applied to ``x (n, ...)`` and ``y (n,)`` (copies)."""
    x, y = np.asarray(x), np.asarray(y)
    _check_xy(x, y)
    order = _check_rng(rng).permutation(len(y))
    return x[order], y[order]


def batches(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | None = None,
    *,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches covering ``x (n, ...)`` and ``y (n,)`` once (one epoch).

    Parameters
    ----------
    batch_size : int
        ``>= 1``; the last batch may be smaller unless ``drop_last``.
    rng : np.random.Generator, optional
        Shuffles the order (a fresh permutation per call); None keeps the stored order.
    drop_last : bool
        Skip a final batch smaller than ``batch_size``.

    Yields
    ------
    tuple of np.ndarray
        ``(x_batch (b, ...), y_batch (b,))``.
    """
    x, y = np.asarray(x), np.asarray(y)
    _check_xy(x, y)
    size = int(check_number("batch_size", batch_size, low=1, integer=True))
    n = len(y)
    order = None if rng is None else _check_rng(rng).permutation(n)
    stop = n - n % size if drop_last else n
    for start in range(0, stop, size):
        if order is None:
            yield x[start : start + size], y[start : start + size]
        else:
            idx = order[start : start + size]
            yield x[idx], y[idx]


def prepare(
    dataset: ImageDataset,
    *,
    layout: str = "flat",
    n_train: int | None = None,
    per_class: int | None = None,
    val_fraction: float = 0.0,
    n_test: int | None = None,
    seed: int = 0,
) -> PreparedData:
    """Make model-ready arrays from an :class:`ImageDataset`.

    Steps: optional training subset (the first ``n_train`` images, or ``per_class`` random
    images of each class), optional stratified validation split of the remaining training
    images, the first ``n_test`` test images, normalization to float32 ``[0, 1]``, and the
    layout.

    Parameters
    ----------
    dataset : ImageDataset
    layout : str
        ``"flat"``: ``(n, H*W)`` for MLPs; ``"image"``: ``(n, 1, H, W)`` for CNNs.
    n_train, per_class : int, optional
        Training subset (at most one of them); see :func:`subset`.
    val_fraction : float
        Share of (the subset of) the training images held out for validation, in ``[0, 0.9]``.
    n_test : int, optional
        Keep only the first ``n_test`` test images.
    seed : int
        Seed (``>= 0``) of the subset and split; the same arguments give identical arrays.

    Returns
    -------
    PreparedData
    """
    if not isinstance(dataset, ImageDataset):
        raise TypeError(f"dataset: {type(dataset).__name__}; allowed: an ImageDataset")
    check_choice("layout", layout, LAYOUTS)
    seed = int(check_number("seed", seed, low=0, integer=True))
    rng = np.random.default_rng(seed)
    x, y = subset(dataset.x_train, dataset.y_train, first=n_train, per_class=per_class, rng=rng)
    x_tr, y_tr, x_val, y_val = split_validation(x, y, val_fraction, rng)
    x_te, y_te = dataset.x_test, dataset.y_test
    if n_test is not None:
        k = int(check_number("n_test", n_test, low=0, integer=True))
        x_te, y_te = x_te[:k], y_te[:k]

    def ready(a: np.ndarray) -> np.ndarray:
        return to_layout(np.ascontiguousarray(normalize(a)), layout)

    return PreparedData(
        ready(x_tr),
        np.array(y_tr, dtype=np.int64),
        ready(x_val),
        np.array(y_val, dtype=np.int64),
        ready(x_te),
        np.array(y_te, dtype=np.int64),
        dataset.class_names,
        layout,
    )


# --------------------------------------------------------------------------------------------
# Augmentation

_WARP_CHUNK = 2048  # images per vectorized block (keeps temporaries around 10 MB)


def shift_rotate(
    x: np.ndarray,
    dx: np.ndarray | float,
    dy: np.ndarray | float,
    angle: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Shift and rotate images with bilinear interpolation; pixels from outside are 0.

    Each output image is the input rotated by ``angle`` degrees about its centre
    (anticlockwise as displayed, row 0 at the top) and then moved ``dx`` pixels right and ``dy``
    pixels down. Integer shifts without rotation are exact.

    Parameters
    ----------
    x : np.ndarray
        ``(n, H, W)`` or ``(n, 1, H, W)`` intensities with 0 as background.
    dx, dy, angle : np.ndarray or float
        Scalars or ``(n,)`` arrays, one per image.

    Returns
    -------
    np.ndarray
        float32, same shape as ``x``, values within ``[min(0, x.min()), max(0, x.max())]``.
    """
    x = np.asarray(x)
    shape = x.shape
    if x.ndim == 4 and shape[1] == 1:
        x = x.reshape(shape[0], shape[2], shape[3])
    if x.ndim != 3 or x.dtype.kind not in "fiu":
        raise ValueError(f"x: {x.dtype} {shape}; allowed: (n, H, W) or (n, 1, H, W) numbers")
    n, h, w = x.shape
    params = []
    for key, value in (("dx", dx), ("dy", dy), ("angle", angle)):
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape != (n,)):
            raise ValueError(f"{key}: shape {arr.shape}; allowed: a number or ({n},)")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{key}: contains NaN or inf; allowed: finite numbers")
        params.append(np.broadcast_to(arr, (n,)))
    dxs, dys, angles = params
    out = np.empty((n, h, w), dtype=np.float32)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    rows = (np.arange(h, dtype=np.float32) - np.float32(cy))[None, :, None]
    cols = (np.arange(w, dtype=np.float32) - np.float32(cx))[None, None, :]
    hp, wp = h + 2, w + 2
    for start in range(0, n, _WARP_CHUNK):
        sl = slice(start, min(start + _WARP_CHUNK, n))
        m = sl.stop - sl.start
        src = x[sl].astype(np.float32, copy=False)
        padded = np.zeros((m, hp, wp), dtype=np.float32)
        padded[:, 1:-1, 1:-1] = src
        theta = np.deg2rad(angles[sl])
        cos = np.cos(theta).astype(np.float32)[:, None, None]
        sin = np.sin(theta).astype(np.float32)[:, None, None]
        u = cols - dxs[sl].astype(np.float32)[:, None, None]  # (m, 1, W) column offsets
        v = rows - dys[sl].astype(np.float32)[:, None, None]  # (m, H, 1) row offsets
        # Inverse mapping: each output pixel samples the input at the rotated-back position.
        sx = u * cos - v * sin
        sx += np.float32(cx)
        sy = u * sin + v * cos
        sy += np.float32(cy)
        np.clip(sx, -1.0, w, out=sx)
        np.clip(sy, -1.0, h, out=sy)
        x0 = np.minimum(np.floor(sx), w - 1)
        y0 = np.minimum(np.floor(sy), h - 1)
        sx -= x0  # fractional parts in [0, 1]
        sy -= y0
        base = (np.arange(m, dtype=np.intp) * (hp * wp))[:, None, None] + (
            (y0.astype(np.intp) + 1) * wp + (x0.astype(np.intp) + 1)
        )
        flat = padded.reshape(-1)
        top_left = flat.take(base)
        top_right = flat.take(base + 1)
        base += wp
        bottom_left = flat.take(base)
        bottom_right = flat.take(base + 1)
        top_right -= top_left
        top_right *= sx
        top_left += top_right  # top row interpolated
        bottom_right -= bottom_left
        bottom_right *= sx
        bottom_left += bottom_right  # bottom row interpolated
        bottom_left -= top_left
        bottom_left *= sy
        top_left += bottom_left
        lo = min(0.0, float(src.min())) if src.size else 0.0
        hi = max(0.0, float(src.max())) if src.size else 0.0
        np.clip(top_left, lo, hi, out=out[sl])
    return out.reshape(shape)


def augment(
    x: np.ndarray,
    rng: np.random.Generator,
    max_shift: int = 2,
    max_rotation: float = 10.0,
) -> np.ndarray:
    """Randomly shift (whole pixels) and rotate training images; see :func:`shift_rotate`.

    Parameters
    ----------
    x : np.ndarray
        ``(n, H, W)`` or ``(n, 1, H, W)`` float32 intensities in ``[0, 1]`` (0 background).
    rng : np.random.Generator
        Draws, per image, ``dx, dy`` uniformly from ``-max_shift..max_shift`` and an angle
        uniformly from ``[-max_rotation, max_rotation]`` degrees.
    max_shift : int
        Largest shift in pixels, in ``[0, 8]``.
    max_rotation : float
        Largest rotation in degrees, in ``[0, 180]``.

    Returns
    -------
    np.ndarray
        float32, same shape as ``x``. About 0.2-0.4 s per 10,000 28 x 28 images.
    """
    rng = _check_rng(rng)
    s = int(check_number("max_shift", max_shift, low=0, high=8, integer=True))
    r = float(check_number("max_rotation", max_rotation, low=0.0, high=180.0))
    n = np.shape(x)[0] if np.ndim(x) else 0
    shifts = rng.integers(-s, s + 1, size=(2, n))
    angles = rng.uniform(-r, r, size=n)
    return shift_rotate(x, shifts[0], shifts[1], angles)


def augment_images(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:func:`augment` for 28×28 images in either layout a model takes: flat ``(n, 784)`` or
    ``(n, 1, 28, 28)``; returns the same shape."""
    return augment(x.reshape(len(x), 28, 28), rng).reshape(x.shape)

"""An ``.npz`` archive read without trusting it: the container of model and experiment files.

Opening reads only the zip's member list (its size bounded, every member a ``.npy`` file named
once); :meth:`Archive.expect` refuses unknown, missing or oversized members from the sizes the
archive declares, before anything is decompressed; :meth:`Archive.read` checks each member's
``.npy`` header (no object arrays, the expected shape and dtype) before its data and stops at
the expected size. ``meta.json`` is a 0-d unicode array holding JSON with the file's ``format``
and ``version``. Writing is atomic (:mod:`core.atomic`) and never pickles.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from core import files
from core.atomic import atomic_write, remove_stale_temps
from core.cancel import check as check_cancel

#: Refuse archives that would expand beyond this (a zip bomb, or absurd declared dimensions).
MAX_BYTES = 2 * 1024**3
#: Refuse archives with more members than this (a model has a few per layer, at most 200 layers).
MAX_MEMBERS = 10_000
#: Largest ``meta.json`` accepted, in characters.
MAX_META_CHARS = 4 * 1024**2
#: Most bytes a member's ``.npy`` header may take (NumPy writes 128).
MAX_HEADER_BYTES = 64 * 1024
#: Most bytes read from a member between two checks for a Cancel (:mod:`core.cancel`).
READ_PIECE = 1024**2
#: Most bytes of the zip's member list (read before any member).
MAX_DIRECTORY_BYTES = 16 * 1024**2
#: A member declaring more than :data:`RATIO_FREE_BYTES` must store at least 1 byte per
#: :data:`MAX_RATIO` it expands to: arrays of real weights, histories and sample orders
#: compress far less, zero-filled bombs about 1000:1.
MAX_RATIO = 50
RATIO_FREE_BYTES = 32 * 1024**2


class ModelFileError(ValueError):
    """A model or experiment file could not be read: the message names the file and says what
    is wrong with it. Raised for every kind of bad file (not a zip, truncated, pickled or
    object arrays, wrong format or version, invalid architecture, missing or extra arrays,
    wrong shapes or dtypes, non-finite values, absurd sizes), never anything else."""


def meta_array(meta: dict[str, Any], field: str) -> np.ndarray:
    """``meta`` as the 0-d unicode array stored as ``meta.json``; ValueError naming ``field`` if
    it is not JSON-serializable (NaN and infinities are not JSON)."""
    try:
        return np.array(json.dumps(meta, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field}: not JSON-serializable ({exc})") from None


def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` atomically. Object arrays are refused (they
    would be pickled)."""
    for key, value in arrays.items():
        if np.asarray(value).dtype.hasobject:
            raise TypeError(f"{key}: object arrays are not written (they would need pickle)")
    atomic_write(path, lambda f: np.savez(f, **arrays))


@dataclass(frozen=True)
class Expected:
    """An array a file must hold: its ``shape`` and the dtype ``kinds`` allowed (``"f"``:
    float32 or float64; ``"iu"``: integers; ``"U"``: text), each item at most ``itemsize``
    bytes. Its member may declare at most ``nbytes`` bytes (array and ``.npy`` header)."""

    shape: tuple[int, ...]
    kinds: str = "f"
    itemsize: int = 8

    @property
    def nbytes(self) -> int:
        return MAX_HEADER_BYTES + math.prod(self.shape) * self.itemsize


#: ``meta.json``: one string of at most :data:`MAX_META_CHARS` characters.
META = Expected((), "U", 4 * MAX_META_CHARS)


class Archive:
    """An ``.npz`` archive opened for reading without trusting it.

    Opening reads only the zip's member list (its size bounded by :data:`MAX_DIRECTORY_BYTES`,
    at most :data:`MAX_MEMBERS` members, each a ``.npy`` file named once). Nothing is
    decompressed until :meth:`read`; :meth:`expect` first refuses unknown, missing or
    oversized members from the sizes the archive declares, and :meth:`read` stops at the
    expected size. Only regular files are opened (a FIFO or a device would block or never
    end). Use as a context manager; every problem raises ModelFileError naming the file.
    """

    def __init__(self, path: str | os.PathLike, what: str = "model file") -> None:
        self.path, self.what = path, what
        remove_stale_temps(path)
        with _refusing(path, what):
            self._file = open_regular(path, what)
            try:
                check_zip_directory(path, self._file)
                self._zip = zipfile.ZipFile(self._file)
                self.members = _members(path, self._zip.infolist())
            except BaseException:
                self._file.close()
                raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()
        self._file.close()

    def expect(self, expected: dict[str, Expected]) -> None:
        """Refuse the archive unless its arrays are exactly those of ``expected`` (keys without
        ``.npy``), each declaring at most its expected size; nothing is decompressed."""
        extra = sorted(set(self.members) - set(expected))
        if extra:
            raise ModelFileError(
                f"{self.path}: unexpected arrays {', '.join(map(repr, extra[:5]))}"
                + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
            )
        missing = sorted(set(expected) - set(self.members))
        if missing:
            raise ModelFileError(
                f"{self.path}: missing arrays {', '.join(missing[:5])}"
                + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
                + " (the architecture and meta.json call for them)"
            )
        total = 0
        for key, want in expected.items():
            declared = self.members[key].file_size
            if declared > want.nbytes:
                raise ModelFileError(
                    f"{self.path}: {key} declares {declared:,} bytes; an array of shape "
                    f"{want.shape} takes at most {want.nbytes:,}"
                )
            stored = self.members[key].compress_size
            if declared > RATIO_FREE_BYTES and stored * MAX_RATIO < declared:
                raise ModelFileError(
                    f"{self.path}: {key} expands {declared // max(stored, 1):,} times (to "
                    f"{declared:,} bytes); refusing (real arrays of this size expand at most "
                    f"{MAX_RATIO} times)"
                )
            total += declared
        if total > MAX_BYTES:
            raise ModelFileError(
                f"{self.path}: expands to {total:,} bytes; refusing (limit {MAX_BYTES:,})"
            )

    def read(self, key: str, expected: Expected) -> np.ndarray:
        """The array ``key``: its header is checked against ``expected`` before its data is
        read, and no more than the member's declared size is decompressed."""
        info = self.members.get(key)
        if info is None:
            raise ModelFileError(f"{self.path}: missing {key}; not an NN Playground {self.what}")
        if info.file_size > expected.nbytes:
            raise ModelFileError(
                f"{self.path}: {key} declares {info.file_size:,} bytes; an array of shape "
                f"{expected.shape} takes at most {expected.nbytes:,}"
            )
        with _refusing(self.path, self.what), self._zip.open(info) as f:
            return _read_npy(f, f"{self.path}: {key}", expected)


def open_regular(path: str | os.PathLike, what: str) -> IO[bytes]:
    """Open ``path`` for reading if it is a regular file (never blocking on a FIFO);
    ModelFileError otherwise."""
    try:
        return files.open_regular(path)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a folder, not a {what}") from None
    except files.NotARegularFile as exc:
        raise ModelFileError(f"{path}: not a regular file ({exc.kind}), not a {what}") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot be opened ({exc.strerror or exc})") from None


@contextmanager
def _refusing(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Turn any error decoding untrusted bytes into a ModelFileError naming the file."""
    try:
        yield
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{path}: not a readable {what} ({exc or 'damaged data'})") from None


def check_zip_directory(
    label: str | os.PathLike,
    f: IO[bytes],
    error: type[Exception] = ModelFileError,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Refuse a zip whose member list is too long to read (more than ``max_members`` entries
    or :data:`MAX_DIRECTORY_BYTES`), from its end record alone, before zipfile reads the list.
    Raises ``error`` naming ``label``; a file that is not a zip passes (zipfile says so)."""
    end = zipfile._EndRecData(f)  # the zip's end record: where the member list is, its size
    if end is None:
        return
    if end[zipfile._ECD_ENTRIES_TOTAL] > max_members:
        raise error(
            f"{label}: {end[zipfile._ECD_ENTRIES_TOTAL]:,} arrays in the archive; refusing "
            f"(limit {max_members:,})"
        )
    if end[zipfile._ECD_SIZE] > MAX_DIRECTORY_BYTES * max_members // MAX_MEMBERS:
        raise error(f"{label}: its list of arrays takes {end[zipfile._ECD_SIZE]:,} bytes; refusing")


def _members(path: str | os.PathLike, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(
            f"{path}: {len(infos):,} arrays in the archive; refusing (limit {MAX_MEMBERS:,})"
        )
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if not name.endswith(".npy"):
            raise ModelFileError(f"{path}: unexpected member {name[:80]!r} (not a .npy array)")
        key = name[: -len(".npy")]
        if key in members:
            raise ModelFileError(f"{path}: array {key[:80]!r} appears twice")
        members[key] = info
    return members


def read_npy_header(
    f: IO[bytes], label: str, error: type[Exception] = ModelFileError
) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Read a ``.npy`` header: ``(shape, fortran_order, dtype)`` of a plain array (never
    objects, records or sub-arrays; every dimension a whole number >= 0). Raises ``error``
    naming ``label`` otherwise; reads nothing past the header."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise error(f"{label}: .npy format version {version}; allowed: 1.0 or 2.0")
    if dtype.hasobject:
        raise error(f"{label} cannot be read without unpickling (object arrays are refused)")
    if dtype.fields is not None or dtype.subdtype is not None:
        raise error(f"{label}: dtype {dtype}; allowed: plain numbers")
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise error(f"{label}: invalid shape {shape}")
    return shape, fortran, dtype


def _read_npy(f: IO[bytes], label: str, expected: Expected) -> np.ndarray:
    shape, fortran, dtype = read_npy_header(f, label)
    if (
        dtype.kind not in expected.kinds
        or dtype.itemsize > expected.itemsize
        or (dtype.kind == "f" and dtype.itemsize not in (4, 8))
    ):
        allowed = {"f": "float32 or float64", "iu": "integers", "U": "text"}[expected.kinds]
        raise ModelFileError(f"{label} has dtype {dtype}; expected {allowed}")
    if shape != expected.shape:
        raise ModelFileError(f"{label} has shape {shape}, expected {expected.shape}")
    size = math.prod(shape) * dtype.itemsize
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:  # a piece at a time: a Cancel (core.cancel) acts between pieces
        check_cancel()
        n = f.readinto(view[got : got + READ_PIECE])
        if not n:
            raise ModelFileError(f"{label}: truncated ({got:,} of {size:,} bytes)")
        got += n
    if f.read(1):
        raise ModelFileError(f"{label}: more data stored than its shape {shape} declares")
    array = np.frombuffer(data, dtype=dtype)
    if fortran and len(shape) > 1:
        array = array.reshape(shape[::-1]).transpose()
    else:
        array = array.reshape(shape)
    return np.array(array, dtype=dtype.newbyteorder("="), order="C")


def read_meta(archive: Archive, fmt: str, version: int | tuple[int, ...]) -> dict:
    """Read and decode an archive's ``meta.json`` and check its ``format`` and ``version``
    (an integer: ``1.0`` is not ``1``; one of ``version`` when it is a tuple)."""
    path = archive.path
    what = fmt.rsplit("/", 1)[-1]
    if "meta.json" not in archive.members:
        raise ModelFileError(f"{path}: missing meta.json; not an NN Playground {what} file")
    meta = _decode_meta(path, archive.read("meta.json", META))
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        found = meta.get("format") if isinstance(meta, dict) else None
        hint = f" (it is {found!r})" if isinstance(found, str) else ""
        raise ModelFileError(f"{path}: not an NN Playground {what} file{hint}")
    found = meta.get("version")
    versions = version if isinstance(version, tuple) else (version,)
    if type(found) is not int or found not in versions:
        readable = " or ".join(str(v) for v in versions)
        raise ModelFileError(
            f"{path}: format version {found!r} is not supported (this program reads version "
            f"{readable}, a whole number)"
        )
    return meta


def peek_format(path: str | os.PathLike) -> str | None:
    """The ``format`` a file's ``meta.json`` names ("nn-playground/model" or
    "nn-playground/experiment"), None when it names none; only ``meta.json`` is read.
    ModelFileError if the file is not a readable archive."""
    what = "model or experiment file"
    with Archive(path, what) as archive:
        if "meta.json" not in archive.members:
            return None
        meta = _decode_meta(path, archive.read("meta.json", META))
    found = meta.get("format") if isinstance(meta, dict) else None
    return found if isinstance(found, str) else None


def _decode_meta(path: str | os.PathLike, raw: np.ndarray) -> Any:
    text = str(raw)
    if len(text) > MAX_META_CHARS:
        raise ModelFileError(f"{path}: meta.json is too large ({len(text):,} characters)")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: meta.json is not valid JSON ({exc})") from None

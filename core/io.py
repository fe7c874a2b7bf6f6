"""Model files: a NumPy ``.npz`` archive readable with plain NumPy, never pickled.

Layout (format version 1)::

    meta.json          0-d unicode array: {"format": "nn-playground/model", "version": 1,
                       "spec": <architecture spec>, "dtype": "float32", "metadata": {...}}
    param/<i>.<name>   each trainable parameter, e.g. param/0.W (in, units), param/0.b (units,)
    buffer/<i>.<name>  non-trainable state, e.g. buffer/1.running_mean

``metadata`` is free-form JSON written by the caller; the app and the command line put the data
set, the input features, the class names, the task and the input normalization there. Readers
ignore keys of ``meta.json`` they do not know (``dtype`` is optional, ``"float32"`` when absent).

Saving is atomic (temporary file in the same folder, flush, fsync, ``os.replace``): a failed or
killed save leaves the previous file intact, and the next save or load of that file removes
the temporary files killed saves left behind (:mod:`core.atomic`).

Loading validates everything before it builds anything, and every problem raises
:class:`ModelFileError` (a ``ValueError``) with a message that names the file and the problem.
Work is bounded by what the file's own ``meta.json`` declares, never by the archive's word:
only regular files are opened; the zip's member list is checked (:class:`Archive`: names,
count, every member a ``.npy`` file); ``meta.json`` is read (at most :data:`MAX_META_CHARS`);
the format and version, the architecture (the same checks as :func:`core.spec.normalize`, and
the size of every layer's output against :data:`MAX_ACTIVATION`) give the exact members and
shapes expected; unknown, missing or oversized members (by their declared sizes) are refused
before any is decompressed; each member is then read only up to its expected size, its header
checked (no object arrays, the expected shape and dtype) before its data, and its values
checked (finite, within the dtype's range, variances not negative). Experiment files
(:mod:`core.experiment`) use the same container and the same error type.
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
from core.model import Sequential
from core.spec import layer_from_config, normalize

FORMAT = "nn-playground/model"
VERSION = 1
#: Refuse archives that would expand beyond this (a zip bomb, or absurd declared dimensions).
MAX_BYTES = 2 * 1024**3
#: Refuse archives with more members than this (a model has a few per layer, at most 200 layers).
MAX_MEMBERS = 10_000
#: Largest number of values a layer may output per sample (input included): 16 Mi.
MAX_ACTIVATION = 2**24
#: Largest ``meta.json`` accepted, in characters.
MAX_META_CHARS = 4 * 1024**2
#: Most bytes a member's ``.npy`` header may take (NumPy writes 128).
MAX_HEADER_BYTES = 64 * 1024
#: Most bytes of the zip's member list (read before any member).
MAX_DIRECTORY_BYTES = 16 * 1024**2
#: A member declaring more than :data:`RATIO_FREE_BYTES` must store at least 1 byte per
#: :data:`MAX_RATIO` it expands to: arrays of real weights, histories and sample orders
#: compress far less, zero-filled bombs about 1000:1.
MAX_RATIO = 50
RATIO_FREE_BYTES = 32 * 1024**2
#: dtypes of the arrays model and experiment files hold (anything else is refused unread).
ALLOWED_KINDS = frozenset("fiubU")
FLOAT_DTYPES = ("float32", "float64")

#: Errors that code validating untrusted values (spec entries, numbers from JSON) may raise for a
#: bad value; each is turned into a ModelFileError.
VALUE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    MemoryError,
)


class ModelFileError(ValueError):
    """A model or experiment file could not be read: the message names the file and says what
    is wrong with it. Raised for every kind of bad file (not a zip, truncated, pickled or
    object arrays, wrong format or version, invalid architecture, missing or extra arrays,
    wrong shapes or dtypes, non-finite values, absurd sizes), never anything else."""


# -- the container -------------------------------------------------------------------------------
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
    data = f.read(size)
    if len(data) != size:
        raise ModelFileError(f"{label}: truncated ({len(data):,} of {size:,} bytes)")
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


# -- architecture checks -------------------------------------------------------------------------
def check_spec(path: str | os.PathLike, spec: Any) -> dict[str, Any]:
    """Normalize an untrusted spec; ModelFileError naming the problem if it is invalid."""
    if not isinstance(spec, dict):
        raise ModelFileError(f"{path}: meta.json lacks a valid 'spec'")
    try:
        return normalize(spec)
    except VALUE_ERRORS as exc:
        raise ModelFileError(f"{path}: invalid architecture: {exc}") from None


def check_dtype(path: str | os.PathLike, value: Any) -> np.dtype:
    if value not in FLOAT_DTYPES:
        raise ModelFileError(f"{path}: dtype {value!r} is not supported; allowed: float32, float64")
    return np.dtype(value)


def state_shapes(path: str | os.PathLike, spec: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Shapes of every parameter (``"param/<i>.<name>"``) and buffer (``"buffer/<i>.<name>"``) a
    normalized ``spec`` declares, computed without allocating the network. Refuses layers whose
    output per sample exceeds :data:`MAX_ACTIVATION` values and networks whose parameters would
    exceed :data:`MAX_BYTES` in float32."""
    shape = tuple(spec["input_shape"])
    shapes: dict[str, tuple[int, ...]] = {}
    total = 0
    try:
        _check_activation(path, "the input", shape)
        for i, entry in enumerate(spec["layers"]):
            layer = layer_from_config(entry)
            try:
                shape = layer.build(shape)
            except ValueError as exc:
                raise ModelFileError(
                    f"{path}: invalid architecture: layer {i + 1} ({layer.kind}): {exc}"
                ) from None
            _check_activation(path, f"the output of layer {i + 1} ({layer.kind})", shape)
            for name, shp in layer.param_shapes().items():
                shapes[f"param/{i}.{name}"] = tuple(int(s) for s in shp)
                total += math.prod(shp)
            for name, buf in layer.buffers.items():
                shapes[f"buffer/{i}.{name}"] = tuple(buf.shape)
    except ModelFileError:
        raise
    except VALUE_ERRORS as exc:
        raise ModelFileError(f"{path}: invalid architecture: {exc}") from None
    if total * 4 > MAX_BYTES:
        raise ModelFileError(
            f"{path}: the architecture declares {total:,} parameters; refusing (limit "
            f"{MAX_BYTES // 4:,})"
        )
    return shapes


def _check_activation(path, where: str, shape: tuple[int, ...]) -> None:
    size = math.prod(shape)
    if size > MAX_ACTIVATION:
        raise ModelFileError(
            f"{path}: {where} is {'x'.join(map(str, shape))} = {size:,} values per sample; "
            f"refusing (limit {MAX_ACTIVATION:,})"
        )


def read_state(
    archive: Archive, shapes: dict[str, tuple[int, ...]], dtype: np.dtype
) -> dict[str, np.ndarray]:
    """Read the parameters and buffers of ``shapes`` (keys ``param/...``, ``buffer/...``) from
    an archive whose members :meth:`Archive.expect` has checked; each must be a float array
    of its declared shape with valid values (:func:`check_values`). Returns them cast to
    ``dtype`` and keyed as :meth:`Sequential.set_state` expects (``"<i>.<name>"``)."""
    state: dict[str, np.ndarray] = {}
    for key, shape in shapes.items():
        value = archive.read(key, Expected(shape))
        if value.shape != shape:  # not expected after Archive.read
            raise ModelFileError(f"{archive.path}: {key} has shape {value.shape}, expected {shape}")
        state[key.partition("/")[2]] = check_values(archive.path, key, value, dtype)
    return state


def check_values(
    path: str | os.PathLike, key: str, value: np.ndarray, dtype: np.dtype, low: float | None = None
) -> np.ndarray:
    """``value`` cast to ``dtype`` if every value is finite, within ``dtype``'s range and at
    least ``low`` (variances ``>= 0``: a buffer named ``running_var``); ModelFileError naming
    ``key`` otherwise."""
    if not np.all(np.isfinite(value)):
        raise ModelFileError(f"{path}: {key} contains NaN or infinite values")
    with np.errstate(over="ignore"):
        cast = value.astype(dtype, copy=False)
    if not np.all(np.isfinite(cast)):
        top = float(np.finfo(dtype).max)
        raise ModelFileError(
            f"{path}: {key} holds values beyond {dtype}'s range (largest magnitude "
            f"{float(np.max(np.abs(value))):.3g}; allowed: up to {top:.3g})"
        )
    if low is None and key.endswith(".running_var"):
        low = 0.0
    if low is not None and np.any(cast < low):
        raise ModelFileError(
            f"{path}: {key} holds {float(np.min(cast)):.3g}; allowed: values >= {low:g}"
        )
    return cast


def model_members(shapes: dict[str, tuple[int, ...]]) -> dict[str, Expected]:
    """The members of a model file with these parameter and buffer shapes."""
    return {"meta.json": META, **{key: Expected(shape) for key, shape in shapes.items()}}


# -- model files ---------------------------------------------------------------------------------
def model_arrays(model: Sequential) -> dict[str, np.ndarray]:
    """The ``param/...`` and ``buffer/...`` arrays of a model file (copies)."""
    arrays = {f"param/{k}": v.copy() for k, v in model.named_params()}
    arrays.update({f"buffer/{k}": v.copy() for k, v in model.buffers().items()})
    return arrays


def save_model(
    model: Sequential, path: str | os.PathLike, metadata: dict[str, Any] | None = None
) -> None:
    """Write ``model`` (architecture, weights, buffers) and JSON-able ``metadata`` to ``path``
    atomically. Raises ValueError if the weights are not finite (the file could not be read
    back) or the metadata is not JSON-serializable."""
    if not np.all(np.isfinite(model.theta)) or not all(
        np.all(np.isfinite(b)) for b in model.buffers().values()
    ):
        raise ValueError("model: the weights contain NaN or infinite values; not saved")
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "spec": model.spec,
        "dtype": str(model.dtype),
        "metadata": metadata or {},
    }
    arrays = {"meta.json": np.array(_dumps(meta, "metadata"))}
    arrays.update(model_arrays(model))
    write_npz(path, arrays)


def _dumps(value: Any, field: str) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field}: not JSON-serializable ({exc})") from None


def load_model(path: str | os.PathLike) -> tuple[Sequential, dict[str, Any]]:
    """Read a model file; returns ``(model, metadata)``, a new model in inference-ready state.

    Everything is validated before the model is built (see the module docstring); nothing
    else is touched. Raises ModelFileError with a clear message for anything wrong.
    """
    with Archive(path) as archive:
        meta = read_meta(archive, FORMAT, VERSION)
        metadata = meta.get("metadata", {})
        if not isinstance(metadata, dict):
            raise ModelFileError(f"{path}: meta.json's 'metadata' must be an object")
        spec = check_spec(path, meta.get("spec"))
        dtype = check_dtype(path, meta.get("dtype", "float32"))
        shapes = state_shapes(path, spec)
        archive.expect(model_members(shapes))  # before any array is decompressed
        state = read_state(archive, shapes, dtype)
    try:
        model = Sequential(spec, dtype=dtype)
        model.set_state(state)
    except VALUE_ERRORS as exc:  # not expected after the checks above
        raise ModelFileError(f"{path}: weights do not match the architecture: {exc}") from None
    return model, metadata

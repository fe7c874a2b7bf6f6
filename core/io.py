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
killed save leaves the previous file intact.

Loading validates everything before it builds anything, and every problem raises
:class:`ModelFileError` (a ``ValueError``) with a message that names the file and the problem:
the archive itself (:func:`read_npz`: a zip of ``.npy`` members, no object arrays, every
member's declared shape matching its stored size, size limits), the format and version, the
architecture (the same checks as :func:`core.spec.normalize`, and the size of every layer's
output against :data:`MAX_ACTIVATION`), then every array: names, shapes against the
architecture's declared dimensions, dtypes and finite values. Experiment files
(:mod:`core.experiment`) use the same container and the same error type.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

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
MAX_META_CHARS = 16 * 1024**2
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


# -- atomic writes -------------------------------------------------------------------------------
def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, flush and fsync it, then
    atomically replace ``path`` (and fsync the folder, where the system allows it). On any
    error the temporary file is removed and ``path`` is left as it was; a process killed
    midway may leave a ``.<name>.*.tmp`` file behind, never a partial ``path``.

    A replaced file keeps its permission bits; a new one gets ``0o644``.
    """
    path = Path(path)
    folder = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- the container -------------------------------------------------------------------------------
def write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` atomically. Object arrays are refused (they
    would be pickled)."""
    for key, value in arrays.items():
        if np.asarray(value).dtype.hasobject:
            raise TypeError(f"{key}: object arrays are not written (they would need pickle)")
    atomic_write(path, lambda f: np.savez(f, **arrays))


def read_npz(
    path: str | os.PathLike,
    *,
    max_bytes: int = MAX_BYTES,
    max_members: int = MAX_MEMBERS,
    what: str = "model file",
) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` archive without pickle and without trusting it.

    Each member must be a ``.npy`` file whose header declares a plain dtype (floats, integers,
    booleans or unicode; never objects or records) and a shape whose size is exactly the number
    of bytes stored, so nothing is allocated beyond what the file holds. The archive may expand
    to at most ``max_bytes`` and hold at most ``max_members`` members. Returns native-byte-order,
    writable arrays by key (the member name without ``.npy``).

    Raises ModelFileError for anything wrong, including unreadable or truncated files.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > max_members:
                raise ModelFileError(
                    f"{path}: {len(infos):,} arrays in the archive; refusing (limit "
                    f"{max_members:,})"
                )
            total = sum(info.file_size for info in infos)
            if total > max_bytes:
                raise ModelFileError(
                    f"{path}: expands to {total:,} bytes; refusing (limit {max_bytes:,})"
                )
            arrays: dict[str, np.ndarray] = {}
            for info in infos:
                name = info.filename
                if not name.endswith(".npy"):
                    raise ModelFileError(f"{path}: unexpected member {name!r} (not a .npy array)")
                key = name[: -len(".npy")]
                if key in arrays:
                    raise ModelFileError(f"{path}: array {key!r} appears twice")
                with zf.open(info) as f:
                    arrays[key] = _read_npy(f, info.file_size, f"{path}: {key}")
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except Exception as exc:  # anything else decoding untrusted bytes means a bad file
        raise ModelFileError(
            f"{path}: not a readable {what} ({type(exc).__name__}: {exc})"
        ) from None
    return arrays


def _read_npy(f: IO[bytes], stored: int, label: str) -> np.ndarray:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ModelFileError(f"{label}: .npy format version {version} is not supported")
    if dtype.hasobject:
        raise ModelFileError(f"{label}: object arrays (pickled data) are refused")
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in ALLOWED_KINDS:
        raise ModelFileError(f"{label}: dtype {dtype} is not allowed")
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ModelFileError(f"{label}: invalid shape {shape}")
    size = math.prod(shape) * dtype.itemsize
    if size > stored:
        raise ModelFileError(
            f"{label}: declares shape {shape} ({size:,} bytes) but only {stored:,} bytes are stored"
        )
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


def read_meta(path: str | os.PathLike, raw: np.ndarray | None, fmt: str, version: int) -> dict:
    """Decode the ``meta.json`` array and check its ``format`` and ``version``."""
    what = fmt.rsplit("/", 1)[-1]
    if raw is None or raw.dtype.kind != "U" or raw.shape != ():
        raise ModelFileError(f"{path}: missing meta.json; not an NN Playground {what} file")
    text = str(raw)
    if len(text) > MAX_META_CHARS:
        raise ModelFileError(f"{path}: meta.json is too large ({len(text):,} characters)")
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: meta.json is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        found = meta.get("format") if isinstance(meta, dict) else None
        hint = f" (it is {found!r})" if isinstance(found, str) else ""
        raise ModelFileError(f"{path}: not an NN Playground {what} file{hint}")
    if meta.get("version") != version or isinstance(meta.get("version"), bool):
        raise ModelFileError(
            f"{path}: format version {meta.get('version')!r} is not supported "
            f"(this program reads version {version})"
        )
    return meta


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


def check_state_arrays(
    path: str | os.PathLike,
    arrays: dict[str, np.ndarray],
    shapes: dict[str, tuple[int, ...]],
    dtype: np.dtype,
) -> dict[str, np.ndarray]:
    """Check that ``arrays`` holds exactly the parameters and buffers of ``shapes`` (keys
    ``param/...``, ``buffer/...``), each a finite float array of the declared shape; return them
    cast to ``dtype`` and keyed as :meth:`Sequential.set_state` expects (``"<i>.<name>"``)."""
    missing = sorted(set(shapes) - set(arrays))
    if missing:
        raise ModelFileError(
            f"{path}: weights do not match the architecture: missing {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        )
    state: dict[str, np.ndarray] = {}
    for key, shape in shapes.items():
        value = arrays[key]
        if value.dtype.kind != "f" or value.dtype.itemsize not in (4, 8):
            raise ModelFileError(
                f"{path}: {key} has dtype {value.dtype}; expected float32 or float64"
            )
        if value.shape != shape:
            raise ModelFileError(
                f"{path}: weights do not match the architecture: {key} has shape "
                f"{value.shape}, expected {shape}"
            )
        with np.errstate(over="ignore"):
            cast = value.astype(dtype, copy=False)
        if not np.all(np.isfinite(cast)):
            raise ModelFileError(f"{path}: {key} contains NaN or infinite values")
        state[key.partition("/")[2]] = cast
    return state


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
    arrays = read_npz(path)
    meta = read_meta(path, arrays.pop("meta.json", None), FORMAT, VERSION)
    metadata = meta.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{path}: meta.json's 'metadata' must be an object")
    spec = check_spec(path, meta.get("spec"))
    dtype = check_dtype(path, meta.get("dtype", "float32"))
    shapes = state_shapes(path, spec)
    extra = sorted(set(arrays) - set(shapes))
    if extra:
        raise ModelFileError(f"{path}: unexpected arrays {', '.join(map(repr, extra[:5]))}")
    state = check_state_arrays(path, arrays, shapes, dtype)
    try:
        model = Sequential(spec, dtype=dtype)
        model.set_state(state)
    except VALUE_ERRORS as exc:  # not expected after the checks above
        raise ModelFileError(f"{path}: weights do not match the architecture: {exc}") from None
    return model, metadata

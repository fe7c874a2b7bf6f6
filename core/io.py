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
:class:`core.archive.ModelFileError` (a ``ValueError``) with a message that names the file and
the problem. Work is bounded by what the file's own ``meta.json`` declares, never by the
archive's word: the container (:mod:`core.archive`) checks the zip's member list and reads
``meta.json``; the format and version, the architecture (the same checks as
:func:`core.spec.normalize`, and the size of every layer's output against
:data:`MAX_ACTIVATION`) give the exact members and shapes expected; unknown, missing or
oversized members are refused before any is decompressed; each member is read only up to its
expected size, and its values checked (finite, within the dtype's range, variances not
negative). Experiment files (:mod:`core.experiment`) use the same container and checks.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from core.archive import (
    MAX_BYTES,
    META,
    Archive,
    Expected,
    ModelFileError,
    meta_array,
    read_meta,
    write_npz,
)
from core.model import Sequential
from core.spec import layer_from_config, normalize

FORMAT = "nn-playground/model"
VERSION = 1
#: Largest number of values a layer may output per sample (input included): 16 Mi.
MAX_ACTIVATION = 2**24
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
    arrays = {"meta.json": meta_array(meta, "metadata")}
    arrays.update(model_arrays(model))
    write_npz(path, arrays)


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

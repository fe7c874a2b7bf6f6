"""Model files: a NumPy ``.npz`` archive readable with plain NumPy, never pickled.

Layout (format version 1)::

    meta.json          0-d unicode array: {"format": "nn-playground/model", "version": 1,
                       "spec": <architecture spec>, "metadata": {...}}
    param/<i>.<name>   each trainable parameter, e.g. param/0.W (in, units), param/0.b (units,)
    buffer/<i>.<name>  non-trainable state, e.g. buffer/1.running_mean

Saving is atomic (temporary file in the same folder, fsync, ``os.replace``): a failed or killed
save leaves the previous file intact. Loading validates everything before building the model.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from core.model import Sequential

FORMAT = "nn-playground/model"
VERSION = 1
#: Refuse archives that would expand beyond this (a zip bomb, or absurd declared dimensions).
MAX_BYTES = 2 * 1024**3


class ModelFileError(ValueError):
    """A model file could not be read: the message says what is wrong with it."""


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, flush and fsync it, then
    atomically replace ``path``. On any error the temporary file is removed and ``path`` is
    left as it was."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def save_model(
    model: Sequential, path: str | os.PathLike, metadata: dict[str, Any] | None = None
) -> None:
    """Write ``model`` (architecture, weights, buffers) and JSON-able ``metadata`` to ``path``."""
    meta = {"format": FORMAT, "version": VERSION, "spec": model.spec, "metadata": metadata or {}}
    arrays = {"meta.json": np.array(json.dumps(meta))}
    arrays.update({f"param/{k}": v for k, v in model.named_params()})
    arrays.update({f"buffer/{k}": v for k, v in model.buffers().items()})
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_model(path: str | os.PathLike) -> tuple[Sequential, dict[str, Any]]:
    """Read a model file; returns ``(model, metadata)``. Raises ModelFileError with a clear
    message for anything wrong (not a zip, wrong format or version, bad spec, missing or extra
    arrays, wrong shapes or dtypes, non-finite values)."""
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
        if total > MAX_BYTES:
            raise ModelFileError(
                f"{path}: expands to {total:,} bytes; refusing (limit {MAX_BYTES:,})"
            )
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except ModelFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise ModelFileError(f"{path}: not a readable model file ({exc})") from None
    meta = _read_meta(path, arrays.pop("meta.json", None))
    try:
        model = Sequential(meta["spec"])
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: invalid architecture: {exc}") from None
    state = {}
    for key, value in arrays.items():
        prefix, _, name = key.partition("/")
        if prefix not in ("param", "buffer") or not name:
            raise ModelFileError(f"{path}: unexpected array {key!r}")
        if value.dtype.kind != "f":
            raise ModelFileError(f"{path}: {key} has dtype {value.dtype}; expected floats")
        if not np.all(np.isfinite(value)):
            raise ModelFileError(f"{path}: {key} contains NaN or infinite values")
        state[name] = value
    try:
        model.set_state(state)
    except ValueError as exc:
        raise ModelFileError(f"{path}: weights do not match the architecture: {exc}") from None
    return model, meta["metadata"]


def _read_meta(path, raw) -> dict[str, Any]:
    if raw is None or raw.dtype.kind != "U" or raw.shape != ():
        raise ModelFileError(f"{path}: missing meta.json; not an NN Playground model file")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: meta.json is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an NN Playground model file (format {FORMAT!r})")
    if meta.get("version") != VERSION:
        raise ModelFileError(
            f"{path}: format version {meta.get('version')!r} is not supported "
            f"(this reads {VERSION})"
        )
    if not isinstance(meta.get("spec"), dict) or not isinstance(meta.get("metadata", {}), dict):
        raise ModelFileError(f"{path}: meta.json lacks a valid 'spec' or 'metadata'")
    meta.setdefault("metadata", {})
    return meta

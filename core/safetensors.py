"""Read a ``.safetensors`` file with NumPy alone, every size checked before anything is read.

The format (what ``safetensors.torch.save_file(model.state_dict(), path)`` writes): 8 bytes of
little-endian header length ``n``, ``n`` bytes of JSON ``{name: {"dtype", "shape",
"data_offsets": [begin, end]}, "__metadata__": {str: str}}``, then the raw little-endian tensor
bytes, offsets counted from the end of the header. Never a pickle: a file can hold numbers only.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.archive import ModelFileError, open_regular

#: the largest header read (a state dict of thousands of tensors needs a few hundred KiB)
MAX_HEADER_BYTES = 16 * 1024**2
#: the largest file opened, as for model files
MAX_FILE_BYTES = 2 * 1024**3
MAX_TENSORS = 10_000
MAX_DIMS = 8

#: safetensors dtype -> the NumPy dtype it is read as ("BF16" is widened to float32 below)
DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}
#: the dtypes weights and statistics may have
FLOATS = ("F64", "F32", "F16", "BF16")


def _fail(path: str | os.PathLike, why: str) -> ModelFileError:
    return ModelFileError(f"{path}: not a usable .safetensors file ({why})")


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header declares it: ``dtype`` (a key of :data:`DTYPES`), ``shape``,
    and its bytes ``[begin, end)`` counted from the start of the file."""

    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int

    @property
    def floating(self) -> bool:
        return self.dtype in FLOATS


def _entry(path, name: str, entry: Any, data_start: int, data_bytes: int) -> TensorInfo:
    """One header entry, checked against the data section."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise _fail(path, f"tensor {name!r} needs exactly dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPES:
        raise _fail(path, f"tensor {name!r} has dtype {dtype!r}; allowed: {', '.join(DTYPES)}")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(type(d) is int and 0 <= d <= MAX_FILE_BYTES for d in shape)
        or math.prod(d for d in shape if d) > MAX_FILE_BYTES  # even when another is 0
    ):
        raise _fail(path, f"tensor {name!r} has shape {str(shape)[:80]}")
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(type(o) is int for o in offsets)
        and 0 <= offsets[0] <= offsets[1] <= data_bytes
    ):
        raise _fail(path, f"tensor {name!r} has data offsets {str(offsets)[:80]} outside the file")
    size = math.prod(shape) * np.dtype(DTYPES[dtype]).itemsize
    if offsets[1] - offsets[0] != size:
        raise _fail(
            path,
            f"tensor {name!r} ({dtype} {shape}) needs {size:,} bytes, "
            f"its offsets span {offsets[1] - offsets[0]:,}",
        )
    return TensorInfo(dtype, tuple(shape), data_start + offsets[0], data_start + offsets[1])


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = next(key for key in keys if keys.count(key) > 1)
        raise ValueError(f"the name {twice[:80]!r} appears twice")
    return dict(pairs)


def read_header(path: str | os.PathLike) -> dict[str, TensorInfo]:
    """What the file at ``path`` declares, checked, before any tensor is read: the tensors by
    name (``"__metadata__"`` left out). ModelFileError naming the file and the fault: a header
    longer than the file or than 16 MiB, bad JSON or a name twice, unknown dtypes, offsets
    outside the data or overlapping, sizes that don't match the shapes."""
    with open_regular(path, ".safetensors file") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise _fail(path, f"{size:,} bytes; the most opened is {MAX_FILE_BYTES:,}")
        head = f.read(8)
        if len(head) < 8:
            raise _fail(path, "shorter than its 8-byte header length")
        n = int.from_bytes(head, "little")
        if n > min(MAX_HEADER_BYTES, size - 8):
            raise _fail(path, f"a header of {n:,} bytes in a file of {size:,}")
        try:
            header = json.loads(f.read(n).decode("utf-8"), object_pairs_hook=_unique_keys)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise _fail(path, f"its header is not JSON: {str(exc)[:80]}") from None
    if not isinstance(header, dict):
        raise _fail(path, "its header is not a JSON object")
    header.pop("__metadata__", None)
    if len(header) > MAX_TENSORS:
        raise _fail(path, f"{len(header):,} tensors; the most read is {MAX_TENSORS:,}")
    infos = {name: _entry(path, name, e, 8 + n, size - 8 - n) for name, e in header.items()}
    spans = sorted((i.begin, i.end, name) for name, i in infos.items() if i.end > i.begin)
    for (_, end, a), (begin, _, b) in zip(spans, spans[1:], strict=False):
        if begin < end:
            raise _fail(path, f"tensors {a!r} and {b!r} overlap")
    return infos


def read_tensors(path: str | os.PathLike, infos: dict[str, TensorInfo]) -> dict[str, np.ndarray]:
    """The tensors ``infos`` names (from :func:`read_header` of the same file) as NumPy arrays,
    float16 and bfloat16 widened to float32; only their bytes are read."""
    tensors = {}
    with open_regular(path, ".safetensors file") as f:
        for name, info in infos.items():
            f.seek(info.begin)
            raw = f.read(info.end - info.begin)
            if len(raw) != info.end - info.begin:
                raise _fail(path, f"tensor {name!r} is cut short")
            tensors[name] = _decode(raw, info.dtype, info.shape)
    return tensors


def read_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every tensor of the file at ``path`` by name (see :func:`read_header`)."""
    return read_tensors(path, read_header(path))


def _decode(raw: bytes, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    a = np.frombuffer(raw, dtype=DTYPES[dtype]).reshape(shape)
    if dtype == "BF16":  # the top half of a float32
        return (a.astype("<u4") << 16).view("<f4").astype(np.float32)
    if dtype == "F16":
        return a.astype(np.float32)
    return a.astype(a.dtype.newbyteorder("="))

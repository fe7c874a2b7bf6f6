"""Edited and hostile model and experiment files, shared by the file tests and
``benchmarks/refused_model_files.py``, and what a fresh process pays to refuse one."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from tests.probe import run_probe

MB = 1024**2

_LOAD_PROBE = """
import resource, sys, time
from core.archive import ModelFileError
from core.experiment import load_experiment
from core.io import load_model
load = load_experiment if sys.argv[2] == "experiment" else load_model
t0 = time.perf_counter()
try:
    load(sys.argv[1])
    refused = False
except ModelFileError:
    refused = True
print(refused, time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    """A version 1.0 ``.npy`` header for an array of ``shape`` and ``descr``."""
    head = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}".encode()
    head += b" " * (-(len(head) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head


def add_zero_member(
    path: Path, name: str, n_bytes: int, shape: tuple[int, ...] | None = None
) -> None:
    """Append a deflated member of ``n_bytes`` zeros (an .npy of that many float32 zeros)."""
    shape = (n_bytes // 4,) if shape is None else shape
    zeros = bytes(4 * MB)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open(name, "w", force_zip64=True) as f,
    ):
        f.write(npy_header(shape))
        for _ in range(n_bytes // len(zeros)):
            f.write(zeros)


def rewrite(path: Path, change: Callable[[dict, dict], None], target: Path | None = None) -> Path:
    """Rewrite an archive's arrays through ``change(arrays, meta)`` (``meta`` the decoded
    ``meta.json``), in place or to ``target``; returns the file written."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = dict(archive)
    meta = json.loads(str(arrays["meta.json"]))
    change(arrays, meta)
    arrays["meta.json"] = np.array(json.dumps(meta))
    target = path if target is None else target
    np.savez(target, **arrays)
    return target


@contextmanager
def counting_decompression() -> Iterator[list[int]]:
    """Bytes zipfile inflates while the block runs, in ``count[0]``."""
    count = [0]
    inflate = zipfile.ZipExtFile._read1

    def counting(self, n):
        out = inflate(self, n)
        count[0] += len(out)
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zipfile.ZipExtFile, "_read1", counting)
        yield count


def load_cost(path: Path, kind: str = "model") -> tuple[bool, float, int]:
    """``(refused, seconds, peak RSS in bytes)`` of a fresh process loading ``path`` as a
    ``"model"`` or ``"experiment"`` file (refused: it raised ModelFileError)."""
    out = run_probe(_LOAD_PROBE, str(path), kind)
    return out[0] == "True", float(out[1]), int(out[2]) * 1024

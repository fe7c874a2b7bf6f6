"""The command line's output files: every path checked before anything is trained, and each
written after training even when another fails."""

from __future__ import annotations

import argparse
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from core.onnx_export import require_onnx

#: Output options: (attribute, flag, what is written, key in the JSON result).
OUTPUTS = (
    ("out", "--out", "model", "out"),
    ("save_experiment", "--save-experiment", "experiment", "experiment"),
    ("export_onnx", "--export-onnx", "ONNX model", "onnx"),
    ("export_torch", "--export-torch", "PyTorch model", "torch"),
)


def check_output_path(flag: str, value: str) -> Path:
    """The path ``value`` of an output option if a file can be written there: not empty, not a
    folder or a device, in an existing folder where a file can be created (tried). ValueError
    naming the option otherwise."""
    if not value.strip():
        raise ValueError(f"{flag}: the path is empty; allowed: a file path such as model.npz")
    path = Path(value)
    try:
        if value.endswith(("/", os.sep)) or path.is_dir():
            raise ValueError(
                f"{flag}: {value!r} is a folder; allowed: a file path such as model.npz"
            )
        folder = path.parent
        if not folder.is_dir():
            what = "is not a folder" if folder.exists() else "does not exist"
            raise ValueError(
                f"{flag}: the folder {str(folder)!r} {what}; allowed: an existing folder"
            )
        if path.exists() and not stat.S_ISREG(path.stat().st_mode):
            raise ValueError(f"{flag}: {value!r} exists and is not a regular file; allowed: a file")
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ValueError(
            f"{flag}: cannot write {value!r} ({err.strerror or err}); allowed: a file in a "
            "folder where files can be created"
        ) from None
    return path


def check_outputs(args: argparse.Namespace) -> None:
    """Check every output path before anything is trained (see :func:`check_output_path`);
    two outputs may not name the same file."""
    if args.export_onnx is not None:
        require_onnx()
    seen: dict[Path, str] = {}
    for name, flag, _, _ in OUTPUTS:
        value = getattr(args, name)
        if value is None:
            continue
        key = check_output_path(flag, value).resolve()
        if key in seen:
            raise ValueError(
                f"{flag}: {value!r} is also the file of {seen[key]}; allowed: "
                "a different file for each output"
            )
        seen[key] = flag


def write_outputs(
    args: argparse.Namespace, writers: dict[str, Any], result: dict[str, Any], lines: list[str]
) -> list[str]:
    """Write each requested output with ``writers[attribute](path)``, going on after a
    failure; returns the failures' messages (successes go to ``result`` and ``lines``)."""
    failures = []
    for name, flag, what, key in OUTPUTS:
        path = getattr(args, name)
        if path is None:
            continue
        try:
            writers[name](path)
        except (OSError, ValueError) as err:
            failures.append(f"{flag}: could not write {path} ({err})")
            continue
        result[key] = path
        lines.append(f"{what} written to {path}")
    return failures

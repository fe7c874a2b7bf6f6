"""Read a 2-D point data set from a CSV file.

Format
------
UTF-8 text (a byte-order mark is allowed), one point per line with three columns ``x1, x2,
label``, separated by commas (or, when the first line clearly uses them, semicolons or tabs).

* An optional header: a first row whose ``x1`` or ``x2`` is not a number is taken as a header
  (its names are not checked; columns are always read by position). A later non-numeric row
  is an error naming its line.
* Blank lines and lines starting with ``#`` are skipped; spaces around values are ignored; one
  trailing empty column (``1,2,0,``, as some spreadsheets write) is ignored.
* Labels decide the task:

  - every label an integer as written (``0``, ``-1``, ``+3``; not ``1.0``): classification;
    classes are the distinct values in ascending numeric order, mapped to ``0..K-1``, and
    ``class_names`` are the values as strings (``"-1"``, ``"1"``);
  - some label not a number (``cat``): classification over the distinct label strings in
    sorted order;
  - numbers, not all integers (``0.25``): regression with float32 targets.

* Coordinates are kept as they are; points outside ``[-6, 6]^2`` are allowed and simply lie
  outside the playground's view.

Every problem raises ValueError naming the line and the value: unreadable or binary file, non
UTF-8 text, wrong column count, a non-numeric or non-finite value, fewer than 4 rows, more than
``max_rows`` rows, one class only, more than ``max_classes`` classes.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from core.data.toy2d import MAX_TEST_RATIO, MIN_SAMPLES, Dataset, _check_seed, split_dataset
from core.validation import check_number

DELIMITERS = (",", ";", "\t")
MAX_LINE_BYTES = 40_000
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_COLUMNS = "3 columns: x1, x2, label"


def read_points_csv(
    source: str | os.PathLike[str],
    *,
    test_ratio: float = 0.5,
    seed: int = 0,
    max_classes: int = 10,
    max_rows: int = 1_000_000,
) -> Dataset:
    """Read points and labels from a CSV file and split them into a :class:`Dataset`.

    Parameters
    ----------
    source : str or os.PathLike
        Path of the CSV file (format in the module docstring).
    test_ratio : float
        Share of rows for the test part, in ``[0, 0.9]``; see :func:`split_dataset`.
    seed : int
        Seed of the shuffle and split (``>= 0``).
    max_classes : int
        Most distinct classes accepted for classification (``>= 2``).
    max_rows : int
        Most data rows accepted (``>= 4``).

    Returns
    -------
    Dataset
        Named after the file stem. ``x_*`` float32 ``(n, 2)``; ``y_*`` int64 class indices or
        float32 targets ``(n,)``.

    Raises
    ------
    ValueError
        For any problem with the arguments or the file; the message names the line and value.
    TypeError
        When ``source`` is not a path.
    """
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source: {source!r} is not a path; allowed: str or os.PathLike")
    path = Path(source)
    check_number("test_ratio", test_ratio, low=0.0, high=MAX_TEST_RATIO)
    _check_seed(seed)
    for key, value, low in (("max_classes", max_classes, 2), ("max_rows", max_rows, MIN_SAMPLES)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{key}: {value!r} is not an integer; allowed: an integer >= {low}")
        check_number(key, value, low=low, integer=True)

    try:
        handle = path.open("rb")
    except OSError as err:
        raise ValueError(
            f"source: cannot open {str(path)!r} ({err.strerror or err}); allowed: a readable file"
        ) from err
    with handle:
        x, labels, first_lines, codes = _read_rows(handle, path, max_rows)

    task, y, class_names = _interpret_labels(labels, first_lines, codes, max_classes, path)
    return split_dataset(path.stem, task, x, y, test_ratio, seed, class_names)


def _where(path: Path, line: int) -> str:
    return f"{path.name}, line {line}"


def _lines(handle: BinaryIO, path: Path) -> Iterator[str]:
    """Yield the decoded lines (with their newline) of a binary file, checking each one."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise ValueError(
                f"source: {_where(path, number)} is longer than {MAX_LINE_BYTES} bytes; "
                f"allowed: short lines with {_COLUMNS}"
            )
        if b"\x00" in raw:
            raise ValueError(
                f"source: {_where(path, number)} holds NUL bytes, so this looks like a binary "
                f"file; allowed: UTF-8 text with {_COLUMNS}"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(
                f"source: {_where(path, number)} is not UTF-8 text (byte "
                f"{raw[err.start : err.start + 1]!r}); allowed: UTF-8 text with {_COLUMNS}"
            ) from err
        yield text.removeprefix("\ufeff") if number == 1 else text


def _skip(fields: list[str]) -> bool:
    return not any(fields) or fields[0].startswith("#")


def _sniff(line: str) -> str:
    """The delimiter giving the first meaningful line 3 columns; ``","`` when none does."""
    for delimiter in DELIMITERS:
        fields = next(csv.reader([line], delimiter=delimiter), [])
        if len(fields) == 3 or (len(fields) == 4 and not fields[3].strip()):
            return delimiter
    return ","


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _read_rows(
    handle: BinaryIO, path: Path, max_rows: int
) -> tuple[np.ndarray, list[str], dict[str, int], np.ndarray]:
    """Parse the rows: returns ``x (n, 2)`` float32, the distinct label strings, the first line of
    each label, and ``codes (n,)`` indexing the label list."""
    lines = _lines(handle, path)
    head: list[str] = []
    delimiter = ","
    for line in lines:  # sniff the delimiter on the first meaningful line
        head.append(line)
        if line.strip() and not line.lstrip().startswith("#"):
            delimiter = _sniff(line)
            break
    reader = csv.reader(itertools.chain(head, lines), delimiter=delimiter, strict=True)

    coords: list[float] = []
    label_index: dict[str, int] = {}
    first_lines: dict[str, int] = {}
    codes: list[int] = []
    seen_row = False
    line = 0
    try:
        for row in reader:
            line = reader.line_num
            fields = [f.strip() for f in row]
            if _skip(fields):
                continue
            if any("\n" in f or "\r" in f for f in fields):
                raise ValueError(
                    f"source: {_where(path, line)} ends inside a quoted value that spans lines; "
                    f"allowed: one row per line with {_COLUMNS}"
                )
            if len(fields) == 4 and not fields[3]:
                fields = fields[:3]
            if len(fields) != 3:
                raise ValueError(
                    f"source: {_where(path, line)} has {len(fields)} column"
                    f"{'s' if len(fields) != 1 else ''} ({delimiter.join(fields)[:80]!r}); "
                    f"allowed: {_COLUMNS}"
                )
            a, b = _number(fields[0]), _number(fields[1])
            if not seen_row:
                seen_row = True
                if a is None or b is None:
                    continue  # header
            for key, text, value in (("x1", fields[0], a), ("x2", fields[1], b)):
                if value is None:
                    raise ValueError(
                        f"{key}: {text!r} on {_where(path, line)} is not a number; "
                        "allowed: a number (a header is only allowed on the first row)"
                    )
                if not math.isfinite(value) or abs(value) > _FLOAT32_MAX:
                    raise ValueError(
                        f"{key}: {text!r} on {_where(path, line)} is not finite; "
                        "allowed: a finite number"
                    )
            label = fields[2]
            if not label:
                raise ValueError(
                    f"label: empty on {_where(path, line)}; allowed: a class name or number"
                )
            if len(codes) >= max_rows:
                raise ValueError(
                    f"max_rows: {path.name} has more than {max_rows} data rows (line {line}); "
                    f"allowed: at most {max_rows} rows (raise max_rows to read more)"
                )
            code = label_index.get(label)
            if code is None:
                code = label_index[label] = len(label_index)
                first_lines[label] = line
            coords.append(a)
            coords.append(b)
            codes.append(code)
    except csv.Error as err:
        start, end = line + 1, max(reader.line_num, line + 1)
        where = _where(path, start) + (f"-{end}" if end > start else "")
        raise ValueError(f"source: {where} is not valid CSV ({err}); allowed: {_COLUMNS}") from err

    n = len(codes)
    if n == 0:
        what = "has no data rows (only a header)" if seen_row else "is empty"
        raise ValueError(f"source: {path.name} {what}; allowed: at least {MIN_SAMPLES} rows")
    if n < MIN_SAMPLES:
        raise ValueError(
            f"source: {path.name} has {n} data row{'s' if n != 1 else ''}; "
            f"allowed: at least {MIN_SAMPLES} rows"
        )
    x = np.asarray(coords, dtype=np.float64).reshape(n, 2).astype(np.float32)
    return x, list(label_index), first_lines, np.asarray(codes, dtype=np.int64)


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _interpret_labels(
    labels: list[str],
    first_lines: dict[str, int],
    codes: np.ndarray,
    max_classes: int,
    path: Path,
) -> tuple[str, np.ndarray, tuple[str, ...] | None]:
    """Decide the task from the distinct label strings; return ``(task, y (n,), class_names)``."""
    ints = [_int_or_none(label) for label in labels]
    floats = [_number(label) for label in labels]
    for label, value in zip(labels, floats, strict=True):
        if value is not None and not (math.isfinite(value) and abs(value) <= _FLOAT32_MAX):
            raise ValueError(
                f"label: {label!r} on {_where(path, first_lines[label])} is not finite; "
                "allowed: a finite number or a class name"
            )

    if all(v is not None for v in ints):
        values = sorted({v for v in ints if v is not None})
        rank = {v: k for k, v in enumerate(values)}
        lookup = np.array([rank[v] for v in ints], dtype=np.int64)
        names = tuple(str(v) for v in values)
        hint = " (write targets with a decimal point, e.g. 1.0, for regression)"
    elif all(v is not None for v in floats):
        lookup = np.array(floats, dtype=np.float32)
        return "regression", lookup[codes], None
    else:
        pairs = list(zip(labels, ints, floats, strict=True))
        decimal = [lab for lab, i, f in pairs if i is None and f is not None]
        if decimal:
            words = [lab for lab, _, f in pairs if f is None]
            bad = min(words, key=first_lines.__getitem__)
            raise ValueError(
                f"label: {bad!r} on {_where(path, first_lines[bad])} is not a number, but "
                f"other labels are decimal numbers such as {decimal[0]!r} (regression); "
                "allowed: numbers only, or class names/integers only"
            )
        names = tuple(sorted(labels))
        rank = {name: k for k, name in enumerate(names)}
        lookup = np.array([rank[lab] for lab in labels], dtype=np.int64)
        hint = ""

    k = len(names)
    if k < 2:
        raise ValueError(
            f"label: every row of {path.name} has the class {names[0]!r}; "
            "allowed: at least 2 classes"
        )
    if k > max_classes:
        shown = ", ".join(names[:5]) + (", ..." if k > 5 else "")
        raise ValueError(
            f"label: {k} distinct classes ({shown}) in {path.name}; allowed: at most "
            f"{max_classes} (max_classes){hint}"
        )
    return "classification", lookup[codes], names

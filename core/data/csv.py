"""Read a 2-D point data set from a CSV file.

Format
------
UTF-8 text (a byte-order mark at the very start is allowed), one point per line with three
columns ``x1, x2, label``, separated by commas (or, when the first line clearly uses them,
semicolons or tabs). Lines may end with ``\\n``, ``\\r\\n`` or ``\\r`` alone.

* An optional header: a first row whose ``x1`` or ``x2`` is not a number is taken as a header
  (its names are not checked; columns are always read by position). A later non-numeric row
  is an error naming its line.
* Blank lines and lines starting with ``#`` are skipped; spaces around values are ignored; one
  trailing empty column (``1,2,0,``, as some spreadsheets write) is ignored. A quoted value
  cannot span lines.
* Numbers are plain ASCII decimal or scientific notation (``-1``, ``+0.5``, ``.5``, ``2e-3``).
  Values that only look like numbers (``1_000``, Arabic-Indic or fullwidth digits, the minus
  sign U+2212) are refused with their line rather than read as class names, and so are
  invisible characters (a byte-order mark inside the file, zero-width spaces, control
  characters).
* Labels decide the task:

  - every label an integer as written (``0``, ``-1``, ``+3``; not ``1.0``): classification;
    classes are the distinct values in ascending numeric order, mapped to ``0..K-1``, and
    ``class_names`` are the values as strings (``"-1"``, ``"1"``);
  - some label not a number (``cat``): classification over the distinct label strings in
    sorted order;
  - numbers, not all integers (``0.25``): regression with float32 targets.

* Coordinates are kept as they are; points outside ``[-6, 6]^2`` are allowed and simply lie
  outside the playground's view.

Limits (so that any file is read in bounded memory and time): only regular files are read (not
folders, pipes or devices); a file is at most ``max_bytes`` (default :data:`MAX_FILE_BYTES`,
128 MiB) and holds at most ``max_rows`` data rows (default 1,000,000); a data line is at most
40,000 characters. Blank and comment lines are skipped without being kept, whatever their number
or length (:mod:`core.data.csv_lines`). Memory while reading is a few chunks of 64 K characters
plus about 70 bytes per data row (the values read, then the shuffled and split arrays).

Every problem raises ValueError naming the line and the value: unreadable, non-regular or too
large file, binary or non UTF-8 text, wrong column count, a non-numeric or non-finite value,
fewer than 4 rows, more than ``max_rows`` rows, one class only, more than ``max_classes``
classes.
"""

from __future__ import annotations

import csv
import math
import os
import re
import unicodedata
from array import array
from pathlib import Path
from typing import TextIO

import numpy as np

from core.data.csv_lines import COLUMNS, data_lines, open_text, where
from core.data.dataset import MAX_TEST_RATIO, MIN_SAMPLES, Dataset, check_seed, split_dataset
from core.validation import check_number

DELIMITERS = (",", ";", "\t")
#: Largest file accepted by default: a million rows of full-precision numbers take ~40 MB.
MAX_FILE_BYTES = 128 * 2**20
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)


def read_points_csv(
    source: str | os.PathLike[str],
    *,
    test_ratio: float = 0.5,
    seed: int = 0,
    max_classes: int = 10,
    max_rows: int = 1_000_000,
    max_bytes: int = MAX_FILE_BYTES,
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
    max_bytes : int
        Largest file accepted, in bytes (``>= 1``); larger files are refused before reading.

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
    check_seed(seed)
    for key, value, low in (
        ("max_classes", max_classes, 2),
        ("max_rows", max_rows, MIN_SAMPLES),
        ("max_bytes", max_bytes, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{key}: {value!r} is not an integer; allowed: an integer >= {low}")
        check_number(key, value, low=low, integer=True)

    with open_text(path, max_bytes) as text:
        x, labels, first_lines, codes = _read_rows(text, path, max_rows)
    task, y, class_names = _interpret_labels(labels, first_lines, codes, max_classes, path)
    return split_dataset(path.stem, task, x, y, test_ratio, seed, class_names)


# -- fields and numbers ----------------------------------------------------------------------------
def _fields(line: str, delimiter: str, number: int, path: Path) -> list[str]:
    """The stripped values of one line (quotes handled by the csv module)."""
    if '"' not in line:
        return [f.strip() for f in line.split(delimiter)]
    try:
        row = next(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error as err:
        if line.count('"') % 2:
            raise ValueError(
                f"source: {where(path, number)} has a quoted value that does not end on "
                f"this line; allowed: one row per line with {COLUMNS}"
            ) from err
        raise ValueError(
            f"source: {where(path, number)} is not valid CSV ({err}); allowed: {COLUMNS}"
        ) from err
    return [f.strip() for f in row]


def _sniff(line: str, number: int, path: Path) -> str:
    """The delimiter giving the first meaningful line 3 columns; ``","`` when none does."""
    for delimiter in DELIMITERS:
        try:
            fields = _fields(line, delimiter, number, path)
        except ValueError:
            continue
        if len(fields) == 3 or (len(fields) == 4 and not fields[3]):
            return delimiter
    return ","


def _number(text: str) -> float | None:
    """The value of plain ASCII notation (``nan``/``inf`` too, for a clear refusal later).

    On ASCII text without underscores, ``float`` accepts exactly decimal and scientific
    notation with an optional sign, and ``nan``/``inf``/``infinity``."""
    if not text.isascii() or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _lookalike(text: str) -> bool:
    """Whether ``text`` is not plain notation but reads as a number to Python or after
    folding Unicode look-alikes (fullwidth digits, U+2212 minus, a byte-order mark)."""
    if _number(text) is not None:
        return False
    folded = unicodedata.normalize("NFKC", text).replace("\u2212", "-").replace("\ufeff", "")
    for candidate in (text, folded):
        try:
            float(candidate)
        except ValueError:
            continue
        return True
    return False


def _lookalike_error(key: str, text: str, where: str) -> ValueError:
    return ValueError(
        f"{key}: {text!r} on {where} looks like a number but is not plain notation; allowed: "
        "ASCII digits with an optional sign, '.', and exponent (e.g. -1, 0.5, 2e-3)"
    )


# -- rows ------------------------------------------------------------------------------------------
def _read_rows(
    text: TextIO, path: Path, max_rows: int
) -> tuple[np.ndarray, list[str], dict[str, int], np.ndarray]:
    """Parse the rows: returns ``x (n, 2)`` float32, the distinct label strings, the first line of
    each label, and ``codes (n,)`` indexing the label list."""
    coords = array("d")
    codes = array("q")
    label_index: dict[str, int] = {}
    first_lines: dict[str, int] = {}
    delimiter: str | None = None
    seen_row = False
    for line, content in data_lines(text, path):
        if delimiter is None:
            delimiter = _sniff(content, line, path)
        fields = _fields(content, delimiter, line, path)
        if not any(fields) or fields[0].startswith("#"):
            continue  # an empty row (",,") or a quoted comment
        if len(fields) == 4 and not fields[3]:
            fields = fields[:3]
        if len(fields) != 3:
            raise ValueError(
                f"source: {where(path, line)} has {len(fields)} column"
                f"{'s' if len(fields) != 1 else ''} ({delimiter.join(fields)[:80]!r}); "
                f"allowed: {COLUMNS}"
            )
        a, b = _number(fields[0]), _number(fields[1])
        if not seen_row:
            seen_row = True
            if a is None or b is None:  # a header, unless a value only looks wrong
                for key, field in (("x1", fields[0]), ("x2", fields[1])):
                    if _lookalike(field):
                        raise _lookalike_error(key, field, where(path, line))
                continue
        if a is None or b is None or not (abs(a) <= _FLOAT32_MAX and abs(b) <= _FLOAT32_MAX):
            for key, field, value in (("x1", fields[0], a), ("x2", fields[1], b)):
                _check_coordinate(key, field, value, where(path, line))
        label = fields[2]
        if not label:
            raise ValueError(
                f"label: empty on {where(path, line)}; allowed: a class name or number"
            )
        if len(codes) >= max_rows:
            raise ValueError(
                f"max_rows: {path.name} has more than {max_rows:,} data rows (line {line}); "
                f"allowed: at most {max_rows:,} rows (raise max_rows to read more)"
            )
        code = label_index.get(label)
        if code is None:
            code = label_index[label] = len(label_index)
            first_lines[label] = line
        coords.append(a)
        coords.append(b)
        codes.append(code)

    n = len(codes)
    if n == 0:
        what = "has no data rows (only a header)" if seen_row else "is empty"
        raise ValueError(f"source: {path.name} {what}; allowed: at least {MIN_SAMPLES} rows")
    if n < MIN_SAMPLES:
        raise ValueError(
            f"source: {path.name} has {n} data row{'s' if n != 1 else ''}; "
            f"allowed: at least {MIN_SAMPLES} rows"
        )
    x = np.frombuffer(coords, dtype=np.float64).reshape(n, 2).astype(np.float32)
    return x, list(label_index), first_lines, np.frombuffer(codes, dtype=np.int64).copy()


def _check_coordinate(key: str, text: str, value: float | None, where: str) -> None:
    """ValueError unless ``value`` (read from ``text``) is a finite float32 number."""
    if value is None:
        if _lookalike(text):
            raise _lookalike_error(key, text, where)
        raise ValueError(
            f"{key}: {text!r} on {where} is not a number; "
            "allowed: a number (a header is only allowed on the first row)"
        )
    if not math.isfinite(value) or abs(value) > _FLOAT32_MAX:
        raise ValueError(f"{key}: {text!r} on {where} is not finite; allowed: a finite number")


# -- labels ----------------------------------------------------------------------------------------
def _int_or_none(text: str) -> int | None:
    return int(text) if _INTEGER.fullmatch(text) else None


def _interpret_labels(
    labels: list[str],
    first_lines: dict[str, int],
    codes: np.ndarray,
    max_classes: int,
    path: Path,
) -> tuple[str, np.ndarray, tuple[str, ...] | None]:
    """Decide the task from the distinct label strings; return ``(task, y (n,), class_names)``."""
    for label in labels:  # in order of first appearance
        if _lookalike(label):
            raise _lookalike_error("label", label, where(path, first_lines[label]))
    ints = [_int_or_none(label) for label in labels]
    floats = [_number(label) for label in labels]
    for label, value in zip(labels, floats, strict=True):
        if value is not None and not (math.isfinite(value) and abs(value) <= _FLOAT32_MAX):
            raise ValueError(
                f"label: {label!r} on {where(path, first_lines[label])} is not finite; "
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
                f"label: {bad!r} on {where(path, first_lines[bad])} is not a number, but "
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

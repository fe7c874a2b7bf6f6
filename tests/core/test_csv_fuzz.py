"""Generated CSV files: reading any text or bytes gives a data set or a ValueError naming a line
of the file (or the file as a whole), nothing else, in bounded time; reading in tiny chunks
gives the same outcome as reading in the usual ones; well-formed rows come back as written,
whatever the delimiter, line endings, comments and blank lines around them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import csv_lines
from core.data.csv import read_points_csv
from core.data.dataset import Dataset

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIELDS = ("source", "x1", "x2", "label", "max_rows")

#: Characters that matter to the reader, look-alikes and invisible ones included.
ALPHABET = st.sampled_from(
    list('0123456789,;\t\n\r "#.-+eE_xab')
    + ["\ufeff", "\u2212", "\u0661", "\uff11", "\u200b"]
    + ["\x85", "é", "nan", "inf", "1e39"]
)
VALID = st.one_of(
    st.integers(-2, 2).map(str),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.3e}"),
)
ODD = st.sampled_from(["1_0", "\u22121", "\uff12", "nan", "-inf", "1e39", "", "x", " 5 ", ".5"])
NUMBER = st.integers(0, 9).flatmap(lambda k: ODD if k == 0 else VALID)
ROW = st.lists(NUMBER, min_size=3, max_size=3) | st.lists(NUMBER, min_size=1, max_size=4)
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_like(draw: st.DrawFn) -> bytes:
    """Rows of number-like fields, or free text over :data:`ALPHABET`, as bytes; sometimes
    with bytes that are not UTF-8 spliced in."""
    if draw(st.booleans()):
        delimiter = draw(st.sampled_from([",", ";", "\t"]))
        end = draw(LINE_ENDS)
        lines = draw(st.lists(ROW.map(delimiter.join) | st.just("# c") | st.just(""), max_size=12))
        text = end.join(lines) + draw(st.sampled_from(["", end]))
    else:
        text = "".join(draw(st.lists(ALPHABET, max_size=200)))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


def line_count(data: bytes) -> int:
    return len(re.split(rb"\r\n|\r|\n", data))


def outcome(path: Path) -> Dataset | ValueError:
    """The data set read from ``path``, or the ValueError it raised (anything else fails)."""
    start = time.monotonic()
    try:
        result: Dataset | ValueError = read_points_csv(path, test_ratio=0)
    except ValueError as exc:
        result = exc
    assert time.monotonic() - start < 5  # microseconds here: only a hang could come near
    return result


def same(a: Dataset | ValueError, b: Dataset | ValueError) -> bool:
    if isinstance(a, ValueError) or isinstance(b, ValueError):
        return str(a) == str(b)
    return (
        a.x_train.tobytes() == b.x_train.tobytes()
        and a.y_train.tobytes() == b.y_train.tobytes()
        and a.class_names == b.class_names
    )


@SETTINGS
@given(data=csv_like() | st.binary(max_size=300))
def test_any_bytes_give_a_data_set_or_a_value_error_naming_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes
) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    result = outcome(path)
    if isinstance(result, ValueError):
        message = str(result)
        assert message.split(":")[0] in FIELDS, message
        assert "fuzz.csv" in message, message
        for number in re.findall(r"line (\d+)", message):
            assert 1 <= int(number) <= line_count(data), message
    else:
        assert result.x_train.dtype == np.float32 and np.all(np.isfinite(result.x_train))
        assert result.n_train >= 4
    # The same outcome when the text arrives a few characters at a time (chunk seams), also
    # with lines limited to a few characters (long lines, blank or comment, across seams).
    with monkeypatch.context() as m:
        m.setattr(csv_lines, "_CHUNK_CHARS", 3)
        assert same(outcome(path), result)
        m.setattr(csv_lines, "MAX_LINE_CHARS", 6)
        short = outcome(path)
        m.setattr(csv_lines, "_CHUNK_CHARS", 2**16)
        assert same(outcome(path), short)


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[str, list[tuple[float, float, str]]]:
    """A valid file and the rows it holds."""
    n = draw(st.integers(4, 30))
    value = st.floats(-1e4, 1e4, allow_nan=False, width=32)
    labels = draw(st.sampled_from([["0", "1"], ["-1", "+2", "7"], ["cat", "dog"]]))
    rows = [(draw(value), draw(value), draw(st.sampled_from(labels))) for _ in range(n)]
    if len({r[2] for r in rows}) < 2:
        rows[0], rows[1] = (rows[0][0], rows[0][1], labels[0]), (*rows[1][:2], labels[1])
    delimiter, end = draw(st.sampled_from([",", ";", "\t"])), draw(LINE_ENDS)
    lines = [f" {a!r} {delimiter}{b:.9e}{delimiter} {c}" for a, b, c in rows]
    for _ in range(draw(st.integers(0, 5))):  # comments and blank lines anywhere
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["# x,y", "", "  "])))
    if draw(st.booleans()):
        lines.insert(0, delimiter.join(["x1", "x2", "label"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + end.join(lines) + draw(st.sampled_from(["", end])), rows


@settings(SETTINGS, max_examples=150)
@given(case=well_formed(), chunk=st.sampled_from([1, 2, 5, 2**16]))
def test_well_formed_rows_come_back_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case, chunk: int
) -> None:
    text, rows = case
    path = tmp_path / "ok.csv"
    path.write_bytes(text.encode())
    monkeypatch.setattr(csv_lines, "_CHUNK_CHARS", chunk)
    d = outcome(path)
    assert not isinstance(d, ValueError), d
    got = sorted(
        (a, b, d.class_names[y])
        for (a, b), y in zip(d.x_train.tolist(), d.y_train.tolist(), strict=True)
    )
    want = sorted((a, float(np.float32(b)), c.lstrip("+")) for a, b, c in rows)
    assert got == want

"""Reading point data sets from CSV files."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from core.data import csv as csv_module
from core.data.csv import read_points_csv


def write(tmp_path: Path, text: str | bytes, name: str = "points.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def rows(n: int, labels: list[str], delimiter: str = ",") -> str:
    return "".join(
        f"{i}{delimiter}{-i / 2}{delimiter}{labels[i % len(labels)]}\n" for i in range(n)
    )


# ------------------------------------------------------------------------------- happy paths


def test_integer_labels_with_header(tmp_path: Path) -> None:
    path = write(tmp_path, "x1,x2,label\n" + rows(10, ["3", "-1"]), "my data.csv")
    d = read_points_csv(path, test_ratio=0.4, seed=1)
    assert d.name == "my data" and d.task == "classification"
    assert d.n_classes == 2 and d.class_names == ("-1", "3")
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.n_train + d.n_test == 10 and d.n_test == 4
    # Every row survives with its label: -1 -> class 0, 3 -> class 1.
    got = sorted(zip(d.x_all[:, 0].tolist(), d.x_all[:, 1].tolist(), d.y_all.tolist(), strict=True))
    assert got == [(float(i), -i / 2, 1 if i % 2 == 0 else 0) for i in range(10)]


def test_string_labels_are_sorted_class_names(tmp_path: Path) -> None:
    d = read_points_csv(write(tmp_path, rows(12, ["dog", "cat", "emu"])))
    assert d.task == "classification" and d.class_names == ("cat", "dog", "emu")
    for x1, y in zip(d.x_all[:, 0], d.y_all, strict=True):
        assert d.class_names[y] == ["dog", "cat", "emu"][int(x1) % 3]
    assert set(d.y_train) == set(d.y_test) == {0, 1, 2}


def test_integers_sort_numerically(tmp_path: Path) -> None:
    d = read_points_csv(write(tmp_path, rows(12, ["10", "9", "+2"])))
    assert d.class_names == ("2", "9", "10")


def test_decimal_labels_make_regression(tmp_path: Path) -> None:
    d = read_points_csv(write(tmp_path, rows(8, ["0.5", "-1", "2"])), test_ratio=0.25)
    assert d.task == "regression" and d.n_classes == 1 and d.class_names == ()
    assert d.y_train.dtype == np.float32
    assert sorted(d.y_all.tolist()) == sorted([0.5, -1, 2, 0.5, -1, 2, 0.5, -1])
    assert d.n_test == 2


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_other_delimiters(tmp_path: Path, delimiter: str) -> None:
    text = delimiter.join(["a", "b", "c"]) + "\n" + rows(6, ["0", "1"], delimiter)
    d = read_points_csv(write(tmp_path, text))
    assert d.n_train + d.n_test == 6 and d.class_names == ("0", "1")


def test_tolerant_layout(tmp_path: Path) -> None:
    text = (
        "\ufeff# exported points\r\n"
        "\r\n"
        " x1 , x2 , label \r\n"
        "1, 2, a,\r\n"
        "  \r\n"
        "3 ,4 ,b\r\n"
        "# a comment\r\n"
        "5,6,a\r\n"
        "7,8,b"
    )
    d = read_points_csv(write(tmp_path, text), test_ratio=0)
    assert d.n_train == 4 and d.x_test.shape == (0, 2)
    assert sorted(d.x_train[:, 0].tolist()) == [1, 3, 5, 7]


def test_points_outside_the_domain_are_kept(tmp_path: Path) -> None:
    text = "100,-50,0\n1,2,1\n3,4,0\n-7.5,1e3,1\n"
    d = read_points_csv(write(tmp_path, text), test_ratio=0)
    assert sorted(d.x_train[:, 0].tolist()) == [-7.5, 1, 3, 100]


def test_same_seed_same_split_and_seed_matters(tmp_path: Path) -> None:
    path = write(tmp_path, rows(40, ["0", "1"]))
    a, b = read_points_csv(path, seed=3), read_points_csv(path, seed=3)
    c = read_points_csv(path, seed=4)
    assert a.x_train.tobytes() == b.x_train.tobytes()
    assert a.y_test.tobytes() == b.y_test.tobytes()
    assert a.x_train.tobytes() != c.x_train.tobytes()


def test_accepts_str_path(tmp_path: Path) -> None:
    assert read_points_csv(str(write(tmp_path, rows(4, ["0", "1"])))).n_classes == 2


# ------------------------------------------------------------------------------ file errors


@pytest.mark.parametrize(
    ("text", "field", "fragments"),
    [
        ("x1,x2,label\n1,2,0\nfoo,3,1\n4,5,0\n6,7,1\n", "x1", ["line 3", "'foo'"]),
        ("1,2,0\n3,4,1\n5,six,0\n6,7,1\n", "x2", ["line 3", "'six'"]),
        ("1,2,0\n3,4,1\nx1,x2,label\n6,7,1\n", "x1", ["line 3", "header"]),
        ("1,2,0\nnan,4,1\n5,6,0\n6,7,1\n", "x1", ["line 2", "'nan'", "finite"]),
        ("1,2,0\n3,-inf,1\n5,6,0\n6,7,1\n", "x2", ["line 2", "'-inf'"]),
        ("1,2,0\n3,1e39,1\n5,6,0\n6,7,1\n", "x2", ["line 2", "finite"]),
        ("1,2,0.5\n3,4,nan\n5,6,0\n6,7,1\n", "label", ["line 2", "'nan'"]),
        ("1,2,0\n3,4\n5,6,0\n6,7,1\n", "source", ["line 2", "2 columns", "x1, x2, label"]),
        ("1,2,0\n3,4,1,9\n5,6,0\n6,7,1\n", "source", ["line 2", "4 columns"]),
        ("1,2,0\n3,4,\n5,6,0\n6,7,1\n", "label", ["line 2", "empty"]),
        ("x1,x2,label\n1,2,0\n3,4,1\n5,6,0\n", "source", ["3 data rows", "at least 4"]),
        ("x1,x2,label\n", "source", ["no data rows"]),
        ("", "source", ["empty"]),
        ("\n\n  \n", "source", ["empty"]),
        ("1,2,a\n3,4,a\n5,6,a\n6,7,a\n", "label", ["'a'", "at least 2 classes"]),
        ("1,2,0.5\n3,4,1.5\n5,6,cat\n6,7,1\n", "label", ["'cat'", "line 3", "regression"]),
        ('1,2,0\n3,4,"1\n5,6,0\n7,8,1\n', "source", ["line 2", "quoted value"]),
        ('1,2,0\n3,4,"1\n5"\n5,6,0\n7,8,1\n', "source", ["line 2", "quoted value"]),
        ('1,2,0\n3,4,"a"b\n5,6,0\n7,8,1\n', "source", ["line 2", "not valid CSV"]),
    ],
)
def test_bad_files_name_field_line_and_value(
    tmp_path: Path, text: str, field: str, fragments: list[str]
) -> None:
    with pytest.raises(ValueError, match=field) as info:
        read_points_csv(write(tmp_path, text))
    for fragment in fragments:
        assert fragment in str(info.value)


def test_too_many_classes(tmp_path: Path) -> None:
    path = write(tmp_path, rows(30, [str(k) for k in range(11)]))
    with pytest.raises(ValueError, match="label") as info:
        read_points_csv(path)
    assert "11 distinct classes" in str(info.value) and "at most 10" in str(info.value)
    assert "decimal point" in str(info.value)  # hint for regression targets
    assert read_points_csv(path, max_classes=11).n_classes == 11
    names = write(tmp_path, rows(12, list("abcdef")), "names.csv")
    with pytest.raises(ValueError, match="max_classes"):
        read_points_csv(names, max_classes=5)


def test_too_many_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "x1,x2,label\n" + rows(7, ["0", "1"]))
    assert read_points_csv(path, max_rows=7).n_train > 0
    with pytest.raises(ValueError, match="max_rows") as info:
        read_points_csv(path, max_rows=6)
    assert "line 8" in str(info.value)


def test_binary_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ValueError, match="source") as info:
        read_points_csv(path)
    assert "binary" in str(info.value) or "UTF-8" in str(info.value)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = write(tmp_path, "1,2,a\n3,4,b\n5,6,caf\xe9\n7,8,a\n".encode("latin-1"))
    with pytest.raises(ValueError, match="source") as info:
        read_points_csv(path)
    assert "line 3" in str(info.value) and "UTF-8" in str(info.value)


def test_overlong_line(tmp_path: Path) -> None:
    path = write(tmp_path, "1,2,0\n" + "9" * 50_000 + ",1,1\n")
    with pytest.raises(ValueError, match="source") as info:
        read_points_csv(path)
    assert "line 2" in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="source") as info:
        read_points_csv(tmp_path / "nope.csv")
    assert "nope.csv" in str(info.value)
    with pytest.raises(ValueError, match="source"):
        read_points_csv(tmp_path)


# -------------------------------------------------------------------------- argument errors


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"test_ratio": 0.95}, ValueError, "test_ratio"),
        ({"test_ratio": -0.1}, ValueError, "test_ratio"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": "1"}, TypeError, "seed"),
        ({"max_classes": 1}, ValueError, "max_classes"),
        ({"max_classes": 2.5}, TypeError, "max_classes"),
        ({"max_rows": 3}, ValueError, "max_rows"),
        ({"max_bytes": 0}, ValueError, "max_bytes"),
        ({"max_bytes": 1.5}, TypeError, "max_bytes"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict, error: type, field: str) -> None:
    path = write(tmp_path, rows(8, ["0", "1"]))
    with pytest.raises(error, match=field) as info:
        read_points_csv(path, **kwargs)
    assert repr(next(iter(kwargs.values()))) in str(info.value)


def test_bad_source_type() -> None:
    with pytest.raises(TypeError, match="source"):
        read_points_csv(42)  # type: ignore[arg-type]


# --------------------------------------------------------------------- hostile files: bounds

DATA = "1,2,0\n3,4,1\n5,6,0\n7,8,1\n"


def flood(tmp_path: Path, line: bytes, total: int, tail: str = DATA, name: str = "f.csv") -> Path:
    """A file of ``total`` bytes of ``line`` repeated, then ``tail``; returns its path."""
    path = tmp_path / name
    block = line * (2**20 // len(line))
    with path.open("wb") as f:
        for _ in range(total // len(block)):
            f.write(block)
        f.write(tail.encode())
    return path


def lines_in(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(2**20), b""))


@pytest.mark.parametrize("line", [b"# exported by a tool that writes long headers\n", b"\n"])
def test_comment_and_blank_floods_reach_neither_memory_nor_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: bytes
) -> None:
    path = flood(tmp_path, line, 20 * 2**20, DATA + "9,9,oops,4\n")
    last = lines_in(path)  # the bad row's line number: the flood's lines were counted
    parsed: list[str] = []
    fields = csv_module._fields
    monkeypatch.setattr(
        csv_module, "_fields", lambda text, *a: parsed.append(text) or fields(text, *a)
    )
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="source") as info:
            read_points_csv(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"line {last} has" in str(info.value) and "4 columns" in str(info.value)
    # Only data lines were parsed (the first one also to find the delimiter), and what was
    # held at once is a few chunks, not the 20 MB of lines before them.
    assert parsed == ["1,2,0", "1,2,0", "3,4,1", "5,6,0", "7,8,1", "9,9,oops,4"]
    assert peak < 2**20


#: The peak RSS of the running process in KiB: VmHWM where Linux has it (ru_maxrss would
#: include the parent's memory at fork time, which exec does not reset).
PEAK_KIB = """
def peak_kib():
    try:
        with open("/proc/self/status") as f:
            return int(next(l for l in f if l.startswith("VmHWM:")).split()[1])
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def peak_rss_kib(path: Path) -> int:
    """Peak RSS of a fresh interpreter that reads ``path`` (whatever the outcome)."""
    code = (
        "import sys\n"
        "from core.data.csv import read_points_csv\n"
        "try:\n    read_points_csv(sys.argv[1])\nexcept ValueError:\n    pass\n"
        f"{PEAK_KIB}\nprint(peak_kib())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def test_a_comment_flood_costs_no_memory_in_a_subprocess(tmp_path: Path) -> None:
    base = peak_rss_kib(write(tmp_path, DATA))
    bomb = peak_rss_kib(flood(tmp_path, b"#" * 79 + b"\n", 40 * 2**20))
    assert bomb - base < 16 * 1024  # KiB; keeping every line took 64 MiB more


@pytest.mark.slow
@pytest.mark.parametrize(("line", "size"), [(b"# comment\n", 100), (b"\n", 120), (b"\r", 120)])
def test_large_floods_are_read_in_bounded_memory_and_time(
    tmp_path: Path, line: bytes, size: int
) -> None:
    base = peak_rss_kib(write(tmp_path, DATA))
    path = flood(tmp_path, line, size * 2**20)
    start = time.monotonic()
    assert peak_rss_kib(path) - base < 20 * 1024
    assert time.monotonic() - start < 120  # ~1-5 s here; the old reader took minutes


def test_long_lines(tmp_path: Path) -> None:
    from core.data.csv_lines import MAX_LINE_CHARS

    ok = "1," + "0" * (MAX_LINE_CHARS - 4) + ",1\n"  # exactly the limit, newline aside
    long_comment = "#" + "x" * 3 * MAX_LINE_CHARS + "\n"
    long_blank = " " * 3 * MAX_LINE_CHARS + "\n"
    d = read_points_csv(write(tmp_path, long_comment + long_blank + ok + DATA), test_ratio=0)
    assert d.n_train == 5
    for text, line in [
        (DATA + "1,2," + "y" * MAX_LINE_CHARS + "\n", 5),
        (long_blank + DATA + " " * MAX_LINE_CHARS + "1,2,0\n", 6),
        ("1,2,0\r" * 3 + "9" * 3 * MAX_LINE_CHARS, 4),  # CR endings, no final newline
    ]:
        with pytest.raises(ValueError, match="source") as info:
            read_points_csv(write(tmp_path, text))
        assert f"line {line} is longer than 40,000 characters" in str(info.value)


def test_size_cap_is_checked_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "x1,x2,label\n" + rows(8, ["0", "1"]) + "bad line\n")
    size = path.stat().st_size
    with pytest.raises(ValueError, match="source") as info:
        read_points_csv(path, max_bytes=size - 1)
    assert f"larger than {size - 1:,} bytes" in str(info.value)  # not the bad line
    with pytest.raises(ValueError, match="line 10"):
        read_points_csv(path, max_bytes=size)
    big = write(tmp_path, "#" * 2**20 + "\n" + DATA)
    with pytest.raises(ValueError, match="larger than 1 MiB; allowed: files up to 1 MiB"):
        read_points_csv(big, max_bytes=2**20)


def test_a_file_growing_past_the_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, rows(3000, ["0", "1"]))
    fstat = os.fstat  # a file that grows after it was opened: its size looked small

    def small(fd: int) -> os.stat_result:
        info = fstat(fd)
        return os.stat_result((*info[:6], 10, *info[7:10]))

    monkeypatch.setattr(csv_module.os, "fstat", small)
    with pytest.raises(ValueError, match="larger than 1,000 bytes"):
        read_points_csv(path, max_bytes=1000)


# --------------------------------------------------------------- hostile files: line endings


def test_cr_only_and_mixed_line_endings(tmp_path: Path) -> None:
    d = read_points_csv(
        write(tmp_path, "x1,x2,label\r1,2,a\r3,4,b\r\n5,6,a\n7,8,b\r"), test_ratio=0
    )
    assert sorted(d.x_train[:, 0].tolist()) == [1, 3, 5, 7] and d.class_names == ("a", "b")
    with pytest.raises(ValueError, match="x2") as info:
        read_points_csv(write(tmp_path, "1,2,0\r3,4,1\r\r5,six,0\r7,8,1\r"))
    assert "line 4" in str(info.value)


# ------------------------------------------------------------------- hostile files: numbers


@pytest.mark.parametrize(
    ("row", "field", "value"),
    [
        ("1_000,2,0", "x1", "1_000"),
        ("1,\u0662\u0665,0", "x2", "\u0662\u0665"),  # Arabic-Indic 25
        ("\uff11,2,0", "x1", "\uff11"),  # fullwidth 1
        ("\u22121,2,0", "x1", "\u22121"),  # U+2212 minus
        ("1,2,\u22121", "label", "\u22121"),
        ("1,2,\uff13", "label", "\uff13"),
        ("1,2,1_0", "label", "1_0"),
    ],
)
def test_numbers_are_plain_ascii(tmp_path: Path, row: str, field: str, value: str) -> None:
    for where, text in [(3, DATA[:12] + row + "\n" + DATA), (1, row + "\n" + DATA)]:
        with pytest.raises(ValueError, match=field) as info:
            read_points_csv(write(tmp_path, text))
        message = str(info.value)
        assert f"line {where}" in message and repr(value) in message
        assert "looks like a number" in message


@pytest.mark.parametrize(
    ("inside", "code"),
    [("\ufeff", "U+FEFF"), ("\u200b", "U+200B"), ("\x1b", "U+001B"), ("\x85", "U+0085")],
)
def test_invisible_characters_are_refused_with_their_line(
    tmp_path: Path, inside: str, code: str
) -> None:
    with pytest.raises(ValueError, match="source") as info:
        read_points_csv(write(tmp_path, DATA + f"1,2,{inside}1\n"))
    assert "line 5" in str(info.value) and code in str(info.value)


def test_a_leading_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    d = read_points_csv(write(tmp_path, "\ufeff1,2,0\n3,4,1\n5,6,0\n7,8,1\n"), test_ratio=0)
    assert d.class_names == ("0", "1") and sorted(d.x_train[:, 0].tolist()) == [1, 3, 5, 7]


def test_plain_notations_are_read(tmp_path: Path) -> None:
    text = "+1,.5,1e3\n-2.,5E-1,-2\n3.25,-.5e+1,0.5\n1e-3,+0,7\n"
    d = read_points_csv(write(tmp_path, text), test_ratio=0)
    got = sorted(zip(d.x_train[:, 0].tolist(), d.y_train.tolist(), strict=True))
    np.testing.assert_allclose(got, [(-2, -2), (1e-3, 7), (1, 1e3), (3.25, 0.5)], rtol=1e-6)


# --------------------------------------------------------------- hostile files: file kinds


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_named_pipe_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    errors: list[BaseException] = []
    reader = threading.Thread(target=lambda: catch(errors, fifo), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # the old reader blocks in open(): release it
        with fifo.open("wb"):
            pass
        reader.join(timeout=10)
        pytest.fail("reading a named pipe waited for a writer")
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    assert "a pipe, device or socket" in str(errors[0]) and "regular file" in str(errors[0])


def catch(errors: list[BaseException], path: Path) -> None:
    try:
        read_points_csv(path)
    except BaseException as exc:  # noqa: BLE001 - recorded for the test thread
        errors.append(exc)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_devices_and_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a pipe, device or socket"):
        read_points_csv("/dev/zero")
    with pytest.raises(ValueError, match="is a folder"):
        read_points_csv(tmp_path)

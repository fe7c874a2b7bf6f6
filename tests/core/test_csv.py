"""Reading point data sets from CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
        ('1,2,0\n3,4,"1\n5,6,0\n7,8,1\n', "source", ["line 2-4", "not valid CSV"]),
        ('1,2,0\n3,4,"1\n5"\n5,6,0\n7,8,1\n', "source", ["line 3", "quoted value"]),
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

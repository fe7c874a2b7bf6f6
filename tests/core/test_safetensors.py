"""Reading .safetensors with NumPy alone: what PyTorch users write opens, and a file that lies
about its sizes is refused before anything is read on its word."""

import json
import os

import numpy as np
import pytest

from core.archive import ModelFileError
from core.safetensors import MAX_HEADER_BYTES, read_header, read_safetensors, read_tensors


def write(path, header, data=b"", length=None):
    """A .safetensors file from ``header`` (dict) and the raw ``data`` section."""
    text = json.dumps(header).encode()
    n = len(text) if length is None else length
    path.write_bytes(n.to_bytes(8, "little") + text + data)
    return path


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def write_safetensors(path, tensors):
    """``tensors`` (name -> float32 array) as safetensors.torch.save_file writes them."""
    header, data = {}, b""
    for name, value in tensors.items():
        raw = np.ascontiguousarray(value, "<f4").tobytes()
        header[name] = entry("F32", list(np.shape(value)), len(data), len(data) + len(raw))
        data += raw
    return write(path, header, data)


def test_reads_tensors_of_every_float_width(tmp_path):
    w = np.arange(6, dtype="<f4").reshape(2, 3)
    h = np.array([1.5, -2.25], dtype="<f2")
    bf16 = (np.array([3.0, -0.5], dtype="<f4").view("<u4") >> 16).astype("<u2")
    steps = np.array(7, dtype="<i8")
    data = w.tobytes() + h.tobytes() + bf16.tobytes() + steps.tobytes()
    header = {
        "__metadata__": {"format": "pt"},
        "w": entry("F32", [2, 3], 0, 24),
        "h": entry("F16", [2], 24, 28),
        "b": entry("BF16", [2], 28, 32),
        "n": entry("I64", [], 32, 40),
    }
    tensors = read_safetensors(write(tmp_path / "m.safetensors", header, data))
    assert sorted(tensors) == ["b", "h", "n", "w"]
    np.testing.assert_array_equal(tensors["w"], w)
    np.testing.assert_array_equal(tensors["h"], [1.5, -2.25])
    np.testing.assert_array_equal(tensors["b"], [3.0, -0.5])
    assert tensors["h"].dtype == tensors["b"].dtype == np.float32 and int(tensors["n"]) == 7


def test_reads_what_safetensors_writes(tmp_path):
    numpy_writer = pytest.importorskip("safetensors.numpy")
    arrays = {"0.weight": np.ones((4, 2), np.float32), "0.bias": np.arange(4.0)}
    numpy_writer.save_file(arrays, str(tmp_path / "s.safetensors"))
    tensors = read_safetensors(tmp_path / "s.safetensors")
    for name, value in arrays.items():
        np.testing.assert_array_equal(tensors[name], value)


@pytest.mark.parametrize(
    ("header", "data", "length", "message"),
    [
        ({}, b"", 10**12, "a header of 1,000,000,000,000 bytes in a file of"),
        ({}, b"", 1, "its header is not JSON"),
        ([1, 2], b"", None, "its header is not a JSON object"),
        ({"w": entry("F32", [2**15, 2**15], 0, 8)}, b"\0" * 8, None, "needs 4,294,967,296"),
        ({"w": entry("F32", [2], 0, 8)}, b"\0" * 4, None, "data offsets [0, 8] outside the file"),
        ({"w": entry("F32", [2], 4, 0)}, b"\0" * 8, None, "data offsets [4, 0]"),
        ({"w": entry("C64", [1], 0, 8)}, b"\0" * 8, None, "dtype 'C64'"),
        ({"w": entry("F32", [-1], 0, 0)}, b"", None, "shape [-1]"),
        ({"w": {"dtype": "F32", "shape": [1]}}, b"", None, "exactly dtype, shape and data_offsets"),
        (
            {"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)},
            b"\0" * 12,
            None,
            "tensors 'a' and 'b' overlap",
        ),
    ],
)
def test_refuses_a_file_that_lies(tmp_path, header, data, length, message):
    path = write(tmp_path / "bad.safetensors", header, data, length)
    with pytest.raises(ModelFileError, match="bad.safetensors") as info:
        read_safetensors(path)
    assert message in str(info.value)


def test_a_huge_header_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as f:
        f.write((MAX_HEADER_BYTES + 1).to_bytes(8, "little"))
        f.truncate(MAX_HEADER_BYTES + 64)
    reads = []
    real_read = read_safetensors.__globals__["open_regular"]

    def counting(p, what):
        f = real_read(p, what)
        original = f.read
        f.read = lambda n=-1: reads.append(n) or original(n)
        return f

    monkeypatch.setitem(read_safetensors.__globals__, "open_regular", counting)
    with pytest.raises(ModelFileError, match="a header of 16,777,217 bytes"):
        read_safetensors(path)
    assert reads == [8]


def test_a_fifo_or_a_folder_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="folder"):
        read_safetensors(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.safetensors")
        with pytest.raises(ModelFileError, match="not a regular file"):
            read_safetensors(tmp_path / "pipe.safetensors")


def test_a_name_twice_or_a_shape_beyond_any_file_is_refused(tmp_path):
    text = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {}}'
    path = tmp_path / "twice.safetensors"
    path.write_bytes(len(text).to_bytes(8, "little") + text + b"\0" * 4)
    with pytest.raises(ModelFileError, match="the name 'w' appears twice"):
        read_safetensors(path)
    huge = {"w": entry("F32", [2**31, 2**31, 2**31, 2**31, 0], 0, 0)}
    with pytest.raises(ModelFileError, match="tensor 'w' has shape"):
        read_safetensors(write(tmp_path / "huge.safetensors", huge))


def test_the_header_alone_declares_what_is_read(tmp_path):
    header = {"a": entry("F32", [2], 0, 8), "b": entry("F32", [3], 8, 20)}
    path = write(tmp_path / "two.safetensors", header, np.arange(5, dtype="<f4").tobytes())
    infos = read_header(path)
    assert {name: (i.dtype, i.shape) for name, i in infos.items()} == {
        "a": ("F32", (2,)),
        "b": ("F32", (3,)),
    }
    only_b = read_tensors(path, {"b": infos["b"]})
    assert list(only_b) == ["b"]
    np.testing.assert_array_equal(only_b["b"], [2.0, 3.0, 4.0])

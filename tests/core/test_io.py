"""Model files: round trips for every layer type, atomic writes (also under SIGKILL) and refusal
of bad files with one error type, before anything is built."""

import io
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from layer_cases import activation_cases, cnn_case

from core.archive import Archive, Expected, ModelFileError
from core.atomic import atomic_write
from core.io import MAX_ACTIVATION, load_model, save_model
from core.model import Sequential
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import build_trainer
from tests.probe import child_env

CNN = cnn_case()
CASES = {
    **activation_cases(),
    "cnn": CNN,
    "cnn_sigmoid": {**CNN, "layers": [*CNN["layers"][:-1], {"type": "dense", "units": 1}]}
    | {"loss": "sigmoid_bce"},
    "conv_regression": {
        "input_shape": [1, 6, 6],
        "layers": [
            {"type": "conv", "filters": 2, "kernel_size": 3, "bias": False},
            {"type": "tanh"},
            {"type": "avgpool", "pool_size": 2},
            {"type": "flatten"},
            {"type": "dense", "units": 1, "bias": False},
        ],
        "loss": "mse",
    },
}


def trained_model(spec, steps=6, seed=0):
    """A model after a few Adam steps on random data: weights moved, BatchNorm statistics
    non-trivial."""
    rng = np.random.default_rng(seed)
    model = Sequential(spec, seed=seed)
    x = rng.normal(0.5, 2.0, (40, *model.input_shape)).astype(np.float32)
    if model.loss.task == "regression":
        y = rng.normal(size=40).astype(np.float32)
    else:
        y = rng.integers(0, 2 if model.loss.name == "sigmoid_bce" else model.n_outputs, 40)
    trainer = build_trainer(spec, TrainConfig(lr=0.05, batch_size=8, seed=seed), x, y)
    for _ in range(steps):
        trainer.step()
    return trainer.model


def random_inputs(model, n=50, seed=1):
    return np.random.default_rng(seed).normal(0, 2.0, (n, *model.input_shape)).astype(np.float32)


@pytest.fixture
def model():
    return trained_model(mlp_spec(2, [8, 8], 3, activation="tanh", batchnorm=True))


@pytest.mark.parametrize("case", sorted(CASES))
def test_round_trip_gives_identical_predictions_for_every_layer_type(case, tmp_path):
    model = trained_model(CASES[case])
    bn = [layer for layer in model.layers if layer.kind == "batchnorm"]
    assert all(not np.allclose(b.buffers["running_var"], 1.0) for b in bn)  # non-trivial stats
    path = tmp_path / "m.npz"
    save_model(model, path, {"dataset": "spiral", "class_names": ["a", "b", "c"]})
    loaded, meta = load_model(path)
    x = random_inputs(model)
    assert loaded.spec == model.spec and meta["class_names"] == ["a", "b", "c"]
    assert np.array_equal(loaded.predict_raw(x), model.predict_raw(x))
    assert np.array_equal(loaded.predict_proba(x), model.predict_proba(x))
    assert all(np.array_equal(a, b) for a, b in zip(loaded.theta, model.theta, strict=True))


def test_float64_model_keeps_its_dtype(tmp_path):
    model = Sequential(mlp_spec(2, [4], 2), seed=0, dtype=np.float64)
    save_model(model, tmp_path / "m.npz")
    loaded, _ = load_model(tmp_path / "m.npz")
    assert loaded.dtype == np.float64 and np.array_equal(loaded.theta, model.theta)


def test_file_is_plain_numpy_without_pickle(model, tmp_path):
    path = tmp_path / "m.npz"
    save_model(model, path, {"class_names": ["0", "1", "2"]})
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta.json"]))
        assert meta["format"] == "nn-playground/model" and meta["version"] == 1
        assert meta["dtype"] == "float32" and meta["spec"] == model.spec
        assert data["param/0.W"].shape == (2, 8)
        assert "buffer/1.running_var" in data.files


def test_failed_save_leaves_previous_file(model, tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save_model(model, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError):
        save_model(model, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary left behind


def test_atomic_write_keeps_permissions(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write(path, lambda f: f.write(b"one"))
    assert path.stat().st_mode & 0o777 == 0o644
    os.chmod(path, 0o600)
    atomic_write(path, lambda f: f.write(b"two"))
    assert path.read_bytes() == b"two" and path.stat().st_mode & 0o777 == 0o600


def test_save_refuses_non_finite_weights_and_bad_metadata(model, tmp_path):
    with pytest.raises(ValueError, match="metadata"):
        save_model(model, tmp_path / "m.npz", {"x": object()})
    model.theta[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        save_model(model, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


# -- killed writers ------------------------------------------------------------------------------
BIG = {"input_shape": [64], "layers": [{"type": "dense", "units": 2048}] * 2, "loss": "mse"}
WRITER = """
import sys
from core.io import save_model
from core.model import Sequential
spec = {spec!r}
models = [Sequential(spec, seed=1), Sequential(spec, seed=2)]
save_model(models[0], sys.argv[1])
print("ready", flush=True)
i = 1
while True:
    save_model(models[i % 2], sys.argv[1])
    i += 1
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_writer_leaves_a_complete_previous_file(tmp_path):
    """A process saving a 17 MB model over and over is killed at random moments; the file is
    always one complete version, never a partial one, and the temporary file a killed save
    leaves behind is removed by the next load or save of that file."""
    path = tmp_path / "m.npz"
    expected = [Sequential(BIG, seed=s).theta for s in (1, 2)]
    rng = random.Random(0)
    env = child_env()
    leftovers = 0
    for i in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER.format(spec=BIG), str(path)],
            stdout=subprocess.PIPE,
            env=env,
        )
        try:
            assert proc.stdout.readline().strip() == b"ready"
            time.sleep(rng.uniform(0.02, 0.3))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
        temps = [p for p in tmp_path.iterdir() if p.name != "m.npz"]
        assert all(p.name.startswith(f".m.npz.{proc.pid}.") for p in temps), temps
        leftovers = max(leftovers, len(temps))
        if i % 2:
            save_model(Sequential(mlp_spec(2, [3], 2), seed=0), path)
            assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
        model, _ = load_model(path)
        assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
        if not i % 2:
            assert any(np.array_equal(model.theta, e) for e in expected)
    assert leftovers >= 1  # at least one kill landed in the middle of a write


# -- bad files -----------------------------------------------------------------------------------
def _npy(header: str, data: bytes = b"") -> bytes:
    head = header.encode("latin1")
    head += b" " * (-(len(head) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head + data


def _rewrite(path, arrays):
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    "corrupt",
    [
        "truncated",
        "garbage",
        "empty",
        "pickle_file",
        "nan",
        "inf",
        "shape",
        "int_dtype",
        "version",
        "format",
        "object_array",
        "missing_array",
        "extra_array",
        "bad_spec",
        "bad_json",
        "metadata_not_dict",
        "bad_dtype",
        "absurd_units",
        "absurd_input",
        "lying_header",
        "not_npy_member",
    ],
)
def test_bad_files_raise_model_file_error(model, tmp_path, corrupt):
    path = tmp_path / "bad.npz"
    save_model(model, path)
    arrays = dict(np.load(path, allow_pickle=False))
    meta = json.loads(str(arrays["meta.json"]))
    if corrupt == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif corrupt == "garbage":
        path.write_bytes(b"not a zip at all")
    elif corrupt == "empty":
        path.write_bytes(b"")
    elif corrupt == "pickle_file":
        path.write_bytes(pickle.dumps({"param/0.W": np.zeros((2, 8))}))
    elif corrupt == "lying_header":  # declares 10^12 floats, stores 8 bytes
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr(
                "huge.npy",
                _npy(
                    "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }",
                    b"\0" * 8,
                ),
            )
    elif corrupt == "not_npy_member":
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("readme.txt", "hello")
    else:
        if corrupt == "nan":
            arrays["param/0.W"] = np.full((2, 8), np.nan, np.float32)
        elif corrupt == "inf":
            arrays["buffer/1.running_var"][3] = np.inf
        elif corrupt == "shape":
            arrays["param/0.W"] = np.zeros((3, 8), np.float32)
        elif corrupt == "int_dtype":
            arrays["param/0.b"] = np.zeros(8, np.int32)
        elif corrupt == "version":
            meta["version"] = 99
        elif corrupt == "format":
            meta["format"] = "something-else"
        elif corrupt == "object_array":
            arrays["param/0.W"] = np.array([{"x": 1}], dtype=object)
        elif corrupt == "missing_array":
            del arrays["param/0.b"]
        elif corrupt == "extra_array":
            arrays["param/9.W"] = np.zeros(3, np.float32)
        elif corrupt == "bad_spec":
            meta["spec"]["layers"][0]["units"] = "many"
        elif corrupt == "metadata_not_dict":
            meta["metadata"] = [1, 2]
        elif corrupt == "bad_dtype":
            meta["dtype"] = "float16"
        elif corrupt == "absurd_units":  # would be 10^12 parameters if built
            meta["spec"]["layers"][0]["units"] = 1_000_000
            meta["spec"]["input_shape"] = [1_000_000]
        elif corrupt == "absurd_input":
            meta["spec"]["input_shape"] = [1000, 1000, 1000]
            meta["spec"]["layers"].insert(0, {"type": "flatten"})
        if corrupt != "bad_json":
            arrays["meta.json"] = np.array(json.dumps(meta))
        else:
            arrays["meta.json"] = np.array("{not json")
        _rewrite(path, arrays)
    before = path.read_bytes()
    t0 = time.perf_counter()
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    assert time.perf_counter() - t0 < 1.0  # refused before allocating anything large
    assert str(path) in str(info.value)
    assert path.read_bytes() == before


def test_messages_name_the_problem(model, tmp_path):
    path = tmp_path / "m.npz"
    save_model(model, path)
    arrays = dict(np.load(path))
    arrays["param/0.W"] = np.zeros((3, 8), np.float32)
    _rewrite(path, arrays)
    with pytest.raises(ModelFileError, match=r"param/0.W has shape \(3, 8\), expected \(2, 8\)"):
        load_model(path)
    meta = json.loads(str(arrays["meta.json"]))
    meta["spec"]["input_shape"] = [4096, 4096, 3]
    meta["spec"]["layers"].insert(0, {"type": "flatten"})
    arrays["meta.json"] = np.array(json.dumps(meta))
    _rewrite(path, arrays)
    with pytest.raises(ModelFileError, match=f"limit {MAX_ACTIVATION:,}"):
        load_model(path)


def test_archive_refuses_object_arrays_without_unpickling(tmp_path):
    class Boom:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    path = tmp_path / "p.npz"
    np.savez(path, x=np.array([Boom()], dtype=object))
    with pytest.raises(ModelFileError, match="object arrays"), Archive(path) as archive:
        archive.read("x", Expected((1,)))
    assert not (tmp_path / "pwned").exists()


def test_archive_reads_fortran_order_and_big_endian(tmp_path):
    path = tmp_path / "a.npz"
    a = np.asfortranarray(np.arange(12, dtype=">f8").reshape(3, 4))
    buf = io.BytesIO()
    np.savez(buf, a=a)
    path.write_bytes(buf.getvalue())
    with Archive(path) as archive:
        out = archive.read("a", Expected((3, 4)))
    assert out.dtype == np.float64 and out.dtype.isnative and np.array_equal(out, a)

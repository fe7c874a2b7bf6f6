"""Export as Python: one NumPy-only file whose predictions match the engine's for every layer
type, importable and runnable without the engine."""

import ast
import importlib.util
import subprocess
import sys

import numpy as np
import pytest
from floats import assert_close, assert_same_classes
from layer_cases import export_cases

from core.model import Sequential
from core.pyexport import export_python, python_source
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import build_trainer

CASES = {
    **export_cases(),
    "cnn_bn_flatten_regression": {
        "input_shape": [1, 6, 6],
        "layers": [
            {"type": "conv", "filters": 2, "kernel_size": 3, "bias": False, "stride": 1},
            {"type": "batchnorm"},
            {"type": "flatten"},
            {"type": "dense", "units": 1, "bias": False},
        ],
        "loss": "mse",
    },
    "mnist_like": {
        "input_shape": [1, 28, 28],
        "layers": [
            {"type": "conv", "filters": 6, "kernel_size": 5},
            {"type": "relu"},
            {"type": "maxpool", "pool_size": 2},
            {"type": "flatten"},
            {"type": "dense", "units": 10},
        ],
        "loss": "softmax_ce",
    },
}


def trained_model(spec, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    model = Sequential(spec, seed=seed)
    x = rng.normal(0.5, 2.0, (40, *model.input_shape))
    if model.loss.task == "regression":
        y = rng.normal(size=40)
    else:
        y = rng.integers(0, 2 if model.loss.name == "sigmoid_bce" else model.n_outputs, 40)
    config = TrainConfig(lr=0.05, batch_size=8, seed=seed)
    trainer = build_trainer(spec, config, x, y, dtype=dtype)
    for _ in range(6):
        trainer.step()
    return trainer.model


def import_file(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", sorted(CASES))
def test_exported_file_matches_the_engine(case, tmp_path):
    model = trained_model(CASES[case])
    path = tmp_path / f"exported_{case}.py"
    export_python(model, path, metadata={"class_names": ["a", "b", "c"]})
    module = import_file(path, f"exported_{case}")
    x = np.random.default_rng(1).normal(0, 2.0, (37, *model.input_shape)).astype(np.float32)
    # Same math in float32 along other BLAS paths (the file's own matrix products and conv
    # layout): equal up to a few dozen ulps of the outputs' magnitude, which may be ~200.
    raw = model.predict_raw(x)
    logits = max(1.0, float(np.abs(raw).max()))
    assert_close(module.predict_raw(x), raw)
    proba = model.predict_proba(x)
    assert_close(module.predict_proba(x), proba, scale=logits)
    if model.loss.task == "classification":
        assert_same_classes(module.predict(x), model.predict(x), proba)
    else:
        assert_close(module.predict(x), model.predict(x))
    one = module.predict_proba(x[0])  # a single sample works too
    assert one.shape == (1, model.predict_proba(x[:1]).shape[1])
    assert module.METADATA["class_names"] == ["a", "b", "c"] and module.SPEC == model.spec


def test_float64_model(tmp_path):
    model = trained_model(mlp_spec(2, [6], 2, activation="elu"), dtype=np.float64)
    export_python(model, tmp_path / "m64.py")
    module = import_file(tmp_path / "m64.py", "m64")
    x = np.random.default_rng(0).normal(size=(20, 2))
    assert module.DTYPE == np.float64
    assert_close(module.predict_proba(x), model.predict_proba(x), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_output_keeps_its_precision_in_both_tails(dtype, tmp_path):
    """The file's sigmoid is the engine's: σ(-40) ≈ 4.2e-18 (not 0), no overflow at -1000."""
    model = Sequential(mlp_spec(1, [], 1, loss="sigmoid_bce"), dtype=dtype)
    model.theta[:] = [1.0, 0.0]  # W = 1, b = 0: the logit is the input
    export_python(model, tmp_path / "sig.py")
    module = import_file(tmp_path / "sig.py", f"sig_{np.dtype(dtype).name}")
    x = np.array([[-1000.0], [-80.0], [-40.0], [-20.0], [0.0], [20.0], [1000.0]], dtype)
    with np.errstate(over="raise"):
        p1 = module.predict_proba(x)[:, 1]
    np.testing.assert_allclose(p1, model.predict_proba(x)[:, 1], rtol=4 * np.finfo(dtype).eps)
    assert p1[2] == pytest.approx(4.248354255291589e-18, rel=1e-5)


def imported_modules(source: str) -> set[str]:
    """The top-level modules that the Python ``source`` imports."""
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    return imported


def test_file_uses_only_numpy_and_the_standard_library(tmp_path):
    source = python_source(trained_model(CASES["cnn"]), metadata={"note": 'a """ quote \\ '})
    assert imported_modules(source) == {"base64", "json", "math", "numpy"}


def test_runs_as_a_script_in_isolation(tmp_path):
    """``python -I file.py``: no project on the path, only NumPy."""
    model = trained_model(CASES["relu"])
    path = tmp_path / "model.py"
    export_python(model, path)
    proc = subprocess.run(
        [sys.executable, "-I", str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "output for a zero input" in proc.stdout
    module = import_file(path, "model_isolated")
    with pytest.raises(ValueError, match="does not match"):
        module.predict(np.zeros((2, 5)))

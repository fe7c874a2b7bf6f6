"""ONNX export: onnxruntime agrees with the engine (within 1e-5 of the outputs' magnitude) for
every layer type; the engine works without the optional ``onnx`` package and says how to install
it."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from floats import assert_close
from layer_cases import export_cases

from core import cli, cli_options
from core.model import Sequential
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import build_trainer

ROOT = Path(__file__).resolve().parents[2]


CASES = {
    **export_cases(),
    "conv_regression_no_bias": {
        "input_shape": [1, 6, 6],
        "layers": [
            {"type": "conv", "filters": 2, "kernel_size": 3, "bias": False},
            {"type": "tanh"},
            {"type": "maxpool", "pool_size": 3, "stride": 1},
            {"type": "flatten"},
            {"type": "dense", "units": 2, "bias": False},
        ],
        "loss": "mse",
    },
    "conv_output_softmax": {  # image-shaped output, flattened by the export
        "input_shape": [2, 5, 5],
        "layers": [{"type": "conv", "filters": 3, "kernel_size": 2}, {"type": "softmax"}],
        "loss": "mse",
    },
}


@pytest.fixture(scope="module")
def ort():
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


def trained_model(spec, seed=0):
    rng = np.random.default_rng(seed)
    model = Sequential(spec, seed=seed)
    x = rng.normal(0.5, 2.0, (40, *model.input_shape)).astype(np.float32)
    if model.loss.task == "regression":
        y = rng.normal(size=(40, model.n_outputs)).astype(np.float32)
    else:
        y = rng.integers(0, 2 if model.loss.name == "sigmoid_bce" else model.n_outputs, 40)
    trainer = build_trainer(spec, TrainConfig(lr=0.05, batch_size=8, seed=seed), x, y)
    for _ in range(6):
        trainer.step()
    return trainer.model


def run_onnx(ort, path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input": x}), strict=True))


@pytest.mark.parametrize("case", sorted(CASES))
def test_onnxruntime_agrees_with_the_engine(ort, case, tmp_path):
    from core.onnx_export import export_onnx

    model = trained_model(CASES[case])
    path = tmp_path / "m.onnx"
    export_onnx(model, path, metadata={"class_names": ["a", "b", "c"]})
    for seed in range(3):
        x = np.random.default_rng(seed).normal(0, 3.0, (33, *model.input_shape))
        x = x.astype(np.float32)
        out = run_onnx(ort, path, x)
        raw = model.predict_raw(x)  # onnxruntime's own float32 kernels: relative to magnitude
        assert_close(out["output"], raw)
        if model.loss.task == "classification":
            logits = max(1.0, float(np.abs(raw).max()))
            assert_close(out["probabilities"], model.predict_proba(x), scale=logits)
        else:
            assert set(out) == {"output"}


def test_float64_model_and_metadata(ort, tmp_path):
    import onnx

    from core.onnx_export import OPSET, export_onnx

    model = Sequential(mlp_spec(2, [5], 2, activation="gelu"), seed=3, dtype=np.float64)
    path = tmp_path / "m.onnx"
    export_onnx(model, path, metadata={"class_names": ["no", "yes"], "dataset": "xor"})
    proto = onnx.load(str(path))
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["class_names"]) == ["no", "yes"] and props["dataset"] == "xor"
    assert json.loads(props["nn_playground_spec"]) == model.spec
    assert proto.opset_import[0].version == OPSET
    x = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    out = run_onnx(ort, path, x)
    assert_close(out["probabilities"], model.predict_proba(x), scale=1.0)  # float32 in ONNX


def test_cli_exports_onnx(ort, tmp_path):
    path = tmp_path / "m.onnx"
    parsed = cli_options.build_parser().parse_args(
        ["--dataset", "xor", "--epochs", "3", "--progress", "none", "--export-onnx", str(path)]
    )
    import io

    out = io.StringIO()
    assert cli.run(parsed, out) == 0
    assert f"ONNX model written to {path}" in out.getvalue()
    x = np.zeros((4, 2), np.float32)
    assert run_onnx(ort, path, x)["probabilities"].shape == (4, 2)


def test_engine_works_without_onnx_and_says_how_to_install_it(tmp_path):
    code = f"""
import sys
sys.modules["onnx"] = None  # as if not installed
import core.onnx_export, core.cli
from core.model import Sequential
from core.spec import mlp_spec
assert not core.onnx_export.onnx_available()
try:
    core.onnx_export.export_onnx(Sequential(mlp_spec(2, [3], 2)), {str(tmp_path / "m.onnx")!r})
except ImportError as exc:
    print(exc)
sys.exit(core.cli.main(["--epochs", "1", "--progress", "none", "--export-onnx", "x.onnx"]))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert "pip install onnx" in proc.stdout
    assert proc.returncode == 2 and "pip install onnx" in proc.stderr
    assert not (tmp_path / "x.onnx").exists() and not (tmp_path / "m.onnx").exists()

"""Export as PyTorch: one readable file whose nn.Sequential computes what the engine's model
does, trains on with the engine's optimizer settings, and whose weights come back unchanged."""

import json

import numpy as np
import pytest
from floats import assert_close, assert_same_classes
from test_pyexport import CASES, import_file, imported_modules, trained_model

from core import cli
from core.archive import ModelFileError
from core.io import load_model
from core.model import Sequential
from core.spec import mlp_spec, parse_arch
from core.torch_export import export_torch, torch_source, torch_state
from core.torch_import import engine_state, load_safetensors
from core.training.config import TrainConfig


def exported(model, tmp_path, name, **kw):
    path = tmp_path / f"{name}.py"
    export_torch(model, path, **kw)
    return import_file(path, name)


@pytest.mark.parametrize("case", sorted(CASES))
def test_exported_module_matches_the_engine(torch, case, tmp_path):
    model = trained_model(CASES[case])
    module = exported(model, tmp_path, f"torch_{case}", metadata={"class_names": ["a", "b"]})
    x = np.random.default_rng(1).normal(0, 2.0, (37, *model.input_shape)).astype(np.float32)
    net = module.load()
    assert not net.training  # eval mode: batch norm's running statistics, no dropout
    with torch.no_grad():
        raw = net(torch.from_numpy(x)).numpy().reshape(len(x), -1)
    assert_close(raw, model.predict_raw(x))
    proba = model.predict_proba(x)
    logits = max(1.0, float(np.abs(raw).max()))
    assert_close(module.predict_proba(x), proba, scale=logits)
    if model.loss.task == "classification":
        assert_same_classes(module.predict(x), model.predict(x), proba)
    assert module.predict_proba(x[0]).shape == (1, proba.shape[1])
    assert module.METADATA == {"class_names": ["a", "b"]}


def test_training_mode_carries_over(torch, tmp_path):
    """In train mode batch norm normalizes with the batch and updates its running statistics
    as the engine does (same momentum, unbiased variance)."""
    spec = {
        "input_shape": [3],
        "layers": [
            {"type": "dense", "units": 5},
            {"type": "batchnorm", "momentum": 0.3},
            {"type": "dense", "units": 1},
        ],
        "loss": "mse",
    }
    model = trained_model(spec)
    net = exported(model, tmp_path, "torch_bn_train").load().train()
    x = np.random.default_rng(2).normal(1.0, 3.0, (16, 3)).astype(np.float32)
    out = net(torch.from_numpy(x)).detach().numpy()
    assert_close(out, model.forward(x, training=True))
    bn = model.layers[1].buffers
    assert_close(net[1].running_mean.numpy(), bn["running_mean"])
    assert_close(net[1].running_var.numpy(), bn["running_var"])


@pytest.mark.parametrize(
    "optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
)
def test_training_on_in_pytorch_lowers_the_loss(torch, optimizer, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    model = Sequential(mlp_spec(2, [16, 16], 2, activation="tanh"), seed=0)
    config = TrainConfig(
        optimizer=optimizer,
        lr=0.05 if optimizer in ("sgd", "momentum", "nesterov", "adagrad") else 0.01,
    )
    module = exported(model, tmp_path, f"torch_opt_{optimizer}", config=config)
    net = module.load().train()
    opt, loss_fn = module.optimizer(net), module.loss_fn()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    with torch.no_grad():
        before = float(loss_fn(net(xt), yt))
    assert before == pytest.approx(model.loss_and_grad(x, y), rel=1e-5)
    for _ in range(20):
        opt.zero_grad()
        loss_fn(net(xt), yt).backward()
        opt.step()
    with torch.no_grad():
        assert float(loss_fn(net(xt), yt)) < 0.95 * before
    assert type(opt).__name__.lower() == {"momentum": "sgd", "nesterov": "sgd"}.get(
        optimizer, optimizer
    )


def test_round_trip_engine_torch_engine_gives_identical_weights(torch, tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = trained_model(CASES["cnn"])
    net = exported(model, tmp_path, "torch_round_trip").load()
    path = tmp_path / "weights.safetensors"
    safetensors_torch.save_file(net.state_dict(), str(path))
    again = Sequential(model.spec, seed=99)
    again.set_state(load_safetensors(path, again))
    for name, value in model.get_state().items():
        np.testing.assert_array_equal(again.get_state()[name], value, err_msg=name)


def test_a_state_dict_with_its_own_names_is_matched_by_order(tmp_path):
    """A hand-written PyTorch model names its modules (fc1, bn, fc10...): matched in the order
    of the names, numbers counted as numbers."""
    model = trained_model(mlp_spec(3, [4, 5], 2, activation="relu"))
    ours = torch_state(model)
    names = {"0": "fc2", "2": "fc9", "4": "fc10"}  # 10 after 9, not after 1
    theirs = {f"{names[k.split('.')[0]]}.{k.split('.')[1]}": v for k, v in ours.items()}
    state = engine_state(Sequential(model.spec), theirs, "model.safetensors")
    for name, value in model.get_state().items():
        np.testing.assert_array_equal(state[name], value)


def test_a_state_dict_that_does_not_fit_says_where(tmp_path):
    model = Sequential(mlp_spec(2, [8], 3))
    state = torch_state(model)
    with pytest.raises(
        ModelFileError, match=r"holds 1 layer with weights \(0\); the network in the editor has 2"
    ):
        engine_state(model, {k: v for k, v in state.items() if k.startswith("0.")}, "m.safetensors")
    wrong = dict(state, **{"2.weight": np.zeros((4, 8), np.float32)})
    with pytest.raises(
        ModelFileError,
        match=r"layer with weights 2 of 2 \(dense, 3 units\) needs weight of shape 3×8; the "
        r"file's '2.weight' is 4×8",
    ):
        engine_state(model, wrong, "m.safetensors")
    renamed = {k.replace("2.bias", "2.offset"): v for k, v in state.items()}
    with pytest.raises(
        ModelFileError, match="needs weight, bias; the file's '2' has weight, offset"
    ):
        engine_state(model, renamed, "m.safetensors")
    bad = dict(state, **{"0.bias": np.full(8, np.nan, np.float32)})
    with pytest.raises(ModelFileError, match="NaN"):
        engine_state(model, bad, "m.safetensors")


def test_the_file_needs_only_torch_numpy_and_the_standard_library():
    model = trained_model(CASES["cnn"])
    source = torch_source(model, metadata={"note": 'a """ quote \\ '}, config=TrainConfig())
    assert imported_modules(source) == {"base64", "json", "numpy", "torch"}


def test_command_line_exports_the_trained_model(torch, tmp_path):
    model_path, torch_path = tmp_path / "m.npz", tmp_path / "spiral_torch.py"
    argv = "--dataset spiral --layers 8 --epochs 3 --optimizer rmsprop --lr 0.02 --progress none"
    code = cli.main([*argv.split(), "--out", str(model_path), "--export-torch", str(torch_path)])
    assert code == 0
    model, meta = load_model(model_path)
    module = import_file(torch_path, "cli_spiral_torch")
    x = np.random.default_rng(3).uniform(-6, 6, (50, 2)).astype(np.float32)
    assert_close(module.predict_proba(x), model.predict_proba(x))
    assert module.METADATA["dataset"] == "spiral" == meta["dataset"]
    optimizer = module.optimizer(module.load())
    assert type(optimizer).__name__ == "RMSprop" and optimizer.defaults["lr"] == 0.02


def test_command_line_checks_the_export_path_first(tmp_path):
    code = cli.main(["--epochs", "1", "--progress", "none", "--export-torch", str(tmp_path)])
    assert code == 2


def named_state(model, names):
    """``torch_state(model)`` with its modules renamed by ``names`` (layer index -> name)."""
    return {
        f"{names[key.split('.')[0]]}.{key.split('.', 1)[1]}": value
        for key, value in torch_state(model).items()
    }


def test_modules_whose_names_sort_otherwise_are_paired_by_their_shapes():
    """A PyTorch module of two parts, ``features`` and ``classifier``: by name the classifier
    comes first, but the shapes leave one pairing."""
    model = trained_model(mlp_spec(2, [16, 16, 8], 3, activation="relu"))
    names = {"0": "features.0", "2": "features.2", "4": "classifier.1", "6": "classifier.3"}
    state = engine_state(Sequential(model.spec), named_state(model, names), "m.safetensors")
    for name, value in model.get_state().items():
        np.testing.assert_array_equal(state[name], value)


def test_alike_layers_named_out_of_order_are_refused_with_the_order_used():
    model = trained_model(mlp_spec(3, [4, 4, 4], 3, activation="relu"))
    names = {"0": "x", "2": "b", "4": "a", "6": "c"}  # a and b alike: no single pairing
    with pytest.raises(ModelFileError, match=r"in the order of their names: a, b, c, x;"):
        engine_state(Sequential(model.spec), named_state(model, names), "m.safetensors")


def test_weights_must_be_floating_point(tmp_path):
    model = Sequential(mlp_spec(2, [3], 2))
    path = tmp_path / "ints.safetensors"
    state = {k: np.asarray(v) for k, v in torch_state(model).items()}
    state["0.weight"] = state["0.weight"].astype(np.int64)
    header, data = {}, b""
    for name, value in state.items():
        raw = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<")).tobytes()
        dtype = "I64" if value.dtype.kind == "i" else "F32"
        header[name] = {
            "dtype": dtype,
            "shape": list(value.shape),
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)
    with pytest.raises(ModelFileError, match="'0.weight' holds I64 values; weights must be"):
        load_safetensors(path, model)


def test_softmax_inside_an_image_network_runs_over_the_last_axis(torch, tmp_path):
    layers = parse_arch("conv:3x3,softmax,flatten,dense:2")
    spec = {"input_shape": [2, 5, 5], "layers": layers, "loss": "softmax_ce"}
    model = Sequential(spec, rng=np.random.default_rng(0))
    module = exported(model, tmp_path, "torch_conv_softmax")
    x = np.random.default_rng(1).normal(size=(6, 2, 5, 5)).astype(np.float32)
    assert_close(module.predict_proba(x), model.predict_proba(x))


def test_optimizer_settings_not_carried_over_are_named():
    model = Sequential(mlp_spec(2, [3], 2))
    config = TrainConfig(optimizer="nesterov", optimizer_params={"momentum": 0.0})
    source = torch_source(model, config=config)
    assert "torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.0)" in source
    assert "Not carried over" not in source
    config = TrainConfig(l2=0.01, schedule={"name": "cosine", "warmup": 2})
    source = torch_source(model, config=config)
    assert "Not carried over: L2 on weights only" in source and "'name': 'cosine'" in source

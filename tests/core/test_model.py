"""Sequential and the architecture spec: building, shapes, flat parameter storage, prediction,
state round trips and clear errors for invalid architectures."""

import json

import numpy as np
import pytest
from floats import assert_close

from core.model import Sequential
from core.spec import mlp_spec, normalize, parse_arch


def spiral_spec(**kw):
    return mlp_spec(2, [16, 16], 2, activation="relu", **kw)


def test_parameter_count_and_summary():
    model = Sequential(spiral_spec())
    assert model.n_params == (2 * 16 + 16) + (16 * 16 + 16) + (16 * 2 + 2) == 354
    assert model.n_regularized == 2 * 16 + 16 * 16 + 16 * 2
    text = model.summary()
    assert "354 parameters" in text and "Dense(units=16" in text and "ReLU" in text


def test_params_are_views_into_one_flat_vector():
    model = Sequential(spiral_spec())
    w = model.layers[0].params["W"]
    assert np.shares_memory(w, model.theta)
    model.theta[:] = 0.5
    assert np.all(w == 0.5)
    # weights (regularized) first: theta[:n_regularized] holds exactly the W matrices
    model.theta[:] = np.arange(model.n_params)
    ws = np.concatenate(
        [layer.params["W"].ravel() for layer in model.layers if "W" in layer.params]
    )
    assert np.array_equal(np.sort(ws), np.arange(model.n_regularized))


def test_spec_is_json_round_trippable_and_normalized():
    spec = spiral_spec(batchnorm=True, dropout=0.1)
    again = normalize(json.loads(json.dumps(spec)))
    assert again == spec
    assert [e["type"] for e in spec["layers"]][:4] == ["dense", "batchnorm", "relu", "dropout"]


def test_same_seed_same_weights_different_seed_different():
    a, b, c = (Sequential(spiral_spec(), seed=s) for s in (1, 1, 2))
    assert np.array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta, c.theta)


def test_auto_init_is_he_before_relu_and_glorot_before_tanh():
    relu = Sequential(mlp_spec(400, [400], 2, activation="relu"), seed=0)
    tanh = Sequential(mlp_spec(400, [400], 2, activation="tanh"), seed=0)
    assert np.std(relu.layers[0].params["W"]) == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    assert np.std(tanh.layers[0].params["W"]) == pytest.approx(np.sqrt(2 / 800), rel=0.05)


WEIGHTED = {
    "dense": ([3], {"type": "dense", "units": 4}),
    "conv": ([1, 8, 8], {"type": "conv", "filters": 2, "kernel_size": 3, "padding": "same"}),
}
BN, DROPOUT, POOL = {"type": "batchnorm"}, {"type": "dropout", "rate": 0.2}, {"type": "maxpool"}


@pytest.mark.parametrize(
    ("between", "activation", "expected"),
    [
        ([], "relu", "he_normal"),
        ([BN], "relu", "he_normal"),  # the app's per-layer batch norm
        ([DROPOUT], "gelu", "he_normal"),
        ([BN, DROPOUT], "leaky_relu", "he_normal"),
        ([BN], "tanh", "glorot_uniform"),
        (["weighted"], "relu", "glorot_uniform"),  # that next weighted layer gets He
    ],
)
@pytest.mark.parametrize("first", sorted(WEIGHTED))
def test_auto_init_looks_through_batchnorm_and_dropout(first, between, activation, expected):
    shape, weighted = WEIGHTED[first]
    pool = [POOL] if first == "conv" else []  # conv -> [bn] -> pool -> act
    middle = [weighted if e == "weighted" else e for e in between]
    layers = [weighted, *middle, *pool, {"type": activation}, {"type": "flatten"}]
    layers.append({"type": "dense", "units": 2})
    model = Sequential({"input_shape": shape, "layers": layers, "loss": "softmax_ce"})
    assert model.layers[0].auto_init == expected
    if between == ["weighted"]:
        assert model.layers[1].auto_init == "he_normal"
    assert model.layers[-1].auto_init == "glorot_uniform"  # the output layer


def test_predict_shapes_and_probabilities():
    model = Sequential(spiral_spec(), seed=0)
    x = np.random.default_rng(0).normal(size=(7, 2))
    p = model.predict_proba(x)
    assert p.shape == (7, 2) and np.allclose(p.sum(axis=1), 1)
    assert np.array_equal(model.predict(x), p.argmax(axis=1))
    assert model.predict_proba(x[0]).shape == (1, 2)  # a single sample
    big = np.random.default_rng(1).normal(size=(9000, 2))
    assert_close(model.predict_proba(big, batch_size=1000), model.predict_proba(big))
    binary = Sequential(mlp_spec(2, [4], 1, activation="tanh", loss="sigmoid_bce"))
    pb = binary.predict_proba(x)
    assert pb.shape == (7, 2) and np.allclose(pb.sum(axis=1), 1)
    reg = Sequential(mlp_spec(2, [4], 1, activation="tanh", loss="mse"))
    assert reg.predict(x).shape == (7,)


def test_state_round_trip_includes_batchnorm_buffers():
    a = Sequential(spiral_spec(batchnorm=True), seed=0)
    a.forward(np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32), training=True)
    b = Sequential(spiral_spec(batchnorm=True), seed=5)
    b.set_state(a.get_state())
    x = np.random.default_rng(1).normal(size=(10, 2))
    # same weights, same code, same batch: the very same operations, so bit for bit
    assert np.array_equal(a.predict_proba(x), b.predict_proba(x))
    assert "1.running_mean" in a.get_state()


def test_set_state_rejects_wrong_shapes_and_changes_nothing():
    model = Sequential(spiral_spec(), seed=0)
    before = model.theta.copy()
    state = model.get_state()
    state["0.W"] = np.zeros((3, 16))
    state["0.b"] = np.ones(16)
    with pytest.raises(ValueError, match="0.W"):
        model.set_state(state)
    assert np.array_equal(model.theta, before)


def test_parse_arch_compact_and_json():
    assert parse_arch("dense:16, relu, dropout:0.2, bn, dense:2") == [
        {"type": "dense", "units": 16},
        {"type": "relu"},
        {"type": "dropout", "rate": 0.2},
        {"type": "batchnorm"},
        {"type": "dense", "units": 2},
    ]
    assert parse_arch('[{"type": "dense", "units": 3}]') == [{"type": "dense", "units": 3}]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"input_shape": [2], "layers": [{"type": "dense", "units": 0}]}, ["units", "0"]),
        ({"input_shape": [2], "layers": [{"type": "mish"}]}, ["layer type", "mish", "relu"]),
        ({"input_shape": [2], "layers": []}, ["layers"]),
        ({"input_shape": [0], "layers": [{"type": "relu"}]}, ["input_shape"]),
        ({"input_shape": [2], "layers": [{"type": "dropout", "rate": 1.5}]}, ["rate", "1.5"]),
        (
            {"input_shape": [2], "layers": [{"type": "dense", "units": 2, "init": "magic"}]},
            ["init", "magic"],
        ),
        (
            {"input_shape": [2], "layers": [{"type": "dense", "units": 2}], "loss": "hinge"},
            ["loss", "hinge"],
        ),
        ({"input_shape": [2], "layers": [{"type": "dense", "neurons": 2}]}, ["dense", "neurons"]),
    ],
)
def test_invalid_specs_raise_clear_errors(spec, words):
    with pytest.raises(ValueError) as err:
        Sequential(spec)
    for word in words:
        assert word in str(err.value)


def test_parse_arch_errors():
    with pytest.raises(ValueError, match="dense"):
        parse_arch("dense:x")
    with pytest.raises(ValueError, match="empty"):
        parse_arch("dense:4,,relu")
    with pytest.raises(ValueError, match="takes no argument"):
        parse_arch("relu:3")


def test_mismatched_input_shape_is_refused():
    model = Sequential(spiral_spec())
    with pytest.raises(ValueError, match="does not match"):
        model.predict(np.zeros((4, 3)))


def test_inference_chunks_follow_the_widest_activation_and_agree():
    def model(arch, shape):
        return Sequential(normalize({"input_shape": shape, "layers": parse_arch(arch)}))

    cnn = model("conv:30x5,relu,pool:2,flatten,dense:10", [1, 28, 28])
    mlp = model("dense:16,relu,dense:2", [2])
    assert 64 <= cnn.predict_batch < 512 and mlp.predict_batch == 4096
    x = np.random.default_rng(0).random((700, 1, 28, 28), dtype=np.float32)
    assert_close(cnn.predict_raw(x), cnn.predict_raw(x, batch_size=700))  # other BLAS paths


@pytest.mark.parametrize("kind", ["leaky_relu", "elu"])
def test_an_activation_coefficient_of_null_is_refused(kind):
    spec = {"input_shape": [2], "layers": [{"type": kind, "alpha": None}], "loss": "mse"}
    with pytest.raises(ValueError, match="alpha: None is not a number"):
        Sequential(spec)

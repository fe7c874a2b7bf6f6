"""Conv2D, MaxPool2D, AvgPool2D: gradient checks (float64, relative error < 1e-6), agreement with
PyTorch's functional ops (1e-10 of the outputs' magnitude in float64), shape validation, the spec
and its compact text, and a small CNN that learns."""

import json

import numpy as np
import pytest
from floats import assert_close
from standalone import built

import core.conv
import core.matmul
from core.conv import Conv2D
from core.gradcheck import check_layer, numerical_gradient, relative_error
from core.model import Sequential
from core.pooling import AvgPool2D, MaxPool2D
from core.spec import layer_from_config, normalize, parse_arch
from core.training.config import TrainConfig
from core.training.trainer import build_trainer

TOL = 1e-6
EXAMPLE = "conv:16x5,relu,pool:2,conv:32x3,relu,pool:2,flatten,dense:100,relu,dense:10"


def inputs(shape, seed=1):
    return np.random.default_rng(seed).normal(0, 1.0, shape)


def distinct(shape, seed=1):
    """Values at least 0.01 apart, so a 1e-6 nudge never changes which one is a maximum."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.01 - n * 0.005).reshape(shape)


CONV_CASES = {
    "1ch k3": dict(channels=1, filters=2, kernel_size=3),
    "3ch k3 stride2 pad1": dict(channels=3, filters=4, kernel_size=3, stride=2, padding=1),
    "2ch k3 same": dict(channels=2, filters=3, kernel_size=3, padding="same"),
    "2ch k4 same (even)": dict(channels=2, filters=2, kernel_size=4, padding="same"),
    "2ch no bias": dict(channels=2, filters=3, kernel_size=2, bias=False),
    "rectangular": dict(channels=2, filters=2, kernel_size=[2, 3], stride=[2, 1], padding=[1, 0]),
    "stride > kernel": dict(channels=1, filters=2, kernel_size=2, stride=3),
}


def make_conv(case, height=7, width=6):
    args = dict(CONV_CASES[case])
    channels = args.pop("channels")
    return built(Conv2D(**args), (channels, height, width)), (3, channels, height, width)


# -- gradient checks -----------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv_gradients(case):
    layer, shape = make_conv(case)
    errors = check_layer(layer, inputs(shape))
    expected = {"x", "W", "b"} if layer.use_bias else {"x", "W"}
    assert set(errors) == expected
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize(
    "pool, stride, hw",
    [
        (2, None, (6, 6)),
        (2, None, (7, 5)),
        (3, 2, (7, 7)),
        (2, 1, (5, 6)),
        (3, 3, (6, 8)),
        (2, 3, (7, 7)),
    ],
)
def test_maxpool_gradients(pool, stride, hw):
    layer = built(MaxPool2D(pool, stride), (3, *hw))
    assert check_layer(layer, distinct((2, 3, *hw)))["x"] < TOL


@pytest.mark.parametrize("pool, stride, hw", [(2, None, (6, 6)), (3, 2, (7, 7)), (2, 1, (5, 6))])
def test_avgpool_gradients(pool, stride, hw):
    layer = built(AvgPool2D(pool, stride), (3, *hw))
    assert check_layer(layer, inputs((2, 3, *hw)))["x"] < TOL


def test_first_layer_skips_the_input_gradient_but_not_the_parameter_gradients():
    layer, shape = make_conv("3ch k3 stride2 pad1")
    x = inputs(shape)
    dy = inputs((3, *layer.output_shape), seed=5)
    layer.forward(x, True)
    layer.backward(dy)
    expected = {k: g.copy() for k, g in layer.grads.items()}
    layer.needs_input_grad = False
    layer.forward(x, True)
    assert layer.backward(dy) is dy
    for k, g in layer.grads.items():
        np.testing.assert_array_equal(g, expected[k])


def test_whole_network_gradient_through_conv_relu_pool_flatten_dense():
    """The layers hand each other batch-last views; the composition must still be exact."""
    spec = {
        "input_shape": [2, 7, 7],
        "layers": parse_arch(
            "conv:3x3:p1,tanh,maxpool:2,conv:2x2,sigmoid,avgpool:2,flatten,dense:3"
        ),
        "loss": "softmax_ce",
    }
    model = Sequential(spec, dtype=np.float64, seed=3)
    model.theta += np.random.default_rng(4).normal(0, 0.1, model.theta.shape)
    x = distinct((4, 2, 7, 7)) * 0.1
    y = np.array([0, 1, 2, 1])
    model.loss_and_grad(x, y)
    analytic = model.grad.copy()
    numeric = numerical_gradient(lambda: model.loss.forward(model.forward(x, True), y), model.theta)
    assert relative_error(analytic, numeric) < TOL


# -- PyTorch reference ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv_matches_torch(torch, case):
    layer, shape = make_conv(case, height=9, width=8)
    x = inputs(shape)
    y = layer.forward(x, True)
    dy = inputs(y.shape, seed=7)
    dx = layer.backward(dy)

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.params["W"], requires_grad=True)
    bt = torch.tensor(layer.params["b"], requires_grad=True) if layer.use_bias else None
    top, bottom, left, right = layer._pad
    xpad = torch.nn.functional.pad(xt, (left, right, top, bottom))
    yt = torch.nn.functional.conv2d(xpad, wt, bt, stride=layer.stride)
    yt.backward(torch.tensor(dy))
    assert_close(y, yt.detach().numpy(), rtol=1e-10)
    assert_close(dx, xt.grad.numpy(), rtol=1e-10)
    assert_close(layer.grads["W"], wt.grad.numpy(), rtol=1e-10)
    if layer.use_bias:
        assert_close(layer.grads["b"], bt.grad.numpy(), rtol=1e-10)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv_same_padding_matches_torch_same(torch):
    layer = built(Conv2D(3, [4, 3], padding="same"), (2, 6, 7))
    x = inputs((2, 2, 6, 7))
    ref = torch.nn.functional.conv2d(
        torch.tensor(x),
        torch.tensor(layer.params["W"]),
        torch.tensor(layer.params["b"]),
        padding="same",
    )
    assert layer.output_shape == (3, 6, 7)
    assert layer.pads == (1, 2, 1, 1)
    assert_close(layer.forward(x), ref.numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    "cls, pool, stride",
    [
        (MaxPool2D, 2, None),
        (MaxPool2D, 3, 2),
        (MaxPool2D, 2, 1),
        (MaxPool2D, 3, 3),
        (AvgPool2D, 2, None),
        (AvgPool2D, 3, 2),
        (AvgPool2D, 2, 1),
    ],
)
def test_pools_match_torch_including_ties(torch, cls, pool, stride):
    layer = built(cls(pool, stride), (3, 9, 8))
    # Rounded values tie often; the gradient must go to the first maximum, as in PyTorch.
    x = np.round(inputs((4, 3, 9, 8)), 1)
    y = layer.forward(x, True)
    dy = inputs(y.shape, seed=3)
    dx = layer.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    op = torch.nn.functional.max_pool2d if cls is MaxPool2D else torch.nn.functional.avg_pool2d
    yt = op(xt, pool, stride)
    yt.backward(torch.tensor(dy))
    assert_close(y, yt.detach().numpy(), rtol=1e-10)
    assert_close(dx, xt.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("pool, stride", [(2, None), (3, 2), (1, None)])
def test_maxpool_backward_after_an_inference_forward(pool, stride):
    layer = built(MaxPool2D(pool, stride), (2, 7, 7))
    x = np.round(inputs((3, 2, 7, 7)), 1)  # with ties
    dy = inputs((3, *layer.output_shape), seed=4)
    y_train = layer.forward(x, True).copy()
    dx_train = layer.backward(dy).copy()
    np.testing.assert_array_equal(layer.forward(x, False), y_train)
    np.testing.assert_array_equal(layer.backward(dy), dx_train)


def test_maxpool_ties_send_the_gradient_to_one_position():
    layer = built(MaxPool2D(2), (1, 2, 2))
    x = np.ones((1, 1, 2, 2))
    assert layer.forward(x).item() == 1.0
    dx = layer.backward(np.full((1, 1, 1, 1), 5.0))
    np.testing.assert_array_equal(dx, [[[[5.0, 0.0], [0.0, 0.0]]]])


def test_any_input_layout_gives_the_same_result():
    layer, shape = make_conv("3ch k3 stride2 pad1")
    x = inputs(shape)
    expected = layer.forward(x, True).copy()
    batch_last = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    strided = np.zeros((shape[0], shape[1], shape[2], 2 * shape[3]))[..., ::2]
    strided[...] = x
    # every layout is copied into the same column matrix: the very same product, bit for bit
    for variant in (batch_last, strided, np.asfortranarray(x)):
        np.testing.assert_array_equal(layer.forward(variant, True), expected)
    pool = built(MaxPool2D(2), (3, 4, 4))
    z = inputs((2, 3, 4, 4))
    np.testing.assert_array_equal(pool.forward(z), pool.forward(np.asfortranarray(z)))


def test_training_outputs_are_reused_inference_outputs_are_not():
    layer, shape = make_conv("2ch k3 same")
    x = inputs(shape)
    a, b = layer.forward(x, True), layer.forward(x, True)
    assert np.shares_memory(a, b)
    c, d = layer.forward(x), layer.forward(x)
    assert not np.shares_memory(c, d) and not np.shares_memory(c, a)
    np.testing.assert_array_equal(c, a)


def test_large_inference_batches_are_chunked_with_the_same_result(monkeypatch):
    layer, shape = make_conv("2ch k3 same")
    x = inputs((10, *shape[1:]))
    dy = inputs((10, *layer.output_shape), seed=2)
    y_ref = layer.forward(x, True).copy()
    dx_ref = layer.backward(dy).copy()
    g_ref = {k: g.copy() for k, g in layer.grads.items()}
    monkeypatch.setattr(core.conv, "CHUNK_BYTES", 1)  # one sample per chunk
    assert_close(layer.forward(x, False), y_ref, rtol=1e-12)
    # backward after a chunked forward rebuilds the column matrix
    assert_close(layer.backward(dy), dx_ref, rtol=1e-12)
    for k, g in layer.grads.items():
        assert_close(g, g_ref[k], rtol=1e-12)


def test_blocked_matrix_products_match_plain_ones(monkeypatch):
    monkeypatch.setattr(core.matmul, "limit", lambda a, b: 2000)  # many blocks and margins
    layer, shape = make_conv("3ch k3 stride2 pad1", height=12, width=11)
    x = inputs(shape)
    y = layer.forward(x, True)
    dy = inputs(y.shape, seed=2)
    dx = layer.backward(dy)
    monkeypatch.setattr(core.matmul, "limit", lambda a, b: 10**12)
    assert_close(layer.forward(x, True), y, rtol=1e-12)
    grads = {k: g.copy() for k, g in layer.grads.items()}
    assert_close(layer.backward(dy), dx, rtol=1e-12)
    for k, g in layer.grads.items():
        assert_close(g, grads[k], rtol=1e-12)


# -- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer, shape, words",
    [
        (Conv2D(4, 5), (1, 3, 3), "conv: kernel 5x5 does not fit input 3x3 (padding 0)"),
        (Conv2D(4, [3, 9], padding=1), (2, 8, 6), "kernel 3x9 does not fit input 8x6 (padding 1)"),
        (Conv2D(4, 3), (784,), "not an image"),
        (MaxPool2D(3), (2, 2, 5), "maxpool: pool 3x3 does not fit input 2x5"),
        (AvgPool2D(2), (4, 4), "not an image"),
    ],
)
def test_impossible_shapes_are_refused(layer, shape, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        layer.build(shape)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Conv2D(0, 3), "filters"),
        (lambda: Conv2D(4, 0), "kernel_size"),
        (lambda: Conv2D(4, [3, 3, 3]), "kernel_size"),
        (lambda: Conv2D(4, 3, stride=0), "stride"),
        (lambda: Conv2D(4, 3, padding=-1), "padding"),
        (lambda: Conv2D(4, 3, padding="full"), "padding"),
        (lambda: Conv2D(4, 3, stride=2, padding="same"), "needs stride 1"),
        (lambda: Conv2D(4, 3, init="bogus"), "init"),
        (lambda: MaxPool2D(0), "pool_size"),
        (lambda: AvgPool2D(2, stride=-1), "stride"),
    ],
)
def test_bad_arguments_are_refused(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_input_of_another_shape_is_refused_at_forward():
    layer = built(Conv2D(2, 3), (3, 8, 8))
    with pytest.raises(ValueError, match="1 channels, the layer was built for 3"):
        layer.forward(np.zeros((2, 1, 8, 8)))
    pool = built(MaxPool2D(2), (3, 8, 8))
    with pytest.raises(ValueError, match=r"maxpool: input of shape \(2, 3, 6, 8\)"):
        pool.forward(np.zeros((2, 3, 6, 8)))


def test_model_errors_name_the_layer_and_the_fix():
    with pytest.raises(ValueError, match=r"layer 3 \(conv\): conv: kernel 5x5 does not fit"):
        Sequential({"input_shape": [1, 8, 8], "layers": parse_arch("conv:4x5,maxpool:2,conv:4x5")})
    with pytest.raises(ValueError, match="put a 'flatten' layer before it"):
        Sequential({"input_shape": [1, 8, 8], "layers": parse_arch("conv:4x3,dense:2")})


# -- spec ----------------------------------------------------------------------------------------
def test_example_architecture_parses_and_builds():
    model = Sequential({"input_shape": [1, 28, 28], "layers": parse_arch(EXAMPLE)})
    shapes = [layer.output_shape for layer in model.layers]
    assert shapes[:6] == [
        (16, 24, 24),
        (16, 24, 24),
        (16, 12, 12),
        (32, 10, 10),
        (32, 10, 10),
        (32, 5, 5),
    ]
    assert shapes[6:] == [(800,), (100,), (100,), (10,)]
    assert model.n_params == (16 * 25 + 16) + (32 * 16 * 9 + 32) + (800 * 100 + 100) + 1010
    out = model.predict_proba(np.random.default_rng(0).random((3, 1, 28, 28)))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


CONV = {"type": "conv", "stride": 1, "padding": 0, "init": "auto"}


@pytest.mark.parametrize(
    "text, config",
    [
        ("conv:16x5", {**CONV, "filters": 16, "kernel_size": 5}),
        ("conv:32x3/2", {**CONV, "filters": 32, "kernel_size": 3, "stride": 2}),
        ("Conv:8X3:SAME", {**CONV, "filters": 8, "kernel_size": 3, "padding": "same"}),
        ("conv:8x3/2:p1", {**CONV, "filters": 8, "kernel_size": 3, "stride": 2, "padding": 1}),
        ("conv:8x3:valid", {**CONV, "filters": 8, "kernel_size": 3}),
        ("pool:2", {"type": "maxpool", "pool_size": 2}),
        ("pool", {"type": "maxpool", "pool_size": 2}),
        ("maxpool:3/2", {"type": "maxpool", "pool_size": 3, "stride": 2}),
        ("maxpool:2/2", {"type": "maxpool", "pool_size": 2}),
        ("avgpool:2", {"type": "avgpool", "pool_size": 2}),
    ],
)
def test_compact_text(text, config):
    (entry,) = parse_arch(text)
    assert layer_from_config(entry).config() == config


@pytest.mark.parametrize(
    "text, words",
    [
        ("conv:16", "FILTERSxKERNEL"),
        ("conv", "FILTERSxKERNEL"),
        ("conv:ax3", "conv filters: 'a' is not a whole number"),
        ("conv:16x3:wide", "option 'wide'"),
        ("conv:16x3:same:p1", "FILTERSxKERNEL"),
        ("pool:2/x", "pool stride"),
    ],
)
def test_compact_text_errors(text, words):
    with pytest.raises(ValueError, match=words):
        parse_arch(text)


def test_spec_round_trips_through_json():
    text = "conv:8x3/2:p1,relu,pool:2,conv:4x2:same,maxpool:3/1,avgpool:2,flatten,dense:3"
    spec = normalize({"input_shape": [3, 32, 32], "layers": parse_arch(text)})
    assert spec["layers"][0] == {
        "type": "conv",
        "filters": 8,
        "kernel_size": 3,
        "stride": 2,
        "padding": 1,
        "init": "auto",
    }
    assert spec["layers"][2] == {"type": "maxpool", "pool_size": 2}  # "pool" is written as maxpool
    assert spec["layers"][4] == {"type": "maxpool", "pool_size": 3, "stride": 1}
    again = normalize(json.loads(json.dumps(spec)))
    assert again == spec
    a, b = Sequential(spec, seed=1), Sequential(again, seed=1)
    np.testing.assert_array_equal(a.theta, b.theta)


def test_config_keeps_pairs_and_options():
    layer = Conv2D(4, [3, 5], stride=[1, 2], padding=[0, 2], init="he_uniform", bias=False)
    cfg = layer.config()
    assert cfg == {
        "type": "conv",
        "filters": 4,
        "kernel_size": [3, 5],
        "stride": [1, 2],
        "padding": [0, 2],
        "init": "he_uniform",
        "bias": False,
    }
    assert layer_from_config(json.loads(json.dumps(cfg))).config() == cfg
    assert Conv2D(4, 3, padding="valid").config()["padding"] == 0


def test_init_uses_the_convolution_fans():
    layer = Conv2D(64, 5, init="he_normal")
    layer.build((16, 40, 40))
    layer.params = {"W": np.zeros((64, 16, 5, 5)), "b": np.ones(64)}
    layer.init_params(np.random.default_rng(0))
    fan_in = 16 * 25
    assert layer.params["W"].std() == pytest.approx(np.sqrt(2.0 / fan_in), rel=0.05)
    assert not layer.params["b"].any()
    assert Conv2D(4, 3).auto_init == "glorot_uniform"  # the builder may switch it to He


# -- training ------------------------------------------------------------------------------------
def bars(n, seed=0):
    """8x8 images with one bright vertical (class 0) or horizontal (class 1) bar, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 0.2, (n, 1, 8, 8)).astype(np.float32)
    pos = rng.integers(0, 8, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, :, pos[i]] += 1.0
        else:
            x[i, 0, pos[i], :] += 1.0
    return x, y


def test_small_cnn_learns():
    x, y = bars(256)
    spec = {
        "input_shape": [1, 8, 8],
        "layers": parse_arch(
            "conv:4x3,relu,maxpool:2,conv:4x3:same,relu,avgpool:3,flatten,dense:2"
        ),
    }
    trainer = build_trainer(
        spec, TrainConfig(optimizer="adam", lr=0.01, batch_size=32, seed=0), x, y
    )
    first, _ = trainer.evaluate("train")
    for _ in range(15):
        trainer.run_epoch()
    last, acc = trainer.evaluate("train")
    assert last < 0.3 * first, (first, last)
    assert acc > 0.95

"""Gradient checks: every trainable layer, activation and loss against central differences,
in float64, relative error < 1e-6."""

import numpy as np
import pytest
from floats import assert_close
from standalone import built

from core.activations import ACTIVATIONS
from core.gradcheck import check_layer, check_loss, numerical_gradient, relative_error
from core.layers import BatchNorm, Dense, Dropout, Flatten
from core.losses import LOSSES

TOL = 1e-6


def inputs(shape, seed=1, avoid_zero=False):
    x = np.random.default_rng(seed).normal(0, 1.5, shape)
    if avoid_zero:  # keep away from kinks (ReLU at 0), where derivatives are one-sided
        x = np.where(np.abs(x) < 0.05, 0.3, x)
    return x


def test_numerical_gradient_of_known_function():
    x = np.array([1.0, -2.0, 3.0])
    g = numerical_gradient(lambda: float(np.sum(x**3)), x)
    assert relative_error(g, 3 * np.array([1.0, 4.0, 9.0])) < 1e-8
    assert np.array_equal(x, [1.0, -2.0, 3.0])  # restored


def test_relative_error_detects_a_wrong_gradient():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.1])) > 1e-2


@pytest.mark.parametrize("bias", [True, False])
def test_dense(bias):
    errors = check_layer(built(Dense(5, bias=bias), (4,)), inputs((6, 4)))
    assert set(errors) == ({"x", "W", "b"} if bias else {"x", "W"})
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("kind", sorted(ACTIVATIONS))
def test_activation(kind):
    layer = built(ACTIVATIONS[kind](), (7,))
    errors = check_layer(layer, inputs((5, 7), avoid_zero=True))
    assert errors["x"] < TOL, errors


def test_batchnorm_training_mode():
    errors = check_layer(built(BatchNorm(), (4,)), inputs((8, 4)), training=True)
    assert max(errors.values()) < TOL, errors


def test_batchnorm_on_channels():
    errors = check_layer(built(BatchNorm(), (3, 2, 2)), inputs((4, 3, 2, 2)), training=True)
    assert max(errors.values()) < TOL, errors


def test_dropout_with_fixed_mask():
    layer = built(Dropout(0.4), (10,))
    layer.freeze_mask = True
    x = inputs((6, 10))
    layer.forward(x, training=True)
    assert 0 < np.count_nonzero(layer._mask == 0) < x.size  # a real mask
    assert check_layer(layer, x, training=True)["x"] < TOL


def test_flatten():
    layer = built(Flatten(), (2, 3, 2))
    assert layer.output_shape == (12,)
    assert check_layer(layer, inputs((3, 2, 3, 2)))["x"] < TOL


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss(name):
    rng = np.random.default_rng(2)
    if name == "softmax_ce":
        out, target = rng.normal(0, 2, (6, 4)), rng.integers(0, 4, 6)
    elif name == "sigmoid_bce":
        out, target = rng.normal(0, 2, (6, 1)), rng.integers(0, 2, 6)
    else:
        out, target = rng.normal(0, 2, (6, 3)), rng.normal(0, 1, (6, 3))
    assert check_loss(LOSSES[name](), out, target) < TOL


def test_losses_are_stable_for_extreme_logits():
    big = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    ce = LOSSES["softmax_ce"]().forward(big, np.array([0, 0]))
    assert np.isfinite(ce) and ce == pytest.approx(1000.0)
    bce = LOSSES["sigmoid_bce"]().forward(np.array([[800.0], [-800.0]]), np.array([0, 1]))
    assert np.isfinite(bce) and bce == pytest.approx(800.0)


def test_losses_match_definitions():
    out = np.array([[1.0, 2.0, 0.5]])
    p = np.exp(out) / np.exp(out).sum()
    assert LOSSES["softmax_ce"]().forward(out, np.array([1])) == pytest.approx(-np.log(p[0, 1]))
    z = np.array([[0.3]])
    s = 1 / (1 + np.exp(-0.3))
    assert LOSSES["sigmoid_bce"]().forward(z, np.array([1])) == pytest.approx(-np.log(s))
    assert LOSSES["mse"]().forward(np.array([[1.0], [3.0]]), np.array([0.0, 1.0])) == 2.5


def _moved_running_stats(layer, seed=3):
    """Running statistics away from their initial 0 / 1, so eval-mode formulas are exercised."""
    rng = np.random.default_rng(seed)
    layer.buffers["running_mean"][...] = rng.normal(0, 1, layer.channels)
    layer.buffers["running_var"][...] = rng.uniform(0.2, 3.0, layer.channels)
    return layer


@pytest.mark.parametrize(("in_shape", "x_shape"), [((4,), (8, 4)), ((3, 2, 2), (4, 3, 2, 2))])
def test_batchnorm_inference_mode(in_shape, x_shape):
    """After an inference-mode forward the running statistics are constants: dx = γ·dy/√(v+ε)."""
    layer = _moved_running_stats(built(BatchNorm(), in_shape))
    errors = check_layer(layer, inputs(x_shape), training=False)
    assert max(errors.values()) < TOL, errors


def test_batchnorm_backward_matches_torch_in_both_modes(torch):
    layer = _moved_running_stats(built(BatchNorm(), (5,)))
    x, dy = inputs((6, 5)), inputs((6, 5), seed=2)
    for training in (True, False):
        ref = torch.nn.BatchNorm1d(5, dtype=torch.float64)
        with torch.no_grad():
            ref.weight.copy_(torch.tensor(layer.params["gamma"]))
            ref.bias.copy_(torch.tensor(layer.params["beta"]))
            ref.running_mean.copy_(torch.tensor(layer.buffers["running_mean"]))
            ref.running_var.copy_(torch.tensor(layer.buffers["running_var"]))
        ref.train(training)
        xt = torch.tensor(x, requires_grad=True)
        y = layer.forward(x, training)
        ref(xt).backward(torch.tensor(dy))
        dx = layer.backward(dy)
        assert_close(y, ref(xt).detach().numpy(), rtol=1e-10)
        assert_close(dx, xt.grad.numpy(), rtol=1e-10)
        assert_close(layer.grads["gamma"], ref.weight.grad.numpy(), rtol=1e-10)
        assert_close(layer.grads["beta"], ref.bias.grad.numpy(), rtol=1e-10)


# Logits across both tails: far left σ(x) ≈ eˣ is tiny but must keep its relative precision.
_WIDE = {np.float64: np.linspace(-700.0, 700.0, 2801), np.float32: np.linspace(-87, 87, 349)}


@pytest.mark.filterwarnings("error")  # no overflow warnings anywhere on the range
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_family_is_accurate_in_both_tails(torch, dtype):
    """σ, SiLU, softplus' derivative and the BCE gradient against PyTorch, element-wise relative
    (σ(-40) ≈ 4.2e-18, not 0); a few ulps of the dtype, the inputs being exact in both."""
    x = _WIDE[dtype].astype(dtype)
    xt, n = torch.tensor(x), len(x)
    rtol = 20 * np.finfo(dtype).eps
    sig = ACTIVATIONS["sigmoid"]().forward(x)
    assert sig.dtype == dtype and sig[0] > 0
    np.testing.assert_allclose(sig, torch.sigmoid(xt).numpy(), rtol=rtol, atol=0)
    silu = ACTIVATIONS["silu"]().forward(x)
    np.testing.assert_allclose(silu, torch.nn.functional.silu(xt).numpy(), rtol=rtol, atol=0)
    softplus = ACTIVATIONS["softplus"]()
    softplus.forward(x)
    np.testing.assert_allclose(
        softplus.backward(np.ones_like(x)), torch.sigmoid(xt).numpy(), rtol=rtol, atol=0
    )
    bce = LOSSES["sigmoid_bce"]()
    bce.forward(x[:, None], np.zeros(n, dtype=int))  # target 0: the gradient is σ(z) / n
    expected = (torch.sigmoid(xt) / n).numpy()  # below 1e-38 / n: subnormal, absolute ulps
    tiny = np.finfo(dtype).smallest_subnormal
    np.testing.assert_allclose(bce.backward()[:, 0], expected, rtol=rtol, atol=tiny)


def test_sigmoid_stays_finite_and_tiny_beyond_the_exp_range():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        for dtype in (np.float32, np.float64):
            x = np.array([-1e30, -1000.0, 1000.0, 1e30], dtype=dtype)
            y = ACTIVATIONS["sigmoid"]().forward(x)
            assert y.dtype == dtype and np.all(y[:2] < 1e-38) and np.all(y[:2] >= 0)
            assert np.array_equal(y[2:], [1.0, 1.0])

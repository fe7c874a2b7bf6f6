"""Training steps on kept arrays (Sequential.loss_and_grad's Workspace, layers' ``out``): the
same numbers, bit for bit, as the layers' allocating passes, for every layer and loss that
takes ``out``, across batch sizes; other networks keep the allocating path."""

import numpy as np
import pytest

from core.activations import ACTIVATIONS
from core.losses import LOSSES
from core.model import Sequential
from core.spec import mlp_spec

TAKES_OUT = [name for name, cls in ACTIVATIONS.items() if cls.takes_out]


def data(n, loss, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(dtype)
    if loss == "mse":
        return x, rng.standard_normal((n, 2)).astype(dtype)
    return x, rng.integers(0, 2, n)


def plain_loss_and_grad(model, x, y):
    """The allocating passes, layer by layer."""
    loss = model.loss.forward(model.forward(x, True), y)
    model.backward(model.loss.backward())
    return loss


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("activation", TAKES_OUT)
def test_kept_arrays_give_the_allocating_passes_numbers(activation, loss):
    outputs = {"sigmoid_bce": 1, "softmax_ce": 2, "mse": 2}[loss]
    spec = mlp_spec(3, [7, 5], outputs, activation=activation, loss=loss)
    kept, plain = Sequential(spec, seed=1), Sequential(spec, seed=1)
    for step, n in enumerate([10, 10, 4, 10, 7, 4]):  # three sizes: the oldest is dropped
        x, y = data(n, loss, seed=step)
        if loss != "mse":
            y = kept.loss.targets(y, kept.dtype)
        assert kept.loss_and_grad(x, y) == plain_loss_and_grad(plain, x, y)
        assert np.array_equal(kept.grad, plain.grad)
        for model in (kept, plain):
            model.theta -= 0.1 * model.grad
    assert sorted(kept._workspaces) == [4, 7]
    assert not plain._workspaces


def test_a_batch_size_reuses_its_arrays():
    model = Sequential(mlp_spec(3, [8], 1, activation="tanh", loss="sigmoid_bce"))
    x, y = data(10, "sigmoid_bce")
    model.loss_and_grad(x, y)
    arrays = [out for _, out in model._workspaces[10].forward]
    model.loss_and_grad(x, y)
    assert [out for _, out in model._workspaces[10].forward] == arrays
    assert model.layers[1]._y is arrays[1]  # tanh's output, kept for its backward


@pytest.mark.parametrize("extra", [{"type": "dropout", "rate": 0.5}, {"type": "batchnorm"}])
def test_networks_with_other_layers_allocate(extra):
    spec = mlp_spec(3, [8], 2, activation="relu")
    spec["layers"].insert(1, extra)
    model = Sequential(spec)
    model.loss_and_grad(*data(10, "softmax_ce"))
    assert not model._workspaces


def test_inputs_of_another_dtype_get_no_kept_arrays():
    model = Sequential(mlp_spec(3, [8], 2, activation="relu", loss="mse"))
    assert model._workspace(np.zeros((10, 3), np.float64)) is None and not model._workspaces


@pytest.mark.parametrize("name", TAKES_OUT)
def test_activations_write_into_out_what_they_return_otherwise(name):
    rng = np.random.default_rng(3)
    x = (4 * rng.standard_normal((6, 5))).astype(np.float32)
    dy = rng.standard_normal((6, 5)).astype(np.float32)
    layer = ACTIVATIONS[name]()
    y, dx = layer.forward(x, True).copy(), layer.backward(dy).copy()
    out, grad = np.empty_like(x), np.empty_like(x)
    y_out = layer.forward(x, True, out)
    assert np.array_equal(y_out, y) and (y_out is out or y_out is x)
    dx_out = layer.backward(dy, grad)
    assert np.array_equal(dx_out, dx) and (dx_out is grad or dx_out is dy)


def test_losses_take_targets_as_they_compute_with_them():
    y = np.array([0, 1, 1])
    assert LOSSES["sigmoid_bce"]().targets(y, np.dtype(np.float32)).dtype == np.float32
    assert LOSSES["softmax_ce"]().targets(y, np.dtype(np.float32)) is y
    assert LOSSES["mse"]().targets(y, np.dtype(np.float32)) is y

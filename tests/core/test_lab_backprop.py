"""The glass box's numbers: the explain record of one point is the model's own forward and
backward pass, its update is the step the real optimizer then takes (which it leaves
untouched), and the gradient check of the page's network agrees with backprop to 1e-6."""

import numpy as np
import pytest

from core.lab.backprop import (
    ACTIVATIONS,
    DATASETS,
    HIDDEN,
    POINTS,
    explain,
    glass_trainer,
    gradient_check,
    replica,
    weighted_layers,
)
from core.model import Sequential
from core.spec import mlp_spec


def trained(epochs=30, **kw):
    trainer = glass_trainer(**kw)
    for _ in range(epochs):
        trainer.run_epoch()
    return trainer


def point(trainer, i):
    return trainer.x_train[i], trainer.y_train[i]


def test_the_page_run_is_a_2_4_2_network_on_a_few_points():
    trainer = glass_trainer("xor", "tanh", "sgd")
    assert [layer.kind for layer in trainer.model.layers] == ["dense", "tanh", "dense"]
    assert trainer.model.layers[0].units == HIDDEN and trainer.model.n_outputs == 2
    assert len(trainer.x_train) == POINTS
    assert trainer.x_test is None or len(trainer.x_test) == 0
    assert weighted_layers(trainer.model) == [(0, 1), (2, None)]


def test_the_forward_numbers_are_the_layers_own_by_hand():
    trainer = trained(5)
    x, y = point(trainer, 3)
    rec = explain(trainer.model, trainer.optimizer, x, y)
    hidden, out = rec.layers
    W1, b1 = trainer.model.layers[0].params["W"], trainer.model.layers[0].params["b"]
    W2, b2 = trainer.model.layers[2].params["W"], trainer.model.layers[2].params["b"]
    np.testing.assert_allclose(hidden.x, x)
    np.testing.assert_allclose(hidden.z, x @ W1 + b1, rtol=1e-5)
    np.testing.assert_allclose(hidden.a, np.tanh(hidden.z), rtol=1e-5)
    np.testing.assert_allclose(hidden.slope, 1 - hidden.a**2, rtol=1e-5)
    np.testing.assert_allclose(out.x, hidden.a)
    np.testing.assert_allclose(out.z, hidden.a @ W2 + b2, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(out.a, out.z)  # the output layer has no activation
    p = np.exp(out.z - out.z.max())
    p /= p.sum()
    np.testing.assert_allclose(rec.prediction, p, rtol=1e-5)
    assert rec.loss == pytest.approx(-np.log(p[y]), rel=1e-5)
    # backward by the chain rule: softmax-CE's ∂L/∂z = p − onehot(y), then down the layers
    onehot = np.eye(2)[y]
    np.testing.assert_allclose(out.dz, p - onehot, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out.dW, np.outer(hidden.a, out.dz), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(hidden.da, W2 @ out.dz, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(hidden.dz, hidden.da * (1 - hidden.a**2), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(hidden.dW, np.outer(x, hidden.dz), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(hidden.db, hidden.dz)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_the_record_is_the_models_backward_and_the_optimizers_next_step(optimizer):
    trainer = trained(20, optimizer=optimizer)
    model, opt = trainer.model, trainer.optimizer
    x, y = point(trainer, 7)
    theta, state = model.theta.copy(), opt.state_dict()
    rec = explain(model, opt, x, y, lr=trainer.lr)
    # the live model and optimizer are untouched
    np.testing.assert_array_equal(model.theta, theta)
    after = opt.state_dict()
    assert after.keys() == state.keys() and after["step"] == state["step"] > 0
    for key in state:
        np.testing.assert_array_equal(after[key], state[key])
    # the model's own backward on the point gives the record's gradients
    loss = model.loss_and_grad(x[None], np.array([y]))
    assert rec.loss == pytest.approx(loss, rel=1e-6)
    for layer, (dense, _) in zip(rec.layers, weighted_layers(model), strict=True):
        np.testing.assert_allclose(layer.dW, model.layers[dense].grads["W"], rtol=1e-6)
        np.testing.assert_allclose(layer.db, model.layers[dense].grads["b"], rtol=1e-6)
    # the real optimizer's step on that gradient is the record's update
    opt.lr = trainer.lr
    opt.step(model.theta, model.grad)
    for layer, (dense, _) in zip(rec.layers, weighted_layers(model), strict=True):
        params = model.layers[dense].params
        for name, old, step in (("W", layer.W, layer.step_W), ("b", layer.b, layer.step_b)):
            # float32 weights round the step to a few ulps of the weight it is added to
            ulp = np.finfo(np.float32).eps * max(np.abs(old).max(), 1e-3)
            np.testing.assert_allclose(params[name] - old, step, rtol=1e-5, atol=2 * ulp)
    if optimizer == "sgd":  # ΔW = −η·∂L/∂W
        hidden = rec.layers[0]
        np.testing.assert_allclose(hidden.step_W, -trainer.lr * hidden.dW, rtol=1e-5, atol=1e-9)


def test_a_fresh_optimizer_steps_from_zero_state():
    trainer = glass_trainer(optimizer="adam")
    x, y = point(trainer, 0)
    rec = explain(trainer.model, trainer.optimizer, x, y)
    # Adam's first step is lr·sign(g) where the gradient is not tiny
    big = np.abs(rec.layers[1].dW) > 1e-4
    np.testing.assert_allclose(
        rec.layers[1].step_W[big], -0.03 * np.sign(rec.layers[1].dW[big]), rtol=1e-3
    )
    assert trainer.optimizer.steps == 0


def worst_point_check(trainer):
    """Each layer's largest relative error over the training points, one point at a time."""
    x, y = trainer.x_train, trainer.y_train
    checks = [gradient_check(trainer.model, x[i : i + 1], y[i : i + 1]) for i in range(len(x))]
    assert all(len(c) == 2 for c in checks)
    assert [c.n_params for c in checks[0]] == [2 * HIDDEN + HIDDEN, HIDDEN * 2 + 2]
    assert all(set(layer.errors) == {"W", "b"} for c in checks for layer in c)
    return [max(c[j].error for c in checks) for j in range(2)]


@pytest.mark.parametrize("epochs", [0, 50, 300])
def test_the_gradient_check_of_the_pages_network_is_below_1e_6_at_every_point(epochs):
    trainer = trained(epochs)  # the page's run as it opens: xor, tanh, SGD
    assert max(worst_point_check(trainer)) < 1e-6
    # and on the whole training set at once
    checks = gradient_check(trainer.model, trainer.x_train, trainer.y_train)
    assert all(c.error < 1e-6 and c.limit < 1e-7 for c in checks)


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_the_gradient_check_is_below_1e_6_for_every_choice_of_the_page(data, activation):
    assert max(worst_point_check(trained(15, data=data, activation=activation))) < 1e-6


def test_where_the_network_is_sure_rounding_explains_the_error():
    trainer = trained(300, data="gauss", optimizer="adam")  # every point far from the boundary
    x, y = trainer.x_train, trainer.y_train
    checks = [
        c for i in range(len(x)) for c in gradient_check(trainer.model, x[i : i + 1], y[i : i + 1])
    ]
    assert max(c.error for c in checks) > 1e-6  # tiny losses: central differences blur
    assert all(c.error < max(1e-6, c.limit) for c in checks)  # but never beyond the rounding


def test_the_gradient_check_catches_a_wrong_backward(monkeypatch):
    trainer = trained(5)
    tanh = trainer.model.layers[1]
    checked = replica(trainer.model, np.float64)
    wrong = type(tanh).backward

    def backward(self, dy, out=None):
        return 1.1 * wrong(self, dy, out)

    monkeypatch.setattr(type(tanh), "backward", backward)
    checks = gradient_check(checked, trainer.x_train[:1], trainer.y_train[:1])
    assert checks[0].error > 1e-3  # the hidden layer's gradient is off by 10%
    assert checks[1].error < 1e-6  # the output layer's is not


def test_replica_shares_nothing():
    trainer = glass_trainer()
    copy = replica(trainer.model, np.float64)
    assert copy.dtype == np.float64
    np.testing.assert_allclose(copy.theta, trainer.model.theta)
    copy.theta += 1
    assert not np.allclose(copy.theta, trainer.model.theta)


def test_models_the_glass_box_cannot_show_are_refused():
    spec = mlp_spec(2, [3], 2, batchnorm=True)
    with pytest.raises(ValueError, match="dense layers"):
        explain(Sequential(spec), glass_trainer().optimizer, np.zeros(2), 0)


def test_a_bad_choice_is_refused_with_its_name():
    with pytest.raises(ValueError, match="spiral3"):
        glass_trainer("spiral3")
    with pytest.raises(ValueError, match="lr"):
        glass_trainer(lr=-1)

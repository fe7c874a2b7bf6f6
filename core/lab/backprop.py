"""Backpropagation as numbers, one training point at a time (the "glass box"), and the gradient
check that compares it with central differences.

:func:`explain` runs the point through a copy of the model (the engine's own
:class:`core.model.Sequential`, with the same weights): each weighted layer's input ``x``, its
pre-activation ``z = x·W + b`` and activation ``a = f(z)``; the model's loss; then the backward
pass, layer by layer from the top: ``∂L/∂a`` arriving from above, ``∂L/∂z = ∂L/∂a · f′(z)``,
``∂L/∂W = xᵀ·∂L/∂z`` and ``∂L/∂b = ∂L/∂z``, every number from the layers' own ``backward``; and
the step the optimizer would take on this gradient, taken by a copy of the optimizer (same
hyper-parameters, same state: Momentum's velocity, Adam's moments and step count). The live
model and optimizer are never changed. :func:`gradient_check` compares backprop's gradient
with central differences on a float64 copy of the model (:func:`core.gradcheck.check_model`).

:func:`glass_trainer` is the Lab page's run: a 2-4-2 network on a few points of a 2D data set,
trained by the engine's :class:`core.training.trainer.Trainer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.activations import Activation, Softmax
from core.data.toy2d import make_dataset
from core.gradcheck import check_model
from core.layers import Dense
from core.model import Sequential
from core.optimizer import Optimizer
from core.optimizers import make_optimizer
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import Trainer, build_trainer

#: The page's choices: data sets, hidden activations, optimizers (with a learning rate each
#: that trains the 2-4-2 network in a few hundred epochs).
DATASETS = ("xor", "circle", "gauss", "moons")
ACTIVATIONS = ("tanh", "sigmoid", "relu")
RATES = {"sgd": 0.1, "momentum": 0.03, "adam": 0.03}
#: The run: training points, batch size, hidden units.
POINTS, BATCH, HIDDEN = 40, 10, 4


def glass_trainer(
    data: str = "xor", activation: str = "tanh", optimizer: str = "sgd", lr: float | None = None
) -> Trainer:
    """The engine's trainer for a 2-``HIDDEN``-2 network (``activation`` hidden units, softmax
    cross-entropy) on ``POINTS`` points of the 2D data set ``data``, batches of ``BATCH``, not
    yet trained. ValueError for a name the engine does not know."""
    spec = mlp_spec(2, [HIDDEN], 2, activation=activation, loss="softmax_ce")
    points = make_dataset(data, n_samples=POINTS, noise=0.0, test_ratio=0.0, seed=0)
    rate = RATES.get(optimizer, 0.03) if lr is None else lr
    config = TrainConfig(optimizer=optimizer, lr=rate, batch_size=BATCH, epochs=0, seed=0)
    return build_trainer(spec, config, points.x_train, points.y_train)


def replica(model: Sequential, dtype: Any = None) -> Sequential:
    """A model with ``model``'s architecture and weights (in ``dtype``, default the model's),
    sharing no array with it."""
    copy = Sequential(model.spec, dtype=model.dtype if dtype is None else dtype)
    copy.set_state(model.get_state())
    return copy


def weighted_layers(model: Sequential) -> list[tuple[int, int | None]]:
    """The model as weighted layers: ``(index of the dense layer, index of its activation or
    None)``. ValueError for any other layer (batch norm, dropout, convolution...): the glass
    box shows dense layers, each followed by at most one element-wise activation."""
    groups: list[tuple[int, int | None]] = []
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Dense):
            groups.append((i, None))
        elif isinstance(layer, Activation) and not isinstance(layer, Softmax) and groups:
            dense, act = groups[-1]
            if act is not None:
                raise ValueError(f"layer {i + 1} ({layer.kind}): a second activation in a row")
            groups[-1] = (dense, i)
        else:
            raise ValueError(
                f"layer {i + 1} ({layer.kind}): the glass box shows dense layers, each followed "
                "by at most one element-wise activation"
            )
    return groups


@dataclass(frozen=True)
class LayerRecord:
    """One weighted layer for one point. Forward: ``x`` (in,), ``z = x·W + b`` (out,),
    ``a = f(z)`` (out,; ``z`` itself for a layer without activation, ``activation`` "").
    Backward: ``da = ∂L/∂a`` (out,), ``slope = f′(z)`` (out,; ones without activation),
    ``dz = ∂L/∂z`` (out,), ``dW`` (in, out), ``db`` (out,). The optimizer's step on this
    gradient (float64): ``step_W`` (in, out), ``step_b`` (out,). ``W`` (in, out), ``b`` (out,): the
    weights before it."""

    activation: str
    W: np.ndarray
    b: np.ndarray
    x: np.ndarray
    z: np.ndarray
    a: np.ndarray
    da: np.ndarray
    slope: np.ndarray
    dz: np.ndarray
    dW: np.ndarray
    db: np.ndarray
    step_W: np.ndarray
    step_b: np.ndarray


@dataclass(frozen=True)
class ExplainRecord:
    """Backprop for one point ``x`` (features,) with target ``y``: its ``layers`` from input
    to output, the network's raw ``output`` (outputs,), what the loss makes of it
    (``prediction``: class probabilities, or the values for regression), the ``loss``, and the
    optimizer (``optimizer``: its name, ``lr``) whose step the layers hold."""

    x: np.ndarray
    y: Any
    layers: tuple[LayerRecord, ...]
    output: np.ndarray
    prediction: np.ndarray
    loss: float
    loss_name: str
    optimizer: str
    lr: float


def _twin(optimizer: Optimizer, lr: float | None) -> Optimizer:
    """A new optimizer with ``optimizer``'s settings and state (its copy to step instead)."""
    twin = make_optimizer(
        optimizer.name, 1.0, **{k: getattr(optimizer, k) for k in optimizer.defaults}
    )
    twin.load_state_dict(optimizer.state_dict())
    if lr is not None:
        twin.lr = lr
    return twin


def explain(
    model: Sequential, optimizer: Optimizer, x: np.ndarray, y: Any, lr: float | None = None
) -> ExplainRecord:
    """Backprop for the one point ``x`` (features,) with target ``y`` (a class index, or a
    value for regression), as the module docstring describes; ``lr`` is the rate of the step
    (default: the optimizer's current one; a trainer's next step uses ``trainer.lr``). The step
    is on this point's gradient alone (a batch of one, no L1/L2 or clipping). ValueError for a
    model :func:`weighted_layers` refuses."""
    groups = weighted_layers(model)
    net = replica(model)
    batch = np.asarray(x, dtype=net.dtype).reshape(1, *net.input_shape)
    target = np.asarray([y])
    outs = []  # each layer's output (1, ...)
    h = batch
    for layer in net.layers:
        h = layer.forward(h, True)
        outs.append(h.copy())
    loss = net.loss.forward(h, target)
    prediction = net.loss.output(h.copy())[0]
    dy = net.loss.backward().copy()
    upstream: list[np.ndarray] = [None] * len(net.layers)  # ∂L/∂(output of layer i)
    for i in reversed(range(len(net.layers))):
        upstream[i] = dy.copy()
        dy = net.layers[i].backward(dy)
    grads = {(i, k): g.copy() for i, layer in enumerate(net.layers) for k, g in layer.grads.items()}
    before = {
        (i, k): p.copy() for i, layer in enumerate(net.layers) for k, p in layer.params.items()
    }
    # The step in float64 (a float32 difference of weights before and after would lose the
    # digits of steps much smaller than the weights), laid out as the layers' parameters.
    after = replica(net, np.float64)
    _twin(optimizer, lr).step(after.theta, net.grad.astype(np.float64))
    records = []
    for dense, act in groups:
        inputs = batch if dense == 0 else outs[dense - 1]
        top = dense if act is None else act
        slope = np.ones_like(outs[dense])
        if act is not None:
            slope = net.layers[act].backward(np.ones_like(outs[dense]))
        params = after.layers[dense].params
        bias = "b" in params
        zero_b = np.zeros(outs[dense].shape[1], dtype=net.dtype)
        records.append(
            LayerRecord(
                activation="" if act is None else net.layers[act].kind,
                W=before[dense, "W"],
                b=before[dense, "b"] if bias else zero_b,
                x=inputs[0].copy(),
                z=outs[dense][0],
                a=outs[top][0],
                da=upstream[top][0],
                slope=slope[0],
                dz=upstream[dense][0],
                dW=grads[dense, "W"],
                db=grads[dense, "b"] if bias else zero_b,
                step_W=params["W"] - before[dense, "W"],
                step_b=params["b"] - before[dense, "b"] if bias else zero_b,
            )
        )
    return ExplainRecord(
        x=batch[0].copy(),
        y=target[0],
        layers=tuple(records),
        output=outs[-1][0],
        prediction=prediction,
        loss=float(loss),
        loss_name=net.loss.name,
        optimizer=optimizer.name,
        lr=float(optimizer.lr if lr is None else lr),
    )


@dataclass(frozen=True)
class LayerCheck:
    """The gradient check of one weighted layer: its parameter count, the relative error
    ``‖backprop − numerical‖ / max(‖backprop‖, ‖numerical‖)`` of each of its parameter arrays
    (``errors``: "W", "b") and the largest of them (``error``); ``limit``: the relative error
    the loss's rounding alone causes at this gradient's size (see :func:`gradient_check`)."""

    n_params: int
    errors: dict[str, float]
    limit: float

    @property
    def error(self) -> float:
        return max(self.errors.values())


#: The step of the central differences: about the cube root of float64's resolution, where the
#: error of the difference formula (∝ h²) and the loss's rounding (∝ 1/h) are both smallest.
STEP = 1e-5
#: How far off a float64 loss of order 1 may be: a few units of its last place.
ROUNDING = 1e-15


def gradient_check(
    model: Sequential, x: np.ndarray, y: np.ndarray, h: float = STEP
) -> tuple[LayerCheck, ...]:
    """Compare backprop's gradient of the model's loss on ``x`` (batch, features) with targets
    ``y`` (batch,) with central differences of step ``h``, on a float64 copy of the model:
    one :class:`LayerCheck` per weighted layer, input to output.

    Each numerical derivative is off by about ``ROUNDING / h``, the loss's rounding over the
    step, so a layer of ``n`` parameters whose gradient has the norm ``‖g‖`` cannot be checked
    closer than ``limit = √n · ROUNDING / (h · ‖g‖)``. Where the network is very sure of every
    point checked, its loss and gradient are tiny (a loss below about 1e-6) and that limit,
    not backprop, sets the error."""
    net = replica(model, np.float64)
    x = np.asarray(x, dtype=np.float64).reshape(-1, *net.input_shape)
    errors = check_model(net, x, np.asarray(y).reshape(len(x), *np.shape(y)[1:]), h)
    checks = []
    for dense, _ in weighted_layers(net):
        layer = net.layers[dense]
        n = sum(p.size for p in layer.params.values())
        norm = float(np.sqrt(sum(np.vdot(g, g) for g in layer.grads.values())))
        limit = np.sqrt(n) * ROUNDING / (h * norm) if norm > 0 else np.inf
        checks.append(LayerCheck(n, {k: errors[f"{dense}.{k}"] for k in layer.params}, limit))
    return tuple(checks)

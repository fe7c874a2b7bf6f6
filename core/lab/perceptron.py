"""The perceptron and the logic gates: one neuron with a step activation, the perceptron rule,
and the 2-2-1 network that solves XOR where no single line can.

The neuron's weighted sum ``w1·x1 + w2·x2 + b`` is the engine's own dense layer (a 2→1
:class:`core.model.Sequential`); the step turns it into 0 or 1. The perceptron rule visits the
four points in turn and moves the weights by ``Δw = η(t − y)x`` and the bias by ``Δb = η(t − y)``.
It stops when every point is right (it converged), or gives up after an epoch budget: on XOR it
never converges, as no line separates (0, 1), (1, 0) from (0, 0), (1, 1). A network with two
hidden units, trained by the engine's trainer and optimizer, solves XOR: each hidden unit draws
one line and the output combines the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.model import Sequential
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import Trainer, build_trainer

#: The four inputs (x1, x2), in the truth table's order: (4, 2).
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
#: Gate -> its targets for :data:`INPUTS`, in the truth table's order.
GATES: dict[str, tuple[int, int, int, int]] = {
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "NAND": (1, 1, 1, 0),
    "XOR": (0, 1, 1, 0),
}
#: Epochs (passes over the four points) the rule gets before it gives up.
EPOCH_BUDGET = 100


def targets(gate: str) -> np.ndarray:
    """The gate's targets for :data:`INPUTS`, (4,) ints; ValueError for an unknown gate."""
    if gate not in GATES:
        raise ValueError(f"gate: {gate!r} is not one of {', '.join(GATES)}")
    return np.array(GATES[gate])


class Perceptron:
    """One neuron: the engine's dense layer (2 inputs, 1 unit) followed by a step."""

    def __init__(self, w1: float = 0.0, w2: float = 0.0, b: float = 0.0) -> None:
        spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 1}], "loss": "mse"}
        self.model = Sequential(spec, dtype=np.float64)
        self.dense = self.model.layers[0]
        self.set(w1, w2, b)

    def set(self, w1: float, w2: float, b: float) -> None:
        self.dense.params["W"][:, 0] = (w1, w2)
        self.dense.params["b"][0] = b

    @property
    def weights(self) -> np.ndarray:
        """(w1, w2): a copy, (2,)."""
        return self.dense.params["W"][:, 0].copy()

    @property
    def bias(self) -> float:
        return float(self.dense.params["b"][0])

    def net(self, x: np.ndarray) -> np.ndarray:
        """The weighted sums ``w·x + b`` of points ``x`` (n, 2): (n,)."""
        return self.model.forward(np.asarray(x, dtype=np.float64))[:, 0]

    def output(self, x: np.ndarray) -> np.ndarray:
        """The step of the weighted sums: 1 where ``w·x + b > 0``, else 0; (n,) ints."""
        return (self.net(x) > 0).astype(int)


@dataclass(frozen=True)
class Update:
    """One step of the perceptron rule: point ``index`` (its input ``x``, target ``t``, the
    neuron's output ``y`` before the update), the change ``dw`` (2,) and ``db``, and the
    weights and bias after it."""

    index: int
    x: np.ndarray
    t: int
    y: int
    lr: float
    dw: np.ndarray
    db: float
    weights: np.ndarray
    bias: float

    @property
    def changed(self) -> bool:
        return self.t != self.y


class PerceptronRule:
    """The perceptron rule on a gate, one point at a time (points 0, 1, 2, 3, 0, ...).

    ``converged``: every point is right; ``gave_up``: ``budget`` epochs passed without that.
    """

    def __init__(self, neuron: Perceptron, gate: str, lr: float = 0.1, budget: int = EPOCH_BUDGET):
        if not lr > 0:
            raise ValueError(f"learning rate: {lr} must be above 0")
        self.neuron, self.gate, self.lr, self.budget = neuron, gate, float(lr), int(budget)
        self.t = targets(gate)
        self.steps = 0  # updates made (points visited)

    @property
    def epoch(self) -> int:
        """Completed passes over the four points."""
        return self.steps // len(INPUTS)

    @property
    def correct(self) -> np.ndarray:
        """Which points the neuron gets right, (4,) bools."""
        return self.neuron.output(INPUTS) == self.t

    @property
    def converged(self) -> bool:
        return bool(self.correct.all())

    @property
    def gave_up(self) -> bool:
        return not self.converged and self.epoch >= self.budget

    @property
    def done(self) -> bool:
        return self.converged or self.gave_up

    def step(self) -> Update:
        """Visit the next point and move the weights by the rule (no change if it is right)."""
        i = self.steps % len(INPUTS)
        x, t = INPUTS[i], int(self.t[i])
        y = int(self.neuron.output(x[None])[0])
        dw = self.lr * (t - y) * x
        db = self.lr * (t - y)
        self.neuron.set(*(self.neuron.weights + dw), self.neuron.bias + db)
        self.steps += 1
        return Update(i, x, t, y, self.lr, dw, db, self.neuron.weights, self.neuron.bias)

    def run(self) -> list[Update]:
        """Step until the rule converges or gives up; every update made."""
        updates = []
        while not self.done:
            updates.append(self.step())
        return updates


# -- the 2-2-1 network ----------------------------------------------------------------------------

#: How the network for XOR is trained: full batches of the four points with Adam.
XOR_CONFIG = TrainConfig(optimizer="adam", lr=0.1, batch_size=4, epochs=0, seed=0)
#: Epochs it trains for (one step each): ample for the seed above.
XOR_EPOCHS = 400


@dataclass(frozen=True)
class HiddenNetwork:
    """A trained 2-2-1 network on the four points: each hidden unit's line
    ``W[0, j]·x1 + W[1, j]·x2 + b[j] = 0`` (``hidden_w`` (2, 2): column j is unit j,
    ``hidden_b`` (2,)), the hidden activations per input ``hidden`` (4, 2), the output
    weights ``out_w`` (2,) and bias ``out_b``, the output probability per input ``proba`` (4,),
    the class it predicts ``predicted`` (4,) and the final loss."""

    model: Sequential
    activation: str
    hidden_w: np.ndarray
    hidden_b: np.ndarray
    hidden: np.ndarray
    out_w: np.ndarray
    out_b: float
    proba: np.ndarray
    predicted: np.ndarray
    loss: float

    def solved(self, gate: str = "XOR") -> int:
        """How many of the four points it gets right."""
        return int((self.predicted == targets(gate)).sum())

    def probability(self, x: np.ndarray) -> np.ndarray:
        """The output probability at points ``x`` (n, 2): (n,)."""
        return 1.0 / (1.0 + np.exp(-self.model.forward(np.asarray(x, np.float64))[:, 0]))


def xor_trainer(activation: str = "tanh", gate: str = "XOR") -> Trainer:
    """The engine's trainer for a 2-2-1 network (``activation`` hidden units, one logistic
    output) on the gate's four points, not yet trained."""
    spec = mlp_spec(2, [2], 1, activation=activation, loss="sigmoid_bce")
    return build_trainer(spec, XOR_CONFIG, INPUTS, targets(gate), dtype=np.float64)


def trained_network(trainer: Trainer, activation: str = "tanh") -> HiddenNetwork:
    """What ``trainer``'s network computes on the four points now."""
    model = trainer.model
    first, last = model.layers[0], model.layers[2]
    hidden = model.layers[1].forward(first.forward(INPUTS))
    logits = model.forward(INPUTS)[:, 0]
    proba = 1.0 / (1.0 + np.exp(-logits))
    return HiddenNetwork(
        model=model,
        activation=activation,
        hidden_w=first.params["W"].copy(),
        hidden_b=first.params["b"].copy(),
        hidden=hidden,
        out_w=last.params["W"][:, 0].copy(),
        out_b=float(last.params["b"][0]),
        proba=proba,
        predicted=(proba > 0.5).astype(int),
        loss=float(model.loss.forward(model.forward(INPUTS), trainer.y_train)),
    )


def solve_xor(activation: str = "tanh", epochs: int = XOR_EPOCHS) -> HiddenNetwork:
    """Train the 2-2-1 network on XOR for ``epochs`` full-batch steps."""
    trainer = xor_trainer(activation)
    for _ in range(epochs):
        trainer.run_epoch()
    return trained_network(trainer, activation)

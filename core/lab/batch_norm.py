"""Batch normalization: the from-scratch course's experiment. The same MLP (784-100×5-10, ReLU)
learns 1,000 images with plain SGD, with and without batch norm, from weights of several
spreads; with batch norm every spread learns fast, without it small weights stall (the signal
fades layer after layer) and large ones blow up.

Each run is a :class:`core.sweep.task.RunTask` whose ``initial_state`` holds the drawn weights:
a run with batch norm and one without start from the same dense weights (drawn from the same
seed), so batch norm is the only difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import init
from core.lab.image_runs import CLASSES, PIXELS, epochs_to, last_value
from core.model import Sequential
from core.recipe import Recipe
from core.spec import mlp_spec
from core.sweep.task import RunResult, RunTask
from core.training.config import TrainConfig

#: The spreads compared: a fixed standard deviation of every weight, or He's √(2/n) (n inputs).
SCALES: dict[str, float | None] = {"std 1": 1.0, "std 0.1": 0.1, "std 0.01": 0.01, "He": None}
HIDDEN = (100,) * 5
TRAIN_IMAGES, TEST_IMAGES = 1000, 1000
EPOCHS, BATCH = 20, 100
LEARNING_RATES = (0.01, 0.03, 0.1)
LR = 0.1
#: The training accuracy a run counts as having learned at (:attr:`Outcome.epochs_to`).
LEVEL = 0.8


def bn_spec(batchnorm: bool) -> dict:
    """The experiment's network: 784-100×5-10 with ReLU, batch norm between each hidden dense
    layer and its ReLU when ``batchnorm``."""
    return mlp_spec(PIXELS, HIDDEN, CLASSES, activation="relu", batchnorm=batchnorm)


def initial_state(spec: dict, scale: str, seed: int = 0) -> dict[str, np.ndarray]:
    """The model state of ``spec`` whose dense weights are drawn from ``seed`` with the spread
    ``scale`` (a key of :data:`SCALES`), biases 0 and batch norm as it starts (γ 1, β 0). The
    dense weights depend only on the seed and the layer sizes, not on batch norm."""
    if scale not in SCALES:
        raise ValueError(f"scale: {scale!r} is unknown; allowed: {', '.join(SCALES)}")
    model = Sequential(spec, rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    std = SCALES[scale]
    for name, w in model.named_params():
        if name.endswith(".W"):
            fan_in, fan_out = w.shape
            if std is None:
                w[...] = init.he_normal(w.shape, fan_in, fan_out, rng)
            else:
                w[...] = rng.normal(0.0, std, w.shape)
    return model.get_state()


def batch_norm_tasks(
    recipe: Recipe,
    lr: float = LR,
    epochs: int = EPOCHS,
    seed: int = 0,
    scales: tuple[str, ...] = tuple(SCALES),
) -> list[RunTask]:
    """One run per spread and batch norm off/on (in that order for each spread, so the pairs
    finish together), all with plain SGD at ``lr``, batches of :data:`BATCH`, for ``epochs``."""
    tasks = []
    for scale in scales:
        for batchnorm in (False, True):
            spec = bn_spec(batchnorm)
            config = TrainConfig(optimizer="sgd", lr=lr, batch_size=BATCH, epochs=epochs, seed=seed)
            settings = {"scale": scale, "batchnorm": batchnorm, "lr": lr, "epochs": epochs}
            tasks.append(
                RunTask(
                    recipe,
                    spec,
                    config,
                    len(tasks),
                    run_name(scale, batchnorm),
                    settings,
                    initial_state(spec, scale, seed),
                )
            )
    return tasks


def run_name(scale: str, batchnorm: bool) -> str:
    return f"{scale}, {'with' if batchnorm else 'without'} batch norm"


@dataclass(frozen=True)
class Outcome:
    """What one run reached: its last training accuracy (None when it trained no epoch), the
    first epoch at :data:`LEVEL` training accuracy (None: never), and whether it diverged."""

    train_acc: float | None
    epochs_to: int | None
    diverged: bool


def outcome(result: RunResult, level: float = LEVEL) -> Outcome:
    """The :class:`Outcome` of a finished run."""
    acc = last_value(result.history, "train_acc") if result.epochs else None
    return Outcome(acc, epochs_to(result.history, "train_acc", level), result.diverged)


def reached(outcomes: list[Outcome]) -> tuple[int, int | None]:
    """How many of ``outcomes`` reached :data:`LEVEL`, and the latest epoch one of them did
    (None when none did): how much the init scale matters."""
    epochs = [o.epochs_to for o in outcomes if o.epochs_to is not None]
    return len(epochs), max(epochs, default=None)

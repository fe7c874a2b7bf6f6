"""Overfitting and regularization: the from-scratch course's experiment. A big MLP (784-100×6-10,
ReLU) learns only 300 images with plain SGD: it soon classifies every training image right
while the test accuracy stays far below, and the gap between them is overfitting. Weight decay
(``l2``: the loss gains λ/2·Σw², so every step also shrinks the weights by lr·λ·w) and dropout
(each hidden unit zeroed with probability p while training) make memorizing harder: the gap
shrinks as they grow, until the network learns nothing at all.

Each run is a :class:`core.sweep.task.RunTask`; :func:`gap` reads the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.lab.image_runs import CLASSES, PIXELS, last_value
from core.recipe import Recipe
from core.spec import mlp_spec
from core.sweep.task import RunTask
from core.training.config import TrainConfig

HIDDEN = (100,) * 6
TRAIN_IMAGES, TEST_IMAGES = 300, 1000
EPOCHS, BATCH, LR = 200, 100, 0.01
#: The values offered (the first of each: no regularization).
WEIGHT_DECAYS = (0.0, 0.01, 0.03, 0.1, 0.3)
DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.5)
#: The gap is read as a mean over this many last epochs (a single epoch's accuracies jitter).
GAP_EPOCHS = 10
#: Below this training accuracy a run has hardly learned: too much regularization.
UNDERFIT = 0.5


def overfit_spec(dropout: float = 0.0) -> dict:
    """The experiment's network: 784-100×6-10 with ReLU, dropout at rate ``dropout`` after each
    hidden ReLU (none at 0)."""
    return mlp_spec(PIXELS, HIDDEN, CLASSES, activation="relu", dropout=dropout)


def regularization_task(
    recipe: Recipe,
    weight_decay: float = 0.0,
    dropout: float = 0.0,
    epochs: int = EPOCHS,
    seed: int = 0,
    index: int = 0,
) -> RunTask:
    """The run with ``weight_decay`` (λ) and ``dropout`` (p): plain SGD at :data:`LR`, batches of
    :data:`BATCH`, for ``epochs``; the same seed draws the same initial weights whatever λ."""
    config = TrainConfig(
        optimizer="sgd", lr=LR, batch_size=BATCH, epochs=epochs, l2=weight_decay, seed=seed
    )
    settings = {"weight_decay": weight_decay, "dropout": dropout, "epochs": epochs}
    return RunTask(
        recipe, overfit_spec(dropout), config, index, run_name(weight_decay, dropout), settings
    )


def run_name(weight_decay: float, dropout: float) -> str:
    if not weight_decay and not dropout:
        return "no regularization"
    parts = [f"weight decay {weight_decay:g}"] * bool(weight_decay)
    return ", ".join(parts + [f"dropout {dropout:g}"] * bool(dropout))


@dataclass(frozen=True)
class Fit:
    """Where a run ended: its training and test accuracy over the last :data:`GAP_EPOCHS`
    epochs, and the gap between them."""

    train_acc: float
    test_acc: float

    @property
    def gap(self) -> float:
        return self.train_acc - self.test_acc

    @property
    def underfit(self) -> bool:
        """Whether it hardly learned (training accuracy below :data:`UNDERFIT`)."""
        return self.train_acc < UNDERFIT


def fit(history: Mapping[str, np.ndarray]) -> Fit:
    """The :class:`Fit` of a run (``history``: columns as :attr:`core.sweep.task.RunResult.
    history`; nan without epochs)."""
    return Fit(*(last_value(history, c, GAP_EPOCHS) for c in ("train_acc", "test_acc")))


def gap(history: Mapping[str, np.ndarray]) -> float:
    """Training accuracy minus test accuracy over the run's last :data:`GAP_EPOCHS` epochs."""
    return fit(history).gap

"""Overfitting and regularization: the from-scratch course's experiment. A big MLP (784-256-256-10,
ReLU, Adam) learns only 300 images: within ten epochs it classifies every training image right
while its test accuracy stays far below (the gap between them is overfitting) and its test loss
climbs again, the network ever surer of its memorized answers. Weight decay (``l2``: the loss
gains λ/2·Σw², its gradient λ·w) and dropout (each hidden unit zeroed with probability p while
training) make memorizing harder.

Measured (seeds 0–2, MNIST and Fashion-MNIST): dropout 0.5 keeps the network learning and testing
about as well, but with so few images it still learns nearly all of them by heart: the gap hardly
moves (as the dropout paper found below 500 examples); weight decay 0.01 stops the test loss
climbing; 0.1 narrows the gap only by fitting the training images worse, the test accuracy falling
too; at 0.3 nothing is learned. (The book's 784-100×6-10 with plain SGD showed dropout's gap
smaller only because that network hardly learned with it.)

Each run is a :class:`core.sweep.task.RunTask`; :func:`fit` reads the result.
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

HIDDEN = (256, 256)
TRAIN_IMAGES, TEST_IMAGES = 300, 1000
OPTIMIZER, LR, BATCH, EPOCHS = "adam", 0.001, 50, 60
#: The values offered (the first of each: no regularization).
WEIGHT_DECAYS = (0.0, 0.01, 0.03, 0.1, 0.3)
DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.5)
#: The gap is read as a mean over this many last epochs (a single epoch's accuracies jitter).
GAP_EPOCHS = 10
#: Below this training accuracy a run has hardly learned: too much regularization.
UNDERFIT = 0.5
#: From this training accuracy on, a run has learned (nearly) every training image by heart.
MEMORIZED = 0.97
#: A regularized run whose test accuracy is this much below the run without paid for its
#: smaller gap with the test accuracy too: too much regularization.
WORSE = 0.03


def overfit_spec(dropout: float = 0.0) -> dict:
    """The experiment's network: 784-256-256-10 with ReLU, dropout at rate ``dropout`` after each
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
    """The run with ``weight_decay`` (λ) and ``dropout`` (p): Adam at :data:`LR`, batches of
    :data:`BATCH`, for ``epochs``; the same seed draws the same initial weights whatever λ."""
    config = TrainConfig(
        optimizer=OPTIMIZER, lr=LR, batch_size=BATCH, epochs=epochs, l2=weight_decay, seed=seed
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
    """Where a run ended: its training and test accuracy and its test loss over the last
    :data:`GAP_EPOCHS` epochs, and the gap between the accuracies."""

    train_acc: float
    test_acc: float
    test_loss: float

    @property
    def gap(self) -> float:
        return self.train_acc - self.test_acc

    @property
    def underfit(self) -> bool:
        """Whether it hardly learned (training accuracy below :data:`UNDERFIT`)."""
        return self.train_acc < UNDERFIT

    @property
    def memorized(self) -> bool:
        """Whether it learned (nearly) every training image: accuracy :data:`MEMORIZED` or more."""
        return self.train_acc >= MEMORIZED

    def verdict(self, plain: Fit | None) -> str:
        """What a regularized run's gap cost, beside ``plain`` (the run without regularization,
        if finished): "underfit" (it hardly learned), "worse" (it tests :data:`WORSE` or more
        below ``plain``), "memorized" (it still learned its training images by heart) or ""."""
        if self.underfit:
            return "underfit"
        if plain is None or self is plain:
            return ""
        if self.test_acc <= plain.test_acc - WORSE:
            return "worse"
        return "memorized" if self.memorized else ""


def fit(history: Mapping[str, np.ndarray]) -> Fit:
    """The :class:`Fit` of a run (``history``: columns as :attr:`core.sweep.task.RunResult.
    history`; nan without epochs)."""
    columns = ("train_acc", "test_acc", "test_loss")
    return Fit(*(last_value(history, c, GAP_EPOCHS) for c in columns))


def gap(history: Mapping[str, np.ndarray]) -> float:
    """Training accuracy minus test accuracy over the run's last :data:`GAP_EPOCHS` epochs."""
    return fit(history).gap


def rise_of_test_loss(history: Mapping[str, np.ndarray]) -> float:
    """How far the test loss rose from its lowest to the run's last :data:`GAP_EPOCHS` epochs:
    overfitting's mark on the loss (the network ever surer of its memorized answers)."""
    lowest = float(np.nanmin(np.asarray(history["test_loss"], np.float64)))
    return fit(history).test_loss - lowest

"""How to train: TrainConfig, every setting of a run and the ranges each may take."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from core.optimizer import MAX_LR
from core.optimizers import OPTIMIZERS, make_optimizer
from core.schedules import make_schedule
from core.validation import check_choice, check_number

#: Most epochs a configuration may ask for (the app's Epochs box goes this far).
MAX_EPOCHS = 10**7
#: Largest L1 or L2 regularization rate accepted (from the app, the command line and files).
MAX_REGULARIZATION = 10.0


@dataclass
class TrainConfig:
    """Everything about *how* to train (the *what* is the architecture spec).

    ``epochs`` (0 = no limit), ``target_loss`` (stop once the train loss is at or below it) and
    ``patience`` (early stopping: epochs without the monitored loss improving by ``min_delta``;
    the test loss when there is a test set, else the train loss) end a run. ``l1``/``l2`` add
    ``l1·Σ|w|`` and ``l2/2·Σw²`` over weights (not biases) to the objective. L2 joins the
    gradient (before clipping); L1 is a proximal step after each optimizer step, with ``lr`` the
    step's scheduled learning rate: ``w ← sign(w)·max(|w| − lr·l1, 0)``. So weights whose pull
    from the data is weaker than L1's become exactly zero, with every optimizer (adding
    ``l1·sign(w)`` to the gradient would let adaptive optimizers rescale it away); with SGD this
    is proximal gradient descent on ``loss + l1·Σ|w|``. The step keeps no state, so resuming and
    changing ``l1`` live stay exact. ``clip_norm`` clips the global gradient norm. ``schedule``
    is a :func:`core.schedules.make_schedule` spec.
    """

    optimizer: str = "adam"
    lr: float = 0.01
    optimizer_params: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, Any] | None = None
    batch_size: int = 32
    epochs: int = 100
    target_loss: float | None = None
    patience: int | None = None
    min_delta: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    clip_norm: float | None = None
    seed: int = 0

    def validate(self) -> TrainConfig:
        """Raise ValueError naming the first bad field; return self."""
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_number("lr", self.lr, low=0.0, high=MAX_LR, low_open=True)
        check_number("batch_size", self.batch_size, integer=True, low=1)
        check_number("epochs", self.epochs, integer=True, low=0, high=MAX_EPOCHS)
        if self.target_loss is not None:
            check_number("target_loss", self.target_loss, low=0.0)
        if self.patience is not None:
            check_number("patience", self.patience, integer=True, low=1)
        check_number("min_delta", self.min_delta, low=0.0)
        check_number("l1", self.l1, low=0.0, high=MAX_REGULARIZATION)
        check_number("l2", self.l2, low=0.0, high=MAX_REGULARIZATION)
        if self.clip_norm is not None:
            check_number("clip_norm", self.clip_norm, low=0.0, low_open=True)
        check_number("seed", self.seed, integer=True, low=0, high=2**63 - 1)
        make_optimizer(self.optimizer, self.lr, **self.optimizer_params)
        make_schedule(self.schedule)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"config: unknown fields {unknown}; allowed: {', '.join(sorted(known))}"
            )
        return cls(**data).validate()

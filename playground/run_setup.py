"""A run set-up: everything the engine needs to build a run, sent by the GUI with "setup"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.experiment import Experiment
from core.training.config import TrainConfig
from core.training.snapshot import DEAD_UNIT_SAMPLES, Grid
from playground.image_data import ImageDataSettings


@dataclass(frozen=True)
class RunSetup:
    """Everything the engine needs to build a run."""

    spec: dict[str, Any]
    config: TrainConfig
    x_train: np.ndarray | None = None
    y_train: np.ndarray | None = None
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    grid: Grid | None = None
    run_id: int = 0
    #: Train on these images (loaded by the engine) instead of the arrays above.
    images: ImageDataSettings | None = None
    #: Seconds between snapshots, and the samples of the dead-unit statistic (fewer for big
    #: convolutional networks, whose snapshots cost more).
    interval: float = 0.04
    dead_samples: int = DEAD_UNIT_SAMPLES
    #: Continue this saved run (its weights, optimizer, generator, position and history) on
    #: the arrays above, which must be the data it was trained on.
    resume: Experiment | None = None
    #: Start from these weights (``Sequential.get_state`` layout) instead of fresh ones.
    initial_state: dict[str, np.ndarray] | None = None

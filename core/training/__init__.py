"""Training, for notebooks and scripts: a TrainConfig, a Trainer built by ``build_trainer``,
and ``train_iter``, which trains and yields immutable Snapshots for live views.

    from core.training import TrainConfig, build_trainer, train_iter

One module per idea: ``config`` (TrainConfig), ``history`` (the metric history), ``batches``
(data checks and mini-batch counts), ``trainer`` (Trainer, build_trainer), ``state`` (checks of
a saved trainer state), ``snapshot`` (Snapshot, Grid, take_snapshot), ``control``
(TrainControl) and ``loop`` (train_iter). Code inside the project imports from them.
"""

from core.training.config import TrainConfig
from core.training.control import TrainControl
from core.training.loop import train_iter
from core.training.snapshot import Grid, Snapshot, take_snapshot
from core.training.trainer import Trainer, build_trainer

__all__ = [
    "Grid",
    "Snapshot",
    "TrainConfig",
    "TrainControl",
    "Trainer",
    "build_trainer",
    "take_snapshot",
    "train_iter",
]

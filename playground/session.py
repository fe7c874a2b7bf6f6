"""What the user has chosen on the plane, as plain data (no Qt): data set, features, network and
training settings. It builds the engine objects for a run and round-trips through JSON, which is
how the app persists the last configuration and how presets are written.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from core.data.csv import read_points_csv
from core.data.dataset import MAX_TEST_RATIO, MIN_SAMPLES, Dataset
from core.data.features import check_features
from core.data.toy2d import (
    DATASETS,
    MAX_CLASSES,
    MAX_NOISE,
    MAX_SAMPLES,
    MIN_CLASSES,
    make_dataset,
)
from core.training.config import TrainConfig
from core.validation import check_choice, check_number, short_repr
from playground.network_settings import NetworkSettings, network_spec
from playground.point_edits import MAX_EDITS, apply_edits, check_edits

MAX_SEED = 2**63 - 1
HEX = "0123456789abcdef"


@dataclass
class DataSettings:
    """Which points to learn. ``edits`` replays the user's clicks on the output view, in order:
    ``["add", x1, x2, label, split]`` (a point joins the ``"train"`` or ``"test"`` set, drawn by
    :func:`playground.point_edits.edit_split`) or ``["remove", x1, x2, split]`` (the nearest point
    of that set within :data:`playground.point_edits.REMOVE_RADIUS`); edits saved before splits
    were recorded lack them (added points then join the training set, a removal takes the nearest
    point of either set).
    ``csv_sha256`` is the SHA-256 of the CSV file at ``csv_path`` when an experiment was saved;
    reopening the experiment checks it before reading the file. ``queued_edits`` (experiment
    files only) are edits made during the epoch the run was saved in: the saved state was
    trained without them, and they join the data when that epoch ends."""

    dataset: str = "spiral"
    n_samples: int = 500
    noise: float = 0.0
    test_ratio: float = 0.5
    seed: int = 0
    n_classes: int = 2
    features: list[str] = field(default_factory=lambda: ["x1", "x2"])
    csv_path: str | None = None
    edits: list[list[Any]] = field(default_factory=list)
    csv_sha256: str | None = None
    queued_edits: list[list[Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Any) -> DataSettings:
        """Rebuild from ``asdict`` and check every value (:meth:`validate`); ValueError naming
        the field otherwise. Fields left out take their defaults; settings this version does not
        know (a later version's) are ignored, as in meta.json: a run whose data they changed is
        still refused by its data fingerprint."""
        if not isinstance(data, dict):
            raise ValueError(f"data: {short_repr(data)} is not an object of data settings")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known}).validate()

    def validate(self) -> DataSettings:
        """Raise ValueError naming the first bad field (with what is allowed); return self."""
        check_choice("dataset", self.dataset, DATASETS)
        check_number("n_samples", self.n_samples, integer=True, low=MIN_SAMPLES, high=MAX_SAMPLES)
        check_number("noise", self.noise, low=0.0, high=MAX_NOISE)
        check_number("test_ratio", self.test_ratio, low=0.0, high=MAX_TEST_RATIO)
        # A whole float (0.0) is taken as the integer the data generators need.
        self.seed = check_number("seed", self.seed, integer=True, low=0, high=MAX_SEED)
        check_number("n_classes", self.n_classes, integer=True, low=MIN_CLASSES, high=MAX_CLASSES)
        try:
            check_features(self.features)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        if self.csv_path is not None and (not isinstance(self.csv_path, str) or not self.csv_path):
            raise ValueError(
                f"csv_path: {short_repr(self.csv_path)}; allowed: none or a file's path"
            )
        digest = self.csv_sha256
        if digest is not None and not (
            isinstance(digest, str) and len(digest) == 64 and set(digest) <= set(HEX)
        ):
            raise ValueError(f"csv_sha256: {short_repr(digest)}; allowed: none or a SHA-256 (hex)")
        check_edits(self.edits)
        check_edits(self.queued_edits, "queued_edits", MAX_EDITS - len(self.edits))
        return self


@dataclass
class Session:
    data: DataSettings = field(default_factory=DataSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    training: TrainConfig = field(default_factory=TrainConfig)

    # -- building ------------------------------------------------------------------------------
    def build_dataset(self) -> Dataset:
        """The data set with the user's edits applied; raises ValueError for bad settings or a
        bad CSV file."""
        return apply_edits(self.base_dataset(), self.data.edits)

    def base_dataset(self) -> Dataset:
        """The data set before the user's edits: the CSV file's points, or the generated set;
        ValueError for bad settings or a bad CSV file."""
        d = self.data
        if d.csv_path:
            return read_points_csv(d.csv_path, test_ratio=d.test_ratio, seed=d.seed)
        return make_dataset(d.dataset, **self.toy_params())

    def toy_params(self) -> dict[str, Any]:
        """What generates the toy data set (besides its name): samples, noise, test ratio, seed
        and classes (2 for a data set of two classes only)."""
        d = self.data
        multiclass = DATASETS[check_choice("dataset", d.dataset, DATASETS)].multiclass
        return {
            "n_samples": d.n_samples,
            "noise": d.noise,
            "test_ratio": d.test_ratio,
            "seed": d.seed,
            "n_classes": d.n_classes if multiclass else 2,
        }

    def loss_name(self, dataset: Dataset) -> str:
        if self.network.loss != "auto":
            return self.network.loss
        return "softmax_ce" if dataset.task == "classification" else "mse"

    def build_spec(self, dataset: Dataset) -> dict[str, Any]:
        """The architecture spec for this data set (inputs = chosen features)."""
        features = check_features(self.data.features)
        loss = self.loss_name(dataset)
        n_out = dataset.n_classes if loss == "softmax_ce" else 1
        return network_spec(self.network, [len(features)], n_out, loss)

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return settings_dict(self, asdict(self.data))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        """Rebuild from :meth:`to_dict`; raises ValueError (naming the field) for bad content."""
        if not isinstance(data, dict):
            raise ValueError(f"session: expected a JSON object, got {type(data).__name__}")
        return settings_from_dict(cls, DataSettings.from_dict, data)

    @classmethod
    def from_json(cls, text: str) -> Session:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"session: not valid JSON ({exc})") from None

    def copy(self) -> Session:
        return copy.deepcopy(self)


def reset_reason(run: Any, now: Any) -> str | None:
    """Why the settings ``now`` need a new run instead of the run set up from ``run`` going on
    (both a :class:`Session`, or both an image session): ``"the network's shape changed"``,
    ``"the data set changed"``, or the batch size or the seed, which shape a run from its
    start. None when the run can go on: other training settings apply to it
    (:meth:`core.training.Trainer.set_config`)."""
    if type(run) is not type(now):
        return "the mode changed"
    if run.network != now.network:
        return "the network's shape changed"
    if run.data != now.data:
        return "the data set changed"
    for name, what in (("batch_size", "batch size"), ("seed", "run seed")):
        if getattr(run.training, name) != getattr(now.training, name):
            return f"the {what} changed (it shapes a run from its start)"
    return None


def settings_dict(session: Any, data: dict[str, Any]) -> dict[str, Any]:
    """A session's ``to_dict()``: ``data`` (its data settings as plain data), its network and
    its training settings (a plane or an image session)."""
    return {
        "data": data,
        "network": asdict(session.network),
        "training": session.training.to_dict(),
    }


def settings_from_dict(cls: type, read_data: Callable[[Any], Any], data: dict[str, Any]) -> Any:
    """``cls(data settings, network, training)`` from a session's ``to_dict()``, the data
    settings read by ``read_data``; ValueError (naming the field) for bad content."""
    try:
        return cls(
            read_data(data["data"]),
            NetworkSettings.from_dict(data["network"]),
            TrainConfig.from_dict(data["training"]),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"session: incomplete or unknown settings ({exc})") from None

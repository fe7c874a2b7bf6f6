"""What the user has chosen, as plain data (no Qt): data set, features, network and training
settings. It builds the engine objects for a run and round-trips through JSON, which is how the
app persists the last configuration and how presets are written.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core.data.csv import read_points_csv
from core.data.features import check_features
from core.data.toy2d import DATASETS, Dataset, make_dataset
from core.spec import normalize
from core.training import TrainConfig
from core.validation import check_choice, check_number

#: Radius (in data units) within which a right-click removes the nearest point.
REMOVE_RADIUS = 0.4
MAX_LAYERS = 12
MAX_UNITS = 512


@dataclass
class DataSettings:
    """Which points to learn. ``edits`` replays the user's clicks on the output view, in order:
    ``["add", x1, x2, label]`` or ``["remove", x1, x2]`` (nearest point within REMOVE_RADIUS)."""

    dataset: str = "spiral"
    n_samples: int = 500
    noise: float = 0.0
    test_ratio: float = 0.5
    seed: int = 0
    n_classes: int = 2
    features: list[str] = field(default_factory=lambda: ["x1", "x2"])
    csv_path: str | None = None
    edits: list[list[Any]] = field(default_factory=list)


@dataclass
class LayerSettings:
    """One hidden layer: dense units, then optional batch norm, the activation, optional dropout."""

    units: int = 8
    activation: str = "tanh"
    batchnorm: bool = False
    dropout: float = 0.0


@dataclass
class NetworkSettings:
    hidden: list[LayerSettings] = field(default_factory=lambda: [LayerSettings(), LayerSettings()])
    init: str = "auto"
    loss: str = "auto"  # auto: softmax cross-entropy for classes, MSE for regression


@dataclass
class Session:
    data: DataSettings = field(default_factory=DataSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    training: TrainConfig = field(default_factory=TrainConfig)

    # -- building ------------------------------------------------------------------------------
    def build_dataset(self) -> Dataset:
        """The data set with the user's edits applied; raises ValueError for bad settings or a
        bad CSV file."""
        d = self.data
        if d.csv_path:
            base = read_points_csv(d.csv_path, test_ratio=d.test_ratio, seed=d.seed)
        else:
            multiclass = DATASETS[check_choice("dataset", d.dataset, DATASETS)].multiclass
            base = make_dataset(
                d.dataset,
                n_samples=d.n_samples,
                noise=d.noise,
                test_ratio=d.test_ratio,
                seed=d.seed,
                n_classes=d.n_classes if multiclass else 2,
            )
        return apply_edits(base, d.edits)

    def loss_name(self, dataset: Dataset) -> str:
        if self.network.loss != "auto":
            return self.network.loss
        return "softmax_ce" if dataset.task == "classification" else "mse"

    def build_spec(self, dataset: Dataset) -> dict[str, Any]:
        """The architecture spec for this data set (inputs = chosen features)."""
        features = check_features(self.data.features)
        net = self.network
        if len(net.hidden) > MAX_LAYERS:
            raise ValueError(f"hidden layers: {len(net.hidden)}; allowed: at most {MAX_LAYERS}")
        loss = self.loss_name(dataset)
        layers: list[dict[str, Any]] = []
        for i, layer in enumerate(net.hidden, 1):
            check_number(f"layer {i} neurons", layer.units, integer=True, low=1, high=MAX_UNITS)
            layers.append({"type": "dense", "units": layer.units, "init": net.init})
            if layer.batchnorm:
                layers.append({"type": "batchnorm"})
            layers.append({"type": layer.activation})
            if layer.dropout:
                layers.append({"type": "dropout", "rate": layer.dropout})
        n_out = dataset.n_classes if loss == "softmax_ce" else 1
        layers.append({"type": "dense", "units": n_out, "init": net.init})
        return normalize({"input_shape": [len(features)], "layers": layers, "loss": loss})

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "data": asdict(self.data),
            "network": asdict(self.network),
            "training": self.training.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        """Rebuild from :meth:`to_dict`; raises ValueError (naming the field) for bad content."""
        try:
            net = dict(data["network"])
            net["hidden"] = [LayerSettings(**h) for h in net.get("hidden", [])]
            session = cls(
                DataSettings(**data["data"]),
                NetworkSettings(**net),
                TrainConfig.from_dict(data["training"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"session: incomplete or unknown settings ({exc})") from None
        return session

    @classmethod
    def from_json(cls, text: str) -> Session:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"session: not valid JSON ({exc})") from None

    def copy(self) -> Session:
        return copy.deepcopy(self)


def apply_edits(base: Dataset, edits: list[list[Any]]) -> Dataset:
    """Replay point additions (to the training set) and removals (nearest point, either set)."""
    if not edits:
        return base
    x_tr, y_tr = base.x_train.copy(), base.y_train.copy()
    x_te, y_te = base.x_test.copy(), base.y_test.copy()
    for edit in edits:
        if edit[0] == "add":
            _, x1, x2, label = edit
            if base.task == "classification" and not 0 <= int(label) < base.n_classes:
                raise ValueError(f"added point: class {label} is not one of the data set's")
            x_tr = np.vstack([x_tr, np.array([[x1, x2]], dtype=x_tr.dtype)])
            y_tr = np.append(y_tr, np.array([label], dtype=y_tr.dtype))
        elif edit[0] == "remove":
            _, x1, x2 = edit
            target = np.array([x1, x2])
            d_tr = np.hypot(*(x_tr - target).T) if len(x_tr) else np.array([])
            d_te = np.hypot(*(x_te - target).T) if len(x_te) else np.array([])
            best_tr = d_tr.min() if d_tr.size else np.inf
            best_te = d_te.min() if d_te.size else np.inf
            if min(best_tr, best_te) > REMOVE_RADIUS:
                continue
            if best_tr <= best_te and len(x_tr) > 2:
                keep = np.arange(len(x_tr)) != d_tr.argmin()
                x_tr, y_tr = x_tr[keep], y_tr[keep]
            elif best_te < best_tr:
                keep = np.arange(len(x_te)) != d_te.argmin()
                x_te, y_te = x_te[keep], y_te[keep]
    return Dataset(
        name=base.name,
        task=base.task,
        x_train=x_tr,
        y_train=y_tr,
        x_test=x_te,
        y_test=y_te,
        n_classes=base.n_classes,
        class_names=base.class_names,
    )

"""What the user has chosen, as plain data (no Qt): data set, features, network and training
settings. It builds the engine objects for a run and round-trips through JSON, which is how the
app persists the last configuration and how presets are written.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from core.activations import ACTIVATIONS
from core.activations import ALIASES as ACTIVATION_ALIASES
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
from core.spec import layer_from_config, normalize
from core.training.config import TrainConfig
from core.validation import check_choice, check_number

#: Radius (in data units) within which a right-click removes the nearest point.
REMOVE_RADIUS = 0.4
MAX_LAYERS = 12
MAX_UNITS = 512
MAX_FILTERS = 256
MAX_KERNEL = 11
MAX_STRIDE = 8
MAX_PADDING = 5
MAX_POOL = 8
#: Most point edits a session keeps, and the largest coordinate an edit may have.
MAX_EDITS = 50_000
MAX_COORDINATE = 1e6
MAX_SEED = 2**63 - 1
HEX = "0123456789abcdef"
#: Kinds of hidden rows and how messages name them.
LAYER_KINDS = {"dense": "dense", "conv": "conv", "maxpool": "max pool", "avgpool": "avg pool"}


@dataclass
class DataSettings:
    """Which points to learn. ``edits`` replays the user's clicks on the output view, in order:
    ``["add", x1, x2, label, split]`` (a point joins the ``"train"`` or ``"test"`` set, drawn by
    :func:`edit_split`) or ``["remove", x1, x2, split]`` (the nearest point of that set within
    REMOVE_RADIUS); edits saved before splits were recorded lack them (added points then join
    the training set, a removal takes the nearest point of either set).
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
            raise ValueError(f"data: {_short(data)} is not an object of data settings")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known}).validate()

    def validate(self) -> DataSettings:
        """Raise ValueError naming the first bad field (with what is allowed); return self."""
        check_choice("dataset", self.dataset, DATASETS)
        check_number("n_samples", self.n_samples, integer=True, low=MIN_SAMPLES, high=MAX_SAMPLES)
        check_number("noise", self.noise, low=0.0, high=MAX_NOISE)
        check_number("test_ratio", self.test_ratio, low=0.0, high=MAX_TEST_RATIO)
        check_number("seed", self.seed, integer=True, low=0, high=MAX_SEED)
        check_number("n_classes", self.n_classes, integer=True, low=MIN_CLASSES, high=MAX_CLASSES)
        try:
            check_features(self.features)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        if self.csv_path is not None and (not isinstance(self.csv_path, str) or not self.csv_path):
            raise ValueError(f"csv_path: {_short(self.csv_path)}; allowed: none or a file's path")
        digest = self.csv_sha256
        if digest is not None and not (
            isinstance(digest, str) and len(digest) == 64 and set(digest) <= set(HEX)
        ):
            raise ValueError(f"csv_sha256: {_short(digest)}; allowed: none or a SHA-256 (hex)")
        check_edits(self.edits)
        check_edits(self.queued_edits, "queued_edits", MAX_EDITS - len(self.edits))
        return self


@dataclass
class LayerSettings:
    """One hidden row of the network editor, by ``kind``:

    - ``"dense"``: ``units`` neurons, then optional batch norm, the activation, optional dropout;
    - ``"conv"``: ``filters`` kernels of ``kernel``×``kernel`` moved by ``stride`` (None: 1) over
      the input with ``padding`` zeros on every side, then optional batch norm, the activation;
    - ``"maxpool"`` / ``"avgpool"``: the maximum / mean over ``size``×``size`` windows moved by
      ``stride`` (None: the window size).

    Fields of the other kinds are kept but ignored. ``kind`` defaults to dense, so sessions saved
    before it existed load unchanged.
    """

    units: int = 8
    activation: str = "tanh"
    batchnorm: bool = False
    dropout: float = 0.0
    kind: str = "dense"
    filters: int = 16
    kernel: int = 3
    stride: int | None = None
    padding: int = 0
    size: int = 2


@dataclass
class NetworkSettings:
    hidden: list[LayerSettings] = field(default_factory=lambda: [LayerSettings(), LayerSettings()])
    init: str = "auto"
    loss: str = "auto"  # auto: softmax cross-entropy for classes, MSE for regression

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkSettings:
        """Rebuild from ``asdict``; raises KeyError/TypeError for unknown or missing fields."""
        net = dict(data)
        net["hidden"] = [LayerSettings(**h) for h in net.get("hidden", [])]
        return cls(**net)


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
        multiclass = DATASETS[check_choice("dataset", d.dataset, DATASETS)].multiclass
        return make_dataset(
            d.dataset,
            n_samples=d.n_samples,
            noise=d.noise,
            test_ratio=d.test_ratio,
            seed=d.seed,
            n_classes=d.n_classes if multiclass else 2,
        )

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
        if not isinstance(data, dict):
            raise ValueError(f"session: expected a JSON object, got {type(data).__name__}")
        try:
            session = cls(
                DataSettings.from_dict(data["data"]),
                NetworkSettings.from_dict(data["network"]),
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


class NetworkError(ValueError):
    """A network that cannot be built, with the 1-based hidden ``row`` at fault
    (``len(hidden) + 1`` for the output layer) and the output shapes of the rows before it."""

    def __init__(self, row: int, message: str, shapes: Sequence[tuple[int, ...]] = ()) -> None:
        super().__init__(message)
        self.row = row
        self.shapes = list(shapes)


def describe_layer(layer: LayerSettings) -> str:
    """Short name of a row for messages: ``"dense 100"``, ``"conv 16@5×5 stride 2"``,
    ``"max pool 2"``; the stride only when it is not the default."""
    if layer.kind == "conv":
        stride = f" stride {layer.stride}" if layer.stride not in (None, 1) else ""
        padding = f" padding {layer.padding}" if layer.padding else ""
        return f"conv {layer.filters}@{layer.kernel}×{layer.kernel}{stride}{padding}"
    if layer.kind in ("maxpool", "avgpool"):
        stride = f" stride {layer.stride}" if layer.stride not in (None, layer.size) else ""
        return f"{LAYER_KINDS[layer.kind]} {layer.size}{stride}"
    return f"{layer.kind} {layer.units}"


def network_spec(
    net: NetworkSettings, input_shape: Sequence[int], n_out: int, loss: str
) -> dict[str, Any]:
    """The normalized architecture spec of ``net`` for inputs of ``input_shape`` (``[features]``
    or ``[channels, height, width]``) and ``n_out`` output units. A flatten goes in front of a
    dense row (or the output layer) whose input is an image. Raises ValueError for bad values
    (a :class:`NetworkError` naming the row when one row is at fault); shapes are checked by
    :func:`network_shapes`."""
    layers = [entry for _, entry in _row_entries(net, input_shape, n_out)]
    return normalize({"input_shape": list(input_shape), "layers": layers, "loss": loss})


def network_shapes(
    net: NetworkSettings, input_shape: Sequence[int], n_out: int
) -> tuple[list[tuple[int, ...]], int]:
    """Each hidden row's output shape (without the batch axis) and the network's parameter
    count, from the engine's own layers. Raises :class:`NetworkError` naming the row whose
    input does not fit, e.g. ``"layer 3 (max pool 2): pool 2x2 does not fit input 1x1"``."""
    pairs = _row_entries(net, input_shape, n_out)
    spec = normalize({"input_shape": list(input_shape), "layers": [e for _, e in pairs]})
    shape: tuple[int, ...] = tuple(spec["input_shape"])
    outputs: dict[int, tuple[int, ...]] = {}
    n_params = 0
    for (row, _), entry in zip(pairs, spec["layers"], strict=True):
        layer = layer_from_config(entry)
        try:
            shape = layer.build(shape)
        except ValueError as exc:
            detail = str(exc).removeprefix(f"{layer.kind}: ")
            before = [outputs[r] for r in range(1, row)]
            raise NetworkError(row, f"{_row_name(net, row, n_out)}: {detail}", before) from None
        n_params += sum(math.prod(s) for s in layer.param_shapes().values())
        outputs[row] = shape  # a row's last layer gives its output
    return [outputs[row] for row in range(1, len(net.hidden) + 1)], n_params


def _row_name(net: NetworkSettings, row: int, n_out: int) -> str:
    if row > len(net.hidden):
        return f"output layer (dense {n_out})"
    return f"layer {row} ({describe_layer(net.hidden[row - 1])})"


def _row_entries(
    net: NetworkSettings, input_shape: Sequence[int], n_out: int
) -> list[tuple[int, dict[str, Any]]]:
    """``(row, spec entry)`` for every layer of the network, the output layer being row
    ``len(hidden) + 1``; values are checked per row."""
    if len(net.hidden) > MAX_LAYERS:
        raise ValueError(f"hidden layers: {len(net.hidden)}; allowed: at most {MAX_LAYERS}")
    pairs: list[tuple[int, dict[str, Any]]] = []
    flat = len(input_shape) == 1
    for row, layer in enumerate(net.hidden, 1):
        try:
            entries = _layer_entries(layer, net.init)
        except ValueError as exc:
            raise NetworkError(row, f"{_row_name(net, row, n_out)}: {exc}") from None
        if layer.kind == "dense" and not flat:
            pairs.append((row, {"type": "flatten"}))
        flat = layer.kind == "dense"
        pairs.extend((row, e) for e in entries)
    output = len(net.hidden) + 1
    if not flat:
        pairs.append((output, {"type": "flatten"}))
    pairs.append((output, {"type": "dense", "units": n_out, "init": net.init}))
    return pairs


def _layer_entries(layer: LayerSettings, init: str) -> list[dict[str, Any]]:
    """One row's spec entries (normalized), checking its values against the editor's limits."""
    kind = check_choice("kind", layer.kind, LAYER_KINDS)
    stride = {} if layer.stride is None else {"stride": layer.stride}
    if stride:
        check_number("stride", layer.stride, integer=True, low=1, high=MAX_STRIDE)
    if kind in ("maxpool", "avgpool"):
        check_number("size", layer.size, integer=True, low=1, high=MAX_POOL)
        return [{"type": kind, "pool_size": layer.size, **stride}]
    activation = ACTIVATION_ALIASES.get(layer.activation, layer.activation)
    check_choice("activation", activation, ACTIVATIONS)
    if kind == "conv":
        check_number("filters", layer.filters, integer=True, low=1, high=MAX_FILTERS)
        check_number("kernel", layer.kernel, integer=True, low=1, high=MAX_KERNEL)
        check_number("padding", layer.padding, integer=True, low=0, high=MAX_PADDING)
        entries = [
            {
                "type": "conv",
                "filters": layer.filters,
                "kernel_size": layer.kernel,
                "padding": layer.padding,
                "init": init,
                **stride,
            }
        ]
    else:
        check_number("neurons", layer.units, integer=True, low=1, high=MAX_UNITS)
        entries = [{"type": "dense", "units": layer.units, "init": init}]
    if layer.batchnorm:
        entries.append({"type": "batchnorm"})
    entries.append({"type": activation})
    if kind == "dense" and layer.dropout:
        entries.append({"type": "dropout", "rate": layer.dropout})
    return [layer_from_config(e).config() for e in entries]


#: The sets a point edit may record: where an added point went, whence a removed one came.
SPLITS = ("train", "test")


def check_edits(edits: Any, name: str = "edits", most: int = MAX_EDITS) -> None:
    """Raise ValueError naming the first bad edit unless ``edits`` is a list of at most ``most``
    ``["add", x1, x2, label, split]`` / ``["remove", x1, x2, split]`` entries (``split`` one of
    :data:`SPLITS`, or left out as in older files) with finite coordinates of magnitude at most
    :data:`MAX_COORDINATE` (and finite labels)."""
    if not isinstance(edits, list):
        raise ValueError(f"{name}: {_short(edits)} is not a list; allowed: a list of point edits")
    if len(edits) > most:
        raise ValueError(f"{name}: {len(edits):,} edits; allowed: at most {most:,}")
    for i, edit in enumerate(edits, 1):
        where = f"{name}, entry {i}"
        kind = edit[0] if isinstance(edit, list) and edit and isinstance(edit[0], str) else None
        size = {"add": 4, "remove": 3}.get(kind)
        if size is None or len(edit) not in (size, size + 1):
            raise ValueError(
                f'{where}: {_short(edit)}; allowed: ["add", x1, x2, label, "train" or "test"] '
                'or ["remove", x1, x2, "train" or "test"]'
            )
        for field_name, value in zip(("x1", "x2"), edit[1:3], strict=True):
            check_number(f"{where}, {field_name}", value, low=-MAX_COORDINATE, high=MAX_COORDINATE)
        if kind == "add":
            check_number(f"{where}, label", edit[3])
        if len(edit) == size + 1 and edit[-1] not in SPLITS:
            raise ValueError(f'{where}, set: {_short(edit[-1])}; allowed: "train" or "test"')


def edit_split(data: DataSettings, index: int) -> str:
    """Where the point of edit number ``index`` (0-based) goes: ``"test"`` with probability
    ``data.test_ratio``, else ``"train"``, drawn from a generator seeded with the data set's seed
    and ``index``. Recorded in the edit, so replaying edits never draws again, and independent
    of the run's generator, whose sequence (shuffling, dropout) the click leaves untouched."""
    rng = np.random.default_rng([int(data.seed), int(index)])
    return "test" if rng.random() < data.test_ratio else "train"


def removal_split(dataset: Dataset, x1: float, x2: float) -> str | None:
    """The set whose point a click at (x1, x2) removes: the nearest point within REMOVE_RADIUS
    of either set, a training point only while more than 2 remain; None if none is removed."""
    return _removal_split(dataset.x_train, dataset.x_test, np.array([x1, x2]))


def _removal_split(x_train: np.ndarray, x_test: np.ndarray, target: np.ndarray) -> str | None:
    best_tr, best_te = (_nearest(x, target)[1] for x in (x_train, x_test))
    if min(best_tr, best_te) > REMOVE_RADIUS:
        return None
    if best_tr <= best_te:
        return "train" if len(x_train) > 2 else None
    return "test"


def _nearest(x: np.ndarray, target: np.ndarray) -> tuple[int, float]:
    """Index and distance of the row of ``x`` ``(n, 2)`` nearest ``target``; (-1, inf) if none."""
    if not len(x):
        return -1, np.inf
    d = np.hypot(*(x - target).T)
    i = int(d.argmin())
    return i, float(d[i])


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def apply_edits(base: Dataset, edits: list[list[Any]]) -> Dataset:
    """Replay point additions (to the set each records, the training set if none) and removals
    (the nearest point of the set each records, or of either set; see :func:`removal_split`);
    ValueError for edits :func:`check_edits` refuses or a label the data set doesn't have."""
    if not edits:
        return base
    check_edits(edits)
    x_tr, y_tr = base.x_train.copy(), base.y_train.copy()
    x_te, y_te = base.x_test.copy(), base.y_test.copy()
    for edit in edits:
        if edit[0] == "add":
            label = edit[3]
            if base.task == "classification" and (
                label != int(label) or not 0 <= int(label) < base.n_classes
            ):
                raise ValueError(
                    f"added point: class {label!r} is not one of the data set's (0 to "
                    f"{base.n_classes - 1})"
                )
            point = np.array([edit[1:3]], dtype=x_tr.dtype)
            if edit[4:] == ["test"]:
                x_te, y_te = np.vstack([x_te, point]), np.append(y_te, [label]).astype(y_te.dtype)
            else:
                x_tr, y_tr = np.vstack([x_tr, point]), np.append(y_tr, [label]).astype(y_tr.dtype)
        elif edit[0] == "remove":
            target = np.array(edit[1:3], dtype=np.float64)
            split = edit[3] if len(edit) == 4 else _removal_split(x_tr, x_te, target)
            if split == "train" and len(x_tr) > 2:
                i, distance = _nearest(x_tr, target)
                if distance <= REMOVE_RADIUS:
                    x_tr, y_tr = np.delete(x_tr, i, axis=0), np.delete(y_tr, i)
            elif split == "test":
                i, distance = _nearest(x_te, target)
                if distance <= REMOVE_RADIUS:
                    x_te, y_te = np.delete(x_te, i, axis=0), np.delete(y_te, i)
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


def network_from_spec(spec: dict[str, Any]) -> NetworkSettings:
    """The network editor's settings for a normalized spec whose hidden layers have the
    editor's forms (conv or dense, optional batch norm, an activation, optional dropout after a
    dense; max/avg pools; flattens, which the editor inserts itself) and a dense output;
    ValueError saying what the editor cannot show. The initializer is the first weighted
    layer's and the loss the spec's; rebuild with :func:`network_spec` to confirm."""
    *body, output = spec["layers"]
    if output["type"] != "dense":
        raise ValueError(f"the last layer is {output['type']}; the editor ends with a dense layer")
    hidden: list[LayerSettings] = []
    weighted = [e for e in spec["layers"] if e["type"] in ("dense", "conv")]
    i = 0
    while i < len(body):
        entry, kind = body[i], body[i]["type"]
        i += 1
        if kind == "flatten":
            continue
        if kind in ("maxpool", "avgpool"):
            hidden.append(
                LayerSettings(kind=kind, size=entry["pool_size"], stride=entry.get("stride"))
            )
            continue
        if kind not in ("dense", "conv"):
            raise ValueError(f"layer {i} is {kind}; editor rows start with dense, conv or a pool")
        batchnorm = i < len(body) and body[i]["type"] == "batchnorm"
        i += batchnorm
        activation = body[i]["type"] if i < len(body) else None
        if activation not in ACTIVATIONS or activation == "softmax":  # softmax: the loss's
            raise ValueError(f"layer {i + 1}: the editor needs an activation after each {kind}")
        i += 1
        if kind == "conv":
            hidden.append(
                LayerSettings(
                    kind="conv",
                    filters=entry["filters"],
                    kernel=entry["kernel_size"],
                    stride=entry.get("stride"),
                    padding=entry.get("padding", 0),
                    activation=activation,
                    batchnorm=batchnorm,
                )
            )
            continue
        dropout = 0.0
        if i < len(body) and body[i]["type"] == "dropout":
            dropout, i = body[i]["rate"], i + 1
        hidden.append(
            LayerSettings(
                units=entry["units"], activation=activation, batchnorm=batchnorm, dropout=dropout
            )
        )
    return NetworkSettings(hidden=hidden, init=weighted[0]["init"], loss=spec["loss"])

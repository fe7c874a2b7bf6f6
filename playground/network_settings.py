"""The network editor's rows as plain data (no Qt), and the engine spec they make: each row's
layers, output shape and parameter count, and back from a spec to rows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.activations import ACTIVATIONS
from core.activations import ALIASES as ACTIVATION_ALIASES
from core.spec import layer_from_config, normalize
from core.validation import check_choice, check_number

MAX_LAYERS = 12
MAX_UNITS = 512
MAX_FILTERS = 256
MAX_KERNEL = 11
MAX_STRIDE = 8
MAX_PADDING = 5
MAX_POOL = 8
#: Kinds of hidden rows and how messages name them.
LAYER_KINDS = {"dense": "dense", "conv": "conv", "maxpool": "max pool", "avgpool": "avg pool"}


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

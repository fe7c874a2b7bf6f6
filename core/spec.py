"""The architecture spec: one plain, JSON-serializable description of a network, shared by the
GUI, the command line and saved files.

A spec is a dict::

    {"input_shape": [2],
     "layers": [{"type": "dense", "units": 16, "init": "auto"}, {"type": "relu"},
                {"type": "dense", "units": 2}],
     "loss": "softmax_ce"}

Layer entries have a ``"type"`` (``dense``, ``dropout``, ``batchnorm``, ``flatten``, ``conv``,
``maxpool``, ``avgpool`` or an activation name) and that layer's keyword arguments. The compact
text form used on the command line, ``"dense:16,relu,dropout:0.1,dense:2"``, parses to the same
list (:func:`parse_arch`).

Images (``input_shape`` ``[channels, height, width]``) in the compact form:

- ``conv:16x5``: 16 filters of 5x5, stride 1, no padding; ``conv:32x3/2``: stride 2;
  ``conv:32x3:same``: pad to keep the size (stride 1); ``conv:32x3/2:p1``: pad 1 on every side.
- ``maxpool:2`` (or ``pool:2``): maximum over 2x2 windows, stride 2; ``maxpool:3/2``: 3x3
  windows, stride 2; ``avgpool:2``: the mean instead. Without a size, 2.
- Dense layers need flat input: put ``flatten`` before the first one, e.g.
  ``"conv:16x5,relu,pool:2,conv:32x3,relu,pool:2,flatten,dense:100,relu,dense:10"``
  for ``[1, 28, 28]`` images.

In the JSON form, ``kernel_size``, ``stride``, ``padding`` and ``pool_size`` also take
``[height, width]`` pairs (see :mod:`core.conv` and :mod:`core.pooling`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from typing import Any

from core.activations import ACTIVATIONS
from core.activations import ALIASES as ACTIVATION_ALIASES
from core.conv import Conv2D, conv_text_args
from core.layers import BatchNorm, Dense, Dropout, Flatten, Layer
from core.losses import LOSSES
from core.pooling import AvgPool2D, MaxPool2D, pool_text_args
from core.validation import check_choice, check_number

#: type name -> Layer class. Other modules (convolution) register their layers here.
LAYER_TYPES: dict[str, type[Layer]] = {
    "dense": Dense,
    "dropout": Dropout,
    "batchnorm": BatchNorm,
    "flatten": Flatten,
    "conv": Conv2D,
    "maxpool": MaxPool2D,
    "avgpool": AvgPool2D,
    **ACTIVATIONS,
}
TYPE_ALIASES = {
    **ACTIVATION_ALIASES,
    "bn": "batchnorm",
    "fc": "dense",
    "linear_layer": "dense",
    "pool": "maxpool",
}

#: Compact-text parsers: ``"dense:16"`` -> {"type": "dense", "units": 16}. Each receives the
#: text after the colon (may be empty) and returns the layer's keyword arguments.
TEXT_ARGS: dict[str, Callable[[str], dict[str, Any]]] = {
    "dense": lambda a: {"units": _int("dense", a)},
    "dropout": lambda a: {"rate": _float("dropout", a)} if a else {},
    "leaky_relu": lambda a: {"alpha": _float("leaky_relu", a)} if a else {},
    "elu": lambda a: {"alpha": _float("elu", a)} if a else {},
    "conv": conv_text_args,
    "maxpool": pool_text_args,
    "avgpool": pool_text_args,
}

MAX_LAYERS = 200
#: Deepest nesting of brackets accepted in JSON text (layer lists, optimizer settings).
MAX_JSON_DEPTH = 32


def layer_from_config(entry: dict[str, Any]) -> Layer:
    """Build one layer from its spec entry; ValueError names the layer and the bad field."""
    if not isinstance(entry, dict) or "type" not in entry:
        raise ValueError(f"layers: each entry must be an object with a 'type'; got {entry!r}")
    kind = TYPE_ALIASES.get(entry["type"], entry["type"])
    check_choice("layer type", kind, LAYER_TYPES)
    kwargs = {k: v for k, v in entry.items() if k != "type"}
    try:
        return LAYER_TYPES[kind](**kwargs)
    except TypeError as exc:
        raise ValueError(f"{kind}: bad arguments {kwargs!r} ({exc})") from None
    except ValueError as exc:
        raise ValueError(f"{kind}: {exc}") from None


def normalize(spec: dict[str, Any]) -> dict[str, Any]:
    """Validate a spec and return a deep copy with canonical type names and complete layer
    entries (each layer's own ``config()``). Raises ValueError naming the problem."""
    if not isinstance(spec, dict):
        raise ValueError(f"spec: expected an object, got {type(spec).__name__}")
    unknown = set(spec) - {"input_shape", "layers", "loss"}
    if unknown:
        raise ValueError(
            f"spec: unknown keys {sorted(unknown)}; allowed: input_shape, layers, loss"
        )
    shape = spec.get("input_shape")
    if not isinstance(shape, (list, tuple)) or not 1 <= len(shape) <= 3:
        raise ValueError(f"input_shape: {shape!r} must be a list of 1 to 3 sizes")
    shape = [
        int(check_number("input_shape", s, integer=True, low=1, high=1_000_000)) for s in shape
    ]
    layers = spec.get("layers")
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError("layers: the network needs at least one layer")
    if len(layers) > MAX_LAYERS:
        raise ValueError(f"layers: {len(layers)} layers; allowed: at most {MAX_LAYERS}")
    loss = check_choice("loss", spec.get("loss", "softmax_ce"), LOSSES)
    entries = [layer_from_config(copy.deepcopy(e)).config() for e in layers]
    return {"input_shape": shape, "layers": entries, "loss": loss}


def parse_arch(text: str) -> list[dict[str, Any]]:
    """Parse the compact form ``"dense:16,relu,batchnorm,dropout:0.2,dense:2"`` (or a JSON list
    of layer objects) into a list of layer entries."""
    text = text.strip()
    if text.startswith("["):
        entries = parse_json("arch", text)
        if not isinstance(entries, list):
            raise ValueError("arch: the JSON form must be a list of layer objects")
        return entries
    entries = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            raise ValueError(f"arch: empty entry in {text!r}")
        name, _, args = token.partition(":")
        kind = TYPE_ALIASES.get(name.strip().lower(), name.strip().lower())
        check_choice("arch layer", kind, LAYER_TYPES)
        parse = TEXT_ARGS.get(kind)
        if parse is None and args:
            raise ValueError(f"arch: {kind!r} takes no argument, got {token!r}")
        entries.append({"type": kind, **(parse(args.strip()) if parse else {})})
    return entries


def mlp_spec(
    n_inputs: int,
    hidden: Sequence[int],
    n_outputs: int,
    *,
    activation: str | Sequence[str] = "relu",
    loss: str = "softmax_ce",
    init: str = "auto",
    batchnorm: bool = False,
    dropout: float = 0.0,
) -> dict[str, Any]:
    """Spec of a multilayer perceptron: ``n_inputs -> hidden... -> n_outputs``.

    ``activation`` is one name for every hidden layer or one per hidden layer; batch norm goes
    between each hidden dense layer and its activation, dropout after the activation.
    """
    acts = [activation] * len(hidden) if isinstance(activation, str) else list(activation)
    if len(acts) != len(hidden):
        raise ValueError(
            f"activation: {len(acts)} activations given for {len(hidden)} hidden layers"
        )
    layers: list[dict[str, Any]] = []
    for units, act in zip(hidden, acts, strict=True):
        layers.append({"type": "dense", "units": units, "init": init})
        if batchnorm:
            layers.append({"type": "batchnorm"})
        layers.append({"type": act})
        if dropout:
            layers.append({"type": "dropout", "rate": dropout})
    layers.append({"type": "dense", "units": n_outputs, "init": init})
    return normalize({"input_shape": [n_inputs], "layers": layers, "loss": loss})


def _int(field: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not a whole number") from None


def _float(field: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not a number") from None


def parse_json(field: str, text: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The value of JSON ``text``; ValueError naming ``field`` when it is not valid JSON or
    nests brackets deeper than ``max_depth`` (checked before parsing, which would otherwise
    recurse once per bracket)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise ValueError(
                    f"{field}: brackets nested more than {max_depth} deep; allowed: at most "
                    f"{max_depth} levels"
                )
        elif char in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{field}: not valid JSON ({exc})") from None


def shaped_layers(spec: dict[str, Any]) -> list[Layer]:
    """The layers of a normalized spec with their input and output shapes set, nothing
    allocated (``build`` may allocate, e.g. batch-norm statistics)."""
    layers, shape = [], tuple(spec["input_shape"])
    for i, entry in enumerate(spec["layers"]):
        layer = layer_from_config(entry)
        try:
            layer.input_shape, layer.output_shape = shape, layer.compute_output_shape(shape)
        except ValueError as exc:
            raise ValueError(f"layer {i + 1} ({layer.kind}): {exc}") from None
        layers.append(layer)
        shape = layer.output_shape
    return layers

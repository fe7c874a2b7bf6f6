"""Put a PyTorch state dict into a network of the engine: tensors matched to layers by order and
shape, the way back of :mod:`core.torch_export`.

A state dict names no activations, so the architecture comes from the engine's side (the
network in the editor): its layers with weights take the state dict's modules (``"fc1"``,
``"features.0"``...) in the order of their names (``"fc2"`` after ``"fc1"``, ``"10"`` after
``"9"``: an ``nn.Sequential``'s own order), each module's tensors checked by name and shape.
Where the names sort otherwise (``"classifier"`` before ``"features"``) but the shapes leave
one way to pair modules and layers, that pairing is taken. Example, for a PyTorch user::

    from safetensors.torch import save_file
    save_file(model.state_dict(), "model.safetensors")   # then File ▸ Open in the app
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from core.archive import ModelFileError
from core.io import check_values
from core.model import Sequential
from core.safetensors import read_header, read_tensors
from core.torch_export import TORCH_NAMES, torch_state

#: buffers PyTorch keeps that the engine has no use for
IGNORED = ("num_batches_tracked",)

Shapes = dict[str, tuple[int, ...]]


def _natural(name: str) -> list[Any]:
    """Sort key: ``"layers.10"`` after ``"layers.9"``."""
    parts = re.split(r"(\d+)", name)
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts]


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) or "a scalar"


def torch_modules(shapes: Shapes) -> list[tuple[str, Shapes]]:
    """``[(module name, {tensor name: shape})]`` in the order of the module names."""
    modules: dict[str, Shapes] = {}
    for key, shape in shapes.items():
        prefix, _, name = key.rpartition(".")
        if name not in IGNORED:
            modules.setdefault(prefix, {})[name] = shape
    return sorted(modules.items(), key=lambda item: _natural(item[0]))


def _describe(layer: Any, k: int, n: int) -> str:
    what = layer.kind
    if layer.kind == "dense":
        what = f"dense, {layer.units} units"
    elif layer.kind == "conv":
        what = f"conv, {layer.filters} filters"
    return f"layer with weights {k} of {n} ({what})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def match(model: Sequential, shapes: Shapes, source: str | os.PathLike) -> dict[str, str]:
    """``{engine state key: the file's tensor name}`` for every parameter and statistic of
    ``model``, from the file's tensor shapes alone (nothing read yet). ModelFileError naming
    ``source``, the layer and the tensor when the state dict does not fit the network."""
    wanted: dict[int, Shapes] = {}
    for key, value in torch_state(model).items():
        index, name = key.split(".", 1)
        wanted.setdefault(int(index), {})[name] = value.shape
    modules = torch_modules(shapes)
    if len(modules) != len(wanted):
        names = ", ".join(name or "(top level)" for name, _ in modules[:12])
        raise ModelFileError(
            f"{source}: holds {_plural(len(modules), 'layer')} with weights ({names}); the "
            f"network in the editor has {len(wanted)}. Build the same layers in the Network "
            "panel and open it again."
        )
    layers = list(wanted.items())
    pairs = list(zip(layers, modules, strict=True))
    if not all(want == got for (_, want), (_, got) in pairs):
        pairs = _paired_by_shapes(layers, modules) or pairs
    engine_names = {(kind, t): e for (kind, e), t in TORCH_NAMES.items()}
    found: dict[str, str] = {}
    for k, ((i, want), (prefix, got)) in enumerate(pairs, start=1):
        layer = model.layers[i]
        where = _describe(layer, k, len(layers))
        if set(got) != set(want):
            raise ModelFileError(
                f"{source}: {where} needs {', '.join(want)}; the file's {prefix!r} has "
                f"{', '.join(got)}{_order_note(modules)}"
            )
        for name, shape in want.items():
            if got[name] != shape:
                raise ModelFileError(
                    f"{source}: {where} needs {name} of shape {_shape(shape)}; the file's "
                    f"'{prefix}.{name}' is {_shape(got[name])}{_order_note(modules)}"
                )
            key = f"{i}.{engine_names.get((layer.kind, name), name)}"
            found[key] = f"{prefix}.{name}" if prefix else name
    return found


def _paired_by_shapes(
    layers: list[tuple[int, Shapes]], modules: list[tuple[str, Shapes]]
) -> list[tuple[tuple[int, Shapes], tuple[str, Shapes]]] | None:
    """The one pairing of layers and modules with the same tensor names and shapes, if there
    is exactly one (no two layers alike); None otherwise."""
    pairs = []
    for layer in layers:
        alike = [module for module in modules if module[1] == layer[1]]
        if len(alike) != 1:
            return None
        pairs.append((layer, alike[0]))
    return pairs if len({module[0] for _, module in pairs}) == len(pairs) else None


def _order_note(modules: list[tuple[str, Shapes]]) -> str:
    order = ", ".join(name or "(top level)" for name, _ in modules[:12])
    return (
        f" (the file's layers were taken in the order of their names: {order}; name them so "
        "they sort in the network's order, as an nn.Sequential's 0, 1, 2... do)"
    )


def _to_engine(
    model: Sequential,
    found: dict[str, str],
    tensor: Callable[[str], np.ndarray],
    source: str | os.PathLike,
) -> dict[str, np.ndarray]:
    """The engine's state from the matched tensors, transposed and checked."""
    state = {}
    for key, name in found.items():
        value = tensor(name)
        if model.layers[int(key.split(".")[0])].kind == "dense" and key.endswith(".W"):
            value = value.T  # PyTorch's (out, in) -> the engine's (in, out)
        low = 0.0 if key.endswith("running_var") else None
        state[key] = check_values(source, f"'{name}'", value, model.dtype, low)
    return state


def engine_state(
    model: Sequential, tensors: dict[str, np.ndarray], source: str | os.PathLike = "state dict"
) -> dict[str, np.ndarray]:
    """The state for ``model.set_state`` taken from PyTorch ``tensors`` (name -> array), in the
    model's dtype (see :func:`match`)."""
    found = match(model, {name: np.shape(value) for name, value in tensors.items()}, source)
    return _to_engine(model, found, lambda name: np.asarray(tensors[name]), source)


def load_safetensors(path: str | os.PathLike, model: Sequential) -> dict[str, np.ndarray]:
    """The state of the ``.safetensors`` file at ``path`` for ``model`` (see :func:`match`):
    the header is matched against the network first, then only the matched tensors are read,
    so the work is bounded by the network's size, whatever the file holds besides. The model
    itself is not changed."""
    infos = read_header(path)
    found = match(model, {name: info.shape for name, info in infos.items()}, path)
    for name in found.values():
        if not infos[name].floating:
            raise ModelFileError(
                f"{path}: '{name}' holds {infos[name].dtype} values; weights must be floating "
                "point numbers (F16, BF16, F32 or F64)"
            )
    tensors = read_tensors(path, {name: infos[name] for name in found.values()})
    return _to_engine(model, found, tensors.__getitem__, path)

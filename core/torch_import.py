"""Put a PyTorch state dict into a network of the engine: tensors matched to layers by order and
shape, the way back of :mod:`core.torch_export`.

A state dict names no activations, so the architecture comes from the engine's side (the
network in the editor): its layers with parameters, in order, take the state dict's modules in
the order of their names (``"fc2"`` after ``"fc1"``, ``"10"`` after ``"9"``), each module's
tensors checked by name and shape. Example, for a PyTorch user::

    from safetensors.torch import save_file
    save_file(model.state_dict(), "model.safetensors")   # then File ▸ Open in the app
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from core.archive import ModelFileError
from core.io import check_values
from core.model import Sequential
from core.safetensors import read_safetensors
from core.torch_export import TORCH_NAMES, torch_state

#: buffers PyTorch keeps that the engine has no use for
IGNORED = ("num_batches_tracked",)


def _natural(name: str) -> list[Any]:
    """Sort key: ``"layers.10"`` after ``"layers.9"``."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)
    ]


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) or "a scalar"


def torch_modules(tensors: dict[str, np.ndarray]) -> list[tuple[str, dict[str, np.ndarray]]]:
    """``[(module name, {tensor name: array})]`` in the order of the module names."""
    modules: dict[str, dict[str, np.ndarray]] = {}
    for key, value in tensors.items():
        prefix, _, name = key.rpartition(".")
        if name not in IGNORED:
            modules.setdefault(prefix, {})[name] = value
    return sorted(modules.items(), key=lambda item: _natural(item[0]))


def _describe(layer: Any) -> str:
    if layer.kind == "dense":
        return f"dense, {layer.units} units"
    if layer.kind == "conv":
        return f"conv, {layer.filters} filters"
    return layer.kind


def engine_state(
    model: Sequential, tensors: dict[str, np.ndarray], source: str | os.PathLike = "state dict"
) -> dict[str, np.ndarray]:
    """The state for ``model.set_state`` taken from PyTorch ``tensors`` (name -> array), in the
    model's dtype. ModelFileError naming ``source``, the layer and the tensor when the state
    dict does not fit the network (another number of layers, names or shapes)."""
    wanted: dict[int, dict[str, tuple[int, ...]]] = {}
    for key, value in torch_state(model).items():
        index, name = key.split(".", 1)
        wanted.setdefault(int(index), {})[name] = value.shape
    modules = torch_modules(tensors)
    if len(modules) != len(wanted):
        names = ", ".join(name or "(top level)" for name, _ in modules[:12])
        raise ModelFileError(
            f"{source}: holds {len(modules)} layers with weights ({names}); the network in the "
            f"editor has {len(wanted)}. Build the same layers in the Network panel and open it "
            "again."
        )
    engine_names = {(kind, t): e for (kind, e), t in TORCH_NAMES.items()}
    state: dict[str, np.ndarray] = {}
    for (i, want), (prefix, got) in zip(wanted.items(), modules, strict=True):
        layer = model.layers[i]
        where = f"layer {i + 1} ({_describe(layer)})"
        if set(got) != set(want):
            raise ModelFileError(
                f"{source}: {where} needs {', '.join(want)}; the file's {prefix!r} has "
                f"{', '.join(got)}"
            )
        for name, shape in want.items():
            value = got[name]
            if value.shape != shape:
                raise ModelFileError(
                    f"{source}: {where} needs {name} of shape {_shape(shape)}; the file's "
                    f"'{prefix}.{name}' is {_shape(value.shape)}"
                )
            if layer.kind == "dense" and name == "weight":
                value = value.T  # PyTorch's (out, in) -> the engine's (in, out)
            key = f"{i}.{engine_names.get((layer.kind, name), name)}"
            low = 0.0 if name == "running_var" else None
            state[key] = check_values(source, f"'{prefix}.{name}'", value, model.dtype, low)
    return state


def load_safetensors(path: str | os.PathLike, model: Sequential) -> dict[str, np.ndarray]:
    """The state of the ``.safetensors`` file at ``path`` for ``model`` (see
    :func:`engine_state`); the model itself is not changed."""
    return engine_state(model, read_safetensors(path), path)

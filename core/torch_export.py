"""Export a model as one readable PyTorch file: the same layers as a ``torch.nn.Sequential``,
the trained weights inside, and ``predict(x)``.

The way on for those who outgrow the engine: the file needs torch and NumPy only (not this
project). Layer ``i`` of the engine's model is module ``i`` of the ``nn.Sequential``, so
PyTorch's state-dict names are ``"{i}.weight"``, ``"{i}.running_mean"``...; a dense layer's
weight is stored transposed (PyTorch keeps ``(out, in)``, the engine ``(in, out)``). Batch-norm
running statistics and momentum carry over, dropout becomes ``nn.Dropout``; the model loads in
eval mode (``model.train()`` switches, as in any PyTorch code). With the run's training settings
the file also has ``optimizer(model)``: the same ``torch.optim`` class and hyper-parameters the
engine's optimizer mirrors (``core.optimizers``).

Example::

    export_torch(model, "spiral_torch.py", metadata={"class_names": ["0", "1"]}, config=config)
    # elsewhere, with only torch and NumPy installed:
    from spiral_torch import load, predict
    model = load()          # torch.nn.Sequential with the trained weights, eval mode
    predict([[0.5, -1.0]])  # classes
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from core.atomic import atomic_write
from core.model import Sequential
from core.pyexport import ARRAY_FUNCTION, array_source
from core.schedules import make_schedule

#: engine activation -> the torch module that computes the same function
ACTIVATIONS = {
    "identity": "nn.Identity()",
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "relu": "nn.ReLU()",
    "gelu": 'nn.GELU(approximate="tanh")',
    "silu": "nn.SiLU()",
    "softplus": "nn.Softplus()",
    "sine": "Sine()",
    "softmax": "nn.Softmax(dim=-1)",  # the engine's: over the last axis
}

#: (layer type, engine parameter) -> PyTorch's name; buffers keep theirs (running_mean...)
TORCH_NAMES = {
    ("dense", "W"): "weight",
    ("dense", "b"): "bias",
    ("conv", "W"): "weight",
    ("conv", "b"): "bias",
    ("batchnorm", "gamma"): "weight",
    ("batchnorm", "beta"): "bias",
}

#: engine loss -> (the torch loss, what its targets are)
LOSSES = {
    "softmax_ce": ("nn.CrossEntropyLoss()", "class indices (batch,) as int64"),
    "sigmoid_bce": ("nn.BCEWithLogitsLoss()", "labels 0/1 (batch, 1) as float"),
    "mse": ("nn.MSELoss()", "values (batch, outputs) as float"),
}

#: engine optimizer -> (torch.optim class, fixed keyword arguments)
OPTIMIZERS = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {}),
    "nesterov": ("SGD", {"nesterov": True}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {}),
}

_SINE = '''

class Sine(nn.Module):
    """y = sin(x) (periodic units); torch has no module of its own for it."""

    def forward(self, x):
        return torch.sin(x)
'''

_RUNTIME = (
    "\n"
    + ARRAY_FUNCTION
    + '''

def load():
    """The network with its trained weights, in eval mode (batch norm uses its running
    statistics, dropout is off); call model.train() to train it further."""
    model = build().to(getattr(torch, str(DTYPE)))
    state = model.state_dict()  # batch norm's num_batches_tracked keeps its zero
    state.update({name: torch.from_numpy(a.copy()) for name, a in WEIGHTS.items()})
    model.load_state_dict(state)  # strict: a name the network lacks is an error
    return model.eval()


def _inputs(x, model):
    x = torch.as_tensor(np.asarray(x, dtype=DTYPE))
    if x.ndim == len(INPUT_SHAPE):
        x = x[None]
    if tuple(x.shape[1:]) != INPUT_SHAPE:
        raise ValueError(f"input: shape {tuple(x.shape)} does not match (batch, *{INPUT_SHAPE})")
    return x.to(next(model.parameters()).device)


def predict_proba(x, model=None):
    """Class probabilities (batch, classes) (two columns for a single sigmoid output); for
    regression the predicted values. x: (batch, *INPUT_SHAPE) or one sample."""
    model = model or _model()
    with torch.no_grad():
        out = model(_inputs(x, model))
    out = out.reshape(len(out), -1)
    if LOSS == "softmax_ce":
        out = torch.softmax(out, dim=1)
    elif LOSS == "sigmoid_bce":
        p1 = torch.sigmoid(out[:, :1])
        out = torch.cat([1 - p1, p1], dim=1)
    return out.cpu().numpy()


def predict(x, model=None):
    """Predicted classes (batch,) for classification, values for regression."""
    out = predict_proba(x, model)
    if TASK == "classification":
        return out.argmax(axis=1)
    return out[:, 0] if out.shape[1] == 1 else out


_loaded = []


def _model():
    if not _loaded:
        _loaded.append(load())
    return _loaded[0]
'''
)

_MAIN = """

if __name__ == "__main__":
    print(__doc__)
    print(load())
    print("prediction for a zero input:", predict(np.zeros(INPUT_SHAPE)))
"""


def _module(layer: Any, input_shape: tuple[int, ...]) -> str:
    """The torch module that computes what ``layer`` does to inputs of ``input_shape``."""
    kind = layer.kind
    if kind in ACTIVATIONS:
        return ACTIVATIONS[kind]
    if kind == "leaky_relu":
        return f"nn.LeakyReLU({layer.alpha!r})"
    if kind == "elu":
        return f"nn.ELU({layer.alpha!r})"
    if kind == "dense":
        return f"nn.Linear({input_shape[0]}, {layer.units}, bias={layer.use_bias})"
    if kind == "dropout":
        return f"nn.Dropout({layer.rate!r})"
    if kind == "flatten":
        return "nn.Flatten()"
    if kind == "batchnorm":
        dims = "1d" if len(input_shape) == 1 else "2d"
        return (
            f"nn.BatchNorm{dims}({input_shape[0]}, eps={layer.eps!r}, momentum={layer.momentum!r})"
        )
    if kind == "conv":
        top, bottom, left, right = layer.pads
        padding = (top, left) if (top, left) == (bottom, right) else '"same"'
        return (
            f"nn.Conv2d({input_shape[0]}, {layer.filters}, {tuple(layer.kernel_size)}, "
            f"stride={tuple(layer.stride)}, padding={padding}, bias={layer.use_bias})"
        )
    if kind in ("maxpool", "avgpool"):
        name = "MaxPool2d" if kind == "maxpool" else "AvgPool2d"
        return f"nn.{name}({tuple(layer.pool_size)}, stride={tuple(layer.stride)})"
    raise ValueError(f"PyTorch export: layers of type {kind!r} have no PyTorch module here")


def torch_state(model: Sequential) -> dict[str, np.ndarray]:
    """The model's parameters and buffers under PyTorch's names and layouts (see the module
    docstring): what ``load_state_dict`` of the exported ``nn.Sequential`` takes."""
    state: dict[str, np.ndarray] = {}
    for i, layer in enumerate(model.layers):
        for name, value in {**layer.params, **layer.buffers}.items():
            if layer.kind == "dense" and name == "W":
                value = value.T  # (in, out) -> PyTorch's (out, in)
            torch_name = TORCH_NAMES.get((layer.kind, name), name)
            state[f"{i}.{torch_name}"] = np.ascontiguousarray(value)
    return state


def _optimizer_source(config: Any) -> str:
    """``optimizer(model)``: the engine's optimizer settings as the torch.optim class."""
    name, fixed = OPTIMIZERS[config.optimizer]
    kwargs = {"lr": config.lr, **fixed, **config.optimizer_params}
    if config.optimizer in ("momentum", "nesterov"):
        kwargs.setdefault("momentum", 0.9)
        if not kwargs["momentum"]:  # no momentum: plain SGD (torch refuses Nesterov without it)
            kwargs.pop("nesterov", None)
    args = ", ".join(f"{k}={tuple(v) if isinstance(v, list) else v!r}" for k, v in kwargs.items())
    notes = []
    if config.l2:
        notes.append(f"L2 on weights only, l2/2·Σw² added to the loss with l2 = {config.l2!r}")
    if config.l1:
        notes.append(f"the L1 shrink of lr·l1 after each step, l1 = {config.l1!r}")
    if config.clip_norm:
        notes.append(f"gradient clipping at norm {config.clip_norm!r}")
    schedule = make_schedule(config.schedule).to_spec()
    if schedule.get("name") != "constant" or schedule.get("warmup"):
        notes.append(f"the learning-rate schedule {schedule!r}")
    note = ("\n    Not carried over: " + "; ".join(notes) + ".") if notes else ""
    return f'''

def optimizer(model):
    """The optimizer the network was trained with, same hyper-parameters.{note}"""
    return torch.optim.{name}(model.parameters(), {args})
'''


def torch_source(
    model: Sequential, *, metadata: dict[str, Any] | None = None, config: Any = None
) -> str:
    """The source text of the exported file (see :func:`export_torch`); ``config`` a
    :class:`core.training.TrainConfig` adds ``optimizer(model)``."""
    modules, shape = [], tuple(model.input_shape)
    for i, layer in enumerate(model.layers):
        modules.append(f"        {_module(layer, shape)},  # {i} {layer.kind}")
        shape = tuple(layer.output_shape)
    dtype = np.dtype(model.dtype)
    weights = "".join(
        f"    {name!r}: {array_source(a, dtype)},\n" for name, a in torch_state(model).items()
    )
    loss, targets = LOSSES[model.loss.name]
    summary = "\n".join("    " + line for line in model.summary().splitlines())
    sine = _SINE if any(layer.kind == "sine" for layer in model.layers) else ""
    doc = (
        '"""A neural network exported from NN Playground as PyTorch; needs torch and NumPy.\n\n'
        f"{summary}\n\n"
        "load() gives the torch.nn.Sequential with its trained weights (eval mode);\n"
        f"predict(x) the {'classes' if model.loss.task == 'classification' else 'values'} for x "
        f"of shape (batch, {', '.join(map(str, model.input_shape))}); loss_fn() the loss it was\n"
        "trained with" + ("; optimizer(model) its optimizer" if config is not None else "") + ".\n"
        '"""'
    )
    return f"""{doc}

import base64
import json

import numpy as np
import torch
from torch import nn

METADATA = json.loads({json.dumps(metadata or {})!r})
INPUT_SHAPE = {tuple(model.input_shape)!r}
LOSS = {model.loss.name!r}
TASK = {model.loss.task!r}
DTYPE = np.dtype({str(dtype)!r})
{sine}

def build():
    \"\"\"The network, freshly initialized by PyTorch (load() puts the trained weights in).\"\"\"
    return nn.Sequential(
{chr(10).join(modules)}
    )


def loss_fn():
    \"\"\"The loss the network was trained with; its targets: {targets}.\"\"\"
    return {loss}
{_optimizer_source(config) if config is not None else ""}{_RUNTIME}

# The trained parameters and batch-norm statistics by PyTorch's names (dense weights (out, in)).
WEIGHTS = {{
{weights}}}
{_MAIN}"""


def export_torch(
    model: Sequential,
    path: str | os.PathLike,
    *,
    metadata: dict[str, Any] | None = None,
    config: Any = None,
) -> None:
    """Write ``model`` as one PyTorch Python file at ``path`` (atomically).

    The file defines ``build()``, ``load()``, ``predict(x)``, ``predict_proba(x)``,
    ``loss_fn()``, ``WEIGHTS``, ``METADATA``, ``INPUT_SHAPE`` and, with ``config`` (the run's
    TrainConfig), ``optimizer(model)``. ``metadata`` must be JSON-serializable.
    """
    source = torch_source(model, metadata=metadata, config=config).encode("utf-8")
    atomic_write(path, lambda f: f.write(source))

"""Export a model as one self-contained Python file that needs only NumPy.

The file holds the weights (base64 of the little-endian float bytes, in the model's dtype) and
``predict_raw(x)``, ``predict_proba(x)`` and ``predict(x)`` with the engine's meaning and the
engine's arithmetic, operation for operation (convolution by the same im2col matrix product,
pooling over the same window order), so its outputs match :class:`core.model.Sequential`'s to
float rounding. Dropout is left out (the identity at inference) and batch norm uses the running
statistics. ``SPEC`` and ``METADATA`` (class names, features...) are in the file too.

Example::

    export_python(model, "spiral_model.py", metadata={"class_names": ["0", "1"]})
    # elsewhere, with only NumPy installed:
    from spiral_model import predict_proba
    predict_proba([[0.5, -1.0]])
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import numpy as np

from core.atomic import atomic_write
from core.model import Sequential

LINE = 96  # characters of base64 per source line

#: ``_array(shape, *chunks)`` in an exported file: the weights written by :func:`array_source`.
ARRAY_FUNCTION = '''
def _array(shape, *chunks):
    """An array of DTYPE from base64 chunks of little-endian bytes."""
    data = base64.b64decode("".join(chunks))
    return np.frombuffer(data, dtype=DTYPE.newbyteorder("<")).astype(DTYPE).reshape(shape)
'''

_RUNTIME = (
    ARRAY_FUNCTION
    + '''

def _window(start, stride, count):
    return slice(start, start + stride * (count - 1) + 1, stride)


def _dense(x, s, p):
    y = x @ p["W"]
    if "b" in p:
        y += p["b"]
    return y


def _batchnorm(x, s, p):
    x2 = x if x.ndim == 2 else x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])
    inv_std = 1.0 / np.sqrt(p["running_var"] + s["eps"])
    y = (x2 - p["running_mean"]) * inv_std * p["gamma"] + p["beta"]
    if x.ndim == 2:
        return y
    n, c, h, w = x.shape
    return y.reshape(n, h, w, c).transpose(0, 3, 1, 2)


def _flatten(x, s, p):
    return x.reshape(x.shape[0], -1)


def _conv(x, s, p):
    """Cross-correlation by im2col: one row per kernel offset (c, i, j), a row of ones for the
    bias, then one matrix product; images are kept batch-last (C, H, W, n) in memory."""
    w = p["W"]
    f, c, kh, kw = w.shape
    (sh, sw), (top, bottom, left, right) = s["stride"], s["pad"]
    n, _, h, wd = x.shape
    xp = np.zeros((c, h + top + bottom, wd + left + right, n), x.dtype)
    xp[:, top : top + h, left : left + wd] = x.transpose(1, 2, 3, 0)
    oh, ow = (xp.shape[1] - kh) // sh + 1, (xp.shape[2] - kw) // sw + 1
    k = c * kh * kw
    bias = "b" in p
    cols = np.empty((k + bias, oh * ow * n), x.dtype)
    blocks = cols[:k].reshape(c, kh, kw, oh, ow, n)
    for i in range(kh):
        for j in range(kw):
            blocks[:, i, j] = xp[:, _window(i, sh, oh), _window(j, sw, ow)]
    wmat = np.empty((f, k + bias), x.dtype)
    wmat[:, :k] = w.reshape(f, k)
    if bias:
        cols[k] = 1.0
        wmat[:, k] = p["b"]
    return (wmat @ cols).reshape(f, oh, ow, n).transpose(3, 0, 1, 2)


def _pool(x, s, reduce):
    """Pooling over windows of batch-last images (C, H, W, n), window offsets in row-major
    order; the result is stored batch-last too."""
    xb = x.transpose(1, 2, 3, 0)
    if not xb.flags.c_contiguous:
        xb = np.ascontiguousarray(xb)
    (ph, pw), (sh, sw) = s["pool_size"], s["stride"]
    h, w = xb.shape[1:3]
    oh, ow = (h - ph) // sh + 1, (w - pw) // sw + 1
    y = xb[:, _window(0, sh, oh), _window(0, sw, ow)].copy()
    for i in range(ph):
        for j in range(pw):
            if i or j:
                reduce(y, xb[:, _window(i, sh, oh), _window(j, sw, ow)], out=y)
    if reduce is np.add:
        y *= 1.0 / (ph * pw)
    return y.transpose(3, 0, 1, 2)


def _maxpool(x, s, p):
    return _pool(x, s, np.maximum)


def _avgpool(x, s, p):
    return _pool(x, s, np.add)


def _identity(x, s, p):
    return x


def _sigmoid(x, s=None, p=None):
    # e^x / (1 + e^x): accurate in both tails; x capped where the result is 1 (no overflow)
    t = np.exp(np.minimum(x, 88.0 if x.dtype == np.float32 else 709.0))
    return t / (1.0 + t)


def _softmax(x, s=None, p=None):
    e = x - x.max(axis=-1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


_GELU_C = math.sqrt(2.0 / math.pi)

_FUNCTIONS = {
    "dense": _dense,
    "batchnorm": _batchnorm,
    "flatten": _flatten,
    "conv": _conv,
    "maxpool": _maxpool,
    "avgpool": _avgpool,
    "identity": _identity,
    "dropout": _identity,
    "sigmoid": _sigmoid,
    "tanh": lambda x, s, p: np.tanh(x),
    "relu": lambda x, s, p: np.maximum(x, 0.0),
    "leaky_relu": lambda x, s, p: np.where(x > 0, x, s["alpha"] * x),
    "elu": lambda x, s, p: np.where(x > 0, x, s["alpha"] * np.expm1(np.minimum(x, 0.0))),
    "gelu": lambda x, s, p: 0.5 * x * (1.0 + np.tanh(_GELU_C * (x + 0.044715 * x**3))),
    "silu": lambda x, s, p: x * _sigmoid(x),
    "softplus": lambda x, s, p: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
    "sine": lambda x, s, p: np.sin(x),
    "softmax": _softmax,
}


def _check_input(x):
    x = np.asarray(x)
    if x.ndim == len(INPUT_SHAPE):
        x = x[None]
    if x.shape[1:] != INPUT_SHAPE:
        raise ValueError(
            f"input: shape {x.shape} does not match the model's input (batch, "
            + ", ".join(map(str, INPUT_SHAPE))
            + ")"
        )
    return x.astype(DTYPE)


def predict_raw(x):
    """Raw outputs (batch, outputs) (logits for classification) for x (batch, *INPUT_SHAPE)
    or one sample INPUT_SHAPE."""
    x = _check_input(x)
    for kind, settings, params in LAYERS:
        x = _FUNCTIONS[kind](x, settings, params)
    return x.reshape(len(x), -1)


def predict_proba(x):
    """Class probabilities (batch, classes) (two columns for a single sigmoid output); for
    regression the predicted values (batch, outputs)."""
    out = predict_raw(x)
    if LOSS == "softmax_ce":
        return _softmax(out)
    if LOSS == "sigmoid_bce":
        p1 = _sigmoid(out[:, :1])
        return np.concatenate([1.0 - p1, p1], axis=1)
    return out


def predict(x):
    """Predicted class indices (batch,) for classification; values (batch,) or (batch, outputs)
    for regression."""
    out = predict_proba(x)
    if TASK == "classification":
        return out.argmax(axis=1)
    return out[:, 0] if out.shape[1] == 1 else out

'''
)

_MAIN = """

if __name__ == "__main__":
    print(__doc__)
    print("output for a zero input:", predict_proba(np.zeros(INPUT_SHAPE)))
"""


def _settings(layer: Any) -> dict[str, Any]:
    kind = layer.kind
    if kind == "batchnorm":
        return {"eps": layer.eps}
    if kind in ("leaky_relu", "elu"):
        return {"alpha": layer.alpha}
    if kind == "conv":
        return {"stride": tuple(layer.stride), "pad": tuple(layer._pad)}
    if kind in ("maxpool", "avgpool"):
        return {"pool_size": tuple(layer.pool_size), "stride": tuple(layer.stride)}
    return {}


def array_source(a: np.ndarray, dtype: np.dtype) -> str:
    """``_array(shape, "base64...", ...)``: source text that rebuilds ``a`` in ``dtype``."""
    data = base64.b64encode(np.ascontiguousarray(a, dtype.newbyteorder("<")).tobytes()).decode()
    lines = [data[i : i + LINE] for i in range(0, len(data), LINE)] or [""]
    body = "".join(f'            "{line}",\n' for line in lines)
    return f"_array(\n            {tuple(a.shape)!r},\n{body}        )"


def python_source(model: Sequential, *, metadata: dict[str, Any] | None = None) -> str:
    """The source text of the exported module (see :func:`export_python`)."""
    supported = {"dense", "batchnorm", "flatten", "conv", "maxpool", "avgpool", "dropout"}
    supported |= {
        "identity",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "elu",
        "gelu",
        "silu",
        "softplus",
        "sine",
        "softmax",
    }
    metadata = metadata or {}
    dtype = np.dtype(model.dtype)
    entries = []
    for i, layer in enumerate(model.layers):
        if layer.kind not in supported:
            raise ValueError(f"Python export: layer {i + 1} of type {layer.kind!r} is unsupported")
        arrays = dict(layer.params)
        arrays.update(layer.buffers)
        params = "".join(
            f"        {name!r}: {array_source(a, dtype)},\n" for name, a in arrays.items()
        )
        params = "{\n" + params + "    }" if params else "{}"
        entries.append(f"    ({layer.kind!r}, {_settings(layer)!r}, {params}),  # {i}")
    summary = "\n".join("    " + line for line in model.summary().splitlines())
    task = model.loss.task
    doc = (
        '"""A neural network exported from NN Playground; needs only NumPy.\n\n'
        f"{summary}\n\n"
        f"predict_proba(x) takes x of shape (batch, {', '.join(map(str, model.input_shape))})"
        f" and gives {'class probabilities' if task == 'classification' else 'values'}; "
        f"predict(x) the {'classes' if task == 'classification' else 'values'}; "
        "predict_raw(x) the raw outputs. METADATA holds what the exporter added (class names,\n"
        'input features...), SPEC the architecture.\n"""'
    )
    header = f"""{doc}

import base64
import json
import math

import numpy as np

SPEC = json.loads({json.dumps(model.spec)!r})
METADATA = json.loads({json.dumps(metadata)!r})
INPUT_SHAPE = {tuple(model.input_shape)!r}
LOSS = {model.loss.name!r}
TASK = {model.loss.task!r}
DTYPE = np.dtype({str(dtype)!r})
"""
    layers = "\n\n# (type, settings, parameters and buffers) of every layer, in order\nLAYERS = [\n"
    layers += "\n".join(entries) + "\n]\n"
    return header + _RUNTIME + layers + _MAIN


def export_python(
    model: Sequential, path: str | os.PathLike, *, metadata: dict[str, Any] | None = None
) -> None:
    """Write ``model`` as a single NumPy-only Python module at ``path`` (atomically).

    The module defines ``predict_raw(x)``, ``predict_proba(x)`` and ``predict(x)`` (inputs
    ``(batch, *input_shape)`` or one sample), ``SPEC``, ``METADATA``, ``INPUT_SHAPE`` and
    ``LAYERS``. ``metadata`` must be JSON-serializable.
    """
    source = python_source(model, metadata=metadata).encode("utf-8")
    atomic_write(path, lambda f: f.write(source))

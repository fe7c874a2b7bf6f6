"""Export a model to ONNX (opset 17), for onnxruntime and every other ONNX consumer.

Needs the ``onnx`` package (a dependency of the app, installed with it); it is imported only when
an export is made, so the engine works without it. onnxruntime is not needed to export.

The graph takes ``input`` float32 ``(batch, *input_shape)`` (``batch`` a symbolic dimension) and
gives ``output`` ``(batch, outputs)``, the model's raw outputs (:meth:`Sequential.predict_raw`:
logits for classification), and for classification ``probabilities`` ``(batch, classes)``
(:meth:`Sequential.predict_proba`: softmax, or ``[1 - p, p]`` for a sigmoid output).

Layer by layer: dense -> ``Gemm`` (``MatMul`` without bias); batch norm -> ``BatchNormalization``
in inference form (running statistics); dropout -> nothing (the identity at inference);
flatten -> ``Flatten``; conv -> ``Conv`` (explicit pads); max/avg pooling -> ``MaxPool`` /
``AveragePool``; activations -> ``Relu``, ``LeakyRelu``, ``Elu``, ``Sigmoid``, ``Tanh``,
``Softplus``, ``Sin``, ``Softmax``, ``Identity``; SiLU as ``x * Sigmoid(x)`` and GELU (tanh
form) from ``Tanh``, ``Mul`` and ``Add`` (a native ``Gelu`` needs opset 20). Weights are stored
as float32 whatever the model's dtype.

The model's architecture spec and the caller's metadata (class names, features...) go into the
ONNX ``metadata_props`` as JSON strings.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from typing import Any

import numpy as np

from core.atomic import atomic_write
from core.model import Sequential

OPSET = 17
#: IR version 8 goes with opset 17 and is read by onnxruntime >= 1.11.
IR_VERSION = 8
INSTALL_HINT = "pip install onnx"
MISSING = f"ONNX export needs the 'onnx' package, which is not installed: {INSTALL_HINT}"


def require_onnx() -> Any:
    """The ``onnx`` module; ImportError with installation advice when it is missing."""
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(MISSING) from exc
    return onnx


def check_onnx_installed() -> None:
    """ImportError (with installation advice) unless the ``onnx`` package is installed; it is
    found, not imported (a GUI asks before the engine process exports)."""
    try:
        found = importlib.util.find_spec("onnx") is not None
    except (ImportError, ValueError):  # a broken or blocked installation
        found = False
    if not found:
        raise ImportError(MISSING)


def onnx_available() -> bool:
    """Whether :func:`export_onnx` can run (the ``onnx`` package is importable)."""
    try:
        require_onnx()
    except ImportError:
        return False
    return True


class _Graph:
    """Collects nodes and float32 initializers with unique names."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def name(self, base: str) -> str:
        self._count += 1
        return f"{base}_{self._count}"

    def const(self, base: str, value: Any, dtype: Any = np.float32) -> str:
        name = self.name(base)
        array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], base: str | None = None, **attrs: Any) -> str:
        out = self.name(base or op_type.lower())
        self.nodes.append(
            self.onnx.helper.make_node(op_type, inputs, [out], name=self.name(op_type), **attrs)
        )
        return out


def _layer(g: _Graph, layer: Any, x: str, i: int) -> str:
    kind, p = layer.kind, layer.params
    if kind == "dense":
        w = g.const(f"dense{i}_W", p["W"])
        if layer.use_bias:
            return g.op("Gemm", [x, w, g.const(f"dense{i}_b", p["b"])], f"dense{i}")
        return g.op("MatMul", [x, w], f"dense{i}")
    if kind == "batchnorm":
        inputs = [
            x,
            g.const(f"bn{i}_gamma", p["gamma"]),
            g.const(f"bn{i}_beta", p["beta"]),
            g.const(f"bn{i}_mean", layer.buffers["running_mean"]),
            g.const(f"bn{i}_var", layer.buffers["running_var"]),
        ]
        return g.op("BatchNormalization", inputs, f"bn{i}", epsilon=float(layer.eps))
    if kind in ("dropout", "identity"):
        return x  # the identity at inference
    if kind == "flatten":
        return g.op("Flatten", [x], f"flatten{i}", axis=1)
    if kind == "conv":
        top, bottom, left, right = layer._pad
        inputs = [x, g.const(f"conv{i}_W", p["W"])]
        if layer.use_bias:
            inputs.append(g.const(f"conv{i}_b", p["b"]))
        return g.op(
            "Conv",
            inputs,
            f"conv{i}",
            kernel_shape=list(layer.kernel_size),
            strides=list(layer.stride),
            pads=[top, left, bottom, right],
            dilations=[1, 1],
            group=1,
        )
    if kind in ("maxpool", "avgpool"):
        return g.op(
            "MaxPool" if kind == "maxpool" else "AveragePool",
            [x],
            f"{kind}{i}",
            kernel_shape=list(layer.pool_size),
            strides=list(layer.stride),
            pads=[0, 0, 0, 0],
        )
    simple = {
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "relu": "Relu",
        "softplus": "Softplus",
        "sine": "Sin",
    }
    if kind in simple:
        return g.op(simple[kind], [x], f"{kind}{i}")
    if kind == "leaky_relu":
        return g.op("LeakyRelu", [x], f"{kind}{i}", alpha=float(layer.alpha))
    if kind == "elu":
        return g.op("Elu", [x], f"{kind}{i}", alpha=float(layer.alpha))
    if kind == "softmax":
        return g.op("Softmax", [x], f"{kind}{i}", axis=-1)
    if kind == "silu":
        return g.op("Mul", [x, g.op("Sigmoid", [x])], f"{kind}{i}")
    if kind == "gelu":  # x/2 · (1 + tanh(c (x + 0.044715 x³)))
        cube = g.op("Mul", [g.op("Mul", [x, x]), x])
        inner = g.op("Add", [x, g.op("Mul", [cube, g.const("k", 0.044715)])])
        t = g.op("Tanh", [g.op("Mul", [inner, g.const("c", math.sqrt(2.0 / math.pi))])])
        half_x = g.op("Mul", [x, g.const("half", 0.5)])
        return g.op("Mul", [half_x, g.op("Add", [t, g.const("one", 1.0)])], f"{kind}{i}")
    raise ValueError(f"ONNX export: layer {i + 1} of type {kind!r} is not supported")


def to_onnx(
    model: Sequential, *, metadata: dict[str, Any] | None = None, name: str = "nn_playground"
) -> Any:
    """Build and check the ``onnx.ModelProto`` of ``model`` (see the module docstring)."""
    onnx = require_onnx()
    helper, TensorProto = onnx.helper, onnx.TensorProto
    g = _Graph(onnx)
    x = "input"
    for i, layer in enumerate(model.layers):
        x = _layer(g, layer, x, i)
    if len(model.output_shape) != 1:
        x = g.op("Flatten", [x], "flatten_output", axis=1)
    g.nodes.append(helper.make_node("Identity", [x], ["output"], name="output_identity"))
    outputs = [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", None])]
    loss = model.loss.name
    if loss == "softmax_ce":
        g.nodes.append(
            helper.make_node("Softmax", ["output"], ["probabilities"], name="probs", axis=1)
        )
    elif loss == "sigmoid_bce":
        z = "output"
        if model.n_outputs != 1:
            z = g.op(
                "Slice",
                ["output", g.const("s", [0], np.int64), g.const("e", [1], np.int64)]
                + [g.const("ax", [1], np.int64)],
            )
        p1 = g.op("Sigmoid", [z], "p1")
        p0 = g.op("Sub", [g.const("one", 1.0), p1], "p0")
        g.nodes.append(
            helper.make_node("Concat", [p0, p1], ["probabilities"], name="probs", axis=1)
        )
    if model.loss.task == "classification":
        outputs.append(
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", None])
        )
    inputs = [
        helper.make_tensor_value_info(
            "input", TensorProto.FLOAT, ["batch", *map(int, model.input_shape)]
        )
    ]
    graph = helper.make_graph(g.nodes, name, inputs, outputs, initializer=g.initializers)
    proto = helper.make_model(
        graph,
        producer_name="nn-playground",
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
    )
    props = {"nn_playground_spec": json.dumps(model.spec)}
    for key, value in (metadata or {}).items():
        props[str(key)] = value if isinstance(value, str) else json.dumps(value)
    helper.set_model_props(proto, props)
    onnx.checker.check_model(proto)
    return proto


def export_onnx(
    model: Sequential, path: str | os.PathLike, *, metadata: dict[str, Any] | None = None
) -> None:
    """Write ``model`` as an ONNX file at ``path`` (atomically). ImportError naming the
    ``onnx`` extra when it is not installed; ValueError for a layer ONNX cannot express."""
    data = to_onnx(model, metadata=metadata).SerializeToString()
    atomic_write(path, lambda f: f.write(data))

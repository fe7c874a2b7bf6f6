"""Layers with forward and backward passes: the Layer base, Dense, Dropout, BatchNorm, Flatten.

Shapes: dense inputs are ``(batch, features)``. A layer's parameters are *views* into the model's
one flat parameter vector (see :mod:`core.model`), so an optimizer updates every layer with a few
NumPy calls; gradients are views into the flat gradient vector and ``backward`` overwrites them.

Dense layers and the element-wise activations also take ``out``, an array to write their result
into, as NumPy's functions do: a training step of a small network is mostly the overhead of its
NumPy calls, and the model passes the same arrays every step rather than allocating new ones.
For the same reason they update in place with ``+=``-style operators and pass constants as
0-d arrays: a keyword ``out=`` or a Python number adds a few tenths of a microsecond to a call.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from core import init as initializers
from core.matmul import SMALL, matmul
from core.validation import check_number


class Layer:
    """Base class: a differentiable map from ``(batch, *in_shape)`` to ``(batch, *out_shape)``.

    Subclasses set ``kind`` (the spec's ``"type"``), implement ``forward``/``backward`` and, when
    they have parameters, ``param_shapes`` and ``init_params``. What backward needs from forward
    is kept on the instance, so a backward pass must follow its own forward pass.
    """

    kind: ClassVar[str] = ""
    #: Parameter names that weight decay / L1 / L2 apply to (weights, not biases or BN shifts).
    regularized: ClassVar[tuple[str, ...]] = ()
    #: Whether ``forward(x, training, out)`` and ``backward(dy, out)`` take an array ``out`` of
    #: the result's shape to write the result into (or return an array they were given).
    takes_out: ClassVar[bool] = False

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        #: Non-trainable state saved with the model (BatchNorm running statistics).
        self.buffers: dict[str, np.ndarray] = {}
        self.input_shape: tuple[int, ...] = ()
        self.output_shape: tuple[int, ...] = ()
        #: False for the first layer: its input gradient is never used, so it is not computed.
        self.needs_input_grad = True
        self.rng: np.random.Generator | None = None
        self.dtype: np.dtype = np.dtype(np.float32)

    # -- structure -------------------------------------------------------------------------------
    def build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Fix the input shape (without batch) and return the output shape."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        return self.output_shape

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the trainable parameters, in storage order."""
        return {}

    def init_params(self, rng: np.random.Generator) -> None:
        """Fill ``self.params`` in place."""

    def config(self) -> dict[str, Any]:
        """The JSON-serializable spec entry that rebuilds this layer."""
        return {"type": self.kind}

    # -- computation -----------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Fully connected layer: ``y = x @ W + b`` with ``W`` of shape ``(in, units)``.

    Input ``(batch, in)``, output ``(batch, units)``. The products go through
    :func:`core.matmul.matmul`, in blocks when they are large.
    """

    kind = "dense"
    regularized = ("W",)
    takes_out = True

    def __init__(self, units: int, init: str = "auto", bias: bool = True) -> None:
        super().__init__()
        self.units = int(check_number("units", units, integer=True, low=1, high=1_000_000))
        self.init = initializers.check_name(init)
        self.use_bias = bool(bias)
        #: What "auto" means here; the model builder sets He before ReLU-like activations.
        self.auto_init = "glorot_uniform"
        self._x: np.ndarray | None = None

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) != 1:
            raise ValueError(
                f"dense: input shape {input_shape} is not flat; put a 'flatten' layer before it"
            )
        return (self.units,)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {"W": (self.input_shape[0], self.units)}
        if self.use_bias:
            shapes["b"] = (self.units,)
        return shapes

    def init_params(self, rng: np.random.Generator) -> None:
        fan_in, fan_out = self.input_shape[0], self.units
        name = self.auto_init if self.init == "auto" else self.init
        initializers.fill(name, self.params["W"], fan_in, fan_out, rng)
        if self.use_bias:
            self.params["b"].fill(0)

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {"type": self.kind, "units": self.units, "init": self.init}
        if not self.use_bias:
            cfg["bias"] = False
        return cfg

    def forward(
        self, x: np.ndarray, training: bool = False, out: np.ndarray | None = None
    ) -> np.ndarray:
        self._x = x
        W = self.params["W"]
        # A small product (a tiny network's) straight to the array method: the BLAS call
        # matmul makes too, without a function around it or np.dot's dispatch.
        y = x.dot(W, out) if len(x) * W.size < SMALL else matmul(x, W, out)
        if self.use_bias:
            y += self.params["b"]
        return y

    def backward(self, dy: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        W = self.params["W"]
        product = np.ndarray.dot if len(dy) * W.size < SMALL else matmul  # as in forward
        product(self._x.T, dy, self.grads["W"])
        if self.use_bias:
            np.add.reduce(dy, 0, None, self.grads["b"])  # (axis, dtype, out)
        if self.needs_input_grad:
            return product(dy, W.T, out)
        return dy


#: Largest dropout rate accepted (the app's dropout boxes use the same bound).
MAX_DROPOUT = 0.95


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``rate`` and scale the rest
    by ``1 / (1 - rate)``; at inference the identity. Shape-preserving.

    ``freeze_mask = True`` reuses the last mask (gradient checks need a fixed mask).
    """

    kind = "dropout"

    def __init__(self, rate: float = 0.5) -> None:
        super().__init__()
        self.rate = float(check_number("rate", rate, low=0.0, high=MAX_DROPOUT))
        self.freeze_mask = False
        self._mask: np.ndarray | None = None

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, "rate": self.rate}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        if not (self.freeze_mask and self._mask is not None and self._mask.shape == x.shape):
            keep = self.rng.random(x.shape, dtype=np.float32) >= self.rate
            self._mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.rate))
        return x * self._mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy if self._mask is None else dy * self._mask


class BatchNorm(Layer):
    """Batch normalization over the batch axis (per feature for ``(batch, features)``, per channel
    for ``(batch, channels, height, width)``), with learned scale ``gamma`` and shift ``beta``.

    Follows PyTorch's BatchNorm1d/2d: biased batch variance to normalize, unbiased variance for
    the running estimate, ``running = (1 - momentum) * running + momentum * batch``.
    """

    kind = "batchnorm"

    def __init__(self, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.momentum = float(check_number("momentum", momentum, low=0.0, high=1.0))
        self.eps = float(check_number("eps", eps, low=1e-12, high=1.0))
        #: From the last forward: ``(xhat, inv_std, training)``.
        self._cache: tuple[np.ndarray, np.ndarray, bool] | None = None

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(input_shape) not in (1, 3):
            raise ValueError(
                f"batchnorm: input shape {input_shape} must be (features,) or (channels, h, w)"
            )
        return input_shape

    @property
    def channels(self) -> int:
        return self.input_shape[0]

    def build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        out = super().build(input_shape)
        self.buffers = {
            "running_mean": np.zeros(self.channels, dtype=self.dtype),
            "running_var": np.ones(self.channels, dtype=self.dtype),
        }
        return out

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"gamma": (self.channels,), "beta": (self.channels,)}

    def init_params(self, rng: np.random.Generator) -> None:
        self.params["gamma"].fill(1)
        self.params["beta"].fill(0)

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, "momentum": self.momentum, "eps": self.eps}

    def _to_2d(self, x: np.ndarray) -> np.ndarray:
        if x.ndim == 2:
            return x
        n, c, h, w = x.shape
        return x.transpose(0, 2, 3, 1).reshape(n * h * w, c)

    def _from_2d(self, y: np.ndarray, like: np.ndarray) -> np.ndarray:
        if like.ndim == 2:
            return y
        n, c, h, w = like.shape
        return y.reshape(n, h, w, c).transpose(0, 3, 1, 2)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        x2 = self._to_2d(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        if training:
            m = x2.shape[0]
            if m < 2:
                raise ValueError("batchnorm: training needs a batch of at least 2 samples")
            mean = x2.mean(axis=0)
            xc = x2 - mean
            var = np.mean(xc * xc, axis=0)
            inv_std = 1.0 / np.sqrt(var + self.eps)
            xhat = xc * inv_std
            mom = self.momentum
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= 1.0 - mom
            rm += mom * mean
            rv *= 1.0 - mom
            rv += mom * var * (m / (m - 1))
        else:
            inv_std = 1.0 / np.sqrt(self.buffers["running_var"] + self.eps)
            xhat = (x2 - self.buffers["running_mean"]) * inv_std
        self._cache = (xhat, inv_std, training)
        return self._from_2d(xhat * gamma + beta, x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Gradients of the last forward pass. After an inference-mode forward the statistics are
        constants, so ``dx = gamma * inv_std * dy``; in training the batch statistics depend on
        ``x`` too, which adds the two mean-removing terms."""
        xhat, inv_std, training = self._cache
        dy2 = self._to_2d(dy)
        dbeta = dy2.sum(axis=0)
        dgamma = np.sum(dy2 * xhat, axis=0)
        self.grads["beta"][...] = dbeta
        self.grads["gamma"][...] = dgamma
        if not self.needs_input_grad:
            return dy
        if not training:
            return self._from_2d(dy2 * (self.params["gamma"] * inv_std), dy)
        m = dy2.shape[0]
        dx = (self.params["gamma"] * inv_std / m) * (m * dy2 - dbeta - xhat * dgamma)
        return self._from_2d(dx, dy)


class Flatten(Layer):
    """Reshape ``(batch, *shape)`` to ``(batch, prod(shape))``."""

    kind = "flatten"

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (int(np.prod(input_shape)),)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x.reshape(x.shape[0], *self.output_shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape((dy.shape[0], *self.input_shape))

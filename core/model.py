"""Sequential: a stack of layers built from an architecture spec (:mod:`core.spec`).

Every trainable parameter lives in one contiguous 1-D vector ``theta`` and every gradient in
``grad`` of the same shape; each layer's ``params``/``grads`` are reshaped views into them. An
optimizer therefore updates the whole network with a few vectorized calls, and saving, copying or
comparing weights is one array operation. Regularized weights (dense and conv kernels) come first,
``theta[:n_regularized]``, so L1/L2 touch them with one slice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.activations import Activation
from core.layers import Layer
from core.losses import LOSSES, Loss
from core.spec import layer_from_config, normalize

#: Inference runs in chunks whose largest activation takes about this many bytes: big enough
#: for efficient matrix products, small enough to stay in cache (convolutional layers are ~2×
#: faster in chunks of ~150 images than of 4,096).
PREDICT_CHUNK_BYTES = 12 << 20


class Sequential:
    """A feed-forward network.

    Parameters
    ----------
    spec : dict
        Architecture spec (see :mod:`core.spec`); validated and normalized.
    rng : np.random.Generator, optional
        Source of randomness for initialization and dropout (one per run). Defaults to
        ``np.random.default_rng(seed)``.
    seed : int
        Used when ``rng`` is not given.
    dtype : float32 (default, fast) or float64 (gradient checks).
    """

    def __init__(
        self,
        spec: dict[str, Any],
        *,
        rng: np.random.Generator | None = None,
        seed: int = 0,
        dtype: Any = np.float32,
    ) -> None:
        self.spec = normalize(spec)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype: {self.dtype} is not supported; allowed: float32, float64")
        self.rng = rng if rng is not None else np.random.default_rng(seed)
        self.input_shape: tuple[int, ...] = tuple(self.spec["input_shape"])
        self.loss: Loss = LOSSES[self.spec["loss"]]()
        self.layers: list[Layer] = [layer_from_config(e) for e in self.spec["layers"]]
        self._build()

    # -- construction ----------------------------------------------------------------------------
    def _build(self) -> None:
        shape = self.input_shape
        for i, layer in enumerate(self.layers):
            layer.dtype, layer.rng = self.dtype, self.rng
            layer.needs_input_grad = i > 0
            if hasattr(layer, "auto_init") and self._feeds_relu_like(i):
                layer.auto_init = "he_normal"
            try:
                shape = layer.build(shape)
            except ValueError as exc:
                raise ValueError(f"layer {i + 1} ({layer.kind}): {exc}") from None
        self.output_shape = shape
        # Storage order: every regularized parameter first, then the rest.
        entries = [
            (layer, name, shp)
            for layer in self.layers
            for name, shp in layer.param_shapes().items()
        ]
        entries.sort(key=lambda e: e[1] not in e[0].regularized)
        sizes = [int(np.prod(shp)) for _, _, shp in entries]
        self.n_params = int(sum(sizes))
        self.n_regularized = int(
            sum(
                s
                for (layer, name, _), s in zip(entries, sizes, strict=True)
                if name in layer.regularized
            )
        )
        self.theta = np.zeros(self.n_params, dtype=self.dtype)
        self.grad = np.zeros(self.n_params, dtype=self.dtype)
        self._slices: list[tuple[Layer, str, slice]] = []
        offset = 0
        for (layer, name, shp), size in zip(entries, sizes, strict=True):
            sl = slice(offset, offset + size)
            layer.params[name] = self.theta[sl].reshape(shp)
            layer.grads[name] = self.grad[sl].reshape(shp)
            self._slices.append((layer, name, sl))
            offset += size
        for layer in self.layers:
            if layer.params:
                layer.init_params(self.rng)
        #: The arrays of :meth:`loss_and_grad` by batch size (dense networks only).
        self._workspaces: dict[int, Workspace] = {}
        self._takes_out = all(layer.takes_out for layer in self.layers)
        self._predict_batch: int | None = None

    def _feeds_relu_like(self, i: int) -> bool:
        """Whether layer ``i``'s output reaches a ReLU-like activation before the next weighted
        layer: through batch norm, dropout, pooling or flatten (dense → batchnorm → relu, the
        app's per-layer batch norm), as He et al. assume for their initialization."""
        for layer in self.layers[i + 1 :]:
            if isinstance(layer, Activation):
                return layer.relu_like
            if hasattr(layer, "auto_init"):
                return False
        return False

    @property
    def n_outputs(self) -> int:
        return int(np.prod(self.output_shape))

    # -- computation -----------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Raw network output ``(batch, outputs)`` (logits for classification) for ``x`` of shape
        ``(batch, *input_shape)`` in the model's dtype."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, dout: np.ndarray) -> None:
        """Back-propagate d(loss)/d(output) ``(batch, outputs)``; fills ``self.grad``."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)

    def loss_and_grad(self, x: np.ndarray, y: np.ndarray) -> float:
        """One training-mode forward and backward pass on a batch; returns the batch loss and
        leaves its gradient in ``self.grad``. In a network whose every layer takes ``out``
        (dense layers and the simple activations), the layers write into the same arrays every
        step of a batch size: a small network's step is then mostly arithmetic rather than
        allocation."""
        work = self._workspaces.get(len(x)) if x.dtype is self.dtype else None
        if work is None and (work := self._workspace(x)) is None:
            loss = self.loss.forward(self.forward(x, True), y)
            self.backward(self.loss.backward())
            return loss
        for layer, out in work.forward:
            x = layer.forward(x, True, out)
        loss = self.loss.forward(x, y)
        dy = self.loss.backward(work.loss_grad)
        for layer, out in work.backward:
            dy = layer.backward(dy, out)
        return loss

    def _workspace(self, x: np.ndarray) -> Workspace | None:
        """New arrays for training steps on batches like ``x``, kept for the last two batch
        sizes (an epoch's batches and its last, smaller one); None if some layer allocates
        its own, or ``x`` is not in the model's dtype."""
        if not self._takes_out or x.dtype != self.dtype:
            return None
        if len(self._workspaces) >= 2:
            del self._workspaces[next(iter(self._workspaces))]
        work = self._workspaces[len(x)] = Workspace(self, len(x))
        return work

    def forward_collect(self, x: np.ndarray) -> list[np.ndarray]:
        """Inference pass returning every layer's output ``[(batch, *layer.output_shape)]``."""
        outs = []
        for layer in self.layers:
            x = layer.forward(x, False)
            outs.append(x)
        return outs

    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == len(self.input_shape):
            x = x[None]
        if x.shape[1:] != self.input_shape:
            raise ValueError(
                f"input: shape {x.shape} does not match the model's input "
                f"(batch, {', '.join(map(str, self.input_shape))})"
            )
        return x.astype(self.dtype, copy=False)

    @property
    def predict_batch(self) -> int:
        """Default inference chunk: :data:`PREDICT_CHUNK_BYTES` over the largest activation of
        one sample, between 64 and 4,096."""
        if self._predict_batch is None:  # worked out once: it costs more than a small forward
            shapes = [self.input_shape, *(layer.output_shape for layer in self.layers)]
            per_sample = max(math.prod(shape) for shape in shapes) * self.dtype.itemsize
            self._predict_batch = min(max(PREDICT_CHUNK_BYTES // per_sample, 64), 4096)
        return self._predict_batch

    def predict_raw(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Inference-mode raw outputs ``(n, outputs)``, computed in chunks of ``batch_size``
        (default :attr:`predict_batch`)."""
        x = self._check_input(x)
        batch_size = batch_size or self.predict_batch
        if len(x) <= batch_size:
            return self.forward(x).reshape(len(x), -1)
        return np.concatenate(
            [
                self.forward(x[i : i + batch_size]).reshape(-1, self.n_outputs)
                for i in range(0, len(x), batch_size)
            ]
        )

    def predict_proba(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities ``(n, classes)`` (two columns for a single sigmoid output);
        for regression the predicted values ``(n, outputs)``."""
        return self.loss.output(self.predict_raw(x, batch_size))

    def predict(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Predicted class indices ``(n,)`` for classification, values ``(n,)`` or
        ``(n, outputs)`` for regression."""
        out = self.predict_proba(x, batch_size)
        if self.loss.task == "classification":
            return out.argmax(axis=1)
        return out[:, 0] if out.shape[1] == 1 else out

    # -- parameters ------------------------------------------------------------------------------
    def named_params(self) -> list[tuple[str, np.ndarray]]:
        """``[("3.W", view), ...]``: the layer index in the spec and the parameter name."""
        index = {id(layer): i for i, layer in enumerate(self.layers)}
        named = [
            (f"{index[id(layer)]}.{name}", layer.params[name]) for layer, name, _ in self._slices
        ]
        return sorted(named, key=lambda kv: (int(kv[0].split(".")[0]), kv[0]))

    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable state by ``"index.name"`` (BatchNorm running statistics)."""
        return {
            f"{i}.{name}": buf
            for i, layer in enumerate(self.layers)
            for name, buf in layer.buffers.items()
        }

    def get_state(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer by name."""
        state = {name: p.copy() for name, p in self.named_params()}
        state.update({name: b.copy() for name, b in self.buffers().items()})
        return state

    def state_targets(
        self, state: Mapping[str, Any], where: str = "state"
    ) -> dict[str, np.ndarray]:
        """Every parameter and buffer by name (the arrays :meth:`set_state` writes into), after
        checking that ``state`` names exactly these; ValueError naming ``where`` otherwise."""
        targets = dict(self.named_params())
        targets.update(self.buffers())
        missing = sorted(set(targets) - set(state))
        extra = sorted(set(state) - set(targets))
        if missing or extra:
            raise ValueError(f"{where}: missing {missing}, unexpected {extra}")
        return targets

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Load parameters and buffers by name after checking names and shapes (all or none)."""
        targets = self.state_targets(state)
        for name, target in targets.items():
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(f"state: {name} has shape {value.shape}, expected {target.shape}")
        for name, target in targets.items():
            target[...] = state[name]

    def summary(self) -> str:
        """A readable table: layer, output shape, parameter count."""
        rows = [("#", "layer", "output", "params")]
        for i, layer in enumerate(self.layers):
            n = sum(int(p.size) for p in layer.params.values())
            rows.append((str(i), repr(layer), "×".join(map(str, layer.output_shape)), f"{n:,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = [
            "  ".join(r[c].ljust(widths[c]) if c < 3 else r[c].rjust(widths[c]) for c in range(4))
            for r in rows
        ]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(
            f"input {'×'.join(map(str, self.input_shape))}, loss {self.loss.name}, "
            f"{self.n_params:,} parameters"
        )
        return "\n".join(lines)


class Workspace:
    """The arrays of a training step on ``n`` samples: each layer's output and input gradient
    (none for a first layer that computes no input gradient) and the loss gradient, as
    ``(layer, out)`` pairs in the order the passes visit the layers."""

    def __init__(self, model: Sequential, n: int) -> None:
        def array(shape: tuple[int, ...]) -> np.ndarray:
            return np.empty((n, *shape), model.dtype)

        layers = model.layers
        self.forward = [(layer, array(layer.output_shape)) for layer in layers]
        self.backward = [
            (layer, array(layer.input_shape) if layer.needs_input_grad else None)
            for layer in reversed(layers)
        ]
        self.loss_grad = array(model.output_shape)

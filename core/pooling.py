"""Pooling over images: MaxPool2D and AvgPool2D.

Shapes are PyTorch's: ``(batch, channels, height, width)`` in and out; outputs are stored
batch-last as convolution's are (see :mod:`core.conv`). Pooling loops over the window offsets: a
running maximum (or sum) of strided views, and for max pooling the index of the first maximum of
each window, kept as one byte per output; the backward pass routes the gradient through it, one
offset at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.conv import check_image_input, compact, image_shape, size_pair, size_text, whole_number
from core.im2col import batch_last, window
from core.layers import Layer


class _Pool2D(Layer):
    """Shared shape logic of the pooling layers: windows ``pool_size`` moved by ``stride``
    (default: the window size), no padding, partial windows at the edges dropped (PyTorch's
    ``ceil_mode=False``). The input gradient returned by ``backward`` is a buffer that the next
    ``backward`` call overwrites (the layer before consumes it at once)."""

    def __init__(
        self,
        pool_size: int | list[int] | tuple[int, int] = 2,
        stride: int | list[int] | tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.pool_size = size_pair("pool_size", pool_size, 1)
        self.stride = self.pool_size if stride is None else size_pair("stride", stride, 1)
        self._n = 0
        self._buffers: dict[str, np.ndarray] = {}
        self._xb: np.ndarray | None = None
        self._arg: np.ndarray | None = None

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A scratch array kept between calls (fresh arrays of this size cost page faults)."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[name] = np.empty(shape, dtype)
        return buf

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        c, h, w = image_shape(self.kind, input_shape)
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        if ph > h or pw > w:
            pool = size_text(self.pool_size)
            raise ValueError(f"{self.kind}: pool {pool} does not fit input {h}x{w}")
        return (c, (h - ph) // sh + 1, (w - pw) // sw + 1)

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {"type": self.kind, "pool_size": compact(self.pool_size)}
        if self.stride != self.pool_size:
            cfg["stride"] = compact(self.stride)
        return cfg

    def _windows(self) -> list[tuple[int, slice, slice]]:
        """Per window offset ``(i, j)``, in row-major order: its number and the rows and columns
        it picks in every window, so ``xb[:, rows, cols]`` is ``(C, oh, ow, n)`` for a
        batch-last ``xb (C, H, W, n)``."""
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        _, oh, ow = self.output_shape
        return [
            (i * pw + j, window(i, sh, oh), window(j, sw, ow)) for i in range(ph) for j in range(pw)
        ]

    @property
    def _overlap(self) -> bool:
        return self.stride[0] < self.pool_size[0] or self.stride[1] < self.pool_size[1]

    def _grad_buffer(self, dtype: np.dtype) -> np.ndarray:
        """The batch-last ``(C, H, W, n)`` input gradient, zeroed unless the windows tile the
        input exactly (then every position is written). It is reused by the next backward
        call: the layer before consumes it at once."""
        c, h, w = self.input_shape
        _, oh, ow = self.output_shape
        dx = self._buffer("dx", (c, h, w, self._n), dtype)
        if not (
            self.stride == self.pool_size and (oh * self.stride[0], ow * self.stride[1]) == (h, w)
        ):
            dx.fill(0)
        return dx


class MaxPool2D(_Pool2D):
    """Maximum over ``pool_size`` windows. Input ``(batch, C, H, W)``, output
    ``(batch, C, (H - ph) // sh + 1, (W - pw) // sw + 1)``. The gradient goes to the first
    maximum of each window in row-major order (PyTorch's choice when values tie)."""

    kind = "maxpool"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        check_image_input(self, x)
        self._xb = xb = batch_last(x)
        self._n = n = x.shape[0]
        c, oh, ow = self.output_shape
        y = np.empty((c, oh, ow, n), x.dtype)
        if training:  # backward will follow: find where the maxima are as they are computed
            self._arg = self._track(xb, y)
        else:  # the maxima only; a backward pass (rare after inference) tracks them then
            self._arg = None
            windows = self._windows()
            _, r0, c0 = windows[0]
            np.copyto(y, xb[:, r0, c0])
            for _, rows, cols in windows[1:]:
                np.maximum(y, xb[:, rows, cols], out=y)
        return y.transpose(3, 0, 1, 2)

    def _track(self, xb: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Fill ``y`` with the window maxima of ``xb`` and return the window offset of each
        one's first maximum, ``(C, oh, ow, n)`` codes (a later offset takes over only where it
        is strictly greater)."""
        windows = self._windows()
        _, r0, c0 = windows[0]
        small = len(windows) <= 256
        arg = self._buffer("arg", y.shape, np.uint8 if small else np.uint16)
        if len(windows) == 1:
            np.copyto(y, xb[:, r0, c0])
            arg.fill(0)
            return arg
        _, r1, c1 = windows[1]
        a, b = xb[:, r0, c0], xb[:, r1, c1]
        np.maximum(a, b, out=y)
        if small:
            np.greater(b, a, out=arg.view(np.bool_))  # a bool is the byte 0 or 1
        else:
            np.copyto(arg, np.greater(b, a))
        if len(windows) > 2:
            gt = self._buffer("gt", y.shape, np.bool_)
            mark = gt.view(np.uint8) if small else self._buffer("mark", y.shape, np.uint16)
            for k, rows, cols in windows[2:]:
                v = xb[:, rows, cols]
                np.greater(v, y, out=gt)
                np.maximum(y, v, out=y)
                # Offsets only grow, so "k where greater" is max(arg, k * greater).
                np.multiply(gt, arg.dtype.type(k), out=mark)
                np.maximum(arg, mark, out=arg)
        return arg

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dyb = batch_last(dy)
        dx = self._grad_buffer(dy.dtype)
        windows = self._windows()
        if self._arg is None:  # forward ran in inference mode
            self._arg = self._track(self._xb, np.empty(dyb.shape, self._xb.dtype))
        arg = self._arg
        hit = self._buffer("gt", arg.shape, np.bool_)
        for k, rows, cols in windows:
            np.equal(arg, k, out=hit)
            if self._overlap:
                dx[:, rows, cols] += dyb * hit
            else:
                np.multiply(dyb, hit, out=dx[:, rows, cols])
        return dx.transpose(3, 0, 1, 2)


class AvgPool2D(_Pool2D):
    """Mean over ``pool_size`` windows. Input ``(batch, C, H, W)``, output
    ``(batch, C, (H - ph) // sh + 1, (W - pw) // sw + 1)``."""

    kind = "avgpool"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        check_image_input(self, x)
        xb = batch_last(x)
        self._n = n = x.shape[0]
        c, oh, ow = self.output_shape
        windows = self._windows()
        y = np.empty((c, oh, ow, n), x.dtype)
        _, r0, c0 = windows[0]
        np.copyto(y, xb[:, r0, c0])
        for _, rows, cols in windows[1:]:
            y += xb[:, rows, cols]
        y *= 1.0 / len(windows)
        return y.transpose(3, 0, 1, 2)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        windows = self._windows()
        g = batch_last(dy) * (1.0 / len(windows))
        dx = self._grad_buffer(dy.dtype)
        for _, rows, cols in windows:
            if self._overlap:
                dx[:, rows, cols] += g
            else:
                dx[:, rows, cols] = g
        return dx.transpose(3, 0, 1, 2)


def pool_text_args(text: str) -> dict[str, Any]:
    """Keyword arguments of the pooling layers from ``SIZE[/STRIDE]``: ``"2"`` -> 2x2 windows,
    stride 2; ``"3/2"`` -> 3x3 windows, stride 2; empty -> 2x2."""
    if not text:
        return {}
    size, _, stride = text.partition("/")
    args: dict[str, Any] = {"pool_size": whole_number("pool size", size)}
    if stride:
        args["stride"] = whole_number("pool stride", stride)
    return args

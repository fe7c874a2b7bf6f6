"""Convolution and pooling over images: Conv2D, MaxPool2D, AvgPool2D.

Shapes are PyTorch's: inputs and outputs are ``(batch, channels, height, width)`` and a kernel
is ``(filters, channels, kh, kw)``.

How it is computed
------------------
*Memory layout.* The layers here store their outputs *batch-last*, ``(channels, height, width,
batch)`` in memory, and hand them on as transposed views with the usual logical shape. In that
layout a convolution is one matrix product whose result needs no reordering, and every image
operation (a shifted window, a pooling offset) touches runs of ``batch`` or ``width * batch``
contiguous numbers, which is what NumPy's vectorized loops need: the same operations on the last
axis of NCHW arrays step through memory two or more apart and run several times slower.
Element-wise layers between them (activations) keep the layout; ``Flatten`` reorders when it
reshapes. Any layout works as input: one that is not batch-last is copied once.

*Convolution* is im2col: each kernel offset ``(c, i, j)`` is one row of a column matrix
``(C·kh·kw + 1, oh·ow·batch)``, filled by ``kh·kw`` strided block copies (the only Python loop,
over kernel offsets, never over samples or pixels); a last row of ones carries the bias. The
forward pass is ``[W | b] @ cols``, the parameter gradient ``dy @ colsᵀ`` (``dW`` and ``db``
together, summed over column blocks that stay in cache) and the input gradient ``Wᵀ @ dy``
scattered back (col2im) with the same loop. Buffers (the column matrix, the padded input, the
training-mode output, the input gradient) are kept per input shape: fresh arrays of these sizes
cost page faults on every step.

*Pooling* loops over the window offsets: a running maximum (or sum) of strided views, and for
max pooling the index of the first maximum of each window, kept as one byte per output; the
backward pass routes the gradient through it, one offset at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core import init as initializers
from core.layers import Layer
from core.validation import check_number

MAX_SIZE = 4096
#: In inference the column matrix is built for about this many bytes at a time (a few output
#: rows of the whole batch), so evaluating a large batch does not need a column matrix many
#: times the size of the images.
CHUNK_BYTES = 32 * 2**20
#: Columns per block of the weight-gradient product (see ``_matmul_nt``).
BLOCK = 1152

Pair = tuple[int, int]


# -- helpers -------------------------------------------------------------------------------------
def _pair(field: str, value: Any, low: int) -> Pair:
    """``5`` or ``[5, 3]`` -> ``(5, 5)`` / ``(5, 3)``, each a whole number >= ``low``."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{field}: {list(value)!r} must be one size or [height, width]")
        a, b = value
    else:
        a = b = value
    return (
        int(check_number(field, a, integer=True, low=low, high=MAX_SIZE)),
        int(check_number(field, b, integer=True, low=low, high=MAX_SIZE)),
    )


def _compact(p: Pair) -> int | list[int]:
    """The spec form of a pair: one number when both are equal."""
    return p[0] if p[0] == p[1] else list(p)


def _fmt(p: Pair) -> str:
    return f"{p[0]}x{p[1]}"


def _image_shape(kind: str, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(
            f"{kind}: input shape {input_shape} is not an image (channels, height, width); "
            "give the data an input_shape like [1, 28, 28]"
        )
    return input_shape  # type: ignore[return-value]


def _check_input(layer: Layer, x: np.ndarray) -> None:
    """ValueError unless ``x`` is ``(batch, *layer.input_shape)``."""
    if x.ndim != 4 or x.shape[1:] != layer.input_shape:
        c, h, w = layer.input_shape
        detail = ""
        if x.ndim == 4 and x.shape[1] != c:
            detail = f"; it has {x.shape[1]} channels, the layer was built for {c}"
        raise ValueError(
            f"{layer.kind}: input of shape {x.shape} does not match (batch, {c}, {h}, {w}){detail}"
        )


def _batch_last(x: np.ndarray) -> np.ndarray:
    """The ``(C, H, W, batch)`` memory of ``x (batch, C, H, W)``: a view when ``x`` is stored
    batch-last (as this module's outputs are), a contiguous copy otherwise."""
    xb = x.transpose(1, 2, 3, 0)
    return xb if xb.flags.c_contiguous else np.ascontiguousarray(xb)


def _window(start: int, stride: int, count: int) -> slice:
    """The slice that picks ``count`` positions ``start, start + stride, ...``."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def _matmul_nn(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out (p, q) = a (p, m) @ b (m, q)`` for a long ``q``, one product per block of ``BLOCK``
    columns. One BLAS call on the whole is split across threads, and these stall (measured: 10x
    the product's time on average) whenever another process holds a core; products this small
    the BLAS does in the calling thread, and no slower."""
    q = b.shape[1]
    nb = q // BLOCK
    if nb < 2:
        np.matmul(a, b, out=out)
        return
    main = nb * BLOCK
    np.matmul(
        a,
        b[:, :main].reshape(b.shape[0], nb, BLOCK).transpose(1, 0, 2),
        out=out[:, :main].reshape(out.shape[0], nb, BLOCK).transpose(1, 0, 2),
    )
    if main < q:
        np.matmul(a, b[:, main:], out=out[:, main:])


def _matmul_nt(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out (p, q) = a (p, m) @ b (q, m)ᵀ`` for a long ``m``, summed over blocks of ``BLOCK``
    columns: one BLAS call on the whole would stream both operands through one long dot product
    per output, slower than small products that stay in cache (and that the BLAS does in the
    calling thread, so it does not stall when the other core is busy)."""
    m = a.shape[1]
    nb, size = m // BLOCK, BLOCK
    if nb < 2:
        np.matmul(a, b.T, out=out)
        return
    main = nb * size
    parts = np.matmul(
        a[:, :main].reshape(a.shape[0], nb, size).transpose(1, 0, 2),
        b[:, :main].reshape(b.shape[0], nb, size).transpose(1, 2, 0),
    )
    np.add.reduce(parts, axis=0, out=out)
    if main < m:
        out += a[:, main:] @ b[:, main:].T


# -- convolution ---------------------------------------------------------------------------------
class Conv2D(Layer):
    """2-D convolution (cross-correlation, as PyTorch's ``Conv2d``).

    Input ``(batch, channels, height, width)``, output ``(batch, filters, out_h, out_w)`` with
    ``out_h = (height + pad_top + pad_bottom - kh) // stride_h + 1`` (likewise ``out_w``).
    Parameters ``W (filters, channels, kh, kw)`` and ``b (filters,)``.

    Parameters
    ----------
    filters : number of output channels.
    kernel_size : ``k`` or ``[kh, kw]``.
    stride : ``s`` or ``[sh, sw]``.
    padding : zeros added on each side: ``p``, ``[ph, pw]``, ``"valid"`` (0) or ``"same"``
        (output as large as the input; stride 1 only; for an even kernel the extra row/column
        goes at the bottom/right, as in PyTorch).
    init : initializer name; ``"auto"`` is ``self.auto_init`` (Glorot uniform, He normal when the
        model builder sees a ReLU-like activation next). Fans: ``channels·kh·kw`` in,
        ``filters·kh·kw`` out.
    bias : whether to learn ``b``.

    The output of a training-mode ``forward`` is a buffer that the next training-mode call
    overwrites (within a training step the next layer and ``backward`` use it; a fresh array
    each step costs page faults), and so is the input gradient returned by ``backward``. Copy
    them to keep them. Inference-mode outputs are always new arrays.
    """

    kind = "conv"
    regularized = ("W",)

    def __init__(
        self,
        filters: int,
        kernel_size: int | list[int] | tuple[int, int],
        stride: int | list[int] | tuple[int, int] = 1,
        padding: int | str | list[int] | tuple[int, int] = 0,
        init: str = "auto",
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.filters = int(check_number("filters", filters, integer=True, low=1, high=65536))
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = _pair("stride", stride, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"padding: {padding!r} is not known; allowed: a whole number >= 0, "
                    "[height, width], 'same', 'valid'"
                )
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(
                    f"padding: 'same' needs stride 1, got stride {_fmt(self.stride)}; "
                    "give the padding as a number instead"
                )
            self.padding: str | Pair = "same" if padding == "same" else (0, 0)
        else:
            self.padding = _pair("padding", padding, 0)
        kh, kw = self.kernel_size
        if self.padding == "same":
            self._pad = ((kh - 1) // 2, kh // 2, (kw - 1) // 2, kw // 2)  # top bottom left right
        else:
            ph, pw = self.padding
            self._pad = (ph, ph, pw, pw)
        self.init = initializers.check_name(init)
        self.use_bias = bool(bias)
        #: What "auto" means here; the model builder sets He before ReLU-like activations.
        self.auto_init = "glorot_uniform"
        self._xp: np.ndarray | None = None  # last input, batch-last and padded (C, Hp, Wp, n)
        self._xbuf: np.ndarray | None = None  # buffer for it when x had to be copied
        self._dxbuf: np.ndarray | None = None  # input gradient, padded (C, Hp, Wp, n)
        self._outbuf: np.ndarray | None = None  # training-mode output (filters, oh, ow, n)
        self._cols: np.ndarray | None = None  # (C·kh·kw [+1], oh·ow·n), kept for backward
        self._cols_ready = False
        self._wmat: np.ndarray | None = None  # (filters, C·kh·kw [+1]): W and b side by side
        self._gmat: np.ndarray | None = None  # its gradient

    # -- structure -------------------------------------------------------------------------------
    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        c, h, w = _image_shape(self.kind, input_shape)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        top, bottom, left, right = self._pad
        hp, wp = h + top + bottom, w + left + right
        if kh > hp or kw > wp:
            raise ValueError(
                f"{self.kind}: kernel {_fmt(self.kernel_size)} does not fit input {h}x{w} "
                f"(padding {self._padding_text()})"
            )
        return (self.filters, (hp - kh) // sh + 1, (wp - kw) // sw + 1)

    @property
    def pads(self) -> tuple[int, int, int, int]:
        """Zeros added ``(top, bottom, left, right)``, with ``"same"`` resolved (for exporters)."""
        return self._pad

    def _padding_text(self) -> str:
        if self.padding == "same":
            return "same"
        ph, pw = self.padding
        return str(ph) if ph == pw else f"{ph}x{pw}"

    def build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        out = super().build(input_shape)
        self._xp = self._xbuf = self._dxbuf = self._outbuf = None
        self._cols = self._wmat = self._gmat = None
        self._cols_ready = False
        return out

    @property
    def _k(self) -> int:
        """Rows of the column matrix that hold input values: ``channels·kh·kw``."""
        return self.input_shape[0] * self.kernel_size[0] * self.kernel_size[1]

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {"W": (self.filters, self.input_shape[0], *self.kernel_size)}
        if self.use_bias:
            shapes["b"] = (self.filters,)
        return shapes

    def init_params(self, rng: np.random.Generator) -> None:
        area = self.kernel_size[0] * self.kernel_size[1]
        fan_in, fan_out = self.input_shape[0] * area, self.filters * area
        name = self.auto_init if self.init == "auto" else self.init
        initializers.fill(name, self.params["W"], fan_in, fan_out, rng)
        if self.use_bias:
            self.params["b"].fill(0)

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "type": self.kind,
            "filters": self.filters,
            "kernel_size": _compact(self.kernel_size),
            "stride": _compact(self.stride),
            "padding": self.padding if self.padding == "same" else _compact(self.padding),
            "init": self.init,
        }
        if not self.use_bias:
            cfg["bias"] = False
        return cfg

    # -- computation -----------------------------------------------------------------------------
    def _weight_matrix(self, dtype: np.dtype) -> np.ndarray:
        """``(filters, K [+1])``: the kernels as rows, the bias as the last column."""
        k, f = self._k, self.filters
        if self._wmat is None or self._wmat.dtype != dtype:
            self._wmat = np.empty((f, k + self.use_bias), dtype)
            self._gmat = np.empty((f, k + self.use_bias), dtype)
        self._wmat[:, :k] = self.params["W"].reshape(f, k)
        if self.use_bias:
            self._wmat[:, k] = self.params["b"]
        return self._wmat

    def _padded(self, x: np.ndarray) -> np.ndarray:
        """``x`` batch-last and zero-padded, ``(C, Hp, Wp, n)``: a view of ``x`` when it is
        already stored that way and needs no padding, else the cached buffer."""
        top, bottom, left, right = self._pad
        xb = x.transpose(1, 2, 3, 0)
        if not (top or bottom or left or right) and xb.flags.c_contiguous:
            return xb
        c, h, w, n = xb.shape
        shape = (c, h + top + bottom, w + left + right, n)
        buf = self._xbuf
        if buf is None or buf.shape != shape or buf.dtype != x.dtype:
            buf = self._xbuf = np.zeros(shape, x.dtype)  # borders stay zero
        buf[:, top : top + h, left : left + w] = xb
        return buf

    def _im2col(self, xp: np.ndarray, cols: np.ndarray, r0: int = 0, r1: int | None = None) -> None:
        """Fill ``cols[:K]`` ``(C·kh·kw, (r1 - r0)·ow·n)`` from ``xp (C, Hp, Wp, n)`` for the
        output rows ``r0:r1`` (all by default)."""
        c, n = xp.shape[0], xp.shape[3]
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        _, oh, ow = self.output_shape
        r1 = oh if r1 is None else r1
        blocks = cols[: self._k].reshape(c, kh, kw, r1 - r0, ow, n)
        for i in range(kh):
            rows = _window(i + r0 * sh, sh, r1 - r0)
            for j in range(kw):
                blocks[:, i, j] = xp[:, rows, _window(j, sw, ow)]

    def _columns(self, n: int, dtype: np.dtype, cache: bool, rows: int | None = None) -> np.ndarray:
        """A column matrix for ``n`` samples and ``rows`` output rows (all by default), its
        bias row of ones filled in."""
        rows = self.output_shape[1] if rows is None else rows
        shape = (self._k + self.use_bias, rows * self.output_shape[2] * n)
        cols = self._cols if cache else None
        if cols is None or cols.shape != shape or cols.dtype != dtype:
            cols = np.empty(shape, dtype)
            if self.use_bias:
                cols[-1] = 1.0
            if cache:
                self._cols = cols
        return cols

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        _check_input(self, x)
        n = x.shape[0]
        f, oh, ow = self.output_shape
        wmat = self._weight_matrix(x.dtype)
        self._xp = xp = self._padded(x)
        if training:  # reused: a training output lives until the next training step
            out = self._outbuf
            if out is None or out.shape != (f, oh, ow, n) or out.dtype != x.dtype:
                out = self._outbuf = np.empty((f, oh, ow, n), x.dtype)
        else:
            out = np.empty((f, oh, ow, n), x.dtype)
        row_bytes = wmat.shape[1] * ow * n * x.itemsize
        step = oh if training else max(1, CHUNK_BYTES // max(row_bytes, 1))
        out2 = out.reshape(f, -1)
        if step >= oh:  # all at once; the columns stay for backward
            cols = self._columns(n, x.dtype, cache=True)
            self._im2col(xp, cols)
            _matmul_nn(wmat, cols, out2)
            self._cols_ready = True
        else:  # a large inference batch: a few output rows at a time (backward rebuilds all)
            self._cols_ready = False
            block = self._columns(n, x.dtype, cache=False, rows=step)
            for r0 in range(0, oh, step):
                r1 = min(oh, r0 + step)
                cols = block[:, : (r1 - r0) * ow * n]
                self._im2col(xp, cols, r0, r1)
                _matmul_nn(wmat, cols, out2[:, r0 * ow * n : r1 * ow * n])
        return out.transpose(3, 0, 1, 2)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        n = self._xp.shape[3]
        f = self.filters
        cols = self._columns(n, self._xp.dtype, cache=True)
        if not self._cols_ready:
            self._im2col(self._xp, cols)
            self._cols_ready = True
        dy2 = _batch_last(dy).reshape(f, -1)  # (filters, oh·ow·n)
        gmat = self._gmat
        _matmul_nt(dy2, cols, gmat)  # [dW | db]
        k = self._k
        self.grads["W"].reshape(f, k)[...] = gmat[:, :k]
        if self.use_bias:
            self.grads["b"][...] = gmat[:, k]
        if not self.needs_input_grad:
            return dy
        dcols = np.empty((k, dy2.shape[1]), dy2.dtype)
        _matmul_nn(self.params["W"].reshape(f, k).T, dy2, dcols)
        return self._col2im(dcols, n)

    def _col2im(self, dcols: np.ndarray, n: int) -> np.ndarray:
        """Scatter-add ``dcols (C·kh·kw, oh·ow·n)`` into the input gradient ``(n, C, H, W)``
        (a buffer reused by the next backward call: the layer before consumes it at once)."""
        c, h, w = self.input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        _, oh, ow = self.output_shape
        top, bottom, left, right = self._pad
        shape = (c, h + top + bottom, w + left + right, n)
        dxp = self._dxbuf
        if dxp is None or dxp.shape != shape or dxp.dtype != dcols.dtype:
            dxp = self._dxbuf = np.empty(shape, dcols.dtype)
        dxp.fill(0)
        blocks = dcols.reshape(c, kh, kw, oh, ow, n)
        for i in range(kh):
            rows = _window(i, sh, oh)
            for j in range(kw):
                dxp[:, rows, _window(j, sw, ow)] += blocks[:, i, j]
        return dxp[:, top : top + h, left : left + w].transpose(3, 0, 1, 2)


# -- pooling -------------------------------------------------------------------------------------
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
        self.pool_size = _pair("pool_size", pool_size, 1)
        self.stride = self.pool_size if stride is None else _pair("stride", stride, 1)
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
        c, h, w = _image_shape(self.kind, input_shape)
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        if ph > h or pw > w:
            raise ValueError(f"{self.kind}: pool {_fmt(self.pool_size)} does not fit input {h}x{w}")
        return (c, (h - ph) // sh + 1, (w - pw) // sw + 1)

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {"type": self.kind, "pool_size": _compact(self.pool_size)}
        if self.stride != self.pool_size:
            cfg["stride"] = _compact(self.stride)
        return cfg

    def _windows(self) -> list[tuple[int, slice, slice]]:
        """Per window offset ``(i, j)``, in row-major order: its number and the rows and columns
        it picks in every window, so ``xb[:, rows, cols]`` is ``(C, oh, ow, n)`` for a
        batch-last ``xb (C, H, W, n)``."""
        (ph, pw), (sh, sw) = self.pool_size, self.stride
        _, oh, ow = self.output_shape
        return [
            (i * pw + j, _window(i, sh, oh), _window(j, sw, ow))
            for i in range(ph)
            for j in range(pw)
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
        _check_input(self, x)
        self._xb = xb = _batch_last(x)
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
        dyb = _batch_last(dy)
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
        _check_input(self, x)
        xb = _batch_last(x)
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
        g = _batch_last(dy) * (1.0 / len(windows))
        dx = self._grad_buffer(dy.dtype)
        for _, rows, cols in windows:
            if self._overlap:
                dx[:, rows, cols] += g
            else:
                dx[:, rows, cols] = g
        return dx.transpose(3, 0, 1, 2)


# -- compact text ("conv:16x5/2:same", "maxpool:3/2") --------------------------------------------
def _whole(field: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not a whole number") from None


def conv_text_args(text: str) -> dict[str, Any]:
    """Keyword arguments of Conv2D from ``FILTERSxKERNEL[/STRIDE][:same|:valid|:pPAD]``:
    ``"16x5"`` -> 16 filters 5x5, ``"32x3/2"`` stride 2, ``"32x3:same"``, ``"32x3/2:p1"``."""
    usage = "write conv:FILTERSxKERNEL[/STRIDE][:same|:valid|:pPAD], e.g. conv:16x5 or conv:32x3:p1"
    head, *options = text.lower().split(":")
    body, _, stride = head.partition("/")
    filters, sep, kernel = body.partition("x")
    if not sep or not filters or not kernel or len(options) > 1:
        raise ValueError(f"conv: {text!r} is not understood; {usage}")
    args: dict[str, Any] = {
        "filters": _whole("conv filters", filters),
        "kernel_size": _whole("conv kernel", kernel),
    }
    if stride:
        args["stride"] = _whole("conv stride", stride)
    if options:
        opt = options[0].strip().lower()
        if opt in ("same", "valid"):
            args["padding"] = opt
        elif opt.startswith("p"):
            args["padding"] = _whole("conv padding", opt[1:])
        else:
            raise ValueError(f"conv: option {opt!r} is not understood; {usage}")
    return args


def pool_text_args(text: str) -> dict[str, Any]:
    """Keyword arguments of the pooling layers from ``SIZE[/STRIDE]``: ``"2"`` -> 2x2 windows,
    stride 2; ``"3/2"`` -> 3x3 windows, stride 2; empty -> 2x2."""
    if not text:
        return {}
    size, _, stride = text.partition("/")
    args: dict[str, Any] = {"pool_size": _whole("pool size", size)}
    if stride:
        args["stride"] = _whole("pool stride", stride)
    return args

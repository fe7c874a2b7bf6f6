"""Convolution over images: Conv2D, and the sizes and compact text it shares with pooling.

Shapes are PyTorch's: inputs and outputs are ``(batch, channels, height, width)`` and a kernel
is ``(filters, channels, kh, kw)``.

How it is computed
------------------
*Memory layout.* The image layers store their outputs *batch-last*, ``(channels, height, width,
batch)`` in memory, and hand them on as transposed views with the usual logical shape. In that
layout a convolution is one matrix product whose result needs no reordering, and every image
operation (a shifted window, a pooling offset) touches runs of ``batch`` or ``width * batch``
contiguous numbers, which is what NumPy's vectorized loops need: the same operations on the last
axis of NCHW arrays step through memory two or more apart and run several times slower.
Element-wise layers between them (activations) keep the layout; ``Flatten`` reorders when it
reshapes. Any layout works as input: one that is not batch-last is copied once.

*Convolution* is im2col (:mod:`core.im2col`): each kernel offset ``(c, i, j)`` is one row of a
column matrix ``(C·kh·kw + 1, oh·ow·batch)``; a last row of ones carries the bias. The forward
pass is ``[W | b] @ cols``, the parameter gradient ``dy @ colsᵀ`` (``dW`` and ``db`` together,
summed over column blocks that stay in cache) and the input gradient ``Wᵀ @ dy`` scattered back
(col2im). The products are computed in blocks that stay in the calling BLAS thread
(:mod:`core.matmul`). Buffers (the column matrix, the padded input, the training-mode output,
the input gradient) are kept per input shape: fresh arrays of these sizes cost page faults on
every step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core import init as initializers
from core.im2col import batch_last, col2im, im2col
from core.layers import Layer
from core.matmul import matmul_into, matmul_nt
from core.validation import check_number

MAX_SIZE = 4096
#: In inference the column matrix is built for about this many bytes at a time (a few output
#: rows of the whole batch), so evaluating a large batch does not need a column matrix many
#: times the size of the images.
CHUNK_BYTES = 32 * 2**20

Pair = tuple[int, int]


# -- sizes shared with pooling -------------------------------------------------------------------
def size_pair(field: str, value: Any, low: int) -> Pair:
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


def compact(p: Pair) -> int | list[int]:
    """The spec form of a pair: one number when both are equal."""
    return p[0] if p[0] == p[1] else list(p)


def size_text(p: Pair) -> str:
    return f"{p[0]}x{p[1]}"


def image_shape(kind: str, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(
            f"{kind}: input shape {input_shape} is not an image (channels, height, width); "
            "give the data an input_shape like [1, 28, 28]"
        )
    return input_shape  # type: ignore[return-value]


def check_image_input(layer: Layer, x: np.ndarray) -> None:
    """ValueError unless ``x`` is ``(batch, *layer.input_shape)``."""
    if x.ndim != 4 or x.shape[1:] != layer.input_shape:
        c, h, w = layer.input_shape
        detail = ""
        if x.ndim == 4 and x.shape[1] != c:
            detail = f"; it has {x.shape[1]} channels, the layer was built for {c}"
        raise ValueError(
            f"{layer.kind}: input of shape {x.shape} does not match (batch, {c}, {h}, {w}){detail}"
        )


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
        self.kernel_size = size_pair("kernel_size", kernel_size, 1)
        self.stride = size_pair("stride", stride, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"padding: {padding!r} is not known; allowed: a whole number >= 0, "
                    "[height, width], 'same', 'valid'"
                )
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(
                    f"padding: 'same' needs stride 1, got stride {size_text(self.stride)}; "
                    "give the padding as a number instead"
                )
            self.padding: str | Pair = "same" if padding == "same" else (0, 0)
        else:
            self.padding = size_pair("padding", padding, 0)
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
        c, h, w = image_shape(self.kind, input_shape)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        top, bottom, left, right = self._pad
        hp, wp = h + top + bottom, w + left + right
        if kh > hp or kw > wp:
            raise ValueError(
                f"{self.kind}: kernel {size_text(self.kernel_size)} does not fit input {h}x{w} "
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
            "kernel_size": compact(self.kernel_size),
            "stride": compact(self.stride),
            "padding": self.padding if self.padding == "same" else compact(self.padding),
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
        im2col(xp, cols[: self._k], self.kernel_size, self.stride, self.output_shape[2], r0, r1)

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
        check_image_input(self, x)
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
            matmul_into(wmat, cols, out2)
            self._cols_ready = True
        else:  # a large inference batch: a few output rows at a time (backward rebuilds all)
            self._cols_ready = False
            block = self._columns(n, x.dtype, cache=False, rows=step)
            for r0 in range(0, oh, step):
                r1 = min(oh, r0 + step)
                cols = block[:, : (r1 - r0) * ow * n]
                self._im2col(xp, cols, r0, r1)
                matmul_into(wmat, cols, out2[:, r0 * ow * n : r1 * ow * n])
        return out.transpose(3, 0, 1, 2)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        n = self._xp.shape[3]
        f = self.filters
        cols = self._columns(n, self._xp.dtype, cache=True)
        if not self._cols_ready:
            self._im2col(self._xp, cols)
            self._cols_ready = True
        dy2 = batch_last(dy).reshape(f, -1)  # (filters, oh·ow·n)
        gmat = self._gmat
        matmul_nt(dy2, cols, gmat)  # [dW | db]
        k = self._k
        self.grads["W"].reshape(f, k)[...] = gmat[:, :k]
        if self.use_bias:
            self.grads["b"][...] = gmat[:, k]
        if not self.needs_input_grad:
            return dy
        dcols = np.empty((k, dy2.shape[1]), dy2.dtype)
        matmul_into(self.params["W"].reshape(f, k).T, dy2, dcols)
        return self._col2im(dcols, n)

    def _col2im(self, dcols: np.ndarray, n: int) -> np.ndarray:
        """Scatter-add ``dcols (C·kh·kw, oh·ow·n)`` into the input gradient ``(n, C, H, W)``
        (a buffer reused by the next backward call: the layer before consumes it at once)."""
        c, h, w = self.input_shape
        top, bottom, left, right = self._pad
        shape = (c, h + top + bottom, w + left + right, n)
        dxp = self._dxbuf
        if dxp is None or dxp.shape != shape or dxp.dtype != dcols.dtype:
            dxp = self._dxbuf = np.empty(shape, dcols.dtype)
        dxp.fill(0)
        col2im(dcols, dxp, self.kernel_size, self.stride, self.output_shape[1:])
        return dxp[:, top : top + h, left : left + w].transpose(3, 0, 1, 2)


# -- compact text ("conv:16x5/2:same", "maxpool:3/2") --------------------------------------------
def whole_number(field: str, text: str) -> int:
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
        "filters": whole_number("conv filters", filters),
        "kernel_size": whole_number("conv kernel", kernel),
    }
    if stride:
        args["stride"] = whole_number("conv stride", stride)
    if options:
        opt = options[0].strip().lower()
        if opt in ("same", "valid"):
            args["padding"] = opt
        elif opt.startswith("p"):
            args["padding"] = whole_number("conv padding", opt[1:])
        else:
            raise ValueError(f"conv: option {opt!r} is not understood; {usage}")
    return args

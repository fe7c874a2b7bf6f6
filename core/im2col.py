"""im2col and col2im: every kernel window of a batch of images as one column of a matrix, and back.

A convolution then is one matrix product: the kernels as rows ``(filters, C·kh·kw)`` times the
column matrix ``(C·kh·kw, oh·ow·batch)``. Images here are *batch-last*, ``(C, H, W, batch)`` in
memory: a shifted window then touches runs of ``batch`` or ``width * batch`` contiguous numbers,
which is what NumPy's vectorized loops need. Each kernel offset ``(c, i, j)`` is one row of the
column matrix, filled by one strided block copy per ``(i, j)`` (the only Python loop, over kernel
offsets, never over samples or pixels); col2im scatters a column gradient back with the same loop.

Example (a 3x3 kernel, stride 1, over one 1-channel 4x4 image)::

    xp = np.arange(16.0).reshape(1, 4, 4, 1)          # (C, H, W, batch)
    cols = np.empty((9, 2 * 2 * 1))
    im2col(xp, cols, (3, 3), (1, 1), out_w=2)         # column k is the k-th 3x3 window
"""

from __future__ import annotations

import numpy as np

Pair = tuple[int, int]


def batch_last(x: np.ndarray) -> np.ndarray:
    """The ``(C, H, W, batch)`` memory of ``x (batch, C, H, W)``: a view when ``x`` is stored
    batch-last (as the image layers' outputs are), a contiguous copy otherwise."""
    xb = x.transpose(1, 2, 3, 0)
    return xb if xb.flags.c_contiguous else np.ascontiguousarray(xb)


def window(start: int, stride: int, count: int) -> slice:
    """The slice that picks ``count`` positions ``start, start + stride, ...``."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def im2col(
    xp: np.ndarray,
    cols: np.ndarray,
    kernel_size: Pair,
    stride: Pair,
    out_w: int,
    r0: int = 0,
    r1: int | None = None,
) -> None:
    """Fill ``cols (C·kh·kw, (r1 - r0)·out_w·n)`` from the padded batch-last images
    ``xp (C, Hp, Wp, n)``, for the output rows ``r0:r1`` (all by default)."""
    c, hp, _, n = xp.shape
    (kh, kw), (sh, sw) = kernel_size, stride
    r1 = (hp - kh) // sh + 1 if r1 is None else r1
    blocks = cols.reshape(c, kh, kw, r1 - r0, out_w, n)
    for i in range(kh):
        rows = window(i + r0 * sh, sh, r1 - r0)
        for j in range(kw):
            blocks[:, i, j] = xp[:, rows, window(j, sw, out_w)]


def col2im(dcols: np.ndarray, dxp: np.ndarray, kernel_size: Pair, stride: Pair, out: Pair) -> None:
    """Add each column of ``dcols (C·kh·kw, oh·ow·n)`` back into the window it came from in
    ``dxp (C, Hp, Wp, n)`` (the padded input gradient), ``out`` being ``(oh, ow)``."""
    c, n = dxp.shape[0], dxp.shape[3]
    (kh, kw), (sh, sw) = kernel_size, stride
    oh, ow = out
    blocks = dcols.reshape(c, kh, kw, oh, ow, n)
    for i in range(kh):
        rows = window(i, sh, oh)
        for j in range(kw):
            dxp[:, rows, window(j, sw, ow)] += blocks[:, i, j]

"""Matrix products in blocks small enough for the BLAS to compute in the calling thread.

OpenBLAS splits a product across its threads once it is large enough, and threads that wait for
each other stall whenever another process holds a core: with two other processes running, a
128×784×256 product took 46 ms instead of 0.4 ms. A product made of blocks under the threshold
runs in the calling thread, so a busy machine slows it by no more than its share of the core; on
an idle machine it does without the second core. Dense and convolutional layers multiply
through these functions.

The thresholds, measured with the OpenBLAS of NumPy's wheels (0.3.31) by watching its worker
threads' CPU time, depend on the layout (see :func:`limit`): ``m·n·k`` multiply-adds of 2**20
for a product of row-major matrices (100×100×100 stays in the caller, 64×128×128 does not),
2**19 when the right operand is a transposed view (as a dense layer's ``dy @ Wᵀ`` is), and
about 460,000 matrix elements for a matrix-vector product. The limits here stay under them.
A process started with one BLAS thread (as the app's engine and sweep workers are, see
:mod:`core.blas_threads`) cannot stall this way, and multiplies in one call.

A blocked product computes each element as the same dot product; the BLAS may order its
additions differently for a block than for the whole, so results agree to rounding. The blocks
of :func:`matmul_nt` split the summed dimension, so its sums are added in another order.
"""

from __future__ import annotations

import os
from math import isqrt

import numpy as np

#: Whether the BLAS may split a product across threads: not when the process started with one
#: BLAS thread, where blocks would only cost time (a 784-input dense layer's products took
#: 1.0–1.3× as long in blocks).
SPLITS = (os.cpu_count() or 1) > 1 and (
    os.environ.get("OPENBLAS_NUM_THREADS", os.environ.get("OMP_NUM_THREADS")) != "1"
)

#: Multiply-adds of a product below which it is one BLAS call whatever its layout (a dense
#: layer's smaller products skip the blocking logic).
SMALL = 2**18 if SPLITS else 2**62


def limit(a: np.ndarray, b: np.ndarray) -> int:
    """Multiply-adds (exclusive) of a product ``a @ b`` that stays in the calling thread."""
    if len(a) == 1 or b.shape[1] == 1:  # a matrix-vector product
        return 2**18
    if b.strides[0] < b.strides[1]:  # b column-major (a transposed view)
        return 2**19
    return 2**20


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a (p, m) @ b (m, q)``, returned in ``out (p, q)`` (allocated when None; given, it must
    be C-contiguous), in blocks of the output when one call would be split across threads."""
    if len(a) * b.size < SMALL:  # the same BLAS call as np.matmul's, at half the cost
        return a.dot(b, out)
    if out is None:
        out = np.empty((len(a), b.shape[1]), np.result_type(a, b))
    matmul_into(a, b, out)
    return out


def matmul_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out (p, q) = a (p, m) @ b (m, q)`` for an ``out`` of any strides: one stacked product
    over the whole blocks of the output, then the margins that do not fill a block (each
    blocked the same way)."""
    p, m = a.shape
    q = b.shape[1]
    most = limit(a, b)
    if p * m * q < most or not SPLITS:
        np.matmul(a, b, out=out)
        return
    rows, cols = block_shape(p, m, q, most)
    pm, qm = p - p % rows, q - q % cols
    np.matmul(
        a[:pm].reshape(pm // rows, 1, rows, m),
        b[:, :qm].reshape(m, qm // cols, cols).transpose(1, 0, 2),
        out=out[:pm, :qm].reshape(pm // rows, rows, qm // cols, cols).transpose(0, 2, 1, 3),
    )
    if qm < q:
        matmul_into(a, b[:, qm:], out[:, qm:])
    if pm < p:
        matmul_into(a[pm:], b[:, :qm], out[pm:, :qm])


def block_shape(p: int, m: int, q: int, most: int = 2**20) -> tuple[int, int]:
    """(rows, columns) of the output blocks of a ``(p, m) @ (m, q)`` product with ``rows·m·
    columns < most``: whole rows when 64 columns or more fit beside them (a convolution's few
    filters times long rows of pixels), whole columns when 16 rows or more do (a narrow
    output), else square blocks of up to 32×32. (Measured on 784-256-128 layers: 32×32 blocks
    take 1.0–1.3× one call's time; wide blocks of a transposed right operand up to 4×.)"""
    area = max(1, (most - 1) // m)  # rows × columns
    if p * 64 <= area:
        return p, min(q, 1 << ((area // p).bit_length() - 1))
    if q * 16 <= area:
        rows = area // q
        return min(p, rows - rows % 16), q
    side = min(32, 1 << (isqrt(area).bit_length() - 1))
    return min(p, side), min(q, side)


def matmul_nt(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out (p, q) = a (p, m) @ b (q, m)ᵀ`` for a long ``m`` (a convolution's weight gradient,
    summed over every pixel of the batch), summed over blocks of ``m``: one call on the whole
    would also stream both operands through one long dot product per output, slower than
    small products that stay in cache."""
    p, m = a.shape
    q = b.shape[0]
    most = limit(a, b.T)
    if p * m * q < most:
        np.matmul(a, b.T, out=out)
        return
    size = max(1, (most - 1) // (p * q))
    nb = m // size
    main = nb * size
    parts = np.matmul(
        a[:, :main].reshape(p, nb, size).transpose(1, 0, 2),
        b[:, :main].reshape(q, nb, size).transpose(1, 2, 0),
    )
    np.add.reduce(parts, axis=0, out=out)
    if main < m:
        out += a[:, main:] @ b[:, main:].T

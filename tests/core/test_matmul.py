"""Blocked matrix products (core.matmul): every block stays under the layout's threshold, and
the results are those of one product, exactly below the threshold and to rounding above it,
for every layout the layers use, with margins that fill no whole block."""

import os
import subprocess
import sys

import numpy as np
import pytest
from floats import assert_close

import core.matmul
from core.layers import Dense
from core.matmul import block_shape, limit, matmul, matmul_into, matmul_nt


@pytest.fixture(autouse=True)
def blas_threads(monkeypatch):
    """Blocks as in a process whose BLAS may use several threads (even if this one may not)."""
    monkeypatch.setattr(core.matmul, "SPLITS", True)


def operands(p, m, q, layout="nn", dtype=np.float32, seed=0):
    """``a (p, m)`` and ``b (m, q)``; ``"tn"``/``"nt"``: a or b a transposed view."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((p, m)).astype(dtype)
    b = rng.standard_normal((m, q)).astype(dtype)
    if layout[0] == "t":
        a = np.ascontiguousarray(a.T).T
    if layout[1] == "t":
        b = np.ascontiguousarray(b.T).T
    return a, b


@pytest.mark.parametrize("layout", ["nn", "tn", "nt"])
@pytest.mark.parametrize("p, m, q", [(10, 2, 8), (128, 8, 16), (1, 64, 9), (33, 7, 1)])
def test_products_below_the_threshold_are_one_call(p, m, q, layout):
    a, b = operands(p, m, q, layout)
    assert p * m * q < limit(a, b)
    out = np.empty((p, q), np.float32)
    assert matmul(a, b, out) is out
    assert np.array_equal(out, a @ b)
    assert np.array_equal(matmul(a, b), a @ b)


@pytest.mark.parametrize("layout", ["nn", "tn", "nt"])
@pytest.mark.parametrize(
    "p, m, q",
    [(128, 784, 256), (784, 128, 256), (128, 128, 256), (100, 300, 90), (5000, 200, 1)],
)
def test_products_above_the_threshold_are_blocked_with_the_same_result(p, m, q, layout):
    a, b = operands(p, m, q, layout)
    assert p * m * q >= limit(a, b)
    out = np.full((p, q), np.nan, np.float32)
    matmul(a, b, out)
    assert_close(out, a.astype(np.float64) @ b)


def test_blocks_of_any_size_and_margins_cover_the_output_once(monkeypatch):
    monkeypatch.setattr(core.matmul, "limit", lambda a, b: 500)  # many blocks, every margin
    shapes = [(37, 5, 41), (3, 9, 70), (70, 9, 3), (64, 4, 64), (13, 600, 2)]
    for (p, m, q), layout in zip(shapes, ["nn", "tn", "nt", "nn", "nt"], strict=True):
        a, b = operands(p, m, q, layout, np.float64)
        out = np.zeros((2 * p, 3 * q))[::2, ::3]  # a strided view, as conv passes
        matmul_into(a, b, out)
        assert_close(out, a @ b, rtol=1e-12)


@pytest.mark.parametrize("most", [2**18, 2**19, 2**20, 2000])
def test_block_shapes_stay_under_the_limit(most):
    for p in (1, 3, 10, 16, 30, 128, 784, 5000):
        for m in (1, 2, 26, 145, 784, 4096):
            for q in (1, 8, 10, 64, 256, 1152, 6400):
                rows, cols = block_shape(p, m, q, most)
                assert 1 <= rows <= p and 1 <= cols <= q
                assert rows * m * cols < most or rows == cols == 1


def test_the_limit_follows_the_layout():
    a, b = operands(64, 32, 64, "nn")
    assert limit(a, b) == 2**20
    assert limit(*operands(64, 32, 64, "tn")) == 2**20
    assert limit(*operands(64, 32, 64, "nt")) == 2**19
    assert limit(*operands(64, 32, 1, "nn")) == limit(*operands(1, 32, 64, "nn")) == 2**18


def test_a_process_with_one_blas_thread_multiplies_in_one_call():
    code = "import core.matmul as m; print(m.SPLITS, m.SMALL > 2**60)"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "True"]


def test_summed_blocks_match_one_product():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((32, 20_000)).astype(np.float32)  # a conv's dy: filters × pixels
    b = rng.standard_normal((145, 20_000)).astype(np.float32)  # its columns
    out = np.empty((32, 145), np.float32)
    matmul_nt(a, b, out)
    assert_close(out, a.astype(np.float64) @ b.T, rtol=1e-4)  # sums of 20,000 products


@pytest.mark.parametrize("batch", [10, 2048])  # one call / blocks (2048·784·256 > the limit)
def test_dense_products_agree_with_the_plain_formula(batch):
    layer = Dense(256)
    layer.build((784,))
    rng = np.random.default_rng(2)
    layer.params = {
        "W": rng.standard_normal((784, 256)).astype(np.float32),
        "b": rng.standard_normal(256).astype(np.float32),
    }
    layer.grads = {"W": np.empty((784, 256), np.float32), "b": np.empty(256, np.float32)}
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    dy = rng.standard_normal((batch, 256)).astype(np.float32)
    x64, dy64, w64 = x.astype(np.float64), dy.astype(np.float64), layer.params["W"]
    out = np.empty((batch, 256), np.float32)
    assert layer.forward(x, True, out) is out
    assert_close(out, x64 @ w64 + layer.params["b"])
    dx = layer.backward(dy)
    assert_close(dx, dy64 @ w64.T)
    assert_close(layer.grads["W"], x64.T @ dy64)
    assert_close(layer.grads["b"], dy64.sum(axis=0))

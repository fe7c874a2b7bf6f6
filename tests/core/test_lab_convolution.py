"""The Lab's convolution page, in numbers: im2col by hand, the product against a loop and the
engine's Conv2D, one position's dot product, and the tiny CNN's trained filters."""

import numpy as np
import pytest

from core.lab.convolution import (
    KERNELS,
    columns,
    convolve,
    dot_at,
    engine_map,
    feature_maps,
    output_size,
    position_under,
    train_tiny_cnn,
)


def loop_conv(x: np.ndarray, w: np.ndarray, b: float, stride: int, padding: int) -> np.ndarray:
    """y[i, j] = Σ_{u,v} x[i·s + u, j·s + v] · w[u, v] + b, by plain loops."""
    xp = np.pad(x, padding)
    k = w.shape[0]
    oh = (xp.shape[0] - k) // stride + 1
    ow = (xp.shape[1] - k) // stride + 1
    y = np.empty((oh, ow))
    for i in range(oh):
        for j in range(ow):
            total = b
            for u in range(k):
                for v in range(k):
                    total += xp[i * stride + u, j * stride + v] * w[u, v]
            y[i, j] = total
    return y


def test_im2col_of_a_5x5_input_and_a_3x3_kernel_is_the_hand_built_matrix():
    x = np.arange(25.0).reshape(5, 5)  # x[r, c] = 5r + c
    cols = columns(x, 3)
    # column i·3 + j is the window at (i, j) read row by row; row u·3 + v is offset (u, v)
    hand = np.array(
        [
            [5 * (i + u) + (j + v) for i in range(3) for j in range(3)]
            for u in range(3)
            for v in range(3)
        ],
        float,
    )
    np.testing.assert_array_equal(cols, hand)
    assert cols[:, 0].tolist() == [0, 1, 2, 5, 6, 7, 10, 11, 12]
    assert cols[:, 8].tolist() == [12, 13, 14, 17, 18, 19, 22, 23, 24]


def test_im2col_with_padding_and_stride():
    x = np.arange(1.0, 17.0).reshape(4, 4)
    cols = columns(x, 3, stride=2, padding=1)
    assert cols.shape == (9, 4)  # 2×2 positions
    assert cols[:, 0].tolist() == [0, 0, 0, 0, 1, 2, 0, 5, 6]  # top-left window in the zeros
    assert cols[:, 3].tolist() == [6, 7, 8, 10, 11, 12, 14, 15, 16]
    assert output_size(28, 5, 1, 2) == 28 and output_size(28, 3, 2, 0) == 13
    with pytest.raises(ValueError, match="kernel"):
        output_size(2, 3)


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 0), (2, 2)])
@pytest.mark.parametrize("name", ["Sobel x (vertical edges)", "Gaussian 5×5"])
def test_the_product_equals_a_loop_and_the_engines_conv2d(name, stride, padding):
    x = np.random.default_rng(0).random((11, 9))
    w = KERNELS[name]
    conv = convolve(x, w, bias=0.25, stride=stride, padding=padding)
    expected = loop_conv(x, w, 0.25, stride, padding)
    assert conv.feature_map.shape == expected.shape
    np.testing.assert_allclose(conv.feature_map, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        engine_map(x, w, 0.25, stride, padding), expected, rtol=1e-12, atol=1e-12
    )


def test_a_sobel_kernel_on_a_step_edge_gives_the_known_numbers():
    x = np.zeros((5, 5))
    x[:, 3:] = 1.0  # dark left, bright right
    fmap = convolve(x, KERNELS["Sobel x (vertical edges)"]).feature_map
    np.testing.assert_array_equal(fmap, [[0, 4, 4]] * 3)


def test_the_dot_product_at_a_position_equals_the_maps_value():
    x = np.arange(25.0).reshape(5, 5)
    w = np.arange(9.0).reshape(3, 3) - 4
    conv = convolve(x, w, bias=1.5, padding=1)
    dot = dot_at(conv, 0, 2)
    np.testing.assert_array_equal(dot.patch, [[0, 0, 0], [1, 2, 3], [6, 7, 8]])
    np.testing.assert_array_equal(dot.products, dot.patch * w)
    assert (dot.top, dot.left) == (-1, 1)
    assert dot.value == float((dot.patch * w).sum() + 1.5) == conv.feature_map[0, 2]
    for i in range(5):
        for j in range(5):
            assert dot_at(conv, i, j).value == pytest.approx(conv.feature_map[i, j], rel=1e-12)


def test_the_position_under_a_pixel_is_the_window_centred_there():
    conv = convolve(np.zeros((28, 28)), KERNELS["Sharpen"])  # 26×26 positions
    assert position_under(conv, 1, 1) == (0, 0)  # window rows 0..2 centred on 1
    assert position_under(conv, 10, 20) == (9, 19)
    assert position_under(conv, 0, 27) == (0, 25)  # clamped to the map
    same = convolve(np.zeros((28, 28)), KERNELS["Gaussian 5×5"], padding=2)
    assert position_under(same, 10, 20) == (10, 20)
    strided = convolve(np.zeros((28, 28)), KERNELS["Sharpen"], stride=2)
    assert position_under(strided, 5, 9) == (2, 4)  # window 4..6 × 8..10


def test_the_tiny_cnn_learns_filters_and_shows_their_maps():
    # Two classes a CNN tells apart from edges: a vertical bar or a horizontal bar, shifted.
    rng = np.random.default_rng(1)
    x = np.zeros((200, 28, 28), np.float32)
    y = rng.integers(0, 2, 200)
    for n, (label, at) in enumerate(zip(y, rng.integers(6, 22, 200), strict=True)):
        if label:
            x[n, 4:24, at : at + 3] = 1.0
        else:
            x[n, at : at + 3, 4:24] = 1.0
    run = train_tiny_cnn(x[:150], y[:150], 10, x_test=x[150:], y_test=y[150:], max_steps=60)
    steps = list(run)
    last = steps[-1]
    assert [p.steps for p in steps] == [20, 40, 60, 60]
    assert last.accuracy is not None and last.accuracy >= 0.9
    assert last.W.shape == (8, 1, 5, 5) and last.b.shape == (8,)
    maps = feature_maps(last.W, last.b, x[0])
    assert maps.shape == (8, 24, 24)
    for f in (0, 7):
        np.testing.assert_allclose(
            maps[f],
            loop_conv(x[0].astype(float), last.W[f, 0].astype(float), last.b[f], 1, 0),
            rtol=1e-5,
            atol=1e-5,
        )

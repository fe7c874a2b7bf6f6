"""Preparing images for a model: the data set's checks, normalization, layouts, subsets,
splits and batches."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.image_dataset import ImageDataset
from core.data.prepare import batches, normalize, prepare, shuffle, to_layout


def small_dataset(n_per_class: int = 12) -> ImageDataset:
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(10), n_per_class)
    rng.shuffle(y)
    x = rng.integers(0, 256, (len(y), 28, 28), dtype=np.uint8)
    return ImageDataset("toy", x, y, x[:15], y[:15])


def test_image_dataset_validation() -> None:
    x = np.zeros((4, 28, 28), np.uint8)
    y = np.array([0, 1, 2, 9])
    with pytest.raises(ValueError, match="x_train: dtype float64"):
        ImageDataset("d", x.astype(np.float64), y, x, y)
    with pytest.raises(ValueError, match=r"y_test: labels from 0 to 10; allowed: 0..9"):
        ImageDataset("d", x, y, x, np.array([0, 1, 2, 10]))
    with pytest.raises(ValueError, match=r"y_train: shape \(3,\)"):
        ImageDataset("d", x, y[:3], x, y)
    with pytest.raises(ValueError, match="x_test: images of"):
        ImageDataset("d", x, y, np.zeros((4, 14, 14), np.uint8), y)
    d = ImageDataset("d", x, y.astype(np.uint8), x[:0], y[:0])
    assert d.y_train.dtype == np.int64 and d.n_test == 0 and d.image_shape == (28, 28)


def test_normalize_and_layouts() -> None:
    x = np.array([[[0, 255], [51, 128]]], np.uint8)
    z = normalize(x)
    assert z.dtype == np.float32 and z[0, 0, 1] == 1.0 and z[0, 0, 0] == 0.0
    assert z[0, 1, 0] == np.float32(0.2)
    assert normalize(z) is z
    assert to_layout(z, "flat").shape == (1, 4)
    assert to_layout(z, "image").shape == (1, 1, 2, 2)
    with pytest.raises(ValueError, match="layout: 'nchw' is not known"):
        to_layout(z, "nchw")


def test_prepare_split_subsets_and_layout() -> None:
    d = small_dataset()
    p = prepare(d, layout="image", val_fraction=0.25, seed=5)
    assert p.x_train.shape == (90, 1, 28, 28) and p.x_val.shape == (30, 1, 28, 28)
    assert p.input_shape == (1, 28, 28) and p.x_train.dtype == np.float32
    assert 0.0 <= p.x_train.min() and p.x_train.max() <= 1.0
    assert np.bincount(p.y_val).tolist() == [3] * 10  # stratified
    # Train and validation are disjoint and together are the whole training set.
    rows = {r.tobytes() for r in np.concatenate([p.x_train, p.x_val])}
    assert len(rows) == 120
    again = prepare(d, layout="image", val_fraction=0.25, seed=5)
    assert np.array_equal(again.x_val, p.x_val) and np.array_equal(again.y_train, p.y_train)
    other = prepare(d, layout="image", val_fraction=0.25, seed=6)
    assert not np.array_equal(other.x_val, p.x_val)
    flat = prepare(d, n_train=50, n_test=7)
    assert flat.x_train.shape == (50, 784) and flat.x_val.shape == (0, 784)
    assert flat.x_test.shape == (7, 784) and flat.input_shape == (784,)
    assert np.array_equal(flat.x_train[3], d.x_train[3].reshape(-1) / np.float32(255))
    per = prepare(d, per_class=4, seed=1)
    assert np.bincount(per.y_train).tolist() == [4] * 10
    with pytest.raises(ValueError, match="per_class: 13, but class 0 has only 12"):
        prepare(d, per_class=13)
    with pytest.raises(ValueError, match="at most one"):
        prepare(d, n_train=5, per_class=2)
    with pytest.raises(ValueError, match="val_fraction"):
        prepare(d, val_fraction=0.95)


def test_batches_cover_each_sample_once() -> None:
    x = np.arange(23 * 2).reshape(23, 2)
    y = np.arange(23)
    got = list(batches(x, y, 5, np.random.default_rng(0)))
    assert [len(b) for _, b in got] == [5, 5, 5, 5, 3]
    seen = np.concatenate([b for _, b in got])
    assert sorted(seen.tolist()) == list(range(23)) and seen.tolist() != list(range(23))
    assert all(np.array_equal(xb[:, 0] // 2, yb) for xb, yb in got)  # pairs stay together
    again = np.concatenate([b for _, b in batches(x, y, 5, np.random.default_rng(0))])
    assert np.array_equal(seen, again)
    ordered = np.concatenate([b for _, b in batches(x, y, 5, None)])
    assert ordered.tolist() == list(range(23))
    assert [len(b) for _, b in batches(x, y, 5, None, drop_last=True)] == [5] * 4
    with pytest.raises(ValueError, match="batch_size"):
        list(batches(x, y, 0, None))
    shuffled_x, shuffled_y = shuffle(x, y, np.random.default_rng(1))
    assert np.array_equal(shuffled_x[:, 0] // 2, shuffled_y)

"""Augmentation: exact shifts, rotation direction, and seeded random shifts and rotations."""

from __future__ import annotations

import time

import numpy as np
import pytest
from idx_server import (
    NAMES,
    tiny_arrays,
)

from core.data.augment import augment, shift_rotate
from core.data.prepare import normalize


def blob_images(n: int = 6) -> np.ndarray:
    """Soft blobs away from the border, so shifts of up to 2 px never cut them."""
    rr, cc = np.mgrid[0:28, 0:28]
    rng = np.random.default_rng(1)
    out = np.empty((n, 28, 28), np.float32)
    for i in range(n):
        r0, c0 = rng.uniform(10, 17, 2)
        out[i] = np.exp(-((rr - r0) ** 2 + (cc - c0) ** 2) / 8.0) * (rr > 3) * (rr < 24)
    return out


def centre_of_mass(x: np.ndarray) -> np.ndarray:
    rr, cc = np.mgrid[0 : x.shape[-2], 0 : x.shape[-1]]
    mass = x.sum(axis=(-2, -1))
    return np.stack([(x * rr).sum(axis=(-2, -1)) / mass, (x * cc).sum(axis=(-2, -1)) / mass], -1)


def test_identity_and_exact_integer_shifts() -> None:
    x = normalize(tiny_arrays()[NAMES[0]])
    assert np.array_equal(shift_rotate(x, 0, 0, 0.0), x)
    assert np.array_equal(augment(x, np.random.default_rng(0), 0, 0.0), x)
    moved = shift_rotate(x, 2, -1)
    assert np.array_equal(moved[:, :-1, 2:], x[:, 1:, :-2])  # right 2, up 1
    assert np.all(moved[:, :, :2] == 0) and np.all(moved[:, -1, :] == 0)


def test_shift_moves_the_centre_of_mass() -> None:
    x = blob_images()
    before = centre_of_mass(x)
    moved = centre_of_mass(shift_rotate(x, np.array([2, -2, 0, 1, -1, 2]), -1))
    assert np.allclose(moved - before, [[-1, d] for d in (2, -2, 0, 1, -1, 2)], atol=1e-4)
    out = augment(x, np.random.default_rng(7), max_shift=2, max_rotation=0.0)
    delta = centre_of_mass(out) - before
    assert np.allclose(delta, np.round(delta), atol=1e-4) and np.abs(np.round(delta)).max() <= 2
    assert len({tuple(d) for d in np.round(delta).astype(int)}) > 1


def test_rotation_direction_and_mass() -> None:
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 13, 20] = 1.0  # right of the centre (13.5, 13.5)
    up = shift_rotate(x, 0, 0, 90.0)
    r, c = np.unravel_index(up[0].argmax(), (28, 28))
    assert c in (13, 14) and r < 10  # anticlockwise as displayed: now above the centre
    blobs = blob_images()
    turned = shift_rotate(blobs, 0, 0, np.full(6, 10.0))
    assert np.allclose(turned.sum(axis=(1, 2)), blobs.sum(axis=(1, 2)), rtol=0.02)


def test_augment_shapes_range_and_determinism() -> None:
    x = normalize(tiny_arrays()[NAMES[0]])
    a = augment(x, np.random.default_rng(3))
    b = augment(x, np.random.default_rng(3))
    c = augment(x, np.random.default_rng(4))
    assert a.shape == x.shape and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() >= 0.0 and a.max() <= 1.0
    img = augment(x[:, None], np.random.default_rng(3))
    assert img.shape == (20, 1, 28, 28) and np.array_equal(img[:, 0], a)
    with pytest.raises(ValueError, match="max_shift"):
        augment(x, np.random.default_rng(0), max_shift=-1)
    with pytest.raises(TypeError, match="rng"):
        augment(x, 0)  # type: ignore[arg-type]


@pytest.mark.slow
def test_augment_speed() -> None:
    x = np.random.default_rng(0).random((10000, 28, 28), dtype=np.float32)
    augment(x[:100], np.random.default_rng(0))
    start = time.perf_counter()
    augment(x, np.random.default_rng(0))
    assert time.perf_counter() - start < 1.0

"""Augmenting training images with random shifts and small rotations (bilinear, vectorized)."""

from __future__ import annotations

import numpy as np

from core.data.prepare import check_rng
from core.validation import check_number

_WARP_CHUNK = 2048  # images per vectorized block (keeps temporaries around 10 MB)


def shift_rotate(
    x: np.ndarray,
    dx: np.ndarray | float,
    dy: np.ndarray | float,
    angle: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Shift and rotate images with bilinear interpolation; pixels from outside are 0.

    Each output image is the input rotated by ``angle`` degrees about its centre
    (anticlockwise as displayed, row 0 at the top) and then moved ``dx`` pixels right and ``dy``
    pixels down. Integer shifts without rotation are exact.

    Parameters
    ----------
    x : np.ndarray
        ``(n, H, W)`` or ``(n, 1, H, W)`` intensities with 0 as background.
    dx, dy, angle : np.ndarray or float
        Scalars or ``(n,)`` arrays, one per image.

    Returns
    -------
    np.ndarray
        float32, same shape as ``x``, values within ``[min(0, x.min()), max(0, x.max())]``.
    """
    x = np.asarray(x)
    shape = x.shape
    if x.ndim == 4 and shape[1] == 1:
        x = x.reshape(shape[0], shape[2], shape[3])
    if x.ndim != 3 or x.dtype.kind not in "fiu":
        raise ValueError(f"x: {x.dtype} {shape}; allowed: (n, H, W) or (n, 1, H, W) numbers")
    n, h, w = x.shape
    params = []
    for key, value in (("dx", dx), ("dy", dy), ("angle", angle)):
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape != (n,)):
            raise ValueError(f"{key}: shape {arr.shape}; allowed: a number or ({n},)")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{key}: contains NaN or inf; allowed: finite numbers")
        params.append(np.broadcast_to(arr, (n,)))
    dxs, dys, angles = params
    out = np.empty((n, h, w), dtype=np.float32)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    rows = (np.arange(h, dtype=np.float32) - np.float32(cy))[None, :, None]
    cols = (np.arange(w, dtype=np.float32) - np.float32(cx))[None, None, :]
    hp, wp = h + 2, w + 2
    for start in range(0, n, _WARP_CHUNK):
        sl = slice(start, min(start + _WARP_CHUNK, n))
        m = sl.stop - sl.start
        src = x[sl].astype(np.float32, copy=False)
        padded = np.zeros((m, hp, wp), dtype=np.float32)
        padded[:, 1:-1, 1:-1] = src
        theta = np.deg2rad(angles[sl])
        cos = np.cos(theta).astype(np.float32)[:, None, None]
        sin = np.sin(theta).astype(np.float32)[:, None, None]
        u = cols - dxs[sl].astype(np.float32)[:, None, None]  # (m, 1, W) column offsets
        v = rows - dys[sl].astype(np.float32)[:, None, None]  # (m, H, 1) row offsets
        # Inverse mapping: each output pixel samples the input at the rotated-back position.
        sx = u * cos - v * sin
        sx += np.float32(cx)
        sy = u * sin + v * cos
        sy += np.float32(cy)
        np.clip(sx, -1.0, w, out=sx)
        np.clip(sy, -1.0, h, out=sy)
        x0 = np.minimum(np.floor(sx), w - 1)
        y0 = np.minimum(np.floor(sy), h - 1)
        sx -= x0  # fractional parts in [0, 1]
        sy -= y0
        base = (np.arange(m, dtype=np.intp) * (hp * wp))[:, None, None] + (
            (y0.astype(np.intp) + 1) * wp + (x0.astype(np.intp) + 1)
        )
        flat = padded.reshape(-1)
        top_left = flat.take(base)
        top_right = flat.take(base + 1)
        base += wp
        bottom_left = flat.take(base)
        bottom_right = flat.take(base + 1)
        top_right -= top_left
        top_right *= sx
        top_left += top_right  # top row interpolated
        bottom_right -= bottom_left
        bottom_right *= sx
        bottom_left += bottom_right  # bottom row interpolated
        bottom_left -= top_left
        bottom_left *= sy
        top_left += bottom_left
        lo = min(0.0, float(src.min())) if src.size else 0.0
        hi = max(0.0, float(src.max())) if src.size else 0.0
        np.clip(top_left, lo, hi, out=out[sl])
    return out.reshape(shape)


def augment(
    x: np.ndarray,
    rng: np.random.Generator,
    max_shift: int = 2,
    max_rotation: float = 10.0,
) -> np.ndarray:
    """Randomly shift (whole pixels) and rotate training images; see :func:`shift_rotate`.

    Parameters
    ----------
    x : np.ndarray
        ``(n, H, W)`` or ``(n, 1, H, W)`` float32 intensities in ``[0, 1]`` (0 background).
    rng : np.random.Generator
        Draws, per image, ``dx, dy`` uniformly from ``-max_shift..max_shift`` and an angle
        uniformly from ``[-max_rotation, max_rotation]`` degrees.
    max_shift : int
        Largest shift in pixels, in ``[0, 8]``.
    max_rotation : float
        Largest rotation in degrees, in ``[0, 180]``.

    Returns
    -------
    np.ndarray
        float32, same shape as ``x``. About 0.2-0.4 s per 10,000 28 x 28 images.
    """
    rng = check_rng(rng)
    s = int(check_number("max_shift", max_shift, low=0, high=8, integer=True))
    r = float(check_number("max_rotation", max_rotation, low=0.0, high=180.0))
    n = np.shape(x)[0] if np.ndim(x) else 0
    shifts = rng.integers(-s, s + 1, size=(2, n))
    angles = rng.uniform(-r, r, size=n)
    return shift_rotate(x, shifts[0], shifts[1], angles)


def augment_images(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:func:`augment` for 28×28 images in either layout a model takes: flat ``(n, 784)`` or
    ``(n, 1, 28, 28)``; returns the same shape."""
    return augment(x.reshape(len(x), 28, 28), rng).reshape(x.shape)

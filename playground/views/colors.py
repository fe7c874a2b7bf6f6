"""Colours shared by the views (NumPy only): class colours, a diverging map for two classes and
for signed values, and the output-view image for any task."""

from __future__ import annotations

import numpy as np

#: Class colours (hex RGB): the first two match the diverging map's ends (orange = class 0,
#: blue = 1).
CLASS_COLORS = np.array(
    [
        list(bytes.fromhex(code))
        for code in "f59322 0877bd 2ea043 d62728 9467bd 8c564b e377c2 7f7f7f bcbd22 17becf".split()
    ],
    dtype=np.float32,
)
NEGATIVE = CLASS_COLORS[0]
POSITIVE = CLASS_COLORS[1]
NEUTRAL = np.array((246, 246, 246), dtype=np.float32)


def class_color(i: int) -> tuple[int, int, int]:
    r, g, b = CLASS_COLORS[i % len(CLASS_COLORS)]
    return int(r), int(g), int(b)


def diverging(values: np.ndarray, limit: float = 1.0) -> np.ndarray:
    """RGBA uint8 ``(*values.shape, 4)``: -limit orange, 0 near-white, +limit blue."""
    t = np.clip(np.nan_to_num(values / limit), -1.0, 1.0)[..., None]
    rgb = np.where(t < 0, NEUTRAL + (NEUTRAL - NEGATIVE) * t, NEUTRAL + (POSITIVE - NEUTRAL) * t)
    return _rgba(rgb)


def output_image(
    grid_output: np.ndarray,
    classification: bool,
    discretize: bool = False,
    value_limit: float = 1.0,
) -> np.ndarray:
    """The output view's RGBA image ``(res, res, 4)`` from a snapshot's ``grid_output``:
    two classes on the diverging map by probability, K classes as class colours blended by
    probability (pale where unsure), regression values on the diverging map."""
    if not classification:
        return diverging(grid_output, value_limit)
    probs = np.nan_to_num(grid_output)
    k = probs.shape[-1]
    if discretize:
        probs = np.eye(k, dtype=np.float32)[probs.argmax(axis=-1)]
    if k == 2:
        return diverging(2.0 * probs[..., 1] - 1.0)
    mixed = probs @ CLASS_COLORS[:k]
    confidence = (probs.max(axis=-1, keepdims=True) - 1.0 / k) / (1.0 - 1.0 / k)
    rgb = NEUTRAL + (mixed - NEUTRAL) * np.clip(confidence, 0.0, 1.0) * 0.85
    return _rgba(rgb)


def _rgba(rgb: np.ndarray) -> np.ndarray:
    out = np.empty((*rgb.shape[:-1], 4), dtype=np.uint8)
    out[..., :3] = np.clip(rgb, 0, 255)
    out[..., 3] = 255
    return out

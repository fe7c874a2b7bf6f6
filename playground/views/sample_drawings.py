"""Sample drawings (a 0, a 1, a 7) put on the draw canvas by the program, for demos, screenshots
and tests."""

from __future__ import annotations

import math

import numpy as np

from playground.views.canvas import DigitCanvas

#: Shapes for ``--draw`` (demos and screenshots): strokes of ``(x, y)`` in canvas fractions.
SAMPLE_STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "0": [
        [
            (0.5 + 0.2 * math.sin(t) + 0.03 * math.cos(t), 0.5 - 0.31 * math.cos(t))
            for t in np.linspace(-0.25, 2 * math.pi + 0.15, 40)
        ]
    ],
    "1": [[(0.48, 0.2), (0.5, 0.4), (0.515, 0.6), (0.53, 0.82)]],
    "7": [[(0.3, 0.2), (0.5, 0.19), (0.72, 0.2), (0.6, 0.4), (0.5, 0.6), (0.43, 0.83)]],
}


def draw_sample(canvas: DigitCanvas, name: str) -> None:
    """Draw one of :data:`SAMPLE_STROKES` on ``canvas`` (programmatically)."""
    side = canvas.side
    for stroke in SAMPLE_STROKES[name]:
        canvas.add_stroke([(x * side, y * side) for x, y in stroke])

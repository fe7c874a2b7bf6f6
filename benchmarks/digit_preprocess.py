"""Milliseconds to turn a 280x280 drawn canvas into an MNIST-style 28x28 input (it runs on every
stroke segment in the draw panel): median over many runs."""

from __future__ import annotations

import statistics
import time

import numpy as np

from core.data.digits import preprocess_digit


def main() -> None:
    canvas = np.zeros((280, 280), dtype=np.uint8)
    canvas[60:220, 130:150] = 255  # a "1"
    canvas[60:80, 90:150] = 255  # with a flag
    times = []
    for _ in range(300):
        start = time.perf_counter()
        preprocess_digit(canvas)
        times.append(time.perf_counter() - start)
    print(
        f"digit preprocessing 280x280 -> 28x28: median {statistics.median(times) * 1e3:.3f} ms, "
        f"p95 {np.percentile(times, 95) * 1e3:.3f} ms"
    )


if __name__ == "__main__":
    main()

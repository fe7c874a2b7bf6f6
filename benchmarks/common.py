"""Shared timing helpers for the benchmark scripts (each script prints one line of figures)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_rate(run: Callable[[], int], repeats: int = 7, warmup: int = 1) -> float:
    """Median over ``repeats`` of (units done by one ``run()`` call) / (seconds it took)."""
    for _ in range(warmup):
        run()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        units = run()
        rates.append(units / (time.perf_counter() - start))
    return statistics.median(rates)


def interleaved_rates(
    runs: dict[str, Callable[[], int]], repeats: int = 9
) -> tuple[dict[str, float], float | None]:
    """Time several contenders in alternating rounds (so slow drifts of a noisy machine hit them
    alike): the median rate of each, and for two contenders the median of the per-round ratios
    first/second. Each timed run follows an untimed one of the same contender, because thread
    pools (OpenBLAS, OpenMP) keep spinning for a while after use and would slow the next one."""
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            run()
            start = time.perf_counter()
            units = run()
            rates[name].append(units / (time.perf_counter() - start))
    ratio = None
    if len(runs) == 2:
        a, b = rates.values()
        ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
    return {name: statistics.median(r) for name, r in rates.items()}, ratio


def torch_or_none():
    """PyTorch if installed (the optional `bench` extra), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch

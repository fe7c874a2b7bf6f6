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


def compare_training_throughput(
    label: str, spec: dict, torch_net, input_shape: tuple, batch: int, steps: int
) -> str:
    """One line: training samples/s of ``spec`` in the engine and, when PyTorch is installed,
    of ``torch_net(torch)`` (the same network), Adam 1e-3, on the same-shaped random data."""
    import numpy as np

    from core.training import TrainConfig, build_trainer

    n = batch * steps
    rng = np.random.default_rng(0)
    x = rng.random((n, *input_shape), dtype=np.float32)
    y = rng.integers(0, 10, n)
    trainer = build_trainer(spec, TrainConfig(optimizer="adam", lr=1e-3, batch_size=batch), x, y)
    model, opt = trainer.model, trainer.optimizer

    def engine() -> int:  # the step without the per-epoch evaluation
        for i in range(steps):
            model.loss_and_grad(x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch])
            opt.step(model.theta, model.grad)
        return n

    runs = {"engine": engine}
    torch = torch_or_none()
    if torch is not None:
        torch.manual_seed(0)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        net = torch_net(torch)
        topt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()

        def pytorch() -> int:
            for i in range(steps):
                topt.zero_grad(set_to_none=True)
                s = slice(i * batch, (i + 1) * batch)
                loss_fn(net(tx[s]), ty[s]).backward()
                topt.step()
            return n

        runs["torch"] = pytorch
    rates, ratio = interleaved_rates(runs)
    line = f"{label}: engine {rates['engine']:,.0f} samples/s"
    if torch is not None:
        line += (
            f"; pytorch {torch.__version__} ({torch.get_num_threads()} threads) "
            f"{rates['torch']:,.0f} samples/s; median ratio {ratio:.2f}x"
        )
    return line

"""Speed-up of a sweep on a pool of 2 worker processes over the same runs one after another in
one process: a 4×4 sweep (learning rate × hidden size, 2-h-h-2 ReLU Adam) of the 500-point
spiral, 300 epochs each; both pools started once, every worker with one BLAS thread. Median
of the per-round ratios (the two take turns, so a busy machine slows both alike)."""

from __future__ import annotations

import os
import statistics
import time

from core.recipe import ToyRecipe
from core.spec import mlp_spec
from core.sweep.pool import LocalPool
from core.sweep.task import RunTask
from core.training.config import TrainConfig

ROUNDS = 3


def sweep_tasks() -> list[RunTask]:
    recipe = ToyRecipe("spiral", n_samples=500, seed=0)
    tasks = []
    for lr in (0.003, 0.01, 0.03, 0.1):
        for hidden in (4, 8, 16, 32):
            config = TrainConfig(optimizer="adam", lr=lr, batch_size=32, epochs=300, seed=0)
            spec = mlp_spec(2, [hidden, hidden], 2, activation="relu")
            tasks.append(RunTask(recipe, spec, config, len(tasks), f"lr {lr} · {hidden}"))
    return tasks


def seconds(pool: LocalPool, tasks: list[RunTask]) -> float:
    start = time.perf_counter()
    results = list(pool.run(tasks))
    assert len(results) == len(tasks)
    return time.perf_counter() - start


def main() -> None:
    tasks = sweep_tasks()
    warm = [RunTask(t.recipe, t.spec, TrainConfig(epochs=1), i) for i, t in enumerate(tasks[:2])]
    with LocalPool(workers=1) as one, LocalPool(workers=2) as two:
        list(one.run(warm[:1]))  # the workers are up and have imported the engine
        list(two.run(warm))
        pairs = [(seconds(one, tasks), seconds(two, tasks)) for _ in range(ROUNDS)]
    serial = statistics.median(a for a, _ in pairs)
    parallel = statistics.median(b for _, b in pairs)
    ratio = statistics.median(a / b for a, b in pairs)
    print(
        f"sweep 4x4 spiral 300 epochs: one process {serial:.2f} s, 2 workers {parallel:.2f} s, "
        f"speed-up {ratio:.2f}x (median of {ROUNDS} rounds, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()

"""Speed-up of a sweep on a pool of 2 worker processes over the same 16 runs one after another:
a 4×4 sweep (learning rate × hidden size, 2-h-h-2 ReLU Adam) of the 500-point spiral, 300
epochs each. Two baselines: the runs in a loop in this process as a user would run them
(``run_task`` one after another, NumPy's default BLAS threads), and a pool of one worker (one
BLAS thread). Pools started once, every worker with one BLAS thread. Medians of the per-round
ratios (the three take turns, so a busy machine slows them alike)."""

from __future__ import annotations

import os
import statistics
import time

from core.recipe import ToyRecipe
from core.spec import mlp_spec
from core.sweep.pool import LocalPool
from core.sweep.task import RunTask, run_task
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


def seconds(pool: LocalPool | None, tasks: list[RunTask]) -> float:
    """Seconds to run ``tasks`` on ``pool``, or one after another here when None."""
    start = time.perf_counter()
    results = [run_task(t) for t in tasks] if pool is None else list(pool.run(tasks))
    assert len(results) == len(tasks)
    return time.perf_counter() - start


def main() -> None:
    tasks = sweep_tasks()
    warm = [RunTask(t.recipe, t.spec, TrainConfig(epochs=1), i) for i, t in enumerate(tasks[:2])]
    with LocalPool(workers=1) as one, LocalPool(workers=2) as two:
        list(one.run(warm[:1]))  # the workers are up and have imported the engine
        list(two.run(warm))
        run_task(warm[0])  # this process has imported the engine too
        rounds = [
            (seconds(None, tasks), seconds(one, tasks), seconds(two, tasks)) for _ in range(ROUNDS)
        ]
    loop, single, parallel = (statistics.median(r[i] for r in rounds) for i in range(3))
    vs_loop = statistics.median(a / c for a, _, c in rounds)
    vs_single = statistics.median(b / c for _, b, c in rounds)
    print(
        f"sweep 4x4 spiral 300 epochs: a loop in one process (default BLAS threads) {loop:.2f} s, "
        f"1 worker (1 BLAS thread) {single:.2f} s, 2 workers {parallel:.2f} s; speed-up "
        f"{vs_loop:.2f}x vs the loop, {vs_single:.2f}x vs 1 worker (median of {ROUNDS} rounds, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()

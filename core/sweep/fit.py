"""Whether a sweep's runs fit in memory side by side: each worker holds its run's network (the
estimate of :func:`core.memory.estimate_memory`) and two copies of its training data. Used by
the command line (``--workers``) and by the app's Run ▸ Sweep…, each saying it in its words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core import memory
from core.sweep.task import RunTask


@dataclass(frozen=True)
class TooLarge:
    """``workers`` runs at once need ``total`` bytes but ``available`` are free; ``largest``
    (name, bytes) are those runs; ``fit`` how many of the largest runs fit at once."""

    workers: int
    total: int
    available: int
    largest: tuple[tuple[str, int], ...]
    fit: int

    def figures(self) -> str:
        """'need about … of memory (the largest: …), but … is available'."""
        size = memory.format_bytes
        runs = ", ".join(f"{name} {size(n)}" for name, n in self.largest)
        return (
            f"need about {size(self.total)} of memory (the largest: {runs}; each its network "
            f"and its worker's two copies of the training data), but {size(self.available)} "
            "is available"
        )


def run_memory(task: RunTask, info: Any) -> int:
    """Bytes a worker needs for ``task``: the estimate of its network
    (:func:`core.memory.estimate_memory`) plus the training data of ``info`` (a
    :meth:`Recipe.describe`) twice, the copy the worker holds and the one shuffled each epoch."""
    batch = min(int(task.config.batch_size), info.n_train)
    estimate = memory.estimate_memory(task.spec, batch, optimizer=task.config.optimizer)
    return estimate.total + 2 * info.n_train * int(np.prod(info.input_shape)) * 4


def too_large(tasks: list[RunTask], workers: int) -> TooLarge | None:
    """What is wrong when the ``workers`` runs of ``tasks`` that need the most memory, trained
    at once, need more than is available; None when they fit (or run one at a time, each
    checked alone, or the available memory is unknown)."""
    available = memory.available_memory()
    if available is None or workers < 2:
        return None
    infos: dict[int, Any] = {}
    needs = []
    for task in tasks:
        if id(task.recipe) not in infos:
            infos[id(task.recipe)] = task.recipe.describe()
        needs.append((run_memory(task, infos[id(task.recipe)]), task.index, task.name))
    needs.sort(key=lambda n: (-n[0], n[1]))
    largest = needs[:workers]
    total = sum(n for n, _, _ in largest)
    if total <= available:
        return None
    fit = 0
    while sum(n for n, _, _ in needs[: fit + 1]) <= available:
        fit += 1
    named = tuple((name, n) for n, _, name in largest)
    return TooLarge(len(largest), total, available, named, fit)

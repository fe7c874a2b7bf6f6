"""Sweeps on a Dask cluster (``dask.distributed``, the optional ``cluster`` extra): the same
tasks as the local pool, each a plain call of :func:`core.sweep.task.run_task`, sent to the
scheduler at ``tcp://HOST:8786``; results come back as they complete.

Toy and downloadable data sets are built on the workers from their recipes (which need this
package installed, and the image data in their own cache, downloaded there only when the
recipe asks); data that travel as arrays are scattered to the cluster once per sweep. Dask's
worker processes run one BLAS thread each by default (its ``pre-spawn-environ`` setting).
Progress within a run is not reported (only completed runs); :meth:`ClusterPool.cancel`
cancels the runs not yet finished, but a run a worker has started finishes there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from core.recipe import Recipe, TrainingData
from core.sweep.task import RunProgress, RunResult, RunTask, failed_result, run_task

#: Seconds to wait for the scheduler to answer.
CONNECT_TIMEOUT = 10.0


def require_distributed() -> Any:
    """The ``distributed`` module; ImportError with what to install when it is missing."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise ImportError(
            "--scheduler: running on a Dask cluster needs the 'distributed' package; install "
            "it with the cluster extra: pip install 'nn-playground[cluster]' (or pip install "
            "'distributed>=2024.1')"
        ) from None


def run_with(recipe: Recipe, task: RunTask) -> RunResult:
    """:func:`run_task` on ``task`` with ``recipe`` (sent apart, so that Dask resolves a
    scattered recipe's future before the call)."""
    return run_task(replace(task, recipe=recipe))


class ClusterPool:
    """Runs tasks on the Dask cluster whose scheduler is at ``scheduler`` (an address such
    as ``tcp://10.0.0.5:8786``), or through an existing ``distributed.Client`` (left open)."""

    def __init__(self, scheduler: str | Any) -> None:
        distributed = require_distributed()
        self.cancelled = False
        self._futures: list[Any] = []
        if isinstance(scheduler, str):
            try:
                self.client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                raise OSError(
                    f"--scheduler: cannot reach the Dask scheduler at {scheduler} ({exc}); "
                    "allowed: the address of a running scheduler, e.g. tcp://HOST:8786"
                ) from None
            self._own_client = True
        else:
            self.client, self._own_client = scheduler, False
        self.size = len(self.client.scheduler_info().get("workers", {})) or 1

    def run(
        self,
        tasks: Iterable[RunTask],
        on_progress: Callable[[RunProgress], None] | None = None,
    ) -> Iterator[RunResult]:
        """Submit ``tasks`` and yield each result as it completes (``result.index`` tells
        which); a task that raised gives a ``"failed: ..."`` result. ``on_progress`` is
        accepted for the local pool's interface; a cluster reports completed runs only."""
        distributed = require_distributed()
        tasks = list(tasks)
        if self.cancelled or not tasks:
            return
        sent: dict[int, Any] = {}  # id(recipe) -> the recipe, or its scattered future
        futures = {}
        for task in tasks:
            recipe = task.recipe
            if id(recipe) not in sent:
                big = isinstance(recipe, TrainingData)
                sent[id(recipe)] = self.client.scatter(recipe) if big else recipe
            future = self.client.submit(
                run_with, sent[id(recipe)], replace(task, recipe=None), pure=False
            )
            futures[future] = task
        self._futures = list(futures)
        for future in distributed.as_completed(self._futures):
            if self.cancelled:
                return
            try:
                yield future.result()
            except Exception as exc:  # noqa: BLE001 - the run failed on the worker
                if self.cancelled:
                    return
                yield failed_result(futures[future], str(exc) or type(exc).__name__)

    def cancel(self) -> None:
        """Cancel the runs not yet finished; :meth:`run` ends without further results."""
        self.cancelled = True
        if self._futures:
            self.client.cancel(self._futures)

    def close(self) -> None:
        """Release the runs' results; close the client if this pool opened it."""
        self._futures = []
        if self._own_client:
            self.client.close()

    def __enter__(self) -> ClusterPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.cancel()
        self.close()

"""Sweeps: many runs of the engine, one per combination of settings, trained side by side.

One module per idea: ``settings`` (``--sweep key=values`` parsed, the runs' combinations and
names), ``task`` (one run as a plain function call: RunTask -> RunResult), ``pool`` (a local
pool of worker processes, one BLAS thread each, with progress and cancel), ``cluster`` (the
same tasks on a Dask cluster) and ``results`` (table, CSV and JSON).

    from core.sweep import LocalPool, RunTask
"""

from core.sweep.cluster import ClusterPool
from core.sweep.pool import LocalPool, default_workers
from core.sweep.settings import combinations, parse_sweeps, run_name
from core.sweep.task import RunProgress, RunResult, RunTask, run_task

__all__ = [
    "ClusterPool",
    "LocalPool",
    "RunProgress",
    "RunResult",
    "RunTask",
    "combinations",
    "default_workers",
    "parse_sweeps",
    "run_name",
    "run_task",
]

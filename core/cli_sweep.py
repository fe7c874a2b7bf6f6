"""``nn-playground-train --sweep``: one run per combination of the swept settings, side by side
on local worker processes (``--workers``) or a Dask cluster (``--scheduler``), with a table of
the results and, with ``--results``, a CSV or JSON file.

Every run is built from the options exactly as a single ``nn-playground-train`` run with those
values would be, and trained by the same code, so its history and final metrics equal that
run's bit for bit. Everything (each run's settings, network, memory, the results path) is
checked before anything trains: on local workers also the memory of the runs that train side
by side, and the image data (downloaded once here with ``--download``, read from the cache by
the workers). Exit status: 0 when at least one run trained without diverging, 1 when every run
diverged (or could not run), 2 for invalid input (missing data and too little memory included)
or a results file that could not be written.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import replace
from typing import Any, TextIO

from core.cli_data import DATA_OPTIONS, data_recipe
from core.cli_options import build_parser, task_from_args
from core.cli_outputs import OUTPUTS, check_output_path
from core.progress import fmt
from core.recipe import ImageRecipe, Recipe
from core.sweep.cluster import ClusterPool
from core.sweep.fit import too_large
from core.sweep.pool import LocalPool, check_workers
from core.sweep.results import result_record, results_format, results_table, write_results
from core.sweep.settings import combinations, parse_sweeps, run_name
from core.sweep.task import RunResult, RunTask

#: Options that go with --sweep only.
SWEEP_ONLY = (("workers", "--workers"), ("scheduler", "--scheduler"), ("results", "--results"))
#: Cores the command line leaves free when --workers is not given (the app leaves one).
CLI_SPARE = 0


def check_sweep_options(args: argparse.Namespace) -> None:
    """ValueError naming the first option that makes no sense with (or without) --sweep."""
    if not args.sweep:
        for name, flag in SWEEP_ONLY:
            if getattr(args, name) is not None:
                raise ValueError(
                    f"{flag}: only with --sweep; allowed: add --sweep KEY=V1,V2,... "
                    "(e.g. --sweep lr=0.003,0.01,0.03)"
                )
        return
    single = [("resume", "--resume")] + [(name, flag) for name, flag, _, _ in OUTPUTS]
    for name, flag in single:
        if getattr(args, name) is not None:
            raise ValueError(
                f"{flag}: cannot be combined with --sweep (a sweep compares many runs and keeps "
                "their results, not their models); allowed with --sweep: --results, "
                "--workers, --scheduler"
            )
    if args.scheduler is not None:
        if args.workers is not None:
            raise ValueError(
                "--workers: cannot be combined with --scheduler (the cluster has its own "
                "workers); allowed: one of them"
            )
        if not args.scheduler.strip():
            raise ValueError("--scheduler: the address is empty; allowed: e.g. tcp://HOST:8786")
    else:
        check_workers(args.workers, CLI_SPARE)
    if args.results is not None:
        results_format("--results", args.results)
        check_output_path("--results", args.results)


def sweep_tasks(args: argparse.Namespace) -> tuple[list[str], list[RunTask]]:
    """The swept keys and one checked task per combination of their values, in order; runs
    on the same data share one recipe (built once per worker)."""
    sweeps = parse_sweeps(args.sweep)
    defaults = vars(build_parser().parse_args([]))
    given = getattr(args, "given", frozenset())  # even with their default values
    for key, _ in sweeps:
        if key in given or getattr(args, key) != defaults[key]:
            flag = "--" + key.replace("_", "-")
            raise ValueError(f"--sweep {key}: also given as {flag}; allowed: one of them")
    recipes: dict[str, Recipe] = {}
    tasks = []
    for index, settings in enumerate(combinations(sweeps)):
        run_args = copy.copy(args)
        for key, value in settings.items():
            setattr(run_args, key, value)
        name = run_name(settings)
        data_key = repr([getattr(run_args, option) for option in DATA_OPTIONS])
        try:
            if data_key not in recipes:
                recipes[data_key] = data_recipe(run_args)
            task = task_from_args(run_args, recipes[data_key])
        except ValueError as exc:
            raise ValueError(f"{exc} (in the run {name})") from None
        tasks.append(RunTask(task.recipe, task.spec, task.config, index, name, settings))
    return [key for key, _ in sweeps], tasks


def run_sweep(args: argparse.Namespace, stdout: TextIO) -> int:
    """Run the sweep the options describe; returns the exit status."""
    check_sweep_options(args)
    keys, tasks = sweep_tasks(args)
    if args.scheduler:
        pool: Any = ClusterPool(args.scheduler)
        where = f"the Dask cluster at {args.scheduler}"
    else:
        workers = min(check_workers(args.workers, CLI_SPARE), len(tasks))
        check_side_by_side(tasks, workers)
        tasks = fetch_images(tasks)
        pool = LocalPool(workers)
        where = f"{pool.size} worker process{'es' if pool.size > 1 else ''}"
    report = args.progress != "none"
    if report:
        stdout.write(f"sweep: {len(tasks)} runs on {where}\n")
        stdout.flush()
    results: list[RunResult] = []
    with pool:
        for result in pool.run(tasks):
            results.append(result)
            if report:
                stdout.write(f"[{len(results)}/{len(tasks)}] {done_line(result)}\n")
                stdout.flush()
    results.sort(key=lambda r: r.index)
    failures = []
    if args.results:
        try:
            write_results(args.results, results, keys)
        except (OSError, ValueError) as err:
            failures.append(f"--results: could not write {args.results} ({err})")
    if args.json:
        document = {
            "runs": [result_record(r, keys, full=False) for r in results],
            "results": None if failures else args.results,
        }
        if failures:
            document["write_errors"] = failures
        stdout.write(json.dumps(document) + "\n")
    else:
        stdout.write(results_table(results, keys))
        if args.results and not failures:
            stdout.write(f"results written to {args.results}\n")
    for failure in failures:
        sys.stderr.write(f"nn-playground-train: error: {failure}\n")
    if failures:
        return 2
    return 0 if any(r.usable for r in results) else 1


def check_side_by_side(tasks: list[RunTask], workers: int) -> None:
    """ValueError (naming the runs and the figures) when the ``workers`` runs that need the
    most memory, trained at once, need more than is available (:func:`core.sweep.fit.too_large`)."""
    problem = too_large(tasks, workers)
    if problem is None:
        return
    fewer = f"--workers {problem.fit} or fewer" if problem.fit > 1 else "--workers 1"
    raise ValueError(
        f"--workers: {problem.workers} runs side by side {problem.figures()}; allowed: "
        f"{fewer}, or smaller networks (--layers, --arch) or a smaller --batch-size"
    )


def fetch_images(tasks: list[RunTask]) -> list[RunTask]:
    """``tasks`` with each image recipe checked here (downloaded once, with --download) before
    the workers start, so that they read the cache rather than each fail or download."""
    fetched: dict[int, Recipe] = {}
    out = []
    for task in tasks:
        recipe = task.recipe
        if isinstance(recipe, ImageRecipe):
            if id(recipe) not in fetched:
                fetched[id(recipe)] = recipe.fetched()
            recipe = fetched[id(recipe)]
        out.append(replace(task, recipe=recipe))
    return out


def done_line(result: RunResult) -> str:
    """One line about a finished run, for the progress report."""
    stopped = "" if result.reason == "epochs" else f", stopped: {result.reason}"
    return (
        f"{result.name}: {result.epochs} epochs{stopped}, test loss {fmt(result.test_loss)}, "
        f"test acc {fmt(result.test_acc)} ({result.seconds:.2f} s)"
    )

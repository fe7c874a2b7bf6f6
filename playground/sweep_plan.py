"""A sweep of the session on screen, as plain data (no Qt): the settings the app lets a sweep
vary (in its own words), their values read from what was typed, and one
:class:`core.sweep.task.RunTask` per combination, each built as its workspace builds its own
run (the same data arrays, network spec and training settings).

Plane sessions train on a :class:`core.recipe.ToyRecipe` (the workers make the points from it)
unless the points come from a CSV file or carry clicked edits: those travel as the arrays, with
the input features applied. Image sessions train on the arrays the image workspace loads (the
balanced subsets of :func:`playground.image_data.load_image_data`), loaded once.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from core.data.features import check_features
from core.model import Sequential
from core.recipe import Recipe, ToyRecipe, TrainingData, points_data
from core.sweep.fit import too_large
from core.sweep.settings import combinations, parse_sweep, run_name
from core.sweep.task import RunTask
from core.training.batches import min_batch
from playground.image_data import layout_for, load_image_data
from playground.image_session import ImageSession
from playground.network_settings import LayerSettings
from playground.session import Session

#: The settings a sweep can vary: key (as in :data:`core.sweep.settings.SWEEP_KEYS`) ->
#: (the app's name of it, the values offered at first).
SWEEP_SETTINGS: dict[str, tuple[str, str]] = {
    "lr": ("Learning rate", "0.003, 0.01, 0.03"),
    "optimizer": ("Optimizer", "sgd, adam"),
    "activation": ("Activation", "tanh, relu"),
    "layers": ("Hidden layers", "8, 16-16"),
    "batch_size": ("Batch size", "16, 64"),
    "l2": ("L2", "0, 0.001, 0.01"),
    "dropout": ("Dropout", "0, 0.2"),
    "seed": ("Run seed", "0, 1, 2"),
}
#: Most runs one sweep of the app may ask for (each gets a row and a worker's time).
MAX_SWEEP_RUNS = 64
#: Epochs per run when the session trains without a limit.
DEFAULT_EPOCHS = 50
N_IMAGE_CLASSES = 10


def parse_values(key: str, text: str) -> tuple[Any, ...]:
    """The values typed for the setting ``key`` (comma-separated, e.g. ``"0.003, 0.01"``);
    ValueError naming the setting in the app's words and what it allows otherwise."""
    label = SWEEP_SETTINGS[key][0]
    try:
        return parse_sweep(f"{key}={text}")[1]
    except ValueError as exc:
        message = str(exc).removeprefix(f"--sweep {key}:").strip()
        raise ValueError(f"{label}: {message}") from None


def count_runs(sweeps: Sequence[tuple[str, Sequence[Any]]]) -> int:
    """The number of runs of ``sweeps`` (each setting's values); ValueError when a setting is
    chosen twice or the runs are more than :data:`MAX_SWEEP_RUNS`."""
    keys = [key for key, _ in sweeps]
    for key in keys:
        if keys.count(key) > 1:
            raise ValueError(
                f"{SWEEP_SETTINGS[key][0]}: chosen twice; allowed: two different settings"
            )
    total = math.prod(len(values) for _, values in sweeps)
    if total > MAX_SWEEP_RUNS:
        raise ValueError(f"{total:,} runs; allowed: at most {MAX_SWEEP_RUNS} (fewer values)")
    return total


def default_epochs(session: Session | ImageSession) -> int:
    """Epochs per run: the session's limit, or :data:`DEFAULT_EPOCHS` when it has none."""
    return int(session.training.epochs) or DEFAULT_EPOCHS


def run_session(session: Any, settings: dict[str, Any], epochs: int) -> Any:
    """The session one run of the sweep trains: ``session`` varied by ``settings`` (see
    :func:`vary`), for ``epochs``."""
    run = vary(session, settings)
    run.training.epochs = epochs
    return run


def vary(session: Any, settings: dict[str, Any]) -> Any:
    """A copy of ``session`` (plane or image) with the swept ``settings`` applied: the training
    settings by name; ``layers`` (``"16,16"``; ``""`` none) replaces the dense hidden rows (conv
    and pool rows stay, the new rows look like the first dense one); ``activation`` and
    ``dropout`` go to every dense row (``activation`` to conv rows too)."""
    s = copy.deepcopy(session)
    for key, value in settings.items():
        if key in ("lr", "batch_size", "l2", "seed"):
            setattr(s.training, key, value)
        elif key == "optimizer":
            if value != s.training.optimizer:
                s.training.optimizer_params = {}  # another optimizer's options don't apply
            s.training.optimizer = value
        elif key == "layers":
            dense = [row for row in s.network.hidden if row.kind == "dense"]
            like = dense[0] if dense else LayerSettings()
            sizes = [int(n) for n in value.split(",")] if value else []
            kept = [row for row in s.network.hidden if row.kind != "dense"]
            s.network.hidden = kept + [replace(like, units=n) for n in sizes]
        elif key in ("activation", "dropout"):
            kinds = ("dense", "conv") if key == "activation" else ("dense",)
            for row in s.network.hidden:
                if row.kind in kinds:
                    setattr(row, key, value)
        else:
            raise ValueError(f"{key}: not a setting a sweep of the app varies")
    return s


def plane_recipe(session: Session) -> Recipe:
    """The data of a plane run: a toy recipe, or the points themselves (a CSV file's, or with
    clicked edits) with the session's input features applied. ValueError for bad settings or
    a bad CSV file."""
    d = session.data
    features = list(check_features(d.features))
    if d.csv_path or d.edits:
        params = {"kind": "points", "csv_path": d.csv_path, "edits": len(d.edits)}
        return points_data(session.build_dataset(), features, params)
    session.base_dataset()  # checks the settings as the workspace does
    return ToyRecipe(d.dataset, **session.toy_params(), features=tuple(features))


def image_arrays(
    session: ImageSession, layout: str, cache_dir: str | os.PathLike[str] | None = None
) -> TrainingData:
    """The images of an image run in ``layout`` (``"flat"`` ``(n, 784)`` or ``"image"``
    ``(n, 1, 28, 28)``), as the image workspace's engine loads them; ValueError (or
    :class:`core.data.loading.DatasetNotFound`, :class:`core.data.idx.MnistError`) otherwise."""
    d = session.data
    p = load_image_data(d, cache_dir, layout=layout)
    names = tuple(p.class_names)
    meta = {"dataset": d.dataset, "task": "classification", "class_names": list(names)}
    return TrainingData(
        d.dataset,
        "classification",
        len(names),
        names,
        p.x_train,
        p.y_train,
        p.x_test,
        p.y_test,
        meta,
        {"kind": "images", **d.to_dict()},
        d.augment,
    )


class SweepCancelled(Exception):
    """The sweep was cancelled while its tasks were being built."""


def sweep_tasks(
    session: Session | ImageSession,
    sweeps: Sequence[tuple[str, Sequence[Any]]],
    epochs: int,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int = 1,
    cancelled: Callable[[], bool] | None = None,
) -> list[RunTask]:
    """One task per combination of ``sweeps`` (the first setting varying slowest), each
    trained for ``epochs``; the runs on the same data share one recipe (its training set is
    counted once). May take a second (images are read): call it off the GUI thread.
    ValueError, naming the run, for a combination that can't train (e.g. a network that can't
    be built), or when ``workers`` runs at once would not fit in memory; SweepCancelled as soon
    as ``cancelled()`` says so (it is asked between runs)."""
    count_runs(sweeps)
    images = isinstance(session, ImageSession)
    base = None if images else plane_recipe(session)
    dataset = None if images else session.build_dataset()
    loaded: dict[str, TrainingData] = {}
    n_train: dict[int, int] = {}  # id(recipe) -> its training points
    tasks = []
    for index, settings in enumerate(combinations(sweeps)):
        if cancelled is not None and cancelled():
            raise SweepCancelled
        name = run_name(settings)
        run = run_session(session, settings, epochs)
        try:
            spec = run.build_spec(N_IMAGE_CLASSES) if images else run.build_spec(dataset)
            run.training.validate()
            recipe = base
            if images:
                layout = layout_for(spec)
                if layout not in loaded:
                    loaded[layout] = image_arrays(session, layout, cache_dir)
                recipe = loaded[layout]
            if id(recipe) not in n_train:
                n_train[id(recipe)] = (
                    len(dataset.x_train) if dataset is not None else recipe.n_train
                )
            check_batch(spec, run.training.batch_size, n_train[id(recipe)])
        except ValueError as exc:
            raise ValueError(f"{exc} (in the run {name})") from None
        tasks.append(RunTask(recipe, spec, run.training, index, name, settings))
    check_memory(tasks, min(workers, len(tasks)))
    return tasks


def check_memory(tasks: list[RunTask], workers: int) -> None:
    """ValueError, in the app's words, when ``workers`` of the runs side by side would need
    more memory than is free (:func:`core.sweep.fit.too_large`)."""
    problem = too_large(tasks, workers)
    if problem is not None:
        one = " (one at a time fits)" if problem.fit == 1 else ""
        raise ValueError(
            f"Memory: {problem.workers} runs at a time {problem.figures()}; allowed: smaller "
            f"hidden layers, a smaller batch size or fewer training images{one}"
        )


def describe_session(session: Session | ImageSession) -> str:
    """The session's key settings in a few words, e.g. ``"spiral, hidden 8-8 tanh, sgd lr 0.03,
    batch 10"``."""
    dense = [row for row in session.network.hidden if row.kind == "dense"]
    layers = "-".join(str(row.units) for row in dense) or "none"
    activation = f" {dense[0].activation}" if dense else ""
    convs = sum(row.kind == "conv" for row in session.network.hidden)
    conv = f"{convs} conv + " if convs else ""
    t = session.training
    return (
        f"{session.data.dataset}, {conv}hidden {layers}{activation}, {t.optimizer} lr {t.lr:g}, "
        f"batch {t.batch_size}"
    )


def check_batch(spec: dict[str, Any], batch_size: int, n_train: int) -> None:
    """ValueError, in the app's words, when batch norm in ``spec`` needs larger batches than
    ``batch_size`` of ``n_train`` training points give (the trainer's rule)."""
    fewest = min_batch(Sequential(spec).layers)
    if min(batch_size, n_train) < fewest:
        raise ValueError(
            f"batch norm in the network needs batches of at least {fewest} training points; "
            f"allowed: a batch size of at least {fewest}"
        )

"""What the Lab's pages that compare training runs share (batch normalization, overfitting): the
images they learn from, found on this computer, and the numbers read off a run's history.

The runs themselves are sweep tasks (:class:`core.sweep.task.RunTask`): the app trains them on
the sweep's worker processes, a notebook or a test with :func:`core.sweep.task.run_task`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

import numpy as np

from core.data.locations import Location, status
from core.recipe import ImageRecipe, Recipe

#: The data sets a page learns from, in the order they are looked for: MNIST when it is on this
#: computer, else Fashion-MNIST (Debian's ``dataset-fashion-mnist`` package installs it).
IMAGE_SETS = ("mnist", "fashion-mnist")
#: Classes of both data sets.
CLASSES = 10
#: Pixels of one flattened 28×28 image.
PIXELS = 784


def find_images(cache_dir: str | os.PathLike[str] | None = None) -> Location | None:
    """Where the first of :data:`IMAGE_SETS` on this computer is (its ``name`` and
    ``folder``; no network, file sizes only), or None."""
    found = (status(name, cache_dir) for name in IMAGE_SETS)
    return next((location for location in found if location is not None), None)


def images_recipe(
    name: str, n_train: int, n_test: int, seed: int = 0, folder: str | None = None
) -> Recipe:
    """``n_train`` training images, the same number of each class (drawn with ``seed``), and the
    first ``n_test`` test images of ``name``, flat ``(n, 784)`` in [0, 1]. From the data set's
    cache or system folder, read where the runs train; or from ``folder`` (IDX files or an
    ``mnist.npz``), read now (it may take a second) and passed on as arrays."""
    recipe = ImageRecipe(name, per_class=n_train // CLASSES, test_subset=n_test, seed=seed)
    return recipe if folder is None else recipe.build(folder)


def last_value(history: Mapping[str, np.ndarray], column: str, epochs: int = 1) -> float:
    """The mean of ``column`` over a run's last ``epochs`` epochs (fewer when it has fewer; nan
    without any). ``history``: columns ``(epochs,)`` as :attr:`core.sweep.task.RunResult.
    history`."""
    values = np.asarray(history.get(column, ()), np.float64)[-epochs:]
    return float(values.mean()) if len(values) else math.nan


def epochs_to(history: Mapping[str, np.ndarray], column: str, level: float) -> int | None:
    """The first epoch whose ``column`` reached ``level``, or None if none did."""
    reached = np.flatnonzero(np.asarray(history.get(column, ()), np.float64) >= level)
    return int(history["epoch"][reached[0]]) if len(reached) else None

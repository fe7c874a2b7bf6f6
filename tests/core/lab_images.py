"""For the tests of the Lab's run-comparing pages: their images (MNIST's development copy, else
Debian's Fashion-MNIST) as arrays, and their runs trained as the app trains them, on the sweep's
worker pool (one BLAS thread per worker: on a busy machine a thread pool per process is many
times slower)."""

import pytest
from dev_data import DEV_MNIST

from core.lab.image_runs import find_images, images_recipe
from core.sweep.pool import LocalPool


def lab_images(n_train: int, n_test: int):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NN_PLAYGROUND_DATA", str(DEV_MNIST.parent))
        found = find_images()
        if found is None:
            pytest.skip("neither MNIST nor Fashion-MNIST is on this computer")
        return images_recipe(found.name, n_train, n_test).build()


def train_all(tasks, workers: int = 2):
    """The results of ``tasks``, in task order."""
    with LocalPool(workers) as pool:
        results = list(pool.run(tasks))
    return sorted(results, key=lambda r: r.index)

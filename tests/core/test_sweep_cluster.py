"""Sweeps on a Dask cluster: a LocalCluster on 127.0.0.1 gives bit for bit the local pool's
results, from the API and from --scheduler; without distributed the message says what to
install."""

import importlib
import io

import numpy as np
import pytest

from core import cli, cli_options
from core.recipe import ToyRecipe
from core.spec import mlp_spec
from core.sweep import cluster
from core.sweep.pool import LocalPool
from core.sweep.task import RunTask
from core.training.config import TrainConfig

METRICS = ("epoch", "step", "lr", "train_loss", "train_acc", "test_loss", "test_acc")


def tasks():
    toy = ToyRecipe("moons", n_samples=60, noise=0.1, seed=2)
    arrays = ToyRecipe("spiral", n_samples=60, seed=4).build()  # travels as arrays
    return [
        RunTask(recipe, mlp_spec(2, [h], 2), TrainConfig(lr=0.05, epochs=3, seed=i), i, str(i))
        for i, (recipe, h) in enumerate([(toy, 4), (toy, 8), (arrays, 4), (arrays, 8)])
    ]


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as local,
        distributed.Client(local) as c,
    ):
        yield c


def by_index(results):
    return sorted(results, key=lambda r: r.index)


def test_cluster_results_equal_local_ones_bit_for_bit(client):
    with cluster.ClusterPool(client) as pool:
        remote = by_index(pool.run(tasks()))
    with LocalPool(workers=2) as pool:
        local = by_index(pool.run(tasks()))
    assert [r.index for r in remote] == [0, 1, 2, 3]
    for a, b in zip(remote, local, strict=True):
        for name in METRICS:
            np.testing.assert_array_equal(a.history[name], b.history[name])
        assert (a.test_loss, a.train_acc, a.params, a.reason) == (
            b.test_loss,
            b.train_acc,
            b.params,
            b.reason,
        )


def test_scheduler_option_gives_the_local_table(client, tmp_path):
    def sweep(*extra):
        out = io.StringIO()
        args = ["--samples", "60", "--epochs", "3", "--sweep", "lr=0.01,0.1", "--progress"]
        parsed = cli_options.build_parser().parse_args([*args, "none", *extra])
        assert cli.run(parsed, out) == 0
        rows = [line.split() for line in out.getvalue().splitlines()]
        return [row[:-3] + row[-2:] for row in rows]  # every column but the seconds

    address = client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    assert sweep("--scheduler", address) == sweep("--workers", "2")


def test_missing_distributed_names_the_extra(monkeypatch):
    real = importlib.import_module

    def no_distributed(name, *args):
        if name == "distributed":
            raise ImportError("No module named 'distributed'")
        return real(name, *args)

    monkeypatch.setattr(cluster.importlib, "import_module", no_distributed)
    with pytest.raises(ImportError, match=r"--scheduler: .*pip install 'nn-playground\[cluster\]'"):
        cluster.ClusterPool("tcp://127.0.0.1:8786")

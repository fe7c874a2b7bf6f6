"""``nn-playground-train --sweep``: the table, the CSV and JSON results (equal to single runs),
the exit status, and the option combinations refused before anything trains."""

import csv
import io
import json
import os
from dataclasses import replace

import numpy as np
import pytest
from dev_data import DEV_MNIST
from guards import refuse_calls
from idx_server import NAMES, PROXY_VARIABLES, running_server

from core import cli, cli_options, cli_sweep, memory
from core.data import registry
from core.recipe import ImageRecipe, TrainingData
from core.sweep import pool as sweep_pool
from core.sweep.fit import run_memory
from core.sweep.task import run_task

DATA = ("--dataset", "spiral", "--samples", "60", "--epochs", "3")
BASE = (*DATA, "--layers", "6")


def run_cli(*args):
    out = io.StringIO()
    parsed = cli_options.build_parser().parse_args([str(a) for a in args])
    return cli.run(parsed, out), out.getvalue()


def single(*args, base=BASE):
    code, text = run_cli(*base, *args, "--json", "--progress", "none")
    assert code == 0
    return json.loads(text.splitlines()[-1])


def test_table_and_csv_equal_single_runs(tmp_path):
    path = tmp_path / "sweep.csv"
    code, text = run_cli(
        *BASE,
        "--sweep",
        "lr=0.01,0.1",
        "--sweep",
        "optimizer=sgd,adam",
        "--workers",
        "2",
        "--results",
        path,
    )
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "sweep: 4 runs on 2 worker processes"
    assert sum(line.startswith("[") for line in lines) == 4
    head = next(i for i, line in enumerate(lines) if line.startswith("run  name"))
    table = lines[head + 1 : head + 5]
    assert [row.split()[1:4] for row in table] == [
        ["sgd", "lr", "0.01"],
        ["adam", "lr", "0.01"],
        ["sgd", "lr", "0.1"],
        ["adam", "lr", "0.1"],
    ]
    assert lines[-1] == f"results written to {path}"
    rows = list(csv.DictReader(path.open()))
    assert [r["run"] for r in rows] == ["1", "2", "3", "4"]
    assert list(rows[0])[:4] == ["run", "name", "lr", "optimizer"]
    for row in rows:
        alone = single("--lr", row["lr"], "--optimizer", row["optimizer"])
        for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
            assert float(row[name]) == alone[name]
        assert int(row["epochs"]) == alone["epochs"] == 3 and row["reason"] == "epochs"
        assert int(row["params"]) == 2 * 6 + 6 + 6 * 2 + 2


def test_json_results_carry_histories(tmp_path):
    path = tmp_path / "sweep.json"
    code, text = run_cli(*DATA, "--sweep", "layers=4,8-8", "--results", path, "--json")
    assert code == 0
    printed = json.loads(text.splitlines()[-1])
    assert [r["name"] for r in printed["runs"]] == ["4", "8-8"] and printed["results"] == str(path)
    document = json.loads(path.read_text())
    assert document["format"] == "nn-playground/sweep" and document["settings"] == ["layers"]
    run = document["runs"][1]
    assert run["settings"] == {"layers": "8-8"} and run["config"]["epochs"] == 3
    assert len(run["history"]["train_loss"]) == 3
    alone = single("--layers", "8,8", base=DATA)
    assert run["history"]["test_loss"][-1] == alone["test_loss"]
    np.testing.assert_array_equal(run["history"]["epoch"], [1, 2, 3])


def test_every_run_diverged_exits_1():
    code, text = run_cli(
        "--dataset", "plane", "--samples", "40", "--optimizer", "sgd", "--epochs", "5",
        "--sweep", "lr=50,100", "--workers", "1", "--progress", "none",
    )  # fmt: skip
    assert code == 1
    assert text.count("diverged: the test loss became inf") == 2


@pytest.fixture
def no_sweep(monkeypatch):
    """Fail the test if a worker pool starts."""
    refuse_calls(monkeypatch, cli_sweep, ("LocalPool", "ClusterPool"), "the sweep started")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--sweep", "lr=0.1", "--out", "m.npz"), "--out: cannot be combined with --sweep"),
        (("--sweep", "lr=0.1", "--resume", "r.npz"), "--resume: cannot be combined with --sweep"),
        (("--sweep", "lr=0.1", "--export-onnx", "m.onnx"), "--export-onnx: cannot be combined"),
        (
            (
                "--workers",
                "2",
            ),
            "--workers: only with --sweep",
        ),
        (
            (
                "--results",
                "r.csv",
            ),
            "--results: only with --sweep",
        ),
        (("--sweep", "lr=0.1", "--workers", "0"), "--workers: 0; allowed: a whole number from 1"),
        (
            ("--sweep", "lr=0.1", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"),
            "--workers: cannot be combined with --scheduler",
        ),
        (("--sweep", "lr=0.1", "--results", "r.txt"), "--results: 'r.txt' has no known extension"),
        (("--sweep", "lr=0.1", "--results", "nowhere/r.csv"), "--results: the folder 'nowhere'"),
        (("--sweep", "lr=0.1,x"), "--sweep lr: 'x' is not a number"),
        (("--sweep", "layers=4", "--layers", "8"), "--sweep layers: also given as --layers"),
    ],
)
def test_refused_before_anything_trains(args, message, capsys, no_sweep, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--samples", "60", "--epochs", "2", *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.skipif(not (DEV_MNIST / "train-labels-idx1-ubyte.gz").exists(), reason="no MNIST")
@pytest.mark.parametrize("from_folder", [False, True])
def test_image_runs_load_on_the_workers_or_travel_as_arrays(from_folder, monkeypatch):
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(DEV_MNIST.parent))  # the workers inherit it
    images = ["--dataset", "mnist", "--per-class", "5", "--test-subset", "50", "--layers", "8"]
    images += ["--epochs", "2", "--batch-size", "25"]
    if from_folder:
        images += ["--data-dir", str(DEV_MNIST)]
    args = cli_options.build_parser().parse_args([*images, "--sweep", "lr=0.001,0.01"])
    _, tasks = cli_sweep.sweep_tasks(args)
    assert isinstance(tasks[0].recipe, TrainingData if from_folder else ImageRecipe)
    code, text = run_cli(*images, "--sweep", "lr=0.001,0.01", "--workers", "1", "--json")
    assert code == 0
    runs = json.loads(text.splitlines()[-1])["runs"]
    for run in runs:
        alone = single("--lr", str(run["lr"]), base=images)
        assert (run["test_loss"], run["train_acc"]) == (alone["test_loss"], alone["train_acc"])
        assert run["params"] == 784 * 8 + 8 + 8 * 10 + 10


def test_runs_side_by_side_must_fit_in_memory_together(capsys, no_sweep, monkeypatch):
    sweep = (*DATA, "--sweep", "layers=300-300,200,100", "--workers", "2")
    _, tasks = cli_sweep.sweep_tasks(cli_options.build_parser().parse_args(sweep))
    info = tasks[0].recipe.describe()
    first, second, third = (run_memory(t, info) for t in tasks)
    assert first > second > third
    monkeypatch.setattr(memory, "available_memory", lambda: first + second - 1)
    assert cli.main([*sweep, "--progress", "none"]) == 2
    size = memory.format_bytes
    assert capsys.readouterr().err == (
        f"nn-playground-train: error: --workers: 2 runs side by side need about "
        f"{size(first + second)} of memory (the largest: 300-300 {size(first)}, 200 "
        f"{size(second)}; each its network and its worker's two copies of the training data), "
        f"but {size(first + second - 1)} is available; allowed: --workers 1, or smaller "
        "networks (--layers, --arch) or a smaller --batch-size\n"
    )
    cli_sweep.check_side_by_side(tasks, 1)  # one at a time fits
    monkeypatch.setattr(memory, "available_memory", lambda: first + second)
    cli_sweep.check_side_by_side(tasks, 2)


class InProcessPool:
    """A pool that runs its tasks here, noting how many workers it was asked for."""

    sizes: list[int] = []

    def __init__(self, workers):
        self.size = workers
        self.sizes.append(workers)

    def run(self, tasks):
        return (run_task(t) for t in tasks)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def test_the_command_line_uses_every_core_and_the_app_leaves_one(monkeypatch):
    monkeypatch.setattr(sweep_pool.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.setattr(cli_sweep, "LocalPool", InProcessPool)
    code, text = run_cli(*BASE, "--sweep", "seed=1,2,3,4", "--progress", "lines")
    assert code == 0 and text.splitlines()[0] == "sweep: 4 runs on 3 worker processes"
    assert InProcessPool.sizes[-1] == 3
    assert sweep_pool.default_workers() == 2 and sweep_pool.check_workers(None) == 2  # the app
    assert "default: one per core" in cli_options.build_parser().format_help()


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """An empty data cache and no system copy of MNIST (in this process)."""
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(tmp_path / "cache"))
    spec = registry.DATASETS["mnist"]
    monkeypatch.setitem(registry.DATASETS, "mnist", replace(spec, system_dirs=()))


IMAGES = ["--dataset", "mnist", "--per-class", "5", "--test-subset", "50", "--layers", "8"]
IMAGES += ["--epochs", "1", "--batch-size", "25", "--progress", "none"]


def test_missing_image_data_is_refused_like_a_single_run(no_mnist, no_sweep, capsys):
    assert cli.main(IMAGES) == 2
    alone = capsys.readouterr().err
    assert "MNIST is not available locally" in alone
    assert cli.main([*IMAGES, "--sweep", "lr=0.1,0.2"]) == 2
    assert capsys.readouterr().err == alone


@pytest.mark.skipif(not (DEV_MNIST / "train-labels-idx1-ubyte.gz").exists(), reason="no MNIST")
def test_download_happens_once_before_the_workers_start(no_mnist, monkeypatch, tmp_path):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with running_server() as server:
        for name in NAMES:
            server.routes[f"/m/{name}.gz"] = ("ok", (DEV_MNIST / f"{name}.gz").read_bytes())
        spec = registry.DATASETS["mnist"]
        monkeypatch.setitem(registry.DATASETS, "mnist", replace(spec, mirrors=(server.url("m"),)))
        sweep = ["--download", "--sweep", "lr=0.001,0.01", "--workers", "2", "--json"]
        code, text = run_cli(*IMAGES, *sweep)
    assert code == 0
    assert sorted(server.fetched()) == sorted(f"m:{name}.gz" for name in NAMES)
    assert sorted(os.listdir(tmp_path / "cache" / "mnist")) == sorted(f"{n}.gz" for n in NAMES)
    runs = json.loads(text.splitlines()[-1])["runs"]
    assert [r["reason"] for r in runs] == ["epochs", "epochs"]

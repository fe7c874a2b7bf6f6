"""``nn-playground-train --sweep``: the table, the CSV and JSON results (equal to single runs),
the exit status, and the option combinations refused before anything trains."""

import csv
import io
import json

import numpy as np
import pytest
from dev_data import DEV_MNIST

from core import cli, cli_options, cli_sweep
from core.recipe import ImageRecipe, TrainingData

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
    assert run["settings"] == {"layers": "8,8"} and run["config"]["epochs"] == 3
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

    def refuse(*args, **kwargs):
        raise AssertionError("the sweep started")

    monkeypatch.setattr(cli_sweep, "LocalPool", refuse)
    monkeypatch.setattr(cli_sweep, "ClusterPool", refuse)


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

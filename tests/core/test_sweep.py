"""Sweeps: --sweep parsing, the runs' combinations and names, each run equal bit for bit to a
single command-line run with the same options, and the results table and files."""

import csv
import io
import json
import math
import re
from dataclasses import replace

import numpy as np
import pytest

from core import cli, cli_options
from core.cli_sweep import sweep_tasks
from core.sweep.results import results_csv, results_json, results_table
from core.sweep.settings import MAX_RUNS, combinations, parse_sweep, parse_sweeps, run_name
from core.sweep.task import run_task

#: A small, quick problem: 60 spiral points, a 2-6-2 network, a few epochs.
BASE = ("--dataset", "spiral", "--samples", "60", "--epochs", "4", "--seed", "3")
#: Every metric column of a run's history (the time column is the clock's).
METRIC_COLUMNS = ("epoch", "step", "lr", "train_loss", "train_acc", "test_loss", "test_acc")


def parse(*args):
    return cli_options.build_parser().parse_args([str(a) for a in args])


def run_cli(*args):
    out = io.StringIO()
    return cli.run(parse(*args), out), out.getvalue()


def test_parse_sweep_values_in_the_options_form():
    assert parse_sweep("lr=0.003,0.01,0.03") == ("lr", (0.003, 0.01, 0.03))
    assert parse_sweep("layers=8,16,32") == ("layers", ("8", "16", "32"))
    assert parse_sweep("layers=16-16,32-32,none") == ("layers", ("16,16", "32,32", ""))
    assert parse_sweep("batch-size=8,32") == ("batch_size", (8, 32))
    assert parse_sweep("optimizer=sgd,adam") == ("optimizer", ("sgd", "adam"))
    assert parse_sweep("batchnorm=on,off") == ("batchnorm", (True, False))
    assert parse_sweep("seed=0,1") == ("seed", (0, 1))


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("lr=0.1,abc", ["--sweep lr", "'abc'", "allowed: numbers in (0, 100]"]),
        ("lr=0.1,0", ["--sweep lr", "0", "allowed: a number in (0, 100]"]),
        ("optimizer=adam,adamx", ["--sweep optimizer", "'adamx'", "allowed: sgd", "adam"]),
        ("activation=relu,relux", ["--sweep activation", "'relux'", "tanh"]),
        ("layers=16-x", ["--sweep layers", "'16-x'", "whole numbers >= 1 joined by '-'"]),
        ("batch_size=8,0", ["--sweep batch_size", "allowed"]),
        ("dropout=0.5,1", ["--sweep dropout", "[0, 0.95]"]),
        ("seed=1.5", ["--sweep seed", "'1.5'", "whole number"]),
        ("lr=0.1,0.1", ["--sweep lr", "listed twice"]),
        ("lr=", ["--sweep lr", "empty value"]),
        ("lr=0.1,,0.2", ["--sweep lr", "empty value"]),
        ("lr", ["--sweep", "KEY=VALUES", "lr=0.003,0.01,0.03"]),
        ("momentm=0.9", ["--sweep", "'momentm'", "allowed: optimizer, lr", "layers", "seed"]),
        ("lr=1_0", ["--sweep lr", "'1_0'", "not a number"]),
    ],
)
def test_parse_errors_name_the_option_and_the_allowed_values(text, names):
    with pytest.raises(ValueError) as err:
        parse_sweep(text)
    for part in names:
        assert part in str(err.value)


def test_a_key_is_swept_once_and_the_runs_are_bounded():
    with pytest.raises(ValueError, match=r"--sweep lr: given twice"):
        parse_sweeps(["lr=0.1", "learning-rate=0.2"])
    many = ",".join(str(i) for i in range(1, 101))
    with pytest.raises(ValueError, match=rf"1,000,000 runs; allowed: at most {MAX_RUNS:,}"):
        parse_sweeps([f"seed={many}", f"batch_size={many}", f"epochs={many}"])


def test_combinations_are_the_cartesian_product_in_a_stable_order():
    sweeps = parse_sweeps(["lr=0.003,0.01,0.03", "optimizer=sgd,adam"])
    runs = combinations(sweeps)
    assert runs == [
        {"lr": 0.003, "optimizer": "sgd"},
        {"lr": 0.003, "optimizer": "adam"},
        {"lr": 0.01, "optimizer": "sgd"},
        {"lr": 0.01, "optimizer": "adam"},
        {"lr": 0.03, "optimizer": "sgd"},
        {"lr": 0.03, "optimizer": "adam"},
    ]
    assert combinations([]) == [{}]


def test_run_names_say_what_differs_training_first():
    assert run_name({"lr": 0.03, "optimizer": "adam"}) == "adam lr 0.03"
    settings = {"activation": "relu", "layers": "16,16", "lr": 0.03, "optimizer": "adam"}
    assert run_name(settings) == "adam lr 0.03 · 16-16 relu"
    named = run_name({"seed": 2, "dropout": 0.2, "batch_size": 8})
    assert named == "batch 8 · dropout 0.2 · seed 2"
    assert run_name({"layers": "", "batchnorm": False}) == "no hidden layer no bn"


def test_sweep_tasks_are_built_like_single_runs():
    args = parse(*BASE, "--sweep", "layers=4,8-8", "--sweep", "lr=0.1,0.2")
    keys, tasks = sweep_tasks(args)
    assert keys == ["layers", "lr"]
    assert [t.name for t in tasks] == ["lr 0.1 · 4", "lr 0.2 · 4", "lr 0.1 · 8-8", "lr 0.2 · 8-8"]
    assert [t.index for t in tasks] == [0, 1, 2, 3]
    assert len({id(t.recipe) for t in tasks}) == 1  # one data set, shared
    single = cli_options.task_from_args(parse(*BASE, "--layers", "8,8", "--lr", "0.2"))
    assert single.recipe.seed == 3 and single.recipe.n_samples == 60
    assert tasks[3].spec == single.spec and tasks[3].config == single.config
    assert tasks[3].recipe == single.recipe


def test_a_swept_option_given_alone_too_is_refused():
    with pytest.raises(ValueError, match=r"--sweep lr: also given as --lr"):
        sweep_tasks(parse(*BASE, "--lr", "0.1", "--sweep", "lr=0.1,0.2"))


@pytest.mark.parametrize(
    ("option", "sweep"),
    [
        (("--seed", "0"), "seed=1,2"),
        (("--optimizer", "adam"), "optimizer=sgd,adam"),
        (("--activation", "relu"), "activation=tanh,relu"),
    ],
)
def test_a_swept_option_given_with_its_default_value_is_refused_too(option, sweep):
    key = sweep.partition("=")[0]
    with pytest.raises(ValueError, match=rf"^--sweep {key}: also given as {option[0]}; allowed"):
        sweep_tasks(parse("--samples", "60", *option, "--sweep", sweep))


def test_a_run_that_cannot_be_built_is_named():
    with pytest.raises(ValueError, match=r"^n_classes: 3 .*'xor'.* \(in the run seed 1\)$"):
        sweep_tasks(parse("--dataset", "xor", "--classes", "3", "--sweep", "seed=1,2"))


@pytest.mark.parametrize("seed", [0, 5])
def test_each_run_equals_a_single_command_line_run_bit_for_bit(tmp_path, seed):
    options = (*BASE[:-1], seed, "--layers", "6", "--optimizer", "sgd", "--dropout", "0.2")
    args = parse(*options, "--sweep", "lr=0.05,0.2", "--sweep", "activation=tanh,relu")
    _, tasks = sweep_tasks(args)
    for task in tasks:
        result = run_task(task)
        single = tmp_path / f"single{task.index}.npz"
        code, _ = run_cli(
            *options,
            "--lr",
            task.settings["lr"],
            "--activation",
            task.settings["activation"],
            "--save-experiment",
            single,
            "--progress",
            "none",
        )
        assert code == 0
        meta = json.loads(np.load(single)["meta.json"][()])
        rows = np.load(single)["history"]
        columns = meta["history_columns"]
        for name in METRIC_COLUMNS:
            np.testing.assert_array_equal(result.history[name], rows[:, columns.index(name)])
        assert result.test_loss == rows[-1, columns.index("test_loss")]
        assert result.train_acc == rows[-1, columns.index("train_acc")]
        assert result.epochs == 4 and result.reason == "epochs"


def sweep_results(*sweeps):
    """The results of a 1-epoch sweep (trained here) and its swept keys."""
    keys, tasks = sweep_tasks(parse(*BASE[:-4], "--epochs", "1", *sweeps))
    return keys, [run_task(t) for t in tasks]


def test_non_finite_values_are_null_in_json_and_empty_in_csv():
    keys, results = sweep_results("--sweep", "lr=0.1,0.2")
    inf, history = math.inf, dict(results[0].history)
    history["train_loss"] = np.array([-inf])
    results[0] = replace(results[0], train_loss=-inf, test_loss=inf, history=history)
    results[1] = replace(results[1], test_acc=math.nan)
    runs = json.loads(results_json(results, keys))["runs"]
    assert (runs[0]["train_loss"], runs[0]["test_loss"]) == (None, None)
    assert runs[0]["history"]["train_loss"] == [None] and runs[1]["test_acc"] is None
    assert runs[0]["train_acc"] == results[0].train_acc  # finite values stay
    rows = list(csv.DictReader(io.StringIO(results_csv(results, keys))))
    assert (rows[0]["train_loss"], rows[0]["test_loss"], rows[1]["test_acc"]) == ("", "", "")
    assert float(rows[0]["train_acc"]) == results[0].train_acc


def test_settings_are_spelled_as_sweep_takes_them_everywhere():
    keys, results = sweep_results("--sweep", "layers=4-4,none", "--sweep", "batchnorm=on")
    rows = list(csv.DictReader(io.StringIO(results_csv(results, keys))))
    assert [(r["layers"], r["batchnorm"]) for r in rows] == [("4-4", "on"), ("none", "on")]
    runs = json.loads(results_json(results, keys))["runs"]
    assert [(r["layers"], r["settings"]["layers"]) for r in runs] == [("4-4",) * 2, ("none",) * 2]
    table = results_table(results, keys).splitlines()
    assert re.search(r"\s4-4\s+on\s", table[1]) and re.search(r"\snone\s+on\s", table[2])


def test_a_result_carries_its_final_weights_below_the_bound(monkeypatch):
    from core.sweep import task as task_module
    from core.sweep.task import execute

    _, tasks = sweep_tasks(parse(*BASE, "--sweep", "lr=0.1"))
    result = run_task(tasks[0])
    trainer, _ = execute(tasks[0])  # the same run again: the same weights, bit for bit
    state = trainer.model.get_state()
    assert result.weights is not None and set(result.weights) == set(state)
    for key, value in state.items():
        np.testing.assert_array_equal(result.weights[key], value, err_msg=key)
    monkeypatch.setattr(task_module, "MAX_WEIGHT_PARAMS", result.params)  # at the bound: none
    assert run_task(tasks[0]).weights is None


def test_a_task_starts_from_its_initial_state_and_reports_every_epoch():
    from core.model import Sequential
    from core.recipe import ToyRecipe
    from core.spec import mlp_spec
    from core.sweep.task import RunTask
    from core.training.config import TrainConfig
    from core.training.history import history_rows

    spec = mlp_spec(2, [5], 2)
    state = Sequential(spec, rng=np.random.default_rng(9)).get_state()
    state = {k: v * 3 for k, v in state.items()}
    config = TrainConfig(optimizer="sgd", lr=1e-9, batch_size=8, epochs=30, seed=1)
    task = RunTask(ToyRecipe("xor", n_samples=40, seed=0), spec, config, initial_state=state)
    reports = []
    result = run_task(task, reports.append, data=None)
    for key, value in state.items():  # (a learning rate of 1e-9 leaves them where they began)
        np.testing.assert_allclose(result.weights[key], value, rtol=1e-5, atol=1e-6, err_msg=key)
    rows = np.concatenate([p.rows for p in reports])
    np.testing.assert_array_equal(rows, history_rows(result.history))
    assert rows.shape == (30, 8) and reports[-1].epoch == 30

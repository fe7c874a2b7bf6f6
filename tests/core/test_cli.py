"""The headless command: trains, reports, writes a loadable model, refuses bad input clearly."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dev_data import DEV_MNIST
from guards import refuse_calls

import core
from core import cli, cli_options, cli_outputs, memory
from core.data.loading import load
from core.data.prepare import prepare
from core.io import load_model
from core.sweep import task as sweep_task


def run_cli(*args):
    out = io.StringIO()
    parsed = cli_options.build_parser().parse_args(list(args))
    return cli.run(parsed, out), out.getvalue()


def test_trains_spiral_and_writes_a_model(tmp_path):
    path = tmp_path / "model.npz"
    code, text = run_cli(
        "--dataset",
        "spiral",
        "--layers",
        "16,16",
        "--activation",
        "relu",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        "150",
        "--batch-size",
        "10",
        "--seed",
        "0",
        "--out",
        str(path),
        "--progress",
        "lines",
    )
    assert code == 0
    assert "stopped: epochs after 150 epochs" in text
    test_acc = float(text.split("test  loss")[1].split("accuracy")[1].split()[0])
    assert test_acc >= 0.97
    model, meta = load_model(path)
    assert meta["dataset"] == "spiral" and meta["features"] == ["x1", "x2"]
    assert model.n_params == 354


def test_json_output_features_arch_and_schedule():
    code, text = run_cli(
        "--dataset",
        "circle",
        "--features",
        "x1sq,x2sq",
        "--arch",
        "dense:4,tanh,dense:2",
        "--epochs",
        "30",
        "--schedule",
        "cosine",
        "--warmup",
        "2",
        "--progress",
        "none",
        "--json",
        "--opt",
        "betas=[0.8,0.99]",
    )
    result = json.loads(text)
    assert code == 0 and result["reason"] == "epochs" and result["test_acc"] >= 0.95


def test_regression_and_target_loss():
    code, text = run_cli(
        "--dataset",
        "plane",
        "--layers",
        "8",
        "--activation",
        "tanh",
        "--target-loss",
        "0.001",
        "--epochs",
        "500",
        "--progress",
        "none",
        "--json",
    )
    result = json.loads(text)
    assert code == 0 and result["reason"] == "target_loss" and result["test_acc"] is None


def test_divergence_exits_1_and_writes_nothing(tmp_path):
    path = tmp_path / "m.npz"
    code, text = run_cli(
        "--dataset",
        "plane",
        "--optimizer",
        "sgd",
        "--lr",
        "90",
        "--epochs",
        "50",
        "--progress",
        "none",
        "--out",
        str(path),
    )
    assert code == 1 and "diverged" in text and not path.exists()


def test_csv_input(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 5, (80, 2))
    rows = "\n".join(f"{a:.3f},{b:.3f},{int(a > 0)}" for a, b in x)
    (tmp_path / "pts.csv").write_text("x1,x2,label\n" + rows + "\n")
    code, text = run_cli(
        "--csv",
        str(tmp_path / "pts.csv"),
        "--layers",
        "4",
        "--epochs",
        "40",
        "--progress",
        "none",
        "--json",
    )
    assert code == 0 and json.loads(text)["test_acc"] >= 0.9


def test_bad_input_exits_2_with_a_message(tmp_path, capsys):
    assert cli.main(["--lr", "-1", "--progress", "none"]) == 2
    assert "lr" in capsys.readouterr().err
    assert cli.main(["--activation", "mish", "--progress", "none"]) == 2
    assert "mish" in capsys.readouterr().err
    (tmp_path / "bad.csv").write_text("1,2,0\n1,oops,1\n")
    assert cli.main(["--csv", str(tmp_path / "bad.csv"), "--progress", "none"]) == 2
    assert "line 2" in capsys.readouterr().err


def test_console_script_runs_in_a_subprocess():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.cli",
            "--dataset",
            "xor",
            "--layers",
            "8",
            "--epochs",
            "3",
            "--progress",
            "lines",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "epoch 3/3" in out.stdout and "test  loss" in out.stdout


FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist not installed")
def test_trains_an_mlp_on_a_fashion_mnist_subset(tmp_path):
    path = tmp_path / "fashion.npz"
    code, text = run_cli(
        "--dataset",
        "fashion-mnist",
        "--train-subset",
        "3000",
        "--test-subset",
        "1000",
        "--layers",
        "64",
        "--epochs",
        "3",
        "--progress",
        "none",
        "--json",
        "--out",
        str(path),
    )
    result = json.loads(text)
    assert code == 0 and result["test_acc"] >= 0.72
    model, meta = load_model(path)
    assert model.input_shape == (784,) and meta["class_names"][9] == "Ankle boot"


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist not installed")
def test_trains_a_cnn_on_a_fashion_mnist_subset(tmp_path):
    path = tmp_path / "cnn.npz"
    args = (
        "--dataset fashion-mnist --train-subset 2000 --test-subset 500 --lr 0.003 --epochs 2 "
        "--arch conv:8x5,relu,pool:2,flatten,dense:10 --progress lines"
    )
    code, text = run_cli(*args.split(), "--out", str(path))
    assert code == 0
    assert "epoch 2/2" in text and "samples/s" in text  # progress lines
    assert "stopped: epochs after 2 epochs" in text and f"model written to {path}" in text
    test_acc = float(text.split("test  loss")[1].split("accuracy")[1].split()[0])
    assert test_acc >= 0.7
    model, meta = load_model(path)
    assert model.input_shape == (1, 28, 28) and meta["layout"] == "image"
    assert [layer.kind for layer in model.layers][:3] == ["conv", "relu", "maxpool"]
    # The file holds the trained weights: they give the accuracy the run printed.
    data = prepare(load("fashion-mnist"), layout="image", n_train=1, n_test=500)
    assert np.mean(model.predict(data.x_test) == data.y_test) == pytest.approx(test_acc, abs=1e-4)


@pytest.mark.skipif(not DEV_MNIST.is_dir(), reason="development MNIST copy not present")
def test_reads_mnist_from_a_folder():
    code, text = run_cli(
        "--dataset",
        "mnist",
        "--data-dir",
        str(DEV_MNIST),
        "--per-class",
        "100",
        "--test-subset",
        "500",
        "--layers",
        "32",
        "--epochs",
        "15",
        "--lr",
        "0.003",
        "--progress",
        "none",
        "--json",
        "--augment",
    )
    assert code == 0 and json.loads(text)["test_acc"] >= 0.75


def test_augment_is_refused_for_toy_data(capsys):
    assert cli.main(["--dataset", "xor", "--augment", "--progress", "none"]) == 2
    assert "--augment" in capsys.readouterr().err


# ------------------------------------------------------------------ checks before training


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a network is built or trained."""
    refuse_calls(monkeypatch, sweep_task, ("build_trainer", "train_iter"), "training started")


def test_output_paths_are_checked_before_training(tmp_path, capsys, no_training):
    ok = tmp_path / "ok.npz"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = [
        (["--out", "/nonexistent/m.npz", "--save-experiment", str(ok)], "--out", "does not exist"),
        (["--out", ""], "--out", "the path is empty"),
        (["--save-experiment", "  "], "--save-experiment", "the path is empty"),
        (["--out", str(tmp_path)], "--out", "is a folder"),
        (["--out", str(tmp_path) + "/"], "--out", "is a folder"),
        (["--export-onnx", str(a_file / "m.onnx")], "--export-onnx", "is not a folder"),
        (["--out", str(ok), "--save-experiment", str(ok)], "--save-experiment", "also the file"),
        (["--out", str(tmp_path / ("x" * 300))], "--out", "File name too long"),
    ]
    if Path("/dev/null").exists():
        cases.append((["--out", "/dev/null"], "--out", "not a regular file"))
    for args, flag, words in cases:
        assert cli.main(["--dataset", "xor", "--progress", "none", *args]) == 2, args
        err = capsys.readouterr().err
        assert f"error: {flag}:" in err and words in err, (args, err)
        assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]  # nothing written


def test_an_unwritable_folder_is_found_before_training(tmp_path, capsys, monkeypatch, no_training):
    real = cli_outputs.tempfile.TemporaryFile

    def denied(*args, dir=None, **kwargs):  # a read-only folder (root would ignore chmod)
        if Path(dir) == tmp_path / "ro":
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(cli_outputs.tempfile, "TemporaryFile", denied)
    assert cli.main(["--progress", "none", "--out", str(tmp_path / "ro" / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert "--out: cannot write" in err and "Permission denied" in err


def test_a_write_failing_at_the_end_still_writes_the_others(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "save_model", full)
    model, run = tmp_path / "m.npz", tmp_path / "run.npz"
    args = ["--dataset", "xor", "--layers", "4", "--epochs", "2", "--progress", "none"]
    assert cli.main([*args, "--out", str(model), "--save-experiment", str(run), "--json"]) == 2
    out, err = capsys.readouterr()
    assert "--out: could not write" in err and "No space left on device" in err
    result = json.loads(out)
    assert result["experiment"] == str(run) and "out" not in result
    assert result["write_errors"] and run.is_file() and not model.exists()


def test_loss_that_does_not_fit_the_data(capsys, no_training):
    for args, words in [
        (["--loss", "mse"], "'mse' is for regression, but spiral holds class labels"),
        (["--dataset", "plane", "--loss", "softmax_ce"], "allowed for this data set: auto, mse"),
        (["--classes", "3", "--loss", "sigmoid_bce"], "'sigmoid_bce' is for 2 classes"),
    ]:
        assert cli.main(["--progress", "none", *args]) == 2
        err = capsys.readouterr().err
        assert "--loss:" in err and words in err and "reshape" not in err


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--arch", DEEP], "arch: brackets nested more than 32 deep"),
        (["--opt", "betas=" + DEEP], "--opt betas: brackets nested more than 32 deep"),
        (["--schedule", "{" * 5000], "--schedule: brackets nested"),
        (["--opt", "momentum=x", "--optimizer", "momentum"], "--opt momentum: 'x' is not a number"),
        (["--layers", "abc"], "--layers: 'abc' is not a layer size"),
        (["--layers", "-5"], "--layers: '-5' is not a layer size"),
        (["--layers", "100000,100000"], "needs about 223.7 GiB of memory"),
        (["--arch", "dense:1000000,relu,dense:1000000,dense:2"], "GiB of memory"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args, words, capsys, monkeypatch, no_training):
    monkeypatch.setattr(memory, "available_memory", lambda: 16 * 2**30)
    assert cli.main(["--progress", "none", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nn-playground-train: error: ") and words in err, err


def test_a_network_that_cannot_fit_is_refused_before_allocating():
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", "--layers", "100000,100000", "--progress", "none"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "weights 37.3 GiB" in out.stderr and "is available" in out.stderr


def test_memory_check_uses_the_estimate(capsys, monkeypatch, no_training):
    from core.memory import estimate_memory
    from core.spec import mlp_spec

    need = estimate_memory(mlp_spec(2, [64, 64], 2), 32).total
    monkeypatch.setattr(memory, "available_memory", lambda: need)  # the data copy does not fit
    assert cli.main(["--layers", "64,64", "--progress", "none"]) == 2
    assert "of memory" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"nn-playground-train {core.__version__}\n"

"""The headless command: trains, reports, writes a loadable model, refuses bad input clearly."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dev_data import DEV_MNIST

from core import cli
from core.data import mnist
from core.io import load_model


def run_cli(*args):
    out = io.StringIO()
    parsed = cli.build_parser().parse_args(list(args))
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
    data = mnist.prepare(mnist.load("fashion-mnist"), layout="image", n_train=1, n_test=500)
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

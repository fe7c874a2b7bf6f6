"""``nn-playground-train``: the engine headless, for scripting and benchmarks.

Example::

    nn-playground-train --dataset spiral --layers 16,16 --activation relu --optimizer adam \\
        --lr 0.01 --epochs 300 --seed 0 --out model.npz

Progress is a bar on a terminal and plain lines otherwise (logs, pipes). Exit status: 0 when
training finished, 1 when it diverged, 2 for invalid arguments or input files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

from core.data.csv import read_points_csv
from core.data.features import FEATURES, feature_map
from core.data.toy2d import DATASETS, Dataset, make_dataset
from core.io import save_model
from core.spec import mlp_spec, normalize, parse_arch
from core.training import TrainConfig, Trainer, build_trainer, train_iter


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nn-playground-train",
        description="Train a neural network headless with the NN Playground engine.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = p.add_argument_group("data")
    data.add_argument(
        "--dataset", default="spiral", choices=sorted(DATASETS), help="toy 2D data set"
    )
    data.add_argument("--csv", metavar="FILE", help="read points from a CSV (x1, x2, label)")
    data.add_argument("--samples", type=int, default=500, help="number of points")
    data.add_argument("--noise", type=float, default=0.0, help="noise, 0 to 0.5")
    data.add_argument("--test-ratio", type=float, default=0.5, help="fraction held out for testing")
    data.add_argument("--classes", type=int, default=2, help="classes (spiral arms)")
    data.add_argument("--data-seed", type=int, default=None, help="data seed (default: --seed)")
    data.add_argument(
        "--features",
        default="x1,x2",
        help=f"input features, comma-separated from: {', '.join(FEATURES)}",
    )
    net = p.add_argument_group("network")
    net.add_argument(
        "--layers", default="16,16", help="hidden layer sizes, comma-separated ('' for none)"
    )
    net.add_argument(
        "--activation",
        default="relu",
        help="hidden activation, or one per hidden layer (comma-separated)",
    )
    net.add_argument("--init", default="auto", help="weight initializer")
    net.add_argument("--batchnorm", action="store_true", help="batch norm after each hidden layer")
    net.add_argument("--dropout", type=float, default=0.0, help="dropout after each hidden layer")
    net.add_argument(
        "--arch",
        help="full layer list instead of --layers, e.g. "
        "'dense:16,relu,dense:2' or a JSON list (the output layer included)",
    )
    net.add_argument("--loss", default="auto", help="softmax_ce, sigmoid_bce, mse or auto")
    train = p.add_argument_group("training")
    train.add_argument("--optimizer", default="adam")
    train.add_argument("--lr", type=float, default=0.01, help="learning rate")
    train.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="optimizer setting, e.g. --opt momentum=0.95 (repeatable)",
    )
    train.add_argument(
        "--schedule",
        default="constant",
        help="constant, step, exponential, cosine, or a JSON object",
    )
    train.add_argument("--warmup", type=float, default=0.0, help="warm-up epochs")
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--epochs", type=int, default=300, help="epochs (0: until another stop)")
    train.add_argument("--target-loss", type=float, help="stop once the train loss reaches it")
    train.add_argument("--patience", type=int, help="early stopping patience in epochs")
    train.add_argument("--l1", type=float, default=0.0, help="L1 regularization rate")
    train.add_argument("--l2", type=float, default=0.0, help="L2 regularization rate")
    train.add_argument("--clip-norm", type=float, help="clip the global gradient norm")
    train.add_argument("--seed", type=int, default=0)
    out = p.add_argument_group("output")
    out.add_argument("--out", metavar="FILE.npz", help="write the trained model here")
    out.add_argument("--progress", choices=("auto", "bar", "lines", "none"), default="auto")
    out.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    return p


def load_data(args: argparse.Namespace) -> Dataset:
    seed = args.seed if args.data_seed is None else args.data_seed
    if args.csv:
        return read_points_csv(args.csv, test_ratio=args.test_ratio, seed=seed)
    return make_dataset(
        args.dataset,
        n_samples=args.samples,
        noise=args.noise,
        test_ratio=args.test_ratio,
        seed=seed,
        n_classes=args.classes,
    )


def default_loss(data: Dataset) -> str:
    """softmax cross-entropy for classes, mean squared error for regression."""
    return "softmax_ce" if data.task == "classification" else "mse"


def build_spec(args: argparse.Namespace, data: Dataset, n_inputs: int) -> dict[str, Any]:
    loss = default_loss(data) if args.loss == "auto" else args.loss
    n_out = data.n_classes if data.task == "classification" else 1
    if loss == "sigmoid_bce":
        n_out = 1
    if args.arch:
        return normalize({"input_shape": [n_inputs], "layers": parse_arch(args.arch), "loss": loss})
    hidden = [int(h) for h in args.layers.split(",") if h.strip()] if args.layers.strip() else []
    acts = [a.strip() for a in args.activation.split(",")]
    activation = acts[0] if len(acts) == 1 else acts
    return mlp_spec(
        n_inputs,
        hidden,
        n_out,
        activation=activation,
        loss=loss,
        init=args.init,
        batchnorm=args.batchnorm,
        dropout=args.dropout,
    )


def build_config(args: argparse.Namespace) -> TrainConfig:
    opt_params: dict[str, Any] = {}
    for item in args.opt:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--opt: {item!r} is not KEY=VALUE")
        opt_params[key.strip()] = (
            json.loads(value) if value.strip().startswith("[") else float(value)
        )
    schedule: dict[str, Any] | None
    if args.schedule.strip().startswith("{"):
        schedule = json.loads(args.schedule)
    else:
        schedule = {"name": args.schedule}
        if args.schedule == "cosine":
            schedule["total_epochs"] = max(args.epochs, 1)
    if args.warmup:
        schedule["warmup"] = args.warmup
    return TrainConfig(
        optimizer=args.optimizer,
        lr=args.lr,
        optimizer_params=opt_params,
        schedule=schedule,
        batch_size=args.batch_size,
        epochs=args.epochs,
        target_loss=args.target_loss,
        patience=args.patience,
        l1=args.l1,
        l2=args.l2,
        clip_norm=args.clip_norm,
        seed=args.seed,
    ).validate()


class Progress:
    """A one-line bar redrawn in place (terminal) or a plain line every few seconds (logs)."""

    def __init__(self, stream: TextIO, mode: str, total_epochs: int) -> None:
        if mode == "auto":
            mode = "bar" if stream.isatty() else "lines"
        self.stream, self.mode, self.total = stream, mode, total_epochs
        self._last_line = -1e9

    def update(self, snap) -> None:
        if self.mode == "none":
            return
        text = (
            f"epoch {snap.epoch}{f'/{self.total}' if self.total else ''}  "
            f"loss {_fmt(snap.train_loss)}  acc {_fmt(snap.train_acc)}  "
            f"test loss {_fmt(snap.test_loss)}  test acc {_fmt(snap.test_acc)}  "
            f"{snap.samples_per_second:,.0f} samples/s"
        )
        if self.mode == "bar":
            frac = snap.epoch / self.total if self.total else 0.0
            bar = "#" * int(frac * 24)
            self.stream.write(f"\r[{bar:<24}] {text}\x1b[K")
            if snap.done:
                self.stream.write("\n")
            self.stream.flush()
        elif snap.done or time.monotonic() - self._last_line >= 2.0:
            self._last_line = time.monotonic()
            self.stream.write(text + "\n")
            self.stream.flush()


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def run(args: argparse.Namespace, stdout: TextIO) -> int:
    data = load_data(args)
    features = [f.strip() for f in args.features.split(",")]
    x_train, x_test = feature_map(data.x_train, features), feature_map(data.x_test, features)
    spec = build_spec(args, data, len(features))
    config = build_config(args)
    trainer: Trainer = build_trainer(spec, config, x_train, data.y_train, x_test, data.y_test)
    progress = Progress(stdout, args.progress, config.epochs)
    last = None
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported as a reason
        for snap in train_iter(trainer, interval=0.1):
            progress.update(snap)
            last = snap
    result = {
        "reason": last.reason,
        "epochs": last.epoch,
        "steps": last.step,
        "seconds": round(last.elapsed, 3),
        "train_loss": last.train_loss,
        "train_acc": last.train_acc,
        "test_loss": last.test_loss,
        "test_acc": last.test_acc,
    }
    if args.out and not last.reason.startswith("diverged"):
        metadata = {
            "dataset": data.name,
            "features": features,
            "task": data.task,
            "class_names": list(data.class_names),
            "config": config.to_dict(),
        }
        save_model(trainer.model, args.out, metadata)
        result["out"] = args.out
    if args.json:
        stdout.write(json.dumps(result) + "\n")
    else:
        stdout.write(
            f"stopped: {last.reason} after {last.epoch} epochs, {last.step} steps, "
            f"{last.elapsed:.2f} s\n"
        )
        stdout.write(f"train loss {_fmt(last.train_loss)}  accuracy {_fmt(last.train_acc)}\n")
        stdout.write(f"test  loss {_fmt(last.test_loss)}  accuracy {_fmt(last.test_acc)}\n")
        if "out" in result:
            stdout.write(f"model written to {args.out}\n")
    return 1 if last.reason.startswith("diverged") else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args, sys.stdout)
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"nn-playground-train: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())

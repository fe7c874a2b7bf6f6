"""``nn-playground-train``: the engine headless, for scripting and benchmarks.

Example::

    nn-playground-train --dataset spiral --layers 16,16 --activation relu --optimizer adam \\
        --lr 0.01 --epochs 300 --seed 0 --out model.npz --save-experiment run.npz
    nn-playground-train --resume run.npz --epochs 500 --export-onnx model.onnx

Progress is a bar on a terminal and plain lines otherwise (logs, pipes). Exit status: 0 when
training finished, 1 when it diverged, 2 for invalid arguments or input files (found before
training starts: every output path is checked and the network's memory estimated first) or when
an output could not be written at the end (the others are still written).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from core.cli_outputs import check_outputs, write_outputs
from core.data.augment import augment_images
from core.data.csv import read_points_csv
from core.data.download import DownloadCancelled
from core.data.features import FEATURES, feature_map
from core.data.loading import load, load_folder
from core.data.prepare import prepare
from core.data.registry import DATASETS as IMAGE_DATASETS
from core.data.toy2d import DATASETS, make_dataset
from core.experiment import Experiment, file_sha256, load_experiment, save_experiment
from core.io import save_model
from core.losses import LOSSES
from core.memory import check_fits
from core.onnx_export import export_onnx
from core.progress import Progress, fmt
from core.spec import mlp_spec, normalize, parse_arch, parse_json
from core.training.config import TrainConfig
from core.training.loop import train_iter
from core.training.trainer import Trainer, build_trainer


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nn-playground-train",
        description="Train a neural network headless with the NN Playground engine.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = p.add_argument_group("data").add_argument
    add(
        "--dataset",
        default="spiral",
        choices=sorted(DATASETS) + sorted(IMAGE_DATASETS),
        help="toy 2D data set, or an image data set",
    )
    add("--csv", metavar="FILE", help="read points from a CSV (x1, x2, label)")
    add("--samples", type=int, default=500, help="number of points")
    add("--noise", type=float, default=0.0, help="noise, 0 to 0.5")
    add("--test-ratio", type=float, default=0.5, help="fraction held out for testing")
    add("--classes", type=int, default=2, help="classes (spiral arms)")
    add("--data-seed", type=int, default=None, help="data seed (default: --seed)")
    add(
        "--features",
        default="x1,x2",
        help=f"input features, comma-separated from: {', '.join(FEATURES)}",
    )
    add = p.add_argument_group("image data (mnist, fashion-mnist)").add_argument
    add("--data-dir", metavar="DIR", help="read IDX files or an mnist.npz from this folder")
    add("--download", action="store_true", help="download the data set if not found locally")
    add("--train-subset", type=int, help="use the first N training images")
    add("--per-class", type=int, help="use N random training images of each class")
    add("--test-subset", type=int, help="use the first N test images")
    add(
        "--augment",
        action="store_true",
        help="random shifts (±2 px) and rotations (±10°) of the training images",
    )
    add = p.add_argument_group("network").add_argument
    add(
        "--layers",
        default=None,
        help="hidden layer sizes, comma-separated ('' for none); "
        "default 16,16 (toy data) or 256,128 (images)",
    )
    add(
        "--activation",
        default="relu",
        help="hidden activation, or one per hidden layer (comma-separated)",
    )
    add("--init", default="auto", help="weight initializer")
    add("--batchnorm", action="store_true", help="batch norm after each hidden layer")
    add("--dropout", type=float, default=0.0, help="dropout after each hidden layer")
    add(
        "--arch",
        help="full layer list instead of --layers (the output layer included), e.g. "
        "'dense:16,relu,dense:2', 'conv:16x5,relu,pool:2,flatten,dense:10', or a JSON list",
    )
    add("--loss", default="auto", help="softmax_ce, sigmoid_bce, mse or auto")
    add = p.add_argument_group("training").add_argument
    add("--optimizer", default="adam")
    add(
        "--lr", type=float, default=None, help="learning rate (default 0.01 toy data, 0.001 images)"
    )
    add(
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="optimizer setting, e.g. --opt momentum=0.95 (repeatable)",
    )
    add(
        "--schedule",
        default="constant",
        help="constant, step, exponential, cosine, or a JSON object",
    )
    add("--warmup", type=float, default=0.0, help="warm-up epochs")
    add("--batch-size", type=int, default=None, help="default 32 (toy data) or 128 (images)")
    add(
        "--epochs",
        type=int,
        default=None,
        help="epochs (0: until another stop); default 300 toy data, 10 images",
    )
    add("--target-loss", type=float, help="stop once the train loss reaches it")
    add("--patience", type=int, help="early stopping patience in epochs")
    add("--l1", type=float, default=0.0, help="L1 regularization rate")
    add("--l2", type=float, default=0.0, help="L2 regularization rate")
    add("--clip-norm", type=float, help="clip the global gradient norm")
    add("--seed", type=int, default=0)
    add = p.add_argument_group("experiments").add_argument
    add(
        "--resume",
        metavar="FILE.npz",
        help="continue the run saved in this experiment file: its data, network and training "
        "settings are used (the data are rebuilt the same way), so the losses continue exactly; "
        "only --epochs (a total, counted from the start), --target-loss, --patience, "
        "--data-dir, --download and output options may be given with it",
    )
    add(
        "--save-experiment",
        metavar="FILE.npz",
        help="write the whole run (settings, data-set parameters, weights, optimizer and "
        "generator state, history) here at the end, to continue it later with --resume",
    )
    add = p.add_argument_group("output").add_argument
    add("--out", metavar="FILE.npz", help="write the trained model here")
    add(
        "--export-onnx",
        metavar="FILE.onnx",
        help="also export the trained model as ONNX (needs the 'onnx' package)",
    )
    add("--progress", choices=("auto", "bar", "lines", "none"), default="auto")
    add("--json", action="store_true", help="print the final metrics as JSON")
    return p


@dataclass(frozen=True)
class TrainingData:
    """Model-ready arrays and what the model file should say about them."""

    name: str
    task: str
    n_classes: int
    class_names: tuple[str, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    metadata: dict[str, Any]
    #: How the data were made, for experiment files (see :func:`data_args`).
    params: dict[str, Any]

    @property
    def images(self) -> bool:
        return self.name in IMAGE_DATASETS


def image_layout(args: argparse.Namespace) -> str:
    """CNN architectures take (1, 28, 28) images, MLPs flat 784-vectors."""
    return "image" if args.arch and "conv" in args.arch else "flat"


def load_data(args: argparse.Namespace) -> TrainingData:
    seed = args.seed if args.data_seed is None else args.data_seed
    if args.dataset in IMAGE_DATASETS and not args.csv:
        names = IMAGE_DATASETS[args.dataset].class_names
        layout = getattr(args, "layout", None) or image_layout(args)
        if args.data_dir:
            ds = load_folder(args.data_dir, name=args.dataset, class_names=names)
        else:
            ds = load(args.dataset, download=args.download)
        p = prepare(
            ds,
            layout=layout,
            n_train=args.train_subset,
            per_class=args.per_class,
            n_test=args.test_subset,
            seed=seed,
        )
        meta = {
            "dataset": args.dataset,
            "input": "28x28 grayscale image, values 0..1",
            "layout": p.layout,
            "task": "classification",
            "class_names": list(names),
        }
        params = {
            "kind": "images",
            "name": args.dataset,
            "data_dir": str(Path(args.data_dir).resolve()) if args.data_dir else None,
            "layout": layout,
            "train_subset": args.train_subset,
            "per_class": args.per_class,
            "test_subset": args.test_subset,
            "seed": seed,
            "augment": bool(args.augment),
        }
        return TrainingData(
            args.dataset,
            "classification",
            len(names),
            tuple(names),
            p.x_train,
            p.y_train,
            p.x_test,
            p.y_test,
            meta,
            params,
        )
    features = [f.strip() for f in args.features.split(",")]
    if args.csv:
        d = read_points_csv(args.csv, test_ratio=args.test_ratio, seed=seed)
        params = {
            "kind": "csv",
            "path": str(Path(args.csv).resolve()),
            "sha256": file_sha256(args.csv),
            "test_ratio": args.test_ratio,
            "seed": seed,
            "features": features,
        }
    else:
        d = make_dataset(
            args.dataset,
            n_samples=args.samples,
            noise=args.noise,
            test_ratio=args.test_ratio,
            seed=seed,
            n_classes=args.classes,
        )
        params = {
            "kind": "toy",
            "name": args.dataset,
            "n_samples": args.samples,
            "noise": args.noise,
            "test_ratio": args.test_ratio,
            "seed": seed,
            "n_classes": args.classes,
            "features": features,
        }
    meta = {
        "dataset": d.name,
        "features": features,
        "task": d.task,
        "class_names": list(d.class_names),
    }
    return TrainingData(
        d.name,
        d.task,
        d.n_classes,
        d.class_names,
        feature_map(d.x_train, features),
        d.y_train,
        feature_map(d.x_test, features),
        d.y_test,
        meta,
        params,
    )


#: Options that may accompany --resume (the rest are fixed by the experiment file).
RESUME_OPTIONS = {
    "resume",
    "epochs",
    "target_loss",
    "patience",
    "data_dir",
    "download",
    "out",
    "export_onnx",
    "save_experiment",
    "progress",
    "json",
}


def check_resume_options(args: argparse.Namespace) -> None:
    """ValueError naming the first option that --resume would silently ignore."""
    defaults = vars(build_parser().parse_args([]))
    for name, value in vars(args).items():
        if name not in RESUME_OPTIONS and name in defaults and value != defaults[name]:
            flag = "--" + name.replace("_", "-")
            raise ValueError(
                f"{flag}: cannot be combined with --resume (the experiment file fixes it); "
                f"allowed with --resume: "
                + ", ".join("--" + o.replace("_", "-") for o in sorted(RESUME_OPTIONS))
            )


def data_args(args: argparse.Namespace, params: dict[str, Any]) -> None:
    """Set the data options of ``args`` from an experiment's data-set parameters (as written
    by :func:`load_data`), so that :func:`load_data` rebuilds the same arrays. ValueError if
    they are unusable, or a CSV file changed since the experiment was saved."""
    kind = params.get("kind")
    try:
        if kind == "toy":
            args.csv = None
            args.dataset = params["name"]
            args.samples, args.noise = params["n_samples"], params["noise"]
            args.test_ratio, args.data_seed = params["test_ratio"], params["seed"]
            args.classes = params["n_classes"]
            args.features = ",".join(params["features"])
        elif kind == "csv":
            path = params["path"]
            if not Path(path).is_file():
                raise ValueError(f"the data file {path} of this experiment is missing")
            if file_sha256(path) != params["sha256"]:
                raise ValueError(
                    f"the data file {path} changed since the experiment was saved (SHA-256 "
                    "differs); continuing would not continue the same run"
                )
            args.csv, args.test_ratio, args.data_seed = path, params["test_ratio"], params["seed"]
            args.features = ",".join(params["features"])
        elif kind == "images":
            args.csv = None
            args.dataset = params["name"]
            args.data_dir = args.data_dir or params["data_dir"]
            args.layout = params["layout"]
            args.train_subset, args.per_class = params["train_subset"], params["per_class"]
            args.test_subset, args.data_seed = params["test_subset"], params["seed"]
            args.augment = bool(params["augment"])
        else:
            raise ValueError(f"unknown kind of data {kind!r}")
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"--resume: the experiment's data-set parameters are incomplete ({exc})"
        ) from None
    except ValueError as exc:
        raise ValueError(f"--resume: {exc}") from None


def apply_defaults(args: argparse.Namespace, images: bool) -> None:
    """Fill the options whose sensible default depends on the kind of data."""
    for name, toy, image in (
        ("layers", "16,16", "256,128"),
        ("lr", 0.01, 0.001),
        ("batch_size", 32, 128),
        ("epochs", 300, 10),
    ):
        if getattr(args, name) is None:
            setattr(args, name, image if images else toy)


def default_loss(data: TrainingData) -> str:
    """softmax cross-entropy for classes, mean squared error for regression."""
    return "softmax_ce" if data.task == "classification" else "mse"


def check_loss(loss: str, data: TrainingData) -> None:
    """ValueError when the loss does not fit the data set's task (or, for sigmoid_bce, its
    number of classes)."""
    if loss not in LOSSES:
        return  # normalize() names the allowed losses
    fitting = sorted(name for name, cls in LOSSES.items() if cls.task == data.task)
    if LOSSES[loss].task != data.task:
        what = "class labels" if data.task == "classification" else "numeric targets"
        raise ValueError(
            f"--loss: {loss!r} is for {LOSSES[loss].task}, but {data.name} holds {what} "
            f"({data.task}); allowed for this data set: auto, {', '.join(fitting)}"
        )
    if loss == "sigmoid_bce" and data.n_classes > 2:
        raise ValueError(
            f"--loss: 'sigmoid_bce' is for 2 classes, but {data.name} has {data.n_classes}; "
            "allowed: auto, softmax_ce"
        )


def hidden_sizes(text: str) -> list[int]:
    """``"16,16"`` -> ``[16, 16]``; ``""`` -> ``[]``. ValueError naming --layers otherwise."""
    sizes = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        if not item.isdigit() or not item.isascii():
            raise ValueError(
                f"--layers: {item!r} is not a layer size; allowed: whole numbers >= 1 "
                "separated by commas, e.g. 16,16 ('' for no hidden layer)"
            )
        sizes.append(int(item))
    return sizes


def build_spec(args: argparse.Namespace, data: TrainingData) -> dict[str, Any]:
    loss = default_loss(data) if args.loss == "auto" else args.loss
    check_loss(loss, data)
    n_out = data.n_classes if data.task == "classification" else 1
    if loss == "sigmoid_bce":
        n_out = 1
    input_shape = list(data.x_train.shape[1:])
    if args.arch:
        layers = parse_arch(args.arch)
        return normalize({"input_shape": input_shape, "layers": layers, "loss": loss})
    n_inputs = int(np.prod(input_shape))
    hidden = hidden_sizes(args.layers)
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
        opt_params[key.strip()] = opt_value(key.strip(), value)
    schedule: dict[str, Any] | None
    if args.schedule.strip().startswith("{"):
        schedule = parse_json("--schedule", args.schedule)
        if not isinstance(schedule, dict):
            raise ValueError('--schedule: the JSON form must be an object, e.g. {"name": "step"}')
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


def opt_value(key: str, text: str) -> Any:
    """The value of ``--opt key=text``: a number, or a JSON list such as ``[0.9, 0.999]``."""
    if text.strip().startswith("["):
        return parse_json(f"--opt {key}", text)
    try:
        return float(text)
    except ValueError:
        raise ValueError(
            f"--opt {key}: {text!r} is not a number; allowed: a number, or a list such as "
            "[0.9, 0.999]"
        ) from None


def image_augment(data: TrainingData):
    """Random shifts and rotations of the training images (any layout), as ``f(x, rng)``."""
    if not data.images:
        raise ValueError("--augment: only for image data sets")
    return augment_images


def resume_trainer(args: argparse.Namespace, experiment: Experiment, data: TrainingData):
    """The experiment's trainer on ``data``, with --epochs/--target-loss/--patience applied."""
    changes = {
        name: getattr(args, name)
        for name in ("epochs", "target_loss", "patience")
        if getattr(args, name) is not None
    }
    config = TrainConfig.from_dict({**experiment.config.to_dict(), **changes})
    args.epochs = config.epochs
    augment = image_augment(data) if args.augment else None
    return config, experiment.build_trainer(
        data.x_train, data.y_train, data.x_test, data.y_test, config=config, augment=augment
    )


def run(args: argparse.Namespace, stdout: TextIO) -> int:
    check_outputs(args)  # before training, not after
    experiment = None
    if args.resume:
        check_resume_options(args)
        experiment = load_experiment(args.resume)
        data_args(args, experiment.data)
    data = load_data(args)
    if experiment is not None:
        config, trainer = resume_trainer(args, experiment, data)
    else:
        apply_defaults(args, data.images)
        spec = build_spec(args, data)
        config = build_config(args)
        batch = min(int(config.batch_size), len(data.x_train))
        # The shuffled copy of the training set made each epoch comes on top of the network.
        check_fits(spec, batch, config.optimizer, data.x_train.size * 4)
        augment = image_augment(data) if args.augment else None
        trainer: Trainer = build_trainer(
            spec, config, data.x_train, data.y_train, data.x_test, data.y_test, augment=augment
        )
    progress = Progress(stdout, args.progress, config.epochs)
    last = None
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported as a reason
        for snap in train_iter(trainer, interval=0.25, detail=False):
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
        "warning": last.hint,  # a run that does not learn (core.health); None when healthy
    }
    diverged = last.reason.startswith("diverged")
    written = []
    if args.resume:
        result["resumed_from"] = args.resume
    failures: list[str] = []
    if not diverged:
        model_meta = {**data.metadata, "config": config.to_dict()}
        writers = {
            "out": lambda path: save_model(trainer.model, path, model_meta),
            "save_experiment": lambda path: save_experiment(
                path, trainer, data.params, data.metadata
            ),
            "export_onnx": lambda path: export_onnx(trainer.model, path, metadata=model_meta),
        }
        failures = write_outputs(args, writers, result, written)
        if failures:
            result["write_errors"] = failures
    if args.json:
        stdout.write(json.dumps(result) + "\n")
    else:
        stdout.write(
            f"stopped: {last.reason} after {last.epoch} epochs, {last.step} steps, "
            f"{last.elapsed:.2f} s\n"
        )
        stdout.write(f"train loss {fmt(last.train_loss)}  accuracy {fmt(last.train_acc)}\n")
        stdout.write(f"test  loss {fmt(last.test_loss)}  accuracy {fmt(last.test_acc)}\n")
        if last.hint:
            stdout.write(f"warning: {last.hint}\n")
        for line in written:
            stdout.write(line + "\n")
    for failure in failures:
        sys.stderr.write(f"nn-playground-train: error: {failure}\n")
    return 1 if diverged else 2 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args, sys.stdout)
    except (ValueError, TypeError, OSError, ImportError, DownloadCancelled) as exc:
        sys.stderr.write(f"nn-playground-train: error: {exc}\n")
        return 2
    except MemoryError:
        sys.stderr.write(
            "nn-playground-train: error: not enough memory for this network and "
            "data; allowed: fewer or smaller layers, a smaller --batch-size\n"
        )
        return 2
    except RecursionError:
        sys.stderr.write("nn-playground-train: error: an argument is nested too deeply\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())

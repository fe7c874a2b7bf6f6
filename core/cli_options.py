"""The command line's options: the parser, the defaults that depend on the data, and the network
spec and training configuration they describe."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from core import __version__
from core.cli_data import data_recipe
from core.data.features import FEATURES
from core.data.registry import DATASETS as IMAGE_DATASETS
from core.data.toy2d import DATASETS
from core.losses import LOSSES
from core.memory import check_fits
from core.recipe import DataInfo, Recipe, TrainingData
from core.spec import mlp_spec, normalize, parse_arch, parse_json
from core.sweep.task import RunTask
from core.training.config import TrainConfig


def _noting(action: type[argparse.Action]) -> type[argparse.Action]:
    """``action`` that also adds its option's name to the parsed ``given`` set."""

    class Noting(action):  # type: ignore[valid-type, misc]
        def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
            super().__call__(parser, namespace, values, option_string)
            namespace.given = namespace.given | {self.dest}

    return Noting


def build_parser() -> argparse.ArgumentParser:
    """The options; the parsed ``given`` holds the names of those given on the command line,
    with their default value or not (a sweep refuses a swept setting given as an option too)."""
    p = argparse.ArgumentParser(
        prog="nn-playground-train",
        description="Train a neural network headless with the NN Playground engine.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for name, action in (
        (None, argparse._StoreAction),  # an option without action=
        ("store", argparse._StoreAction),
        ("store_true", argparse._StoreTrueAction),
        ("append", argparse._AppendAction),
    ):
        p.register("action", name, _noting(action))
    p.set_defaults(given=frozenset())
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
    add(
        "--export-torch",
        metavar="FILE.py",
        help="also export the trained model as one PyTorch file (nn.Sequential, weights, "
        "predict, the optimizer settings); it needs torch and NumPy, not this project",
    )
    add("--progress", choices=("auto", "bar", "lines", "none"), default="auto")
    add("--json", action="store_true", help="print the final metrics as JSON")
    add = p.add_argument_group("sweeps").add_argument
    add(
        "--sweep",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="train one run per value (repeatable: every combination of the values); keys: "
        "lr, optimizer, batch_size, epochs, l1, l2, layers (e.g. 16-16,32-32), activation, "
        "dropout, batchnorm (on,off), init, noise, seed",
    )
    add(
        "--workers",
        type=int,
        help="worker processes for --sweep (default: one per core this process may use)",
    )
    add(
        "--scheduler",
        metavar="tcp://HOST:8786",
        help="run the --sweep on this Dask cluster instead (needs the cluster extra)",
    )
    add(
        "--results",
        metavar="FILE.csv|FILE.json",
        help="write the --sweep results here (CSV or JSON, by the extension)",
    )
    return p


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
    "export_torch",
    "save_experiment",
    "progress",
    "json",
}


def check_resume_options(args: argparse.Namespace) -> None:
    """ValueError naming the first option that --resume would silently ignore."""
    defaults = vars(build_parser().parse_args([]))
    for name, value in vars(args).items():
        if name not in {*RESUME_OPTIONS, "given"} and name in defaults and value != defaults[name]:
            flag = "--" + name.replace("_", "-")
            raise ValueError(
                f"{flag}: cannot be combined with --resume (the experiment file fixes it); "
                f"allowed with --resume: "
                + ", ".join("--" + o.replace("_", "-") for o in sorted(RESUME_OPTIONS))
            )


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


def task_from_args(args: argparse.Namespace, recipe: Recipe | None = None) -> RunTask:
    """The run the options describe: its data recipe (``recipe`` when given, e.g. shared by
    the runs of a sweep), network and training configuration, checked (the memory it needs
    included) before anything is trained. Fills the defaults that depend on the data into
    ``args``."""
    recipe = data_recipe(args) if recipe is None else recipe
    data = recipe.describe()
    apply_defaults(args, data.images)
    spec = build_spec(args, data)
    config = build_config(args)
    batch = min(int(config.batch_size), data.n_train)
    # The shuffled copy of the training set made each epoch comes on top of the network.
    check_fits(spec, batch, config.optimizer, data.n_train * int(np.prod(data.input_shape)) * 4)
    return RunTask(recipe, spec, config)


def default_loss(data: TrainingData | DataInfo) -> str:
    """softmax cross-entropy for classes, mean squared error for regression."""
    return "softmax_ce" if data.task == "classification" else "mse"


def check_loss(loss: str, data: TrainingData | DataInfo) -> None:
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


def build_spec(args: argparse.Namespace, data: TrainingData | DataInfo) -> dict[str, Any]:
    loss = default_loss(data) if args.loss == "auto" else args.loss
    check_loss(loss, data)
    n_out = data.n_classes if data.task == "classification" else 1
    if loss == "sigmoid_bce":
        n_out = 1
    input_shape = list(data.input_shape)
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

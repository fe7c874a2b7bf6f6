"""``nn-playground-train``: the engine headless, for scripting and benchmarks.

Example::

    nn-playground-train --dataset spiral --layers 16,16 --activation relu --optimizer adam \\
        --lr 0.01 --epochs 300 --seed 0 --out model.npz --save-experiment run.npz
    nn-playground-train --resume run.npz --epochs 500 --export-onnx model.onnx
    nn-playground-train --resume run.npz --export-torch model_torch.py   # go on in PyTorch

Progress is a bar on a terminal and plain lines otherwise (logs, pipes). Exit status: 0 when
training finished, 1 when it diverged, 2 for invalid arguments or input files (found before
training starts: every output path is checked and the network's memory estimated first) or when
an output could not be written at the end (the others are still written).

With ``--sweep key=v1,v2,...`` it trains one run per combination of the swept values on worker
processes or a Dask cluster instead (:mod:`core.cli_sweep`, which documents its exit status).

The options are in :mod:`core.cli_options`, the data they describe in :mod:`core.cli_data`, the
output files in :mod:`core.cli_outputs`; this module runs the command.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from core.cli_data import TrainingData, data_args, image_augment, load_data
from core.cli_options import build_parser, check_resume_options, task_from_args
from core.cli_outputs import check_outputs, write_outputs
from core.cli_sweep import SWEEP_ONLY, run_sweep
from core.data.download import DownloadCancelled
from core.experiment import Experiment, load_experiment, save_experiment
from core.io import save_model
from core.onnx_export import export_onnx
from core.progress import Progress, fmt
from core.sweep.task import execute, train
from core.torch_export import export_torch
from core.training.config import TrainConfig


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
    if args.sweep or any(getattr(args, name) is not None for name, _ in SWEEP_ONLY):
        return run_sweep(args, stdout)
    check_outputs(args)  # before training, not after
    if args.resume:
        check_resume_options(args)
        experiment = load_experiment(args.resume)
        data_args(args, experiment.data)
        data = load_data(args)
        config, trainer = resume_trainer(args, experiment, data)
        progress = Progress(stdout, args.progress, config.epochs)
        last = train(trainer, progress.update)
    else:
        task = task_from_args(args)
        config = task.config
        data = task.recipe.build()
        progress = Progress(stdout, args.progress, config.epochs)
        trainer, last = execute(task, data, progress.update)
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
            "export_torch": lambda path: export_torch(
                trainer.model, path, metadata=model_meta, config=config
            ),
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

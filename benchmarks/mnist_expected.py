"""MNIST (the full 60,000 training images): the clock until the test accuracy (all 10,000 test
images, measured every half epoch; the clock includes these measurements) first reaches the
expected figure, one line per network:

- MLP 784-256-128-10 ReLU, Adam 1e-3, batch 128, to 98% (expected within 30 s);
- CNN conv 16@5x5 - ReLU - maxpool 2 - conv 32@3x3 - ReLU - maxpool 2 - dense 100 - ReLU -
  dense 10, Adam 2e-3 with cosine decay to 0 over 10 epochs, batch 100, to 99% (expected
  within 3 minutes).

The learning rate follows :mod:`core.schedules` as the trainer applies it: before each step,
``lr = base_lr * factor(steps / steps_per_epoch)``. The test images are only measured, never
trained on. Each run stops at twice its expected time. ``--data-dir DIR`` reads the four IDX
files (or ``mnist.npz``) from DIR; without it MNIST is looked up where
``core.data.loading.load("mnist")`` looks (the cache folder), and the script exits with a message
if it is not there."""

from __future__ import annotations

import argparse
import sys

import numpy as np
from common import EVAL_CHUNK, describe_reaching, image_spec, time_to_accuracy

from core.data.idx import MnistError
from core.data.image_dataset import ImageDataset
from core.data.loading import DatasetNotFound, load, load_folder
from core.data.prepare import prepare
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import build_trainer

CNN_ARCH = "conv:16x5,relu,pool:2,conv:32x3,relu,pool:2,flatten,dense:100,relu,dense:10"

#: name -> (label, spec, layout, batch, Adam learning rate, schedule spec, target accuracy,
#: expected seconds)
RUNS = {
    "mlp": (
        "mlp 784-256-128-10 adam b128",
        mlp_spec(784, [256, 128], 10),
        "flat",
        128,
        1e-3,
        None,
        0.98,
        30,
    ),
    "cnn": (
        "cnn conv16@5x5-pool2-conv32@3x3-pool2-100-10 adam 2e-3 cosine 10 epochs b100",
        image_spec(CNN_ARCH),
        "image",
        100,
        2e-3,
        {"name": "cosine", "total_epochs": 10, "min_factor": 0.0},
        0.99,
        180,
    ),
}


def load_mnist(data_dir: str | None) -> ImageDataset:
    try:
        if data_dir:
            return load_folder(data_dir, name="mnist")
        return load("mnist")
    except (DatasetNotFound, MnistError) as exc:
        sys.exit(
            f"mnist_expected: MNIST not found: {exc}\n"
            "Give a folder of the four IDX files with --data-dir DIR, or download MNIST to the "
            "cache once with: python -c "
            "\"from core.data.download import download; download('mnist')\""
        )


def contender(spec: dict, data, batch: int, lr: float, schedule: dict | None, seed: int = 0):
    """``(step, accuracy)`` for :func:`common.time_to_accuracy`: the engine with Adam at ``lr``
    times the schedule's factor at the current progress (in epochs), accuracy over the whole
    test set."""
    config = TrainConfig(optimizer="adam", lr=lr, batch_size=batch, schedule=schedule, seed=seed)
    trainer = build_trainer(spec, config, data.x_train, data.y_train)
    model, opt, factor = trainer.model, trainer.optimizer, trainer.schedule.factor
    x, y, steps_per_epoch = data.x_train, data.y_train, trainer.steps_per_epoch
    steps = 0

    def step(idx) -> None:
        nonlocal steps
        opt.lr = lr * factor(steps / steps_per_epoch)
        model.loss_and_grad(x[idx], y[idx])
        opt.step(model.theta, model.grad)
        steps += 1

    def accuracy() -> float:
        pred = model.predict(data.x_test, batch_size=EVAL_CHUNK)
        return float(np.mean(pred == data.y_test))

    return step, accuracy


def run(name: str, dataset: ImageDataset, seed: int = 0) -> tuple[str, list]:
    """Train network ``name`` of :data:`RUNS`; its printed line and all its measurements."""
    label, spec, layout, batch, lr, schedule, target, expected = RUNS[name]
    data = prepare(dataset, layout=layout)
    points = time_to_accuracy(
        {name: contender(spec, data, batch, lr, schedule, seed)},
        len(data.x_train),
        batch,
        2 * expected,
        target,
        seed,
    )[name]
    line = (
        f"mnist {label}, clock incl. evaluation: engine {describe_reaching(points, target)} "
        f"(expected within {expected} s)"
    )
    return line, points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", metavar="DIR", help="folder of the MNIST IDX files")
    parser.add_argument("--only", choices=sorted(RUNS), help="run one network only")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dataset = load_mnist(args.data_dir)
    for name in [args.only] if args.only else RUNS:
        print(run(name, dataset, args.seed)[0], flush=True)


if __name__ == "__main__":
    main()

"""MNIST (the full 60,000 training images): the clock until the test accuracy (all 10,000 test
images, measured every half epoch; the clock includes these measurements) first reaches the
expected figure, one line per network:

- MLP 784-256-128-10 ReLU, Adam 1e-3, batch 128, to 98% (expected within 30 s);
- CNN conv 30@5x5 - ReLU - maxpool 2 - dense 100 - ReLU - dense 10, Adam 1e-3, batch 100, to 99%
  (expected within 3 minutes).

Each run stops at twice its expected time. ``--data-dir DIR`` reads the four IDX files (or
``mnist.npz``) from DIR; without it MNIST is looked up where ``core.data.mnist.load("mnist")``
looks (the cache folder), and the script exits with a message if it is not there."""

from __future__ import annotations

import argparse
import sys

from cnn_throughput import ARCH
from common import describe_reaching, engine_contender, image_spec, time_to_accuracy

from core.data import mnist
from core.spec import mlp_spec

#: name -> (label, spec, layout, batch, target accuracy, expected seconds)
RUNS = {
    "mlp": ("mlp 784-256-128-10 adam b128", mlp_spec(784, [256, 128], 10), "flat", 128, 0.98, 30),
    "cnn": ("cnn conv30@5x5-pool2-100-10 adam b100", image_spec(ARCH), "image", 100, 0.99, 180),
}


def load(data_dir: str | None) -> mnist.ImageDataset:
    try:
        if data_dir:
            return mnist.load_folder(data_dir, name="mnist")
        return mnist.load("mnist")
    except (mnist.DatasetNotFound, mnist.MnistError) as exc:
        sys.exit(
            f"mnist_expected: MNIST not found: {exc}\n"
            "Give a folder of the four IDX files with --data-dir DIR, or download MNIST to the "
            "cache once with: python -c \"from core.data import mnist; mnist.download('mnist')\""
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", metavar="DIR", help="folder of the MNIST IDX files")
    parser.add_argument("--only", choices=sorted(RUNS), help="run one network only")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dataset = load(args.data_dir)
    for name in [args.only] if args.only else RUNS:
        label, spec, layout, batch, target, expected = RUNS[name]
        data = mnist.prepare(dataset, layout=layout)
        contender = engine_contender(spec, data, batch, args.seed)
        points = time_to_accuracy(
            {name: contender}, len(data.x_train), batch, 2 * expected, target, args.seed
        )[name]
        print(
            f"mnist {label}, clock incl. evaluation: engine {describe_reaching(points, target)} "
            f"(expected within {expected} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""Fashion-MNIST, CNN conv 30@5x5 - ReLU - maxpool 2 - dense 100 - ReLU - dense 10, Adam 1e-3,
batch 100, the full 60,000 training images: the clock until the test accuracy (all 10,000 test
images, measured every half epoch; the clock includes these measurements) first reaches 90%,
and the best test accuracy measured within ``--seconds`` (default 180) of that clock. With
PyTorch installed (and no ``--no-torch``), the same network on PyTorch CPU in the same run (the
two take turns, half an epoch each, on the same batches in the same order) and the ratio of the
times to 90%."""

from __future__ import annotations

import argparse

from cnn_throughput import ARCH, torch_net
from common import (
    best_within,
    describe_reaching,
    engine_contender,
    first_reaching,
    image_spec,
    time_to_accuracy,
    torch_contender,
    torch_or_none,
)

from core.data.loading import load
from core.data.prepare import prepare

TARGET, BATCH = 0.90, 100


def summary(points, seconds: float) -> str:
    best = best_within(points, seconds)
    text = describe_reaching(points, TARGET)
    if best is not None:
        text += f", best {best[2]:.2%} within {seconds:g} s (at {best[0]:.1f} s, {best[1]:.1f} ep)"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="training clock budget")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = prepare(load("fashion-mnist"), layout="image")
    contenders = {"engine": engine_contender(image_spec(ARCH), data, BATCH, args.seed)}
    torch = None if args.no_torch else torch_or_none()
    if torch is not None:
        contenders["torch"] = torch_contender(torch, torch_net, data, args.seed)
    points = time_to_accuracy(contenders, len(data.x_train), BATCH, args.seconds, seed=args.seed)
    line = (
        f"fashion-mnist cnn conv30@5x5-pool2-100-10 adam b{BATCH}, clock incl. evaluation: "
        f"engine {summary(points['engine'], args.seconds)}"
    )
    if torch is not None:
        line += (
            f"; pytorch {torch.__version__} ({torch.get_num_threads()} threads) "
            f"{summary(points['torch'], args.seconds)}"
        )
        a, b = first_reaching(points["engine"], TARGET), first_reaching(points["torch"], TARGET)
        if a is not None and b is not None:
            line += f"; engine/pytorch time ratio {a[0] / b[0]:.2f}x"
    print(line)


if __name__ == "__main__":
    main()

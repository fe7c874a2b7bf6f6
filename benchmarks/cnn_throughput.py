"""Training samples/s of a small CNN on (1, 28, 28) inputs (MNIST-sized): conv 30@5x5 - ReLU -
maxpool 2 - dense 100 - ReLU - dense 10, Adam, batch 100, float32, random data; with PyTorch
installed, the same network and batch on PyTorch CPU in the same run, and the ratio."""

from __future__ import annotations

from common import compare_training_throughput

from core.spec import parse_arch

ARCH = "conv:30x5,relu,maxpool:2,flatten,dense:100,relu,dense:10"


def torch_net(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 30, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(30 * 12 * 12, 100),
        nn.ReLU(),
        nn.Linear(100, 10),
    )


if __name__ == "__main__":
    spec = {"input_shape": [1, 28, 28], "layers": parse_arch(ARCH), "loss": "softmax_ce"}
    print(
        compare_training_throughput(
            "cnn conv30@5x5-pool2-100-10 adam b100",
            spec,
            torch_net,
            (1, 28, 28),
            batch=100,
            steps=20,
        )
    )

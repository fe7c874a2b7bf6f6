"""Training samples/s of a 784-256-128-10 ReLU MLP, Adam, batch 128, float32, random data; with
PyTorch installed, the same network and batch on PyTorch CPU in the same run, and the ratio."""

from __future__ import annotations

from common import compare_training_throughput

from core.spec import mlp_spec


def torch_net(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
    )


if __name__ == "__main__":
    print(
        compare_training_throughput(
            "mlp 784-256-128-10 adam b128",
            mlp_spec(784, [256, 128], 10, activation="relu"),
            torch_net,
            (784,),
            batch=128,
            steps=40,
        )
    )

"""Training samples/s of a 784-256-128-10 ReLU MLP, Adam, batch 128, float32, random data; with
PyTorch installed, the same network and batch on PyTorch CPU in the same run, and the ratio.

``--busy``: the engine alone and beside one other process keeping a core busy, in alternating
rounds, and the ratio (a matrix product split across BLAS threads stalls when a core is taken;
the engine's products stay in the calling thread, see core/matmul.py).
"""

from __future__ import annotations

import os
import sys

from common import compare_training_throughput, engine_training, quiet_and_busy_rates

from core.spec import mlp_spec

LABEL = "mlp 784-256-128-10 adam b128"
SPEC = mlp_spec(784, [256, 128], 10, activation="relu")


def torch_net(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
    )


def busy_line() -> str:
    quiet, busy, ratio = quiet_and_busy_rates(engine_training(SPEC, (784,), 128, 40))
    return (
        f"{LABEL}: engine alone {quiet:,.0f} samples/s, beside a busy process {busy:,.0f} "
        f"samples/s; median ratio {ratio:.2f}x (load average {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    if "--busy" in sys.argv[1:]:
        print(busy_line())
    else:
        print(compare_training_throughput(LABEL, SPEC, torch_net, (784,), batch=128, steps=40))

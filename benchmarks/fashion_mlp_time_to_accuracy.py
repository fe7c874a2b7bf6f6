"""Fashion-MNIST, MLP 784-256-128-10 ReLU, Adam 1e-3, batch 128: training seconds until the
test accuracy reaches 88.5% (checked every half epoch; evaluation time not counted), for the
engine and, when installed, PyTorch CPU in the same run; median over seeds and the ratio."""

from __future__ import annotations

import statistics
import time

import numpy as np
from common import torch_or_none

from core.data.loading import load
from core.data.prepare import PreparedData, prepare
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import build_trainer

TARGET, MAX_EPOCHS, SEEDS = 0.885, 30, (0, 1, 2)


def engine_seconds(data: PreparedData, seed: int) -> tuple[float, float]:
    config = TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, seed=seed)
    trainer = build_trainer(mlp_spec(784, [256, 128], 10), config, data.x_train, data.y_train)
    half = trainer.steps_per_epoch // 2
    spent = 0.0
    while trainer.progress < MAX_EPOCHS:
        start = time.perf_counter()
        for _ in range(half):
            trainer.step()
        spent += time.perf_counter() - start
        if np.mean(trainer.model.predict(data.x_test) == data.y_test) >= TARGET:
            return spent, trainer.progress
    return float("inf"), trainer.progress


def torch_seconds(torch, data: PreparedData, seed: int) -> tuple[float, float]:
    torch.manual_seed(seed)
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    xt, yt = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    nn = torch.nn
    net = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    n, gen = len(x), torch.Generator().manual_seed(seed)
    steps_per_epoch = -(-n // 128)
    spent, steps, perm = 0.0, 0, None
    while steps / steps_per_epoch < MAX_EPOCHS:
        start = time.perf_counter()
        for _ in range(steps_per_epoch // 2):
            i = steps % steps_per_epoch
            if i == 0:
                perm = torch.randperm(n, generator=gen)
            idx = perm[i * 128 : (i + 1) * 128]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(x[idx]), y[idx]).backward()
            opt.step()
            steps += 1
        spent += time.perf_counter() - start
        with torch.no_grad():
            if (net(xt).argmax(1) == yt).float().mean().item() >= TARGET:
                return spent, steps / steps_per_epoch
    return float("inf"), steps / steps_per_epoch


def main() -> None:
    data = prepare(load("fashion-mnist"), layout="flat")
    ours = [engine_seconds(data, s) for s in SEEDS]
    line = (
        f"fashion-mnist mlp 784-256-128-10 adam b128 to {TARGET:.1%} test acc: engine median "
        f"{statistics.median(t for t, _ in ours):.2f} s "
        f"({statistics.median(e for _, e in ours):.1f} epochs)"
    )
    torch = torch_or_none()
    if torch is not None:
        theirs = [torch_seconds(torch, data, s) for s in SEEDS]
        t_ours = statistics.median(t for t, _ in ours)
        t_theirs = statistics.median(t for t, _ in theirs)
        line += (
            f"; pytorch {t_theirs:.2f} s ({statistics.median(e for _, e in theirs):.1f} "
            f"epochs); engine/pytorch time ratio {t_ours / t_theirs:.2f}x"
        )
    print(line)


if __name__ == "__main__":
    main()

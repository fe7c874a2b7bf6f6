"""Seconds for a 2-16-16-2 ReLU network with Adam to reach 99% test accuracy on the 500-point
spiral (noise 0), median over 10 data/model seeds, headless."""

from __future__ import annotations

import statistics
import time

from core.data.toy2d import make_dataset
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import build_trainer

LIMIT = 10.0  # seconds; a run that has not reached 99% by then counts as not reached


def seconds_to_99(seed: int) -> tuple[float, int]:
    data = make_dataset("spiral", n_samples=500, test_ratio=0.5, seed=seed)
    spec = mlp_spec(2, [16, 16], 2, activation="relu")
    config = TrainConfig(optimizer="adam", lr=0.03, batch_size=32, epochs=0, seed=seed)
    start = time.perf_counter()
    trainer = build_trainer(spec, config, data.x_train, data.y_train, data.x_test, data.y_test)
    while (trainer.history.last("test_acc") or 0.0) < 0.99:
        trainer.run_epoch()
        if time.perf_counter() - start > LIMIT:
            return float("inf"), trainer.epoch
    return time.perf_counter() - start, trainer.epoch


def main() -> None:
    runs = [seconds_to_99(seed) for seed in range(10)]
    secs = [s for s, _ in runs]
    reached = sum(s < LIMIT for s in secs)
    print(
        f"spiral 2-16-16-2 relu adam lr 0.03 b32 to 99% test acc: median "
        f"{statistics.median(secs):.3f} s, median {statistics.median(e for _, e in runs):.0f} "
        f"epochs; {reached}/10 seeds within {LIMIT:.0f} s"
    )


if __name__ == "__main__":
    main()

"""Training samples/s of a 2-8-8-1 tanh network, plain SGD lr 0.03, batch 10, on a 500-point
spiral (the browser playground's default scale): the overhead of some 35 NumPy calls per step
dominates here (see README, Figures). Both figures include the evaluation on the training set
after each epoch (50 steps), as the browser's loop does."""

from __future__ import annotations

import os

from common import median_rate

from core.data.toy2d import make_dataset
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import build_trainer


def main() -> None:
    data = make_dataset("spiral", n_samples=500, test_ratio=0.0, seed=0)
    spec = mlp_spec(2, [8, 8], 1, activation="tanh", loss="sigmoid_bce")
    config = TrainConfig(optimizer="sgd", lr=0.03, batch_size=10, epochs=0)
    trainer = build_trainer(spec, config, data.x_train, data.y_train)
    steps = 5000

    def train_steps() -> int:
        for _ in range(steps):
            trainer.step()
        return steps * 10

    def epochs() -> int:
        for _ in range(100):
            trainer.run_epoch()
        return 100 * 500

    print(
        f"tiny 2-8-8-1 tanh sgd b10 spiral500: {median_rate(train_steps):,.0f} samples/s "
        f"by step(), {median_rate(epochs):,.0f} by run_epoch() "
        f"(load average {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()

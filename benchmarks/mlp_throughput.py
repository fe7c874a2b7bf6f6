"""Training samples/s of a 784-256-128-10 ReLU MLP, Adam, batch 128, float32, random data; with
PyTorch installed, the same network and batch on PyTorch CPU in the same run, and the ratio."""

from __future__ import annotations

import numpy as np
from common import interleaved_rates, torch_or_none

from core.spec import mlp_spec
from core.training import TrainConfig, build_trainer

BATCH, N, STEPS = 128, 128 * 40, 40


def engine_run():
    rng = np.random.default_rng(0)
    x = rng.random((N, 784), dtype=np.float32)
    y = rng.integers(0, 10, N)
    spec = mlp_spec(784, [256, 128], 10, activation="relu")
    trainer = build_trainer(spec, TrainConfig(optimizer="adam", lr=1e-3, batch_size=BATCH), x, y)
    model, opt = trainer.model, trainer.optimizer

    def run() -> int:  # the step without the per-epoch evaluation
        for i in range(STEPS):
            model.loss_and_grad(x[i * BATCH : (i + 1) * BATCH], y[i * BATCH : (i + 1) * BATCH])
            opt.step(model.theta, model.grad)
        return STEPS * BATCH

    return run


def torch_run(torch):
    torch.manual_seed(0)
    x = torch.rand(N, 784)
    y = torch.randint(0, 10, (N,))
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run() -> int:
        for i in range(STEPS):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(x[i * BATCH : (i + 1) * BATCH]), y[i * BATCH : (i + 1) * BATCH]).backward()
            opt.step()
        return STEPS * BATCH

    return run


def main() -> None:
    torch = torch_or_none()
    runs = {"engine": engine_run()}
    if torch is not None:
        runs["torch"] = torch_run(torch)
    rates, ratio = interleaved_rates(runs)
    line = f"mlp 784-256-128-10 adam b128: engine {rates['engine']:,.0f} samples/s"
    if torch is not None:
        line += (
            f"; pytorch {torch.__version__} ({torch.get_num_threads()} threads) "
            f"{rates['torch']:,.0f} samples/s; median ratio {ratio:.2f}x"
        )
    print(line)


if __name__ == "__main__":
    main()

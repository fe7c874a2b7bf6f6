"""Training samples/s of a small CNN on (1, 28, 28) inputs (MNIST-sized): conv 30@5x5 - ReLU -
maxpool 2 - dense 100 - ReLU - dense 10, Adam, batch 100, float32, random data; with PyTorch
installed, the same network and batch on PyTorch CPU in the same run, and the ratio."""

from __future__ import annotations

import numpy as np
from common import interleaved_rates, torch_or_none

from core.spec import parse_arch
from core.training import TrainConfig, build_trainer

ARCH = "conv:30x5,relu,maxpool:2,flatten,dense:100,relu,dense:10"
BATCH, STEPS = 100, 20
N = BATCH * STEPS


def engine_run():
    rng = np.random.default_rng(0)
    x = rng.random((N, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, N)
    spec = {"input_shape": [1, 28, 28], "layers": parse_arch(ARCH), "loss": "softmax_ce"}
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
    x = torch.rand(N, 1, 28, 28)
    y = torch.randint(0, 10, (N,))
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 30, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(30 * 12 * 12, 100),
        nn.ReLU(),
        nn.Linear(100, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

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
    line = f"cnn conv30@5x5-pool2-100-10 adam b100: engine {rates['engine']:,.0f} samples/s"
    if torch is not None:
        line += (
            f"; pytorch {torch.__version__} ({torch.get_num_threads()} threads) "
            f"{rates['torch']:,.0f} samples/s; median ratio {ratio:.2f}x"
        )
    print(line)


if __name__ == "__main__":
    main()

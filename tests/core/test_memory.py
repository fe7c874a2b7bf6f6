"""The memory estimate of a spec: exact parameter sizes, activations that bound what training
really allocates, absurd networks estimated without allocating."""

import tracemalloc

import numpy as np
import pytest
from layer_cases import small_cnn

from core.memory import estimate_memory
from core.model import Sequential
from core.optimizers import OPTIMIZERS
from core.spec import mlp_spec, parse_json
from core.training.config import TrainConfig
from core.training.trainer import build_trainer

CNN = small_cnn(28, filters=8, kernel=5, n_out=10, dropout=0.1)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_parameters_gradients_and_optimizer_state_are_exact(optimizer):
    spec = mlp_spec(10, [300, 200], 4)
    n = Sequential(spec).n_params
    e = estimate_memory(spec, 16, optimizer=optimizer)
    assert e.parameters == e.gradients == 4 * n
    assert e.optimizer == 4 * n * (len(OPTIMIZERS[optimizer].buffer_names) + 2)
    assert e.total == e.parameters + e.gradients + e.optimizer + e.activations
    assert estimate_memory(spec, 16, optimizer=optimizer, itemsize=8).parameters == 8 * n


@pytest.mark.parametrize(
    ("spec", "shape", "batch"),
    [(mlp_spec(784, [512, 256], 10), (784,), 256), (CNN, (1, 28, 28), 64)],
)
def test_estimate_bounds_what_training_allocates(spec, shape, batch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, *shape)).astype(np.float32)
    y = rng.integers(0, 10, 512)
    estimate = estimate_memory(spec, batch, optimizer="adam").total
    tracemalloc.start()
    try:
        trainer = build_trainer(
            spec, TrainConfig(batch_size=batch, epochs=1), x, y, x[:256], y[:256]
        )
        trainer.run_epoch()  # steps, then the evaluation of both sets
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    peak -= x.nbytes  # the shuffled copy of the training set, not the network's share
    assert estimate / 4 < peak <= estimate


def test_absurd_networks_are_estimated_without_allocating():
    huge = {
        "input_shape": [1000, 1000, 1000],
        "layers": [{"type": "flatten"}, {"type": "batchnorm"}, {"type": "dense", "units": 10**6}],
        "loss": "softmax_ce",
    }
    tracemalloc.start()
    try:
        e = estimate_memory(huge, 10**6)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert e.parameters == 4 * (10**9 * 10**6 + 10**6 + 2 * 10**9)  # exact, no overflow
    assert peak < 2**20


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        estimate_memory(mlp_spec(2, [4], 2), 0)
    with pytest.raises(ValueError, match="optimizer"):
        estimate_memory(mlp_spec(2, [4], 2), 8, optimizer="lion")
    with pytest.raises(ValueError, match="layer 1"):
        estimate_memory(
            {"input_shape": [2], "layers": [{"type": "conv", "filters": 2, "kernel_size": 3}]}, 8
        )


def test_json_depth_is_checked_before_parsing():
    assert parse_json("f", '[[1, "[[[["], {"a": [2]}]') == [[1, "[[[["], {"a": [2]}]
    assert parse_json("f", "[" * 32 + "]" * 32, max_depth=32)
    with pytest.raises(ValueError, match="f: brackets nested more than 32 deep"):
        parse_json("f", "[" * 33 + "]" * 33)
    with pytest.raises(ValueError, match="f: brackets nested"):
        parse_json("f", "[" * 10**6)  # would exhaust the recursion limit
    with pytest.raises(ValueError, match="f: not valid JSON"):
        parse_json("f", "[1,")

"""Weight initialization and the activations it produces: the classic experiment of 1,000 random
inputs through 5 hidden layers of 100 units, one histogram of each layer's activations.

Each layer multiplies the variance of its input by about ``n·Var(w)`` (``n`` inputs per unit), so
with ``Var(w)`` too small the activations shrink towards 0 layer after layer, too large they grow
(or pile up at the flat ends of sigmoid and tanh). Xavier (``std = √(1/n)``) keeps the variance
for tanh and sigmoid, He (``std = √(2/n)``) for ReLU, which zeroes half its inputs.

The network is the engine's :class:`core.model.Sequential` (dense layers without bias, each
followed by the activation); Xavier and He are the engine's initializers, the fixed standard
deviations are written into the built model's weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.model import Sequential

#: The weight choices: an initializer of the engine, or a fixed standard deviation.
INITS: dict[str, str | float] = {
    "std 1": 1.0,
    "std 0.01": 0.01,
    # Glorot normal, √(2 / (n_in + n_out)), is √(1/n) for these square layers
    "Xavier": "glorot_normal",
    "He": "he_normal",
}
ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: Each activation's histogram range (values beyond go into the end bins).
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 4.0)}
LAYERS, UNITS, SAMPLES, BINS = 5, 100, 1000, 30


@dataclass(frozen=True)
class LayerHistogram:
    """One layer's activations: histogram ``edges`` ``(bins + 1,)``, ``fractions`` ``(bins,)``
    of all its activations per bin (summing to 1), and their mean and standard deviation."""

    edges: np.ndarray
    fractions: np.ndarray
    mean: float
    std: float


def init_spec(init: str, activation: str, layers: int = LAYERS, units: int = UNITS) -> dict:
    """The experiment's network spec: ``layers`` × (dense ``units`` without bias, activation)."""
    if init not in INITS:
        raise ValueError(f"init: {init!r} is unknown; allowed: {', '.join(INITS)}")
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation: {activation!r} is unknown; allowed: {', '.join(ACTIVATIONS)}"
        )
    chosen = INITS[init]
    name = chosen if isinstance(chosen, str) else "zeros"  # filled in by initialized_model
    dense = {"type": "dense", "units": units, "init": name, "bias": False}
    return {
        "input_shape": [units],
        "layers": [entry for _ in range(layers) for entry in (dense, {"type": activation})],
        "loss": "mse",
    }


def initialized_model(
    init: str, activation: str, rng: np.random.Generator, layers: int = LAYERS, units: int = UNITS
) -> Sequential:
    """The engine's network for ``init`` and ``activation``, its weights drawn from ``rng``."""
    model = Sequential(init_spec(init, activation, layers, units), rng=rng)
    chosen = INITS[init]
    if not isinstance(chosen, str):
        for _, weights in model.named_params():
            weights[...] = rng.normal(0.0, chosen, weights.shape)
    return model


def layer_activations(
    init: str,
    activation: str,
    seed: int = 0,
    layers: int = LAYERS,
    units: int = UNITS,
    samples: int = SAMPLES,
) -> list[np.ndarray]:
    """Each hidden layer's activations ``(samples, units)`` for standard normal inputs
    ``(samples, units)``; the inputs, then the weights, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, units), dtype=np.float32)
    model = initialized_model(init, activation, rng, layers, units)
    return model.forward_collect(x)[1::2]


def histogram(values: np.ndarray, value_range: tuple[float, float], bins: int) -> LayerHistogram:
    """``values``'s histogram over ``value_range``, values outside counted in the end bins."""
    lo, hi = value_range
    # bins of equal width by index arithmetic: a quarter of np.histogram's time
    index = ((values.ravel() - lo) * (bins / (hi - lo))).astype(np.int64)
    counts = np.bincount(np.clip(index, 0, bins - 1), minlength=bins)
    edges = np.linspace(lo, hi, bins + 1)
    return LayerHistogram(edges, counts / values.size, float(values.mean()), float(values.std()))


def activation_histograms(
    init: str, activation: str, seed: int = 0, layers: int = LAYERS, bins: int = BINS
) -> list[LayerHistogram]:
    """One histogram per hidden layer (first to last) of the experiment (see the module
    docstring), over the activation's range :data:`RANGES`."""
    outputs = layer_activations(init, activation, seed, layers)
    return [histogram(a, RANGES[activation], bins) for a in outputs]

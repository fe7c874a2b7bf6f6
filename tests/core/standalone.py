"""Build one layer on its own (outside a model) for gradient checks."""

import numpy as np


def built(layer, input_shape, seed=0):
    """Build a layer standalone in float64 with its parameters in fresh arrays, moved off their
    initial values (gamma = 1, b = 0) so every parameter's gradient is exercised."""
    rng = np.random.default_rng(seed)
    layer.dtype, layer.rng = np.dtype(np.float64), rng
    layer.build(input_shape)
    for name, shape in layer.param_shapes().items():
        layer.params[name] = np.zeros(shape)
        layer.grads[name] = np.zeros(shape)
    layer.init_params(rng)
    for p in layer.params.values():
        p += rng.normal(0, 0.3, p.shape)
    return layer

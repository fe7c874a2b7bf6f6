"""Architectures covering every layer type, shared by the round-trip tests of the file formats
and exports (model files, experiments, ONNX, Python export) and the memory tests."""

ACTIVATIONS = [
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    {"type": "leaky_relu", "alpha": 0.1},
    {"type": "elu", "alpha": 0.7},
    "gelu",
    "silu",
    "softplus",
    "sine",
    "softmax",
]
CNN_LAYERS = [
    {"type": "conv", "filters": 4, "kernel_size": 3, "padding": "same"},
    {"type": "batchnorm"},
    {"type": "relu"},
    {"type": "maxpool", "pool_size": 2},
    {"type": "conv", "filters": 3, "kernel_size": [2, 3], "stride": [1, 2], "padding": [1, 2]},
    {"type": "avgpool", "pool_size": 2, "stride": 1},
    {"type": "flatten"},
    {"type": "dropout", "rate": 0.3},
]


def entry(a):
    """A spec entry from an activation given as a name or an entry."""
    return a if isinstance(a, dict) else {"type": a}


def mlp_case(act, n_inputs=3, units=8):
    """dense -> batchnorm -> the activation -> dropout -> dense(3), softmax cross-entropy."""
    layers = [
        {"type": "dense", "units": units},
        {"type": "batchnorm"},
        entry(act),
        {"type": "dropout", "rate": 0.2},
        {"type": "dense", "units": 3},
    ]
    return {"input_shape": [n_inputs], "layers": layers, "loss": "softmax_ce"}


def activation_cases(n_inputs=3, units=8):
    """One MLP case per activation, by activation name."""
    return {entry(a)["type"]: mlp_case(a, n_inputs, units) for a in ACTIVATIONS}


def cnn_case(n_out=3, loss="softmax_ce"):
    """Every image layer on a (2, 9, 9) input, then dense(n_out)."""
    layers = [*CNN_LAYERS, {"type": "dense", "units": n_out}]
    return {"input_shape": [2, 9, 9], "layers": layers, "loss": loss}


def small_cnn(size, filters, kernel, n_out, dropout):
    """conv (``kernel // 2`` zeros of padding) -> batchnorm -> relu -> maxpool 2 -> flatten ->
    dropout -> dense(n_out) on a (1, size, size) image, softmax cross-entropy."""
    layers = [
        {"type": "conv", "filters": filters, "kernel_size": kernel, "padding": kernel // 2},
        {"type": "batchnorm"},
        {"type": "relu"},
        {"type": "maxpool", "pool_size": 2},
        {"type": "flatten"},
        {"type": "dropout", "rate": dropout},
        {"type": "dense", "units": n_out},
    ]
    return {"input_shape": [1, size, size], "layers": layers, "loss": "softmax_ce"}


def export_cases():
    """What every export covers: one MLP per activation, the CNN with 3 classes and with a
    sigmoid output."""
    return {
        **activation_cases(n_inputs=3, units=8),
        "cnn": cnn_case(),
        "cnn_sigmoid": cnn_case(1, "sigmoid_bce"),
    }

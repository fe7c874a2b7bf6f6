"""Ready-made sessions, each with settings that learn its data set well: toy sets on the plane,
and MNIST / Fashion-MNIST images."""

from __future__ import annotations

from core.pace import MAX, Speed
from core.training.config import TrainConfig
from playground.image_data import ImageDataSettings
from playground.image_session import ImageSession
from playground.network_settings import LayerSettings, NetworkSettings
from playground.session import DataSettings, Session


def _session(data: DataSettings, hidden: list[tuple[int, str]], **training) -> Session:
    net = NetworkSettings(hidden=[LayerSettings(units=u, activation=a) for u, a in hidden])
    return Session(data=data, network=net, training=TrainConfig(epochs=0, **training))


def _images(dataset: str, rows: list[LayerSettings], **training) -> ImageSession:
    data = ImageDataSettings(dataset, train_subset=10_000, test_subset=2_000)
    config = TrainConfig(**{"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "epochs": 0})
    config = TrainConfig.from_dict({**config.to_dict(), **training})
    return ImageSession(data, NetworkSettings(hidden=rows), config)


def _dense(units: int, dropout: float = 0.0) -> LayerSettings:
    return LayerSettings(units=units, activation="relu", dropout=dropout)


def _conv(filters: int, kernel: int) -> LayerSettings:
    return LayerSettings(kind="conv", filters=filters, kernel=kernel, activation="relu")


POOL = LayerSettings(kind="maxpool", size=2)


def image_presets() -> dict[str, ImageSession]:
    """One-hidden-layer MLP, a deeper MLP and a small CNN on Fashion-MNIST (installed with the
    app on Debian), and the MLP and CNN on MNIST (downloaded on first use)."""
    return {
        "fashion-mlp": _images("fashion-mnist", [_dense(100)]),
        "fashion-deep": _images("fashion-mnist", [_dense(256, 0.2), _dense(128, 0.2), _dense(64)]),
        "fashion-cnn": _images("fashion-mnist", [_conv(16, 5), POOL, _dense(100)]),
        "mnist-mlp": _images("mnist", [_dense(100)]),
        "mnist-cnn": _images("mnist", [_conv(16, 5), POOL, _conv(32, 3), POOL, _dense(100)]),
    }


#: Three hidden rows for the harder toy sets.
DEEP = [(32, "relu"), (32, "relu"), (16, "relu")]
#: The toy presets: name -> (data settings, hidden rows (neurons, activation), optimizer,
#: learning rate, batch size).
TOY_PRESETS = {
    "xor": ({"dataset": "xor", "noise": 0.05}, [(8, "tanh"), (4, "tanh")], "adam", 0.03, 10),
    "circle": ({"dataset": "circle", "noise": 0.05}, [(8, "tanh"), (4, "tanh")], "adam", 0.03, 10),
    "gauss": ({"dataset": "gauss", "noise": 0.1}, [(4, "tanh")], "sgd", 0.03, 10),
    "moons": ({"dataset": "moons", "noise": 0.1}, [(16, "relu")] * 2, "adam", 0.01, 16),
    "spiral": ({"dataset": "spiral"}, [(16, "relu")] * 2, "adam", 0.01, 16),
    "spiral-3": ({"dataset": "spiral", "n_samples": 600, "n_classes": 3}, DEEP, "adam", 0.01, 16),
    "checkerboard": ({"dataset": "checkerboard", "n_samples": 800}, DEEP, "adam", 0.01, 16),
    "bumps": ({"dataset": "bumps", "n_samples": 600}, [(16, "tanh")] * 2, "adam", 0.01, 16),
    "plane": ({"dataset": "plane", "noise": 0.1}, [(4, "tanh")], "adam", 0.01, 10),
}


def presets() -> dict[str, Session]:
    """name -> a fresh Session (mutable, so each call builds new ones)."""
    return {
        name: _session(DataSettings(**data), hidden, optimizer=optimizer, lr=lr, batch_size=batch)
        for name, (data, hidden, optimizer, lr, batch) in TOY_PRESETS.items()
    }


DEFAULT = "spiral"

#: The speed each toy preset starts at, chosen so that its boundary forms over about 3 to 10
#: seconds (e.g. the spiral is solved near epoch 100 and settles by 150: 5 to 8 s at 20 epochs/s).
#: Image presets start at max: their epochs take seconds anyway.
PRESET_SPEEDS = {
    "xor": Speed(1),
    "circle": Speed(1),
    "gauss": Speed(10, "step"),
    "moons": Speed(2),
    "spiral": Speed(20),
    "spiral-3": Speed(5),
    "checkerboard": Speed(20),
    "bumps": Speed(2),
    "plane": Speed(2),
}


def preset_speed(name: str) -> Speed:
    """The speed a preset starts at (max for image presets and unknown names)."""
    return PRESET_SPEEDS.get(name, MAX)


def all_presets() -> dict[str, Session | ImageSession]:
    """Every preset by name: the plane's, then the image presets."""
    return {**presets(), **image_presets()}

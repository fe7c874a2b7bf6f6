"""Ready-made sessions, each with settings that learn its data set well: toy sets on the plane,
and MNIST / Fashion-MNIST images."""

from __future__ import annotations

from core.pace import MAX, Speed
from core.training.config import TrainConfig
from playground.image_data import ImageDataSettings
from playground.image_session import ImageSession
from playground.session import DataSettings, LayerSettings, NetworkSettings, Session


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


def presets() -> dict[str, Session]:
    """name -> a fresh Session (mutable, so each call builds new ones)."""
    return {
        "xor": _session(
            DataSettings("xor", noise=0.05),
            [(8, "tanh"), (4, "tanh")],
            optimizer="adam",
            lr=0.03,
            batch_size=10,
        ),
        "circle": _session(
            DataSettings("circle", noise=0.05),
            [(8, "tanh"), (4, "tanh")],
            optimizer="adam",
            lr=0.03,
            batch_size=10,
        ),
        "gauss": _session(
            DataSettings("gauss", noise=0.1), [(4, "tanh")], optimizer="sgd", lr=0.03, batch_size=10
        ),
        "moons": _session(
            DataSettings("moons", noise=0.1),
            [(16, "relu"), (16, "relu")],
            optimizer="adam",
            lr=0.01,
            batch_size=16,
        ),
        "spiral": _session(
            DataSettings("spiral"),
            [(16, "relu"), (16, "relu")],
            optimizer="adam",
            lr=0.01,
            batch_size=16,
        ),
        "spiral-3": _session(
            DataSettings("spiral", n_samples=600, n_classes=3),
            [(32, "relu"), (32, "relu"), (16, "relu")],
            optimizer="adam",
            lr=0.01,
            batch_size=16,
        ),
        "checkerboard": _session(
            DataSettings("checkerboard", n_samples=800),
            [(32, "relu"), (32, "relu"), (16, "relu")],
            optimizer="adam",
            lr=0.01,
            batch_size=16,
        ),
        "bumps": _session(
            DataSettings("bumps", n_samples=600),
            [(16, "tanh"), (16, "tanh")],
            optimizer="adam",
            lr=0.01,
            batch_size=16,
        ),
        "plane": _session(
            DataSettings("plane", noise=0.1),
            [(4, "tanh")],
            optimizer="adam",
            lr=0.01,
            batch_size=10,
        ),
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

"""Ready-made sessions, each with settings that learn its data set well."""

from __future__ import annotations

from core.training import TrainConfig
from playground.session import DataSettings, LayerSettings, NetworkSettings, Session


def _session(data: DataSettings, hidden: list[tuple[int, str]], **training) -> Session:
    net = NetworkSettings(hidden=[LayerSettings(units=u, activation=a) for u, a in hidden])
    return Session(data=data, network=net, training=TrainConfig(epochs=0, **training))


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

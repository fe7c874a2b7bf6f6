"""What the user has chosen in image mode, as plain data (no Qt): which images, the network
(conv, pool and dense rows) and how to train. The counterpart of :class:`playground.session.
Session` for 28×28 images; it round-trips through JSON the same way, marked ``"mode": "images"``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from core.training.config import TrainConfig
from playground.image_data import ImageDataSettings
from playground.network_settings import LayerSettings, NetworkSettings, network_spec
from playground.session import Session, settings_dict, settings_from_dict

MODE = "images"
IMAGE_SHAPE = [1, 28, 28]
FLAT_SHAPE = [28 * 28]


def _default_network() -> NetworkSettings:
    return NetworkSettings(hidden=[LayerSettings(units=100, activation="relu")])


def _default_training() -> TrainConfig:
    return TrainConfig(optimizer="adam", lr=1e-3, batch_size=64, epochs=0)


@dataclass
class ImageSession:
    data: ImageDataSettings = field(default_factory=ImageDataSettings)
    network: NetworkSettings = field(default_factory=_default_network)
    training: TrainConfig = field(default_factory=_default_training)

    def input_shape(self) -> list[int]:
        """``(1, 28, 28)`` when the network starts with a conv or pool row, else the 784 pixels
        as a flat vector (what :func:`playground.image_data.layout_for` expects)."""
        rows = self.network.hidden
        return list(IMAGE_SHAPE if rows and rows[0].kind != "dense" else FLAT_SHAPE)

    def build_spec(self, n_classes: int = 10) -> dict[str, Any]:
        """The architecture spec; raises ValueError (a NetworkError naming the row) for a
        network that cannot be built."""
        return network_spec(self.network, self.input_shape(), n_classes, "softmax_ce")

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"mode": MODE, **settings_dict(self, self.data.to_dict())}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageSession:
        """Rebuild from :meth:`to_dict`; raises ValueError (naming the field) for bad content."""
        return settings_from_dict(cls, ImageDataSettings.from_dict, data)

    def copy(self) -> ImageSession:
        return copy.deepcopy(self)


def session_from_dict(data: dict[str, Any]) -> Session | ImageSession:
    """A plane or image session from its ``to_dict()``; raises ValueError for bad content."""
    if not isinstance(data, dict):
        raise ValueError(f"session: expected a JSON object, got {type(data).__name__}")
    if data.get("mode") == MODE:
        return ImageSession.from_dict(data)
    return Session.from_dict(data)


def session_from_json(text: str) -> Session | ImageSession:
    try:
        return session_from_dict(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ValueError(f"session: not valid JSON ({exc})") from None

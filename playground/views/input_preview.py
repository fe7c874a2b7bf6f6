"""The network's input beside the draw canvas: the 28x28 image a drawing becomes, enlarged."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QWidget

from core.data.digits import FIELD

#: What the network sees, per preprocessing (the preview's tooltip).
PREVIEW_TIPS = {
    "digits": "What the network sees: your drawing cropped, scaled to 20 px and centred by its "
    "centre of mass in 28×28 pixels, as MNIST digits were made.",
    "fashion": "What the network sees: your drawing trimmed, its longest side scaled to 28 px "
    "and centred, as Fashion-MNIST items were made.",
}


class InputPreview(QWidget):
    """The network's 28x28 input, enlarged with square (nearest-neighbour) pixels."""

    def __init__(self, zoom: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixels = np.zeros((FIELD, FIELD), np.uint8)
        self._image = QImage(self._pixels.data, FIELD, FIELD, FIELD, QImage.Format_Grayscale8)
        self.setFixedSize(FIELD * zoom, FIELD * zoom)
        self.setToolTip(PREVIEW_TIPS["digits"])

    def set_image(self, image: np.ndarray | None) -> None:
        """Show ``image`` (28, 28) in [0, 1], or an empty field for None."""
        if image is None:
            self._pixels.fill(0)
        else:
            self._pixels[...] = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(QRectF(self.rect()), self._image)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(QRectF(0.5, 0.5, self.width() - 1, self.height() - 1))
        painter.end()

"""A widget as a picture to write: PNG pixels, or SVG with lines, text and shapes as vectors.

Widgets are drawn on the GUI thread only (Qt's rule): :func:`image` and :func:`svg` run there;
:func:`png` encodes a drawn image, which any thread may do (the File menu does it off the GUI
thread, with the writing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget


def image(widget: QWidget) -> QImage:
    """The widget's pixels as shown (GUI thread)."""
    return widget.grab().toImage()


def png(picture: QImage) -> bytes:
    """``picture`` encoded as PNG (any thread)."""
    return _buffered(lambda buffer: picture.save(buffer, "PNG"))


def svg(widget: QWidget, title: str) -> bytes:
    """The widget painted as SVG: lines, text and shapes as vectors, images embedded."""

    def paint(buffer: QBuffer) -> None:
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(widget.size())
        generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
        generator.setTitle(title)
        painter = QPainter(generator)
        try:
            # QWidget's render: graphics views (plots, the network) override render() with a
            # scene-only version; this one paints the widget and its children as shown.
            QWidget.render(widget, painter, QPoint(0, 0))
        finally:
            painter.end()

    return _buffered(paint)


def _buffered(write: Callable[[QBuffer], Any]) -> bytes:
    """What ``write`` puts into an in-memory device (written to disk atomically afterwards)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    write(buffer)
    buffer.close()
    return bytes(data.data())

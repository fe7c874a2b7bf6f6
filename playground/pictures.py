"""A widget as a picture to write: PNG pixels, or SVG with lines, text and shapes as vectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget


def png(widget: QWidget) -> bytes:
    return _buffered(lambda buffer: widget.grab().save(buffer, "PNG"))


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

"""Draw to classify: a canvas, the 28x28 image the network gets, and its class probabilities.

Every stroke segment schedules one update through a 0 ms single-shot timer that each new segment
restarts, so however fast strokes arrive the panel preprocesses and classifies at most once per
pass of the event loop, synchronously on the GUI thread (preprocessing ~0.2 ms, a small MLP
~0.1 ms, a small CNN a few ms). The model given to :meth:`DrawView.set_model` is the panel's own:
pass a copy (a loaded file, or a model rebuilt from a snapshot's weights with
:meth:`DrawView.set_weights`), never the model a training worker is updating.

Run it alone::

    python -m playground.views.draw_view [--model FILE.npz] [--draw 0|1|7] [--screenshot out.png]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from core.data.registry import DIGITS
from core.model import Sequential
from core.spec import normalize
from playground.views.canvas import BRUSH_RANGE, DEFAULT_BRUSH, DigitCanvas
from playground.views.draw_classifier import check_model, classify, preprocessing_for
from playground.views.input_preview import PREVIEW_TIPS, InputPreview
from playground.views.sample_drawings import SAMPLE_STROKES, draw_sample
from playground.views.standalone import show_alone, start_app

NO_MODEL = "No trained model yet — train one or open a model file"
DRAW_DIGIT = "Draw a digit"
DRAW_ITEM = "Draw an item"
#: Bar colours: the top class and the others.
TOP_BAR = (61, 127, 217)
OTHER_BAR = (150, 156, 166)


class DrawView(QWidget):
    """The "Draw to classify" panel.

    Signals
    -------
    predictionUpdated()
        After each update of the input preview and the bars (a stroke, a clear, a new model).
    """

    predictionUpdated = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: Sequential | None = None
        self._class_names: tuple[str, ...] = DIGITS
        self._image: np.ndarray | None = None
        self._probs: np.ndarray | None = None

        self.title = QLabel("Draw to classify")
        self.title.setObjectName("viewTitle")

        self.canvas = DigitCanvas()
        self.brush = QSlider(Qt.Orientation.Horizontal)
        self.brush.setRange(int(BRUSH_RANGE[0]), int(BRUSH_RANGE[1]))
        self.brush.setValue(int(DEFAULT_BRUSH))
        self.brush.setToolTip("Pen width in canvas pixels (the canvas is 280 pixels wide)")
        self.brush_value = QLabel()
        self.brush_value.setMinimumWidth(self.brush_value.fontMetrics().horizontalAdvance("00 px"))
        self.brush.valueChanged.connect(self._brush_changed)
        self._brush_changed(self.brush.value())
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Erase the drawing (also right-click or Esc)")
        self.clear_button.clicked.connect(self.canvas.clear)

        self.preview = InputPreview(zoom=3)
        preview_caption = QLabel("Network input 28×28")
        preview_caption.setObjectName("columnHead")
        preview_caption.setWordWrap(True)  # two lines rather than a wider panel
        preview_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)

        # result: a message (no model / empty canvas) or the top class, large
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.top_class = QLabel()
        self._big_fonts = []
        for factor in (3.2, 1.9):  # a digit, a longer class name
            big = QFont(self.font())
            big.setPointSizeF(big.pointSizeF() * factor)
            big.setBold(True)
            self._big_fonts.append(big)
        self.top_class.setFont(self._big_fonts[0])
        self.top_class.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.top_prob = QLabel()
        medium = QFont(self.font())
        medium.setPointSizeF(medium.pointSizeF() * 1.3)
        self.top_prob.setFont(medium)
        self.top_prob.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._medium_font = medium
        for label in (self.top_class, self.top_prob):  # they fit the column (see _fit_answer)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        answer = QWidget()
        answer_layout = QVBoxLayout(answer)
        answer_layout.setContentsMargins(0, 0, 0, 0)
        answer_layout.setSpacing(0)
        answer_layout.addStretch(1)
        answer_layout.addWidget(self.top_class)
        answer_layout.addWidget(self.top_prob)
        answer_layout.addStretch(1)
        self._result = QStackedLayout()
        self._result.addWidget(self.message)
        self._result.addWidget(answer)
        result_box = QWidget()
        result_box.setLayout(self._result)
        self._result_box = result_box
        result_box.setMinimumWidth(self.preview.width())
        result_box.setFixedHeight(self.preview.height() * 3 // 4)

        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(False, False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.hideAxis("bottom")
        self.plot.getViewBox().invertY(True)
        self.plot.getAxis("left").setStyle(tickLength=0)
        self.plot.setMinimumHeight(150)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.72, width=[], pen=None)
        self.plot.addItem(self.bars)
        self._labels: list[pg.TextItem] = []

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Pen"))
        controls.addWidget(self.brush, 1)
        controls.addWidget(self.brush_value)
        controls.addSpacing(8)
        controls.addWidget(self.clear_button)
        left = QVBoxLayout()
        left.addWidget(self.canvas)
        left.addLayout(controls)
        left.addStretch(1)

        # Input, answer and bars stacked in one narrow column: the panel must fit beside the
        # network editor in a 1280-px window.
        right = QVBoxLayout()
        right.setSpacing(2)
        right.addWidget(preview_caption, 0, Qt.AlignmentFlag.AlignHCenter)
        right.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        right.addWidget(result_box)
        right.addWidget(self.plot, 1)

        body = QHBoxLayout()
        body.addLayout(left)
        body.addSpacing(6)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(body, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self.canvas.strokeChanged.connect(self._timer.start)
        self.canvas.cleared.connect(self.refresh)
        self._set_class_names(DIGITS)
        self.refresh()

    # -- model -----------------------------------------------------------------------------------
    def set_model(self, model: Sequential | None, class_names: Sequence[str] | None = None) -> None:
        """Classify with ``model`` (the panel's own copy; see the module docstring), or show the
        no-model state for None.

        ``model`` must take one 28x28 image (input shape ``(784,)`` or ``(1, 28, 28)``) and be a
        classifier; ``class_names`` gives one name per output (default ``"0"``..``"9"``).
        Raises ValueError/TypeError (naming the field) for anything else, leaving the panel as it
        was.
        """
        if model is None:
            self._model = None
            if class_names is not None:
                self._set_class_names(tuple(str(c) for c in class_names))
            self.refresh()
            return
        names = check_model(model, class_names)
        self._model = model
        self._set_class_names(names)
        self.refresh()

    def set_weights(
        self,
        spec: Mapping[str, Any],
        weights: Mapping[str, np.ndarray],
        class_names: Sequence[str] | None = None,
    ) -> None:
        """Classify with the network ``spec`` carrying ``weights`` (e.g. a training snapshot's
        ``weights``). The current model is reused when its spec is the same, so calling this on
        every snapshot is cheap; the arrays are copied."""
        model = self._model
        if model is None or model.spec != normalize(dict(spec)):
            model = Sequential(dict(spec))
            model.set_state(dict(weights))
            self.set_model(model, class_names)
            return
        model.set_state(dict(weights))
        if class_names is not None and tuple(map(str, class_names)) != self._class_names:
            self.set_model(model, class_names)
        else:
            self.refresh()

    def model(self) -> Sequential | None:
        return self._model

    def class_names(self) -> tuple[str, ...]:
        return self._class_names

    @property
    def preprocessing(self) -> str:
        """How a drawing becomes the network's input (see :func:`preprocessing_for`)."""
        return preprocessing_for(self._class_names)

    def _set_class_names(self, names: tuple[str, ...]) -> None:
        self._class_names = names
        self.preview.setToolTip(PREVIEW_TIPS[self.preprocessing])
        axis = self.plot.getAxis("left")
        axis.setTicks([list(enumerate(names)), []])
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        axis.setWidth(max(metrics.horizontalAdvance(n) for n in names) + 14)
        self.plot.setYRange(-0.6, len(names) - 0.4, padding=0)
        self.plot.setXRange(0, 1.22, padding=0)
        for item in self._labels:
            self.plot.removeItem(item)
        self._labels = []
        for i in range(len(names)):
            label = pg.TextItem(anchor=(0, 0.5), color=pg.getConfigOption("foreground"))
            label.setPos(0.0, i)
            self.plot.addItem(label)
            self._labels.append(label)
        self.canvas.placeholder = DRAW_DIGIT if names == DIGITS else DRAW_ITEM
        self.canvas.update()

    # -- state -----------------------------------------------------------------------------------
    def predictions(self) -> np.ndarray | None:
        """Class probabilities ``(classes,)`` of the current drawing (read-only), or None when
        there is no model or nothing drawn."""
        return self._probs

    def preprocessed(self) -> np.ndarray | None:
        """The network input, ``(28, 28)`` float32 in [0, 1] (read-only), or None when nothing
        is drawn."""
        return self._image

    def status_text(self) -> str:
        """What the result area says: a message, or ``"<class> <percent>"``."""
        if self._result.currentIndex() == 0:
            return self.message.text()
        return f"{self.top_class.text()} {self.top_prob.text()}"

    # -- updates ---------------------------------------------------------------------------------
    def _brush_changed(self, value: int) -> None:
        self.canvas.brush_size = value
        self.brush_value.setText(f"{value} px")

    def refresh(self) -> None:
        """Preprocess the drawing and classify it now (strokes call this through the timer)."""
        self._timer.stop()
        self._image, probs = classify(self._model, self.canvas.array(), self.preprocessing)
        self.preview.set_image(self._image)
        self._probs = probs
        self._show(probs)
        self.predictionUpdated.emit()

    def _show(self, probs: np.ndarray | None) -> None:
        n = len(self._class_names)
        values = np.zeros(n) if probs is None else probs
        top = int(np.argmax(values)) if probs is not None else -1
        brushes = [pg.mkBrush(*(TOP_BAR if i == top else OTHER_BAR)) for i in range(n)]
        self.bars.setOpts(x0=np.zeros(n), y=np.arange(n), width=values, brushes=brushes)
        for i, label in enumerate(self._labels):
            if probs is None or values[i] < 0.0005:
                label.setText("")
            else:
                label.setText(_percent(values[i]))
                label.setPos(float(values[i]) + 0.015, i)
        if self._model is None:
            self._say(NO_MODEL)
        elif probs is None:
            self._say(DRAW_DIGIT if self._class_names == DIGITS else DRAW_ITEM)
        else:
            name = self._class_names[top]
            self.top_class.setText(name)
            self.top_prob.setText(f"{_percent(values[top])} sure")
            self._fit_answer()
            self._result.setCurrentIndex(1)

    def _fit_answer(self) -> None:
        """The answer in its large font, made smaller where the column is too narrow for it
        ("T-shirt/top" beside the canvas in a 1024-px window)."""
        big = self._big_fonts[0 if len(self.top_class.text()) <= 2 else 1]
        width = self._result_box.width()
        for label, font in ((self.top_class, big), (self.top_prob, self._medium_font)):
            font = QFont(font)
            while (
                QFontMetrics(font).horizontalAdvance(label.text()) > width and font.pointSizeF() > 7
            ):
                font.setPointSizeF(font.pointSizeF() * 0.9)
            label.setFont(font)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self.top_class.text():
            self._fit_answer()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self._result.setCurrentIndex(0)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            self.canvas.clear()
            event.accept()
        else:
            super().keyPressEvent(event)


def _percent(p: float) -> str:
    return f"{100 * p:.1f} %" if p < 0.9995 else "100 %"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m playground.views.draw_view",
        description="The draw-to-classify panel on its own.",
    )
    p.add_argument("--model", metavar="FILE.npz", help="a model file saved by NN Playground")
    p.add_argument("--draw", choices=sorted(SAMPLE_STROKES), help="start with this sample drawn")
    p.add_argument("--theme", choices=("light", "dark"), default="light")
    p.add_argument("--screenshot", metavar="PNG", help="save a picture of the panel and exit")
    args = p.parse_args(argv)
    app = start_app(args.theme, args.screenshot)
    from core.archive import ModelFileError
    from core.io import load_model

    view = DrawView()
    if args.model:
        try:
            model, metadata = load_model(args.model)
            view.set_model(model, metadata.get("class_names"))
        except (ModelFileError, ValueError, TypeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.draw:
        draw_sample(view.canvas, args.draw)
        view.refresh()
    view.setWindowTitle("NN Playground: draw to classify")
    view.resize(view.minimumSizeHint().expandedTo(QSize(640, 380)))
    return show_alone(app, view, args.screenshot)


if __name__ == "__main__":
    sys.exit(main())

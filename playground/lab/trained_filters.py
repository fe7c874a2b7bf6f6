"""The convolution page's second part: a tiny CNN trained by the engine in a background thread
for a few seconds, its first layer's filters and their feature maps on the page's image.

The thread first looks for MNIST in the user's data folder (its test digits join the page's
images) and trains on 3,000 of its training images; without MNIST it trains on varied copies of
the built-in sample drawings. It touches no widget: it reports through signals, received on
the GUI thread, and stops between two training steps when asked."""

from __future__ import annotations

import atexit
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.lab.convolution import TINY_CNN, Progress, feature_maps, train_tiny_cnn
from playground.lab.conv_images import local_mnist, mnist_choices, sample_training_set
from playground.views.colors import diverging


class Training(QThread):
    """Find the images, then train the tiny CNN for ``seconds``."""

    #: display name -> (28, 28) image: the MNIST test digits, when MNIST is here
    found = Signal(object)
    #: a core.lab.convolution.Progress, every 20 steps and at the end
    progress = Signal(object)
    #: what the network learns from, in words
    source = Signal(str)
    #: why training stopped early
    failed = Signal(str)

    def __init__(self, seconds: float, n_mnist: int, n_drawn: int) -> None:
        super().__init__()
        self.seconds, self.n_mnist, self.n_drawn = seconds, n_mnist, n_drawn
        self._stop = False

    def begin(self) -> None:
        """Start; stopped at the latest when Python exits (a running QThread must not be
        destroyed, as a page run alone for a screenshot would)."""
        atexit.register(self.stop)
        self.start()

    def stop(self) -> None:
        atexit.unregister(self.stop)
        self._stop = True
        self.wait()

    def run(self) -> None:
        try:
            self._train()
        except Exception as exc:  # noqa: BLE001 (a thread's last word: shown, not lost)
            self.failed.emit(str(exc) or type(exc).__name__)

    def _train(self) -> None:
        data = local_mnist()
        if data is not None:
            self.found.emit(mnist_choices(data))
            x, y = data.x_train[: self.n_mnist] / np.float32(255), data.y_train[: self.n_mnist]
            xt, yt = data.x_test[:1000] / np.float32(255), data.y_test[:1000]
            self.source.emit(f"{len(x):,} MNIST training images")
        else:
            held_out = self.n_drawn // 3
            x, y = sample_training_set(self.n_drawn + held_out, np.random.default_rng(0))
            x, xt, y, yt = x[held_out:], x[:held_out], y[held_out:], y[:held_out]
            self.source.emit(
                f"{len(x)} varied copies of the built-in drawings (MNIST is not in the data folder)"
            )
        for p in train_tiny_cnn(x, y, self.seconds, xt, yt):
            if self._stop:
                return
            self.progress.emit(p)


class TrainedFilters(QWidget):
    """Eight trained 5×5 filters (top row) and their feature maps on the image (bottom row);
    click one to take its filter into the step-by-step part (``filterChosen``)."""

    filterChosen = Signal(int)

    #: training time, and the training images: from MNIST, or else drawn
    SECONDS = 4.0
    N_MNIST = 3000
    N_DRAWN = 300

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weights: Progress | None = None
        self.maps: np.ndarray | None = None
        self._image = np.zeros((28, 28), np.float32)
        self._source = ""
        self.thread_: Training | None = None
        self.status = QLabel(f"The tiny CNN ({TINY_CNN.replace(',', ' → ')}) is not trained yet.")
        self.status.setWordWrap(True)
        self.plot = pg.GraphicsLayoutWidget()
        self.filter_items: list[pg.ImageItem] = []
        self.map_items: list[pg.ImageItem] = []
        for row, items in ((0, self.filter_items), (1, self.map_items)):
            for f in range(8):
                box = self.plot.ci.addViewBox(row=row, col=f, lockAspect=True, invertY=True)
                box.setMouseEnabled(False, False)
                box.setMenuEnabled(False)
                item = pg.ImageItem(axisOrder="row-major")
                item.mouseClickEvent = partial(self._clicked, f)
                box.addItem(item)
                items.append(item)
        hint = QLabel(
            "Top: the 8 filters the network learned (5×5, blue positive, orange negative). "
            "Bottom: each filter's feature map on the chosen image. Click one to study it "
            "step by step."
        )
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        layout.addWidget(hint)

    def _clicked(self, f: int, event) -> None:
        event.accept()
        if self.weights is not None:
            self.filterChosen.emit(f)

    # -- training --------------------------------------------------------------------------------
    def start(self, found) -> None:
        """Train in the background unless done; ``found(choices)`` receives the MNIST digits."""
        if self.thread_ is not None:
            return
        self.thread_ = Training(self.SECONDS, self.N_MNIST, self.N_DRAWN)
        self.thread_.found.connect(found)
        self.thread_.source.connect(self._set_source)
        self.thread_.progress.connect(self._show_progress)
        self.thread_.failed.connect(lambda text: self.status.setText(f"Training stopped: {text}"))
        self.thread_.begin()

    def stop(self) -> None:
        """Stop training (it starts afresh next time unless it had finished)."""
        thread = self.thread_
        if thread is not None and thread.isRunning():
            thread.stop()
            if self.weights is None or self.weights.accuracy is None:
                self.thread_ = None

    @property
    def finished(self) -> bool:
        return self.weights is not None and self.weights.accuracy is not None

    def _set_source(self, text: str) -> None:
        self._source = text

    def _show_progress(self, p: Progress) -> None:
        self.weights = p
        if p.accuracy is None:
            state = f"training on {self._source}: step {p.steps:,}"
        else:
            state = (
                f"trained for {p.steps:,} steps on {self._source}; it classifies "
                f"{p.accuracy:.0%} of the held-out images correctly"
            )
        self.status.setText(f"Tiny CNN {TINY_CNN.replace(',', ' → ')}: {state}.")
        for f, item in enumerate(self.filter_items):
            w = p.W[f, 0]
            item.setImage(diverging(w, max(float(np.abs(w).max()), 1e-9)))
        self.set_image(self._image)

    # -- picture ---------------------------------------------------------------------------------
    def set_image(self, image: np.ndarray) -> None:
        """Show the feature maps of ``image (28, 28)``."""
        self._image = image
        if self.weights is None:
            return
        self.maps = feature_maps(self.weights.W, self.weights.b, image)
        limit = max(float(np.abs(self.maps).max()), 1e-9)
        for item, fmap in zip(self.map_items, self.maps, strict=True):
            item.setImage(diverging(fmap, limit))

    def kernel(self, f: int) -> tuple[np.ndarray, float]:
        """Filter ``f``'s ``(5, 5)`` kernel and bias."""
        return self.weights.W[f, 0].astype(np.float64), float(self.weights.b[f])

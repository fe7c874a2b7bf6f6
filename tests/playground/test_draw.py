"""The draw-to-classify panel: canvas input, preprocessing, live bars, clearing, and a real MNIST
model reading digits drawn with mouse strokes."""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

import numpy as np
import pytest
from dev_data import DEV_MNIST as MNIST_DIR
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QImage,
    QInputDevice,
    QMouseEvent,
    QPointingDevice,
    QTabletEvent,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from core.data.registry import DIGITS, FASHION_CLASSES
from core.io import save_model
from core.model import Sequential
from core.spec import mlp_spec
from playground.theme import apply_theme
from playground.views import draw_view
from playground.views.canvas import DEFAULT_SIDE, DigitCanvas, stamp_segment
from playground.views.draw_view import DRAW_DIGIT, DRAW_ITEM, NO_MODEL, DrawView

#: Development copy of MNIST (tests only; the product never reads this path).
SIDE = DEFAULT_SIDE

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.MouseButton.NoButton


# -- drawing with the mouse ------------------------------------------------------------------------
def _send(widget, kind: QEvent.Type, pos, button, buttons) -> None:
    local = QPointF(*pos)
    event = QMouseEvent(
        kind, local, widget.mapToGlobal(local), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def resample(points, step: float = 5.0) -> list[tuple[float, float]]:
    """The polyline through ``points`` sampled every ``step`` px, as a mouse moving at a steady
    hand's pace reports it."""
    pts = np.asarray(points, dtype=float)
    seg = np.hypot(*np.diff(pts, axis=0).T)
    dist = np.concatenate([[0.0], np.cumsum(seg)])
    at = np.linspace(0.0, dist[-1], max(2, int(math.ceil(dist[-1] / step)) + 1))
    return list(zip(np.interp(at, dist, pts[:, 0]), np.interp(at, dist, pts[:, 1]), strict=True))


def mouse_stroke(widget, points, *, step: float = 5.0, pump: bool = True) -> int:
    """Press, drag through ``points`` (resampled every ``step`` px) and release the left button;
    returns the number of move events. ``pump`` lets the event loop run after each move, as it
    does between real mouse events."""
    pts = resample(points, step)
    _send(widget, QEvent.Type.MouseButtonPress, pts[0], LEFT, LEFT)
    for p in pts[1:]:
        _send(widget, QEvent.Type.MouseMove, p, NONE, LEFT)
        if pump:
            QApplication.processEvents()
    _send(widget, QEvent.Type.MouseButtonRelease, pts[-1], LEFT, NONE)
    return len(pts) - 1


def wobble(points, seed: int, amount: float = 0.8) -> np.ndarray:
    """A hand's tremor: smooth random offsets of about ``amount`` px."""
    pts = np.asarray(points, dtype=float)
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, amount, pts.shape)
    kernel = np.ones(3) / 3
    smooth = np.stack([np.convolve(noise[:, k], kernel, mode="same") for k in range(2)], axis=1)
    return pts + smooth * math.sqrt(3)


def zero_stroke(seed: int = 0) -> np.ndarray:
    """An oval about 66 % of the canvas high, leaning right, drawn anticlockwise from the top
    and overshooting a little where it closes, as a hand does."""
    t = np.linspace(0.0, 2 * math.pi + 0.35, 90)
    a, b, lean = 50.0, 92.0, math.radians(12)
    bump = 1.0 + 0.04 * np.sin(3 * t + 0.7)
    x, y = -a * np.sin(t) * bump, -b * np.cos(t) * bump
    xs = SIDE / 2 + 4 + x * math.cos(lean) - y * math.sin(lean)
    ys = SIDE / 2 + x * math.sin(lean) + y * math.cos(lean)
    return wobble(np.stack([xs, ys], axis=1), seed)


def one_stroke(seed: int = 0) -> np.ndarray:
    """A single down stroke, 66 % of the canvas high, slanted a few degrees."""
    s = np.linspace(0.0, 1.0, 40)
    xs = 128 + 20 * s + 3 * np.sin(math.pi * s)
    ys = 48 + 184 * s
    return wobble(np.stack([xs, ys], axis=1), seed)


def seven_stroke(seed: int = 0) -> np.ndarray:
    """A top bar left to right, then (without lifting) a long diagonal down to the lower left."""
    bar = np.stack([np.linspace(80, 196, 25), 62 - 4 * np.linspace(0, 1, 25)], axis=1)
    s = np.linspace(0.0, 1.0, 40)[1:]
    diag = np.stack([196 - 78 * s - 10 * np.sin(math.pi * s), 58 + 176 * s], axis=1)
    return wobble(np.concatenate([bar, diag]), seed)


DIGIT_STROKES = {0: zero_stroke, 1: one_stroke, 7: seven_stroke}


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture
def view(qtbot, qapp):
    apply_theme(qapp)
    widget = DrawView()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def random_mlp(seed: int = 0, n_out: int = 10) -> Sequential:
    return Sequential(mlp_spec(784, [16], n_out), rng=np.random.default_rng(seed))


@pytest.fixture(scope="module")
def mnist_model():
    """A 784-128-10 ReLU MLP trained with Adam (lr 1e-3, batch 128) for 3 epochs on the first
    30,000 real MNIST training digits (about 93 % test accuracy; a few seconds); trained once for
    the module."""
    if not MNIST_DIR.is_dir():
        pytest.skip(f"MNIST development copy not found at {MNIST_DIR}")
    from core.data.loading import load_folder
    from core.data.prepare import prepare
    from core.training.config import TrainConfig
    from core.training.trainer import build_trainer

    data = prepare(load_folder(MNIST_DIR), layout="flat", n_train=30_000, n_test=2000, seed=0)
    config = TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, epochs=3, seed=0)
    trainer = build_trainer(
        mlp_spec(784, [128], 10), config, data.x_train, data.y_train, data.x_test, data.y_test
    )
    for _ in range(3):
        trainer.run_epoch()
    assert trainer.history.last("test_acc") > 0.92
    return trainer.model


def draw(qtbot, view: DrawView, points, **kwargs) -> None:
    with qtbot.waitSignal(view.predictionUpdated, timeout=2000):
        mouse_stroke(view.canvas, points, **kwargs)


def bar_widths(view: DrawView) -> np.ndarray:
    return np.asarray(view.bars.opts["width"], dtype=float)


# -- the canvas ------------------------------------------------------------------------------------
def test_stamp_segment_is_antialiased_round_and_max_blended():
    ink = np.zeros((40, 40), np.float32)
    stamp_segment(ink, (10.0, 20.3), (30.0, 20.3), 4.0)
    assert ink[20, 20] == 1.0 and ink[20, 7] == 1.0  # the round cap reaches past the end
    assert ink[20, 5] == 0.0 and ink[17, 7] < ink[17, 10]  # ... and is round
    assert ink[24, 20] == pytest.approx(0.3, abs=1e-5)  # the edge is a ramp (antialiased)
    assert ink[25, 20] == 0.0
    before = ink.copy()
    stamp_segment(ink, (20.0, 10.0), (20.0, 30.0), 4.0)  # crossing: max, no seams above 1
    assert ink.max() == 1.0 and (ink >= before).all()
    assert stamp_segment(ink, (-50.0, -50.0), (-40.0, -40.0), 3.0) is None


def test_canvas_draws_with_the_mouse_and_signals_each_segment(qtbot, qapp):
    canvas = DigitCanvas()
    qtbot.addWidget(canvas)
    canvas.show()
    assert canvas.size().width() == canvas.size().height() == SIDE
    assert canvas.is_empty() and canvas.array().max() == 0
    changed, finished = [], []
    canvas.strokeChanged.connect(lambda: changed.append(1))
    canvas.strokeFinished.connect(lambda: finished.append(1))
    moves = mouse_stroke(canvas, [(60, 60), (200, 200)], step=10)
    assert len(changed) == moves + 1  # the dot on press, then every segment
    assert len(finished) == 1
    a = canvas.array()
    assert a.shape == (SIDE, SIDE) and a.dtype == np.float32
    assert a.min() == 0.0 and a.max() == 1.0
    assert a[130, 130] == 1.0 and a[60, 200] == 0.0
    # the stroke is brush wide (20 px): solid across the middle, nothing well beyond it
    run = int((a[130] > 0.5).sum())  # a 45° line crosses a row over width * sqrt(2)
    assert abs(run - 20 * math.sqrt(2)) <= 2
    # moving without a button held draws nothing
    before = canvas.array()
    _send(canvas, QEvent.Type.MouseMove, (20, 250), NONE, NONE)
    assert np.array_equal(canvas.array(), before)
    a[0, 0] = 0.5  # array() is a copy
    assert canvas.array()[0, 0] == 0.0


def test_canvas_brush_size(qtbot):
    canvas = DigitCanvas()
    qtbot.addWidget(canvas)
    widths = {}
    for size in (8, 30):
        canvas.clear()
        canvas.brush_size = size
        canvas.add_stroke([(40, 140), (240, 140)])
        widths[size] = int((canvas.array()[:, 140] > 0.5).sum())
    assert abs(widths[8] - 8) <= 1 and abs(widths[30] - 30) <= 1
    with pytest.raises(ValueError, match="brush_size"):
        canvas.brush_size = 0


def test_canvas_hidpi_keeps_logical_array_and_sharp_display(qtbot):
    """At a device pixel ratio of 2 the display buffer has 4x the pixels while array() stays
    at logical resolution, identical to the ratio-1 drawing."""
    plain, hidpi = DigitCanvas(), DigitCanvas()
    for c in (plain, hidpi):
        qtbot.addWidget(c)
    hidpi.devicePixelRatioF = lambda: 2.0  # what a Retina/200 % screen reports
    seven = resample(seven_stroke(), 5)
    for c in (plain, hidpi):
        c.add_stroke(seven)
    assert np.array_equal(plain.array(), hidpi.array())
    shown = hidpi._shown
    assert shown.shape == (2 * SIDE, 2 * SIDE)
    pooled = shown.reshape(SIDE, 2, SIDE, 2).mean(axis=(1, 3))
    assert np.abs(pooled - hidpi.array()).mean() < 0.01
    image = hidpi.grab().toImage()  # paints without errors at the new ratio
    assert not image.isNull()


def test_canvas_pen_pressure_and_touch(qtbot):
    canvas = DigitCanvas()
    qtbot.addWidget(canvas)
    canvas.show()
    qtbot.waitExposed(canvas)
    pen = QPointingDevice(
        "test pen",
        1001,
        QInputDevice.DeviceType.Stylus,
        QPointingDevice.PointerType.Pen,
        QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
        1,
        2,
    )

    def tablet(kind, x, y, pressure, button, buttons):
        pos = QPointF(x, y)
        event = QTabletEvent(
            kind, pen, pos, canvas.mapToGlobal(pos), pressure, 0, 0, 0, 0, 0,
            Qt.KeyboardModifier.NoModifier, button, buttons,
        )  # fmt: skip
        QApplication.sendEvent(canvas, event)

    tablet(QEvent.Type.TabletPress, 40, 60, 0.0, LEFT, LEFT)
    for x in range(45, 241, 5):
        tablet(QEvent.Type.TabletMove, x, 60, 0.0, NONE, LEFT)
    tablet(QEvent.Type.TabletRelease, 240, 60, 0.0, LEFT, NONE)
    tablet(QEvent.Type.TabletPress, 40, 200, 1.0, LEFT, LEFT)
    for x in range(45, 241, 5):
        tablet(QEvent.Type.TabletMove, x, 200, 1.0, NONE, LEFT)
    tablet(QEvent.Type.TabletRelease, 240, 200, 1.0, LEFT, NONE)
    a = canvas.array()
    light, firm = (a[:, 140] > 0.5)[:130].sum(), (a[:, 140] > 0.5)[130:].sum()
    assert 0 < light < firm  # light pressure draws thinner

    canvas.clear()
    touch = QTest.createTouchDevice()
    QTest.touchEvent(canvas, touch).press(0, QPoint(140, 40)).commit()
    for y in range(50, 240, 10):
        QTest.touchEvent(canvas, touch).move(0, QPoint(140, y)).commit()
    QTest.touchEvent(canvas, touch).release(0, QPoint(140, 240)).commit()
    qtbot.waitUntil(lambda: canvas.array()[200, 140] == 1.0, timeout=2000)
    assert canvas.array()[140, 60] == 0.0


# -- the panel -------------------------------------------------------------------------------------
def test_stroke_gives_a_centred_input_and_live_bars(qtbot, view):
    view.set_model(random_mlp())
    assert view.status_text() == DRAW_DIGIT and view.predictions() is None
    assert view.preprocessed() is None and not bar_widths(view).any()
    draw(qtbot, view, seven_stroke())
    image = view.preprocessed()
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.max() == pytest.approx(1.0) and image.min() == 0.0
    rows, cols = np.indices(image.shape)
    com = (float((rows * image).sum() / image.sum()), float((cols * image).sum() / image.sum()))
    assert abs(com[0] - 14) <= 1 and abs(com[1] - 14) <= 1
    probs = view.predictions()
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(bar_widths(view), probs)
    assert len(view._labels) == 10
    top = int(np.argmax(probs))
    assert view.top_class.text() == DIGITS[top]
    assert view.status_text().startswith(DIGITS[top])


def test_bars_follow_every_stroke(qtbot, view):
    """Each segment updates the panel: the bars change while the stroke is still going."""
    view.set_model(random_mlp(1))
    seen = []
    view.predictionUpdated.connect(lambda: seen.append(view.predictions()))
    mouse_stroke(view.canvas, zero_stroke(), step=8)
    qtbot.waitUntil(lambda: len(seen) > 20, timeout=2000)
    distinct = {tuple(np.round(p, 6)) for p in seen if p is not None}
    assert len(distinct) > 10


def test_fast_strokes_are_coalesced(qtbot, view):
    """Segments arriving faster than the event loop turns give one update, not one each."""
    view.set_model(random_mlp())
    updates = []
    view.predictionUpdated.connect(lambda: updates.append(1))
    with qtbot.waitSignal(view.predictionUpdated, timeout=2000):
        moves = mouse_stroke(view.canvas, one_stroke(), step=3, pump=False)
    assert moves > 50
    QApplication.processEvents()
    assert len(updates) == 1
    assert view.predictions() is not None


@pytest.mark.parametrize("how", ["button", "escape", "right-click", "call"])
def test_clear_empties_canvas_and_bars(qtbot, view, how):
    view.set_model(random_mlp())
    draw(qtbot, view, zero_stroke())
    assert view.predictions() is not None and bar_widths(view).any()
    with qtbot.waitSignal(view.canvas.cleared, timeout=1000):
        if how == "button":
            qtbot.mouseClick(view.clear_button, LEFT)
        elif how == "escape":
            view.canvas.setFocus()
            qtbot.keyClick(view.canvas, Qt.Key.Key_Escape)
        elif how == "right-click":
            qtbot.mouseClick(view.canvas, Qt.MouseButton.RightButton, pos=QPoint(100, 100))
        else:
            view.canvas.clear()
    assert view.canvas.array().max() == 0.0 and view.canvas.is_empty()
    assert view.predictions() is None and view.preprocessed() is None
    assert not bar_widths(view).any()
    assert all(label.toPlainText() == "" for label in view._labels)
    assert view.status_text() == DRAW_DIGIT


def test_escape_anywhere_in_the_panel_clears(qtbot, view):
    draw(qtbot, view, one_stroke())
    view.brush.setFocus()
    qtbot.keyClick(view.brush, Qt.Key.Key_Escape)
    assert view.canvas.is_empty()


def test_without_a_model_the_panel_says_so_and_never_guesses(qtbot, view):
    assert view.status_text() == NO_MODEL
    draw(qtbot, view, seven_stroke())
    assert view.preprocessed() is not None  # the input is still shown
    assert view.predictions() is None and not bar_widths(view).any()
    assert view.status_text() == NO_MODEL
    view.set_model(random_mlp())
    assert view.predictions() is not None  # classified as soon as a model arrives
    view.set_model(None)
    assert view.predictions() is None and view.status_text() == NO_MODEL


def test_set_model_checks_the_model(view):
    with pytest.raises(ValueError, match="28×28"):
        view.set_model(Sequential(mlp_spec(2, [4], 2)))
    with pytest.raises(ValueError, match="class_names"):
        view.set_model(random_mlp(), ["a", "b"])
    with pytest.raises(ValueError, match="softmax"):
        view.set_model(Sequential(mlp_spec(784, [4], 1, loss="mse")))
    with pytest.raises(TypeError, match="model"):
        view.set_model("model.npz")
    assert view.model() is None and view.status_text() == NO_MODEL


def test_fashion_names_and_prompt(qtbot, view):
    view.set_model(random_mlp(), FASHION_CLASSES)
    assert view.status_text() == DRAW_ITEM
    ticks = view.plot.getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks] == list(FASHION_CLASSES)
    draw(qtbot, view, zero_stroke())
    assert view.top_class.text() in FASHION_CLASSES


def test_cnn_models_get_image_shaped_input(qtbot, view):
    spec = {
        "input_shape": [1, 28, 28],
        "layers": [{"type": "flatten"}, {"type": "dense", "units": 10}],
        "loss": "softmax_ce",
    }
    model = Sequential(spec, rng=np.random.default_rng(0))
    view.set_model(model)
    draw(qtbot, view, one_stroke())
    expected = model.predict_proba(view.preprocessed().reshape(1, 1, 28, 28))[0]
    assert np.allclose(view.predictions(), expected)


def test_set_weights_reuses_the_model(qtbot, view):
    a, b = random_mlp(0), random_mlp(1)
    view.set_weights(a.spec, a.get_state())
    first = view.model()
    draw(qtbot, view, seven_stroke())
    before = view.predictions().copy()
    view.set_weights(b.spec, b.get_state())
    assert view.model() is first  # same architecture: weights copied in place
    assert not np.allclose(view.predictions(), before)
    expected = b.predict_proba(view.preprocessed().reshape(1, 784))[0]
    assert np.allclose(view.predictions(), expected, atol=1e-6)


def test_runs_alone_and_renders(tmp_path, qapp):
    blank = tmp_path / "blank.png"
    assert draw_view.main(["--screenshot", str(blank)]) == 0
    model_file = tmp_path / "model.npz"
    save_model(random_mlp(), model_file, {"class_names": list(DIGITS)})
    out = tmp_path / "seven.png"
    assert (
        draw_view.main(["--model", str(model_file), "--draw", "7", "--screenshot", str(out)]) == 0
    )
    image = QImage(str(out))
    assert image.width() >= 600 and image.height() >= 340
    colors = {
        image.pixel(x, y) for x in range(0, image.width(), 4) for y in range(0, image.height(), 4)
    }
    assert len(colors) > 20
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    assert draw_view.main(["--model", str(bad), "--screenshot", str(out)]) == 2


# -- a real MNIST model reads drawn digits ---------------------------------------------------------
@pytest.mark.parametrize("digit", sorted(DIGIT_STROKES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trained_mlp_reads_drawn_digits(qtbot, view, mnist_model, digit, seed):
    view.set_model(mnist_model)
    points = DIGIT_STROKES[digit](seed)
    height = np.ptp(points[:, 1]) + view.canvas.brush_size
    assert 0.6 * SIDE < height < 0.75 * SIDE  # drawn about two thirds of the canvas high
    draw(qtbot, view, points)
    probs = view.predictions()
    assert int(np.argmax(probs)) == digit, f"read {np.argmax(probs)}: {np.round(probs, 3)}"
    assert view.top_class.text() == str(digit)


def test_update_follows_a_segment_within_50_ms(qtbot, view, mnist_model):
    view.set_model(mnist_model)
    pts = resample(seven_stroke(), 5)
    _send(view.canvas, QEvent.Type.MouseButtonPress, pts[0], LEFT, LEFT)
    QApplication.processEvents()
    latencies = []
    for p in pts[1:]:
        with qtbot.waitSignal(view.predictionUpdated, timeout=1000):
            start = time.perf_counter()
            _send(view.canvas, QEvent.Type.MouseMove, p, NONE, LEFT)
        latencies.append(time.perf_counter() - start)
    _send(view.canvas, QEvent.Type.MouseButtonRelease, pts[-1], LEFT, NONE)
    assert statistics.median(latencies) < 0.05


FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_drawings_are_preprocessed_as_fashion_mnist_was_made(view, monkeypatch):
    """Garments "drawn" on the canvas (Fashion-MNIST test items enlarged 7× to 196 px, somewhere
    on the 280-px canvas) reach a Fashion-MNIST MLP as the items themselves, and it classifies
    them about as well as the test set; the digit preprocessing (20 px, centre of mass) did not."""
    from core.data.digits import preprocess_digit
    from core.data.loading import load_folder
    from core.data.prepare import prepare
    from core.training.config import TrainConfig
    from core.training.trainer import build_trainer

    data = prepare(
        load_folder(FASHION_DIR, name="fashion-mnist"),
        layout="flat",
        n_train=10_000,
        n_test=200,
        seed=0,
    )
    config = TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, epochs=2, seed=0)
    trainer = build_trainer(
        mlp_spec(784, [64], 10), config, data.x_train, data.y_train, data.x_test, data.y_test
    )
    for _ in range(2):
        trainer.run_epoch()
    view.set_model(trainer.model, FASHION_CLASSES)
    assert view.preprocessing == "fashion"
    rng = np.random.default_rng(0)
    canvas = np.zeros((280, 280), np.float32)
    monkeypatch.setattr(view.canvas, "array", lambda: canvas)
    right = digit_way = 0
    for item, label in zip(data.x_test.reshape(-1, 28, 28), data.y_test, strict=True):
        canvas[:] = 0
        r, c = rng.integers(0, 280 - 196, size=2)
        canvas[r : r + 196, c : c + 196] = np.kron(item, np.ones((7, 7), np.float32))
        view.refresh()
        right += int(np.argmax(view.predictions()) == label)
        as_digit = preprocess_digit(canvas, background="dark").image.reshape(1, 784)
        digit_way += int(np.argmax(trainer.model.predict_proba(as_digit)[0]) == label)
    n, test_acc = len(data.y_test), trainer.history.last("test_acc")
    assert right / n >= test_acc - 0.05 and right / n >= digit_way / n + 0.1

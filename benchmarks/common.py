"""Shared timing helpers for the benchmark scripts (each script prints one line of figures)."""

from __future__ import annotations

import contextlib
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator


def median_rate(run: Callable[[], int], repeats: int = 7, warmup: int = 1) -> float:
    """Median over ``repeats`` of (units done by one ``run()`` call) / (seconds it took)."""
    for _ in range(warmup):
        run()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        units = run()
        rates.append(units / (time.perf_counter() - start))
    return statistics.median(rates)


def interleaved_rates(
    runs: dict[str, Callable[[], int]], repeats: int = 9
) -> tuple[dict[str, float], float | None]:
    """Time several contenders in alternating rounds (so slow drifts of a noisy machine hit them
    alike): the median rate of each, and for two contenders the median of the per-round ratios
    first/second. Each timed run follows an untimed one of the same contender, because thread
    pools (OpenBLAS, OpenMP) keep spinning for a while after use and would slow the next one."""
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            run()
            start = time.perf_counter()
            units = run()
            rates[name].append(units / (time.perf_counter() - start))
    ratio = None
    if len(runs) == 2:
        a, b = rates.values()
        ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
    return {name: statistics.median(r) for name, r in rates.items()}, ratio


@contextlib.contextmanager
def busy_process() -> Iterator[None]:
    """Within the block, one other process keeps a core busy (a single-threaded Python loop),
    as another program on the machine would: in a session of its own, so that a scheduler
    sharing the CPU between sessions (Linux's autogroup) does not take its time from ours."""
    code = "print(flush=True)\nwhile True:\n    pass"
    spinner = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        spinner.stdout.readline()  # it runs
        yield
    finally:
        spinner.kill()
        spinner.wait()


def quiet_and_busy_rates(run: Callable[[], int], repeats: int = 9) -> tuple[float, float, float]:
    """Median rates of ``run`` alone and beside :func:`busy_process`, in alternating rounds
    (each timed run after an untimed one), and the median of the per-round ratios busy/quiet."""
    quiet, busy = [], []
    for _ in range(repeats):
        for rates in (quiet, busy):
            with busy_process() if rates is busy else contextlib.nullcontext():
                run()
                start = time.perf_counter()
                units = run()
                rates.append(units / (time.perf_counter() - start))
    ratio = statistics.median(b / q for q, b in zip(quiet, busy, strict=True))
    return statistics.median(quiet), statistics.median(busy), ratio


def torch_or_none():
    """PyTorch if installed (the optional `bench` extra), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def image_spec(arch: str) -> dict:
    """The spec of ``arch`` (compact text) for (1, 28, 28) images and 10 classes."""
    from core.spec import parse_arch

    return {"input_shape": [1, 28, 28], "layers": parse_arch(arch), "loss": "softmax_ce"}


def engine_adam(spec: dict, x, y, batch: int, lr: float = 1e-3, seed: int = 0):
    """The engine's model for ``spec`` (seeded) and ``step(xb, yb)``: one Adam update on a
    batch, without the per-epoch evaluation that ``Trainer.step`` adds."""
    from core.training.config import TrainConfig
    from core.training.trainer import build_trainer

    config = TrainConfig(optimizer="adam", lr=lr, batch_size=batch, seed=seed)
    trainer = build_trainer(spec, config, x, y)
    model, opt = trainer.model, trainer.optimizer

    def step(xb, yb) -> None:
        model.loss_and_grad(xb, yb)
        opt.step(model.theta, model.grad)

    return model, step


def torch_adam(torch, torch_net, lr: float = 1e-3, seed: int = 0):
    """``torch_net(torch)`` (seeded) and ``step(xb, yb)``: one Adam update on a batch with
    cross-entropy loss, as :func:`engine_adam` does for the engine."""
    torch.manual_seed(seed)
    net = torch_net(torch)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(xb, yb) -> None:
        opt.zero_grad(set_to_none=True)
        loss_fn(net(xb), yb).backward()
        opt.step()

    return net, step


def random_batches(input_shape: tuple, batch: int, steps: int):
    """``steps`` batches of ``batch`` random inputs of ``input_shape`` and labels 0..9, as one
    array each: ``(x, y)``."""
    import numpy as np

    rng = np.random.default_rng(0)
    n = batch * steps
    return rng.random((n, *input_shape), dtype=np.float32), rng.integers(0, 10, n)


def engine_training(spec: dict, input_shape: tuple, batch: int, steps: int) -> Callable[[], int]:
    """``run()``: ``steps`` Adam 1e-3 updates of the engine's ``spec`` on batches of random
    data (:func:`random_batches`); returns the samples trained on."""
    x, y = random_batches(input_shape, batch, steps)
    _, engine_step = engine_adam(spec, x, y, batch)

    def run() -> int:
        for i in range(steps):
            engine_step(x[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch])
        return len(x)

    return run


def compare_training_throughput(
    label: str, spec: dict, torch_net, input_shape: tuple, batch: int, steps: int
) -> str:
    """One line: training samples/s of ``spec`` in the engine and, when PyTorch is installed,
    of ``torch_net(torch)`` (the same network), Adam 1e-3, on the same-shaped random data."""
    x, y = random_batches(input_shape, batch, steps)
    n = len(x)
    runs = {"engine": engine_training(spec, input_shape, batch, steps)}
    torch = torch_or_none()
    if torch is not None:
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        _, torch_step = torch_adam(torch, torch_net)

        def pytorch() -> int:
            for i in range(steps):
                torch_step(tx[i * batch : (i + 1) * batch], ty[i * batch : (i + 1) * batch])
            return n

        runs["torch"] = pytorch
    rates, ratio = interleaved_rates(runs)
    line = f"{label}: engine {rates['engine']:,.0f} samples/s"
    if torch is not None:
        line += (
            f"; pytorch {torch.__version__} ({torch.get_num_threads()} threads) "
            f"{rates['torch']:,.0f} samples/s; median ratio {ratio:.2f}x"
        )
    return line


#: Test images per forward pass when measuring accuracy, the same for both contenders: the
#: engine's default of 4,096 makes the CNN's intermediate arrays large enough (~280 MB) that
#: allocating them costs more than the arithmetic.
EVAL_CHUNK = 1000

#: One measurement of a time-to-accuracy run: (clock seconds, epochs, test accuracy).
Checkpoint = tuple[float, float, float]


def time_to_accuracy(
    contenders: dict[str, tuple[Callable, Callable[[], float]]],
    n: int,
    batch: int,
    seconds: float,
    target: float | None = None,
    seed: int = 0,
) -> dict[str, list[Checkpoint]]:
    """Train each contender ``(step, accuracy)`` with ``step(indices)`` on epochs of ``n``
    samples in batches of ``batch`` (each epoch's order drawn from ``seed``, the same for all),
    measure ``accuracy()`` in the middle and at the end of each epoch, and return every
    contender's measurements. The contenders take turns, half an epoch each, so a change in the
    machine's load slows them alike. Each clock counts its contender's steps and measurements (a
    run that evaluates slowly is slower to know it has arrived). A contender stops at its first
    measurement at or past ``seconds``, or on reaching ``target``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    steps = -(-n // batch)
    points: dict[str, list[Checkpoint]] = {name: [] for name in contenders}
    clocks = dict.fromkeys(contenders, 0.0)
    active, epoch = list(contenders), 0
    while active:
        perm = rng.permutation(n)
        done = 0
        for mark in (steps // 2, steps):
            for name in list(active):
                step, accuracy = contenders[name]
                start = time.perf_counter()
                for i in range(done, mark):
                    step(perm[i * batch : (i + 1) * batch])
                acc = accuracy()
                clocks[name] += time.perf_counter() - start
                points[name].append((clocks[name], epoch + mark / steps, acc))
                if clocks[name] >= seconds or (target is not None and acc >= target):
                    active.remove(name)
            done = mark
        epoch += 1
    return points


def engine_contender(spec: dict, data, batch: int, seed: int = 0):
    """``(step, accuracy)`` for :func:`time_to_accuracy`: the engine (Adam 1e-3) on ``data``
    (``x_train``, ``y_train``, ``x_test``, ``y_test``), accuracy over the whole test set."""
    import numpy as np

    model, step = engine_adam(spec, data.x_train, data.y_train, batch, seed=seed)
    x, y = data.x_train, data.y_train

    def accuracy() -> float:
        pred = model.predict(data.x_test, batch_size=EVAL_CHUNK)
        return float(np.mean(pred == data.y_test))

    return (lambda idx: step(x[idx], y[idx])), accuracy


def torch_contender(torch, torch_net, data, seed: int = 0):
    """The same as :func:`engine_contender` with PyTorch CPU (its own initialization),
    evaluated under ``no_grad``."""
    net, step = torch_adam(torch, torch_net, seed=seed)
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    xt, yt = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)

    def train(idx) -> None:
        i = torch.from_numpy(idx)
        step(x[i], y[i])

    def accuracy() -> float:
        with torch.no_grad():
            hits = sum(
                int((net(xt[s : s + EVAL_CHUNK]).argmax(1) == yt[s : s + EVAL_CHUNK]).sum())
                for s in range(0, len(xt), EVAL_CHUNK)
            )
        return hits / len(xt)

    return train, accuracy


def first_reaching(points: list[Checkpoint], target: float) -> Checkpoint | None:
    """The first measurement at or above ``target``, or None."""
    return next((p for p in points if p[2] >= target), None)


def best_within(points: list[Checkpoint], seconds: float) -> Checkpoint | None:
    """The measurement with the best accuracy among those taken within ``seconds``, or None."""
    return max((p for p in points if p[0] <= seconds), key=lambda p: p[2], default=None)


def describe_reaching(points: list[Checkpoint], target: float) -> str:
    """``"90.0% at 41.2 s (4.5 epochs)"``, or
    ``"90.0% not reached in 180.3 s (9.5 epochs; best 89.10%)"``."""
    hit = first_reaching(points, target)
    if hit is None:
        best = max(p[2] for p in points)
        end = points[-1]
        return f"{target:.1%} not reached in {end[0]:.1f} s ({end[1]:.1f} epochs; best {best:.2%})"
    return f"{target:.1%} at {hit[0]:.1f} s ({hit[1]:.1f} epochs)"


def page_timings(page_class, changes: list[Callable[[object], None]], rounds: int = 5):
    """A Lab page alone, offscreen, at 1100x700: seconds from creating it to its first picture
    (painted into an image), and the median seconds from one of ``changes`` (each sets a control
    of the page) to the repainted window (the events that recompute and paint it processed),
    over ``rounds`` passes through the changes."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from playground.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    apply_theme(app, "light")
    start = time.perf_counter()
    page = page_class()
    page.resize(1100, 700)
    page.show()
    page.shown()
    app.processEvents()
    page.grab()
    opened = time.perf_counter() - start
    times = []
    for _ in range(rounds):
        for change in changes:
            start = time.perf_counter()
            change(page)
            app.processEvents()
            times.append(time.perf_counter() - start)
    page.close()
    page.hidden()
    return opened, statistics.median(times)


def seconds_to_train(page_class, limit: float = 600.0) -> float:
    """A Lab page that trains runs, alone and offscreen: seconds from putting it on screen until
    its runs have all trained (nan if not within ``limit``)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from playground.lab.page import wait_until

    app = QApplication.instance() or QApplication([])
    page = page_class()
    page.resize(1100, 700)
    page.show()
    start = time.perf_counter()
    page.shown()
    app.processEvents()
    done = wait_until(page.settled, limit)
    seconds = time.perf_counter() - start
    page.hidden()
    page.close()
    return seconds if done else math.nan


def page_timings_each(page_class, changes: dict[str, Callable[[object], None]], rounds: int = 5):
    """:func:`page_timings` for each of ``changes`` (name -> change) on a page of its own: the
    median open time, and the median time of each change by name."""
    opens, medians = [], {}
    for name, change in changes.items():
        opened, medians[name] = page_timings(page_class, [change], rounds)
        opens.append(opened)
    return statistics.median(opens), medians


def describe_page_timings(page_class, changes: dict[str, Callable[[object], None]], rounds: int):
    """``"<change> 12.3 ms, ...; page open 45 ms"`` (see :func:`page_timings_each`)."""
    opened, medians = page_timings_each(page_class, changes, rounds)
    parts = ", ".join(f"{name} {median * 1e3:.1f} ms" for name, median in medians.items())
    return f"{parts}; page open {opened * 1e3:.0f} ms"


def window_at_max(preset: str, size: tuple[int, int] = (1280, 800)):
    """The app's window (offscreen) on ``preset``, shown at ``size``, its speed control at
    "max" (the app measured, not the speed limiter); settings and kept runs go to a temporary
    folder. Needs a QApplication."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings

    from core.pace import MAX
    from playground.main_window import MainWindow

    folder = tempfile.mkdtemp()
    os.environ["NN_PLAYGROUND_RUNS"] = os.path.join(folder, "runs")
    settings = QSettings(os.path.join(folder, "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, preset=preset)
    window.toolbar.speed_control.set_speed(MAX)  # the preset's own speed is slower
    assert window.controller.speed == MAX
    window.resize(*size)
    window.show()
    return window


class TimerLateness:
    """How late each tick of a ``interval_ms`` QTimer comes (seconds, in ``late``): how long
    the event loop was held. Needs a QApplication; :meth:`start` and :meth:`stop` it."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QTimer

        self.late: list[float] = []
        self._interval = interval_ms / 1000
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = 0.0
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last:
            self.late.append(now - self._last - self._interval)
        self._last = now

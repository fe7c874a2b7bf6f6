"""Latency of Cancel in the app's sweep: a 2×2 sweep of the spiral (long runs) on 2 worker
processes, both training, then :meth:`playground.sweep_runner.SweepRunner.cancel` from the GUI
thread; the time until every worker process is gone (median of 5 repeats), until the runner
says done, and how long the call holds the GUI thread."""

from __future__ import annotations

import os
import statistics
import time

from PySide6.QtCore import QCoreApplication, QEventLoop

from playground.session import Session
from playground.sweep_plan import sweep_tasks
from playground.sweep_runner import SweepRunner

REPEATS = 5
WORKERS = 2


def wait_until(app: QCoreApplication, condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the sweep did not get there in time")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)


def one_cancel(app: QCoreApplication, tasks: list) -> tuple[float, float, float]:
    """Seconds from Cancel to every worker gone, to done, and spent inside cancel()."""
    runner = SweepRunner(workers=WORKERS)
    running: set[int] = set()
    ended: list[float] = []
    runner.progress.connect(lambda index, _: running.add(index))
    runner.done.connect(lambda _: ended.append(time.perf_counter()))
    runner.start(tasks)
    wait_until(app, lambda: len(running) == WORKERS)
    start = time.perf_counter()
    runner.cancel()
    held = time.perf_counter() - start
    while runner.live_workers():
        time.sleep(0.0005)
    all_gone = time.perf_counter() - start
    wait_until(app, lambda: bool(ended))
    return all_gone, ended[0] - start, held


def main() -> None:
    app = QCoreApplication.instance() or QCoreApplication([])
    session = Session()
    tasks = sweep_tasks(session, [("lr", (0.01, 0.03)), ("seed", (0, 1))], epochs=100_000)
    times = [one_cancel(app, tasks) for _ in range(REPEATS)]
    gone_ms, done_ms, held_ms = (statistics.median(t[i] for t in times) * 1000 for i in range(3))
    print(
        f"sweep cancel ({WORKERS} workers training): every worker gone {gone_ms:.1f} ms after "
        f"Cancel, done {done_ms:.1f} ms, GUI thread held {held_ms:.1f} ms (median of {REPEATS}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()

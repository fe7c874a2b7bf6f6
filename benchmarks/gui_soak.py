"""Soak: the spiral preset trained at the speed control's "max" in the real window (offscreen)
with every view live, for 10 minutes (``--quick``: 5; ``--minutes N`` for a trial). One line:
snapshots shown per second in the first and in the last minute, the epochs reached, the GUI's
and the engine's memory (RSS) growth from the start of training, and the longest event-loop
stall (a 10 ms QTimer's lateness), with the load average before and after."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from common import TimerLateness, window_at_max  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from playground.theme import apply_theme  # noqa: E402

PRESET = "spiral"


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux: /proc)."""
    with open(f"/proc/{pid}/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return kib / 1024


def engine_pid() -> int:
    """The engine process (the window's only child named so)."""
    (engine,) = [p for p in multiprocessing.active_children() if p.name == "nn-engine"]
    return engine.pid


def soak(app: QApplication, seconds: float) -> dict:
    window = window_at_max(PRESET)
    shown: list[float] = []
    window.controller.snapshotReady.connect(lambda _: shown.append(time.perf_counter()))
    lateness = TimerLateness()
    marks: dict = {}

    def memory() -> tuple[float, float]:
        return rss_mb(os.getpid()), rss_mb(engine_pid())

    def begin() -> None:
        if window.workspace.last_snapshot is None:  # the engine is still starting
            QTimer.singleShot(50, begin)
            return
        marks.update(start=time.perf_counter(), memory=memory(), load=os.getloadavg()[0])
        window.controller.start()
        lateness.start()
        QTimer.singleShot(int(seconds * 1000), end)

    def end() -> None:
        lateness.stop()
        marks.update(end=time.perf_counter(), memory_end=memory(), load_end=os.getloadavg()[0])
        marks["epochs"] = window.workspace.last_snapshot.epoch
        window.close()
        app.quit()

    QTimer.singleShot(500, begin)
    app.exec()
    span = min(60.0, seconds / 2)  # a minute, or half a short trial
    times = np.array(shown)
    first = np.count_nonzero((times >= marks["start"]) & (times < marks["start"] + span)) / span
    last = np.count_nonzero((times > marks["end"] - span) & (times <= marks["end"])) / span
    late = np.array(lateness.late)
    return {
        "span": span,
        "first": first,
        "last": last,
        "epochs": marks["epochs"],
        "gui_growth": marks["memory_end"][0] - marks["memory"][0],
        "engine_growth": marks["memory_end"][1] - marks["memory"][1],
        "stall": float(late.max()) if len(late) else float("nan"),
        "stall_p99": float(np.percentile(late, 99)) if len(late) else float("nan"),
        "load": (marks["load"], marks["load_end"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 minutes instead of 10")
    parser.add_argument("--minutes", type=float, help="any other length (a trial)")
    args = parser.parse_args()
    minutes = args.minutes or (5.0 if args.quick else 10.0)
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    r = soak(app, minutes * 60)
    window = "minute" if r["span"] == 60 else f"{r['span']:.0f} s"
    print(
        f"gui soak {PRESET} at max, all views live, {minutes:g} min: "
        f"{r['first']:.1f} snapshots shown/s in the first {window}, {r['last']:.1f} in the last "
        f"({r['last'] / r['first']:.0%}); {r['epochs']:,} epochs; RSS growth GUI "
        f"{r['gui_growth']:+.1f} MB, engine {r['engine_growth']:+.1f} MB; longest event-loop "
        f"stall {r['stall'] * 1e3:.0f} ms (10 ms timer, p99 {r['stall_p99'] * 1e3:.0f} ms); "
        f"load average {r['load'][0]:.2f} -> {r['load'][1]:.2f}"
    )


if __name__ == "__main__":
    main()

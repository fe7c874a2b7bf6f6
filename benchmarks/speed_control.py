"""Achieved training speed at each stop of the speed control, through the engine process
(headless, its real waits): the spiral preset (16 steps an epoch), epochs per second achieved
(and asked for), each from the snapshots' steps and arrival times over a few seconds."""

from __future__ import annotations

import multiprocessing
import sys
import time

from core.data.features import feature_map, grid_points
from core.pace import MAX, Speed
from core.training.snapshot import Grid
from playground.engine import PAUSED
from playground.engine_process import engine_main
from playground.panels.speed_control import SPEEDS
from playground.presets import presets
from playground.run_setup import RunSetup
from playground.workspaces.plane import GRID_RESOLUTION

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
PRESET = "spiral"


def run_setup() -> RunSetup:
    """The spiral preset's run as the app sets it up (features, boundary grid)."""
    session = presets()[PRESET]
    data, features = session.build_dataset(), session.data.features
    inputs = {
        f"x_{part}": feature_map(getattr(data, f"x_{part}"), features) for part in ("train", "test")
    }
    grid = Grid(feature_map(grid_points(GRID_RESOLUTION), features), GRID_RESOLUTION, 2)
    return RunSetup(
        session.build_spec(data),
        session.training,
        y_train=data.y_train,
        y_test=data.y_test,
        grid=grid,
        run_id=1,
        **inputs,
    )


def achieved(conn, speed: Speed, setup: RunSetup, steps_per_epoch: int) -> float:
    """Epochs per second between the first and the last snapshot of ``SECONDS`` of training."""
    conn.send(("speed", speed))
    conn.send(("setup", setup))
    while (message := conn.recv())[0] != "state":  # the run is set up (the engine started)
        conn.send(("ack",))
    conn.send(("start",))
    arrivals: list[tuple[float, int]] = []
    end = time.perf_counter() + SECONDS
    paused = False
    while True:
        if not paused and time.perf_counter() > end:
            conn.send(("pause",))
            paused = True
        if not conn.poll(0.05):
            continue
        message = conn.recv()
        if message[0] == "snapshot":
            conn.send(("ack",))
            if message[2].step > 0 and not paused:
                arrivals.append((time.perf_counter(), message[2].step))
        elif message[0] == "state" and message[2] == PAUSED:
            break
    (t0, s0), (t1, s1) = arrivals[0], arrivals[-1]
    return (s1 - s0) / (t1 - t0) / steps_per_epoch


def main() -> None:
    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe(duplex=True)
    process = context.Process(target=engine_main, args=(child,), daemon=True)
    process.start()
    setup = run_setup()
    per_epoch = -(-len(setup.x_train) // presets()[PRESET].training.batch_size)
    parts = []
    for speed in SPEEDS:
        rate = achieved(conn, speed, setup, per_epoch)
        asked = "" if speed == MAX else f" ({speed.steps_per_second(per_epoch) / per_epoch:g})"
        parts.append(f"{speed.label} {rate:.3g}{asked}")
    conn.send(("quit",))
    process.join(5)
    print(f"speed control, {PRESET} epochs/s achieved (asked): " + ", ".join(parts))


if __name__ == "__main__":
    main()

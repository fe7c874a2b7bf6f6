"""The Lab's optimizer race (offscreen): median time from a control change to the redrawn
picture (a learning rate: one path; a new start: all seven; another function: map and paths;
a learning rate on Rosenbrock's 600 steps), and the page's open time to its first picture."""

from __future__ import annotations

import sys

from common import describe_page_timings

from playground.lab.optimizer_race import OptimizerRacePage

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 15


def main() -> None:
    state = {"i": 0}

    def tick() -> int:
        state["i"] += 1
        return state["i"]

    def function(page) -> None:
        page.hidden()  # no animation: the whole picture at once
        keys = [page.function.itemData(i) for i in range(page.function.count())]
        page.set_surface(keys[tick() % len(keys)])

    def rosenbrock(page) -> None:
        if page.surface.name.split()[0] != "Rosenbrock":
            page.set_surface("rosenbrock")
        page.rates["adam"].setValue(0.05 + 0.001 * (tick() % 50))

    changes = {
        "learning rate": lambda page: page.rates["sgd"].setValue(0.5 + 0.01 * (tick() % 40)),
        "start": lambda page: page.set_start(-6.0 + 0.1 * (tick() % 40), 1.5),
        "function": function,
        "learning rate on Rosenbrock (600 steps)": rosenbrock,
    }
    print(
        f"optimizer race 1100x700, control -> redrawn picture (median of {ROUNDS}): "
        + describe_page_timings(OptimizerRacePage, changes, ROUNDS)
    )


if __name__ == "__main__":
    main()

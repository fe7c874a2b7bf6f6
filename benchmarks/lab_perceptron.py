"""The perceptron page's responsiveness, offscreen: the median time from a slider move to the
repainted page (the shading, the line, the points and the truth table), from one update of the
rule (Step) to the repainted page, to build and train the 2-2-1 network for XOR, and the time
to open the page to its first picture."""

from __future__ import annotations

import itertools
import statistics

from common import page_timings_each

from playground.lab.perceptron import PerceptronPage


def main() -> None:
    n = itertools.count()

    def build(page) -> None:
        page.set_gate("XOR")
        page.build_network()

    opens, parts = [], []
    for name, (change, rounds) in {
        "slider to picture": (lambda page: page.sliders[0].setValue(next(n) % 41 - 20), 41),
        "step to picture": (lambda page: page.step(), 40),
        "2-2-1 build": (build, 5),
    }.items():
        opened, medians = page_timings_each(PerceptronPage, {name: change}, rounds)
        opens.append(opened)
        parts.append(f"{name} {medians[name] * 1e3:.1f} ms")
    print(
        f"lab perceptron (median): {', '.join(parts)}; page open "
        f"{statistics.median(opens) * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()

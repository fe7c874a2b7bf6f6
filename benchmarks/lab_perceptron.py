"""The perceptron page's responsiveness, offscreen: the median time from a slider move to the
repainted page (the shading, the line, the points and the truth table), from one update of the
rule (Step) to the repainted page, to build and train the 2-2-1 network for XOR, and the time
to open the page to its first picture."""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from playground.lab.perceptron import PerceptronPage
    from playground.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    start = time.perf_counter()
    page = PerceptronPage()
    page.resize(1100, 700)
    page.show()
    page.shown()
    page.repaint()
    app.processEvents()
    opened = time.perf_counter() - start

    def timed(action) -> float:
        t0 = time.perf_counter()
        action()
        page.repaint()  # the picture as drawn, not just asked for
        app.processEvents()
        return time.perf_counter() - t0

    slider = page.sliders[0]
    slides = [timed(lambda v=v: slider.setValue(v)) for v in range(-20, 21)]
    steps = [timed(page.step) for _ in range(40)]
    page.set_gate("XOR")
    builds = [timed(page.build_network) for _ in range(5)]
    print(
        f"lab perceptron: slider to picture median {statistics.median(slides) * 1e3:.1f} ms, "
        f"step to picture {statistics.median(steps) * 1e3:.1f} ms, 2-2-1 build "
        f"{statistics.median(builds) * 1e3:.0f} ms, page open {opened * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()

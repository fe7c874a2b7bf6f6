"""The Lab's page "Convolution and im2col" (offscreen, 1100x700): the median time from a control
change to the redrawn picture (a kernel number typed in, the filter switched to 5×5, a position
picked) and the page's open time (built, shown, first picture painted; MNIST and the tiny CNN
come later, in the background, and are not started here)."""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from playground.lab.convolution import ConvolutionPage  # noqa: E402
from playground.theme import apply_theme  # noqa: E402

REPEATS = 21


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1e3:.1f} ms"


def timed(app: QApplication, page: ConvolutionPage, change) -> float:
    """Seconds from ``change()`` to the page painted again."""
    start = time.perf_counter()
    change()
    page.repaint()
    app.processEvents()
    return time.perf_counter() - start


def main() -> None:
    app = QApplication.instance() or QApplication([])
    apply_theme(app, "light")
    opens, pages = [], []
    for _ in range(5):
        start = time.perf_counter()
        page = ConvolutionPage()
        page.resize(1100, 700)
        page.show()
        page.repaint()
        app.processEvents()
        opens.append(time.perf_counter() - start)
        pages.append(page)
    page = pages[-1]
    kernel, switch, pick = [], [], []
    for n in range(REPEATS):
        kernel.append(timed(app, page, lambda n=n: page.spins[1][1].setValue(n % 5)))
        name = "Gaussian 5×5" if n % 2 else "Sharpen"
        switch.append(timed(app, page, lambda name=name: page.filter_combo.setCurrentText(name)))
        pick.append(timed(app, page, lambda n=n: page.set_position(n, 20 - n)))
    print(
        f"lab convolution page 1100x700: control -> redrawn picture, median of {REPEATS}: "
        f"kernel number {ms(kernel)}, 3×3/5×5 filter switch {ms(switch)}, position picked "
        f"{ms(pick)}; page open to first picture {ms(opens)} (median of {len(opens)})"
    )


if __name__ == "__main__":
    main()

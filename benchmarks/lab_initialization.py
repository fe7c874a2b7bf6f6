"""The Lab's Initialization page (offscreen, 1100x700): median milliseconds from choosing
another weight initialization or activation (the engine's 1,000 × 100 forward pass through five
layers and five histograms) to the redrawn picture, and the page's open time."""

from __future__ import annotations

from common import page_timings

from core.lab.init_stats import ACTIVATIONS, INITS
from playground.lab.initialization import InitializationPage


def changes() -> list:
    """Every weight choice under every activation."""

    def choose(init: str, activation: str):
        def change(page) -> None:
            page.activation.setCurrentIndex(page.activation.findData(activation))
            page.init.setCurrentIndex(page.init.findData(init))

        return change

    # one control per change: the activation moves only when the weights wrap round
    return [choose(init, act) for act in ACTIVATIONS for init in INITS]


if __name__ == "__main__":
    opened, change = page_timings(InitializationPage, changes())
    print(
        f"lab initialization: control to redrawn histograms {change * 1e3:.1f} ms (median), "
        f"page open {opened * 1e3:.0f} ms"
    )

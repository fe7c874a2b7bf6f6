"""The Lab's Activations page (offscreen, 1100x700): median milliseconds from choosing another
activation, overlay or alpha to the redrawn plots, and the page's open time."""

from __future__ import annotations

from common import page_timings

from playground.lab.activations import NAMES, ActivationsPage


def changes() -> list:
    """Every activation in turn, overlays against it, and the two alphas."""

    def choose(box_name: str, key: str):
        return lambda page: getattr(page, box_name).setCurrentIndex(
            getattr(page, box_name).findData(key)
        )

    steps = [choose("activation", name) for name in NAMES]
    steps += [choose("overlay", name) for name in ("relu", "softmax", "none", "tanh")]
    steps += [lambda page, a=a: page.alphas["elu"].setValue(a) for a in (0.5, 2.0)]
    steps += [lambda page, a=a: page.alphas["leaky_relu"].setValue(a) for a in (0.05, 0.2)]
    return steps


if __name__ == "__main__":
    opened, change = page_timings(ActivationsPage, changes())
    print(
        f"lab activations: control to redrawn plots {change * 1e3:.1f} ms (median), "
        f"page open {opened * 1e3:.0f} ms"
    )

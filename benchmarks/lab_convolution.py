"""The Lab's page "Convolution and im2col" (offscreen, 1100x700): the median time from a control
change to the redrawn picture (a kernel number typed in, the filter switched between 3×3 and 5×5,
a position picked) and the page's open time (built, shown, first picture painted; MNIST and the
tiny CNN come later, in the background, and are not started here)."""

from __future__ import annotations

import itertools

from common import describe_page_timings

from playground.lab.convolution import ConvolutionPage

ROUNDS = 21


def main() -> None:
    n = itertools.count()
    changes = {
        "kernel number": lambda page: page.spins[1][1].setValue(next(n) % 5),
        "3×3/5×5 filter switch": lambda page: page.filter_combo.setCurrentText(
            "Gaussian 5×5" if next(n) % 2 else "Sharpen"
        ),
        "position picked": lambda page: page.set_position(k := next(n) % 20, 20 - k),
    }
    print(
        f"lab convolution page 1100x700, control -> redrawn picture (median of {ROUNDS}): "
        + describe_page_timings(ConvolutionPage, changes, ROUNDS)
    )


if __name__ == "__main__":
    main()

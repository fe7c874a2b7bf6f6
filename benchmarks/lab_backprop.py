"""The backprop page's responsiveness, offscreen: the median time from a control to the
repainted page, for Next (the next stage of the glass box), choosing another training point
(its record computed anew), one training step, one tick of Play (an epoch, the boundary and
the record), the gradient check of the chosen point, and the time to open the page to its
first picture."""

from __future__ import annotations

import itertools
import sys

from common import describe_page_timings

from playground.lab.backprop import BackpropPage

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 15


def main() -> None:
    n = itertools.count()

    def next_stage(page) -> None:
        if not page.next_button.isEnabled():
            page.set_stage(0)
        page.next_button.click()

    changes = {
        "Next": next_stage,
        "choose a point": lambda page: page.choose_point(next(n) % len(page.trainer.x_train)),
        "Step": lambda page: page.step_button.click(),
        "Play tick": lambda page: page._tick(),
        "gradient check": lambda page: page.check_button.click(),
    }
    print(
        f"lab backprop 1100x700, control -> repainted page (median of {ROUNDS}): "
        + describe_page_timings(BackpropPage, changes, ROUNDS)
    )


if __name__ == "__main__":
    main()

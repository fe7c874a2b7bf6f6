"""The Lab's overfitting page (offscreen, 1100x700): the median time from choosing another weight
decay or dropout (the run in hand stopped, the new one started in the background) to the repainted
page, the page's open time to its first picture, and the seconds until its two runs (300 images, 60
epochs of Adam each) have trained on the sweep's worker processes. It learns MNIST or Fashion-MNIST
from the data folder (NN_PLAYGROUND_DATA, else the user's, else Debian's)."""

from __future__ import annotations

from common import page_timings, seconds_to_train

from core.lab.regularization import DROPOUTS, WEIGHT_DECAYS
from playground.lab.regularization import RegularizationPage


def changes() -> list:
    def choose(box: str, value: float):
        def change(page) -> None:
            widget = getattr(page, box)
            widget.setCurrentIndex(widget.findData(str(value)))

        return change

    return [choose("weight_decay", v) for v in WEIGHT_DECAYS] + [
        choose("dropout", v) for v in DROPOUTS
    ]


if __name__ == "__main__":
    opened, change = page_timings(RegularizationPage, changes())
    trained = seconds_to_train(RegularizationPage)
    print(
        f"lab regularization: weight decay or dropout to repainted page {change * 1e3:.1f} ms "
        f"(median), page open {opened * 1e3:.0f} ms, its 2 runs trained in {trained:.1f} s"
    )

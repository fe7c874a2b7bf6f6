"""The Lab's batch-norm page (offscreen, 1100x700): the median time from choosing another
learning rate (the eight runs in hand stopped, eight new ones started in the background) to the
repainted page, the page's open time to its first picture, and the seconds until all eight runs
(1,000 images, 20 epochs each) have trained on the sweep's worker processes. It learns MNIST or
Fashion-MNIST from the data folder (NN_PLAYGROUND_DATA, else the user's, else Debian's)."""

from __future__ import annotations

from common import page_timings, seconds_to_train

from core.lab.batch_norm import LEARNING_RATES
from playground.lab.batch_norm import BatchNormPage


def changes() -> list:
    def choose(lr: float):
        return lambda page: page.lr.setCurrentIndex(page.lr.findData(str(lr)))

    return [choose(lr) for lr in LEARNING_RATES]


if __name__ == "__main__":
    opened, change = page_timings(BatchNormPage, changes())
    trained = seconds_to_train(BatchNormPage)
    print(
        f"lab batch norm: learning rate to repainted page {change * 1e3:.1f} ms (median), page "
        f"open {opened * 1e3:.0f} ms, 8 runs trained in {trained:.1f} s"
    )

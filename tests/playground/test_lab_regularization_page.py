"""The overfitting page as a learner sees it: the run without regularization and the run of the
chosen weight decay and dropout, training and test curves drifting apart, and a table of the
settings tried with their gaps; dropout 0.5 gives a smaller gap than none."""

import numpy as np
import pytest
from dev_data import DEV_MNIST
from lab_pages import open_runs_page

from core.lab import regularization as rg
from playground.lab.regularization import RegularizationPage, run_key


@pytest.fixture
def make_page(qtbot, monkeypatch):
    """The page on shorter runs (300 training and test images, 100 epochs unless told), made
    with the chosen settings before it comes on screen."""
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(DEV_MNIST.parent))  # else Fashion-MNIST
    monkeypatch.setattr(RegularizationPage, "TEST_IMAGES", 300)

    def make(weight_decay="0.0", dropout="0.0", epochs=100):
        monkeypatch.setattr(RegularizationPage, "EPOCHS", epochs)

        def choose(page):
            page.weight_decay.setCurrentIndex(page.weight_decay.findData(weight_decay))
            page.dropout.setCurrentIndex(page.dropout.findData(dropout))
            assert not page.runs.runner.running  # nothing trains before the page is shown

        return open_runs_page(qtbot, RegularizationPage, before_shown=choose)

    return make


def table_rows(page) -> list[list[str]]:
    rows = []
    for i in range(page.table.rowCount()):
        cells = [page.table.item(i, j).text() for j in range(page.table.columnCount())]
        if any(cells):
            rows.append(cells)
    return rows


def test_dropout_half_gives_a_smaller_gap_than_none(make_page, qtbot):
    page = make_page(dropout="0.5")
    assert page.status.text().startswith("Training in the background: 0 of 2 runs")
    qtbot.waitUntil(page.settled, timeout=60_000)
    assert page.status.text() == "Both runs trained."
    rows = table_rows(page)
    assert [r[:2] for r in rows] == [["0", "0.5"], ["0", "0"]]  # the chosen first
    (_, _, *dropped), (_, _, *plain) = rows
    gap_dropped, gap_plain = float(dropped[2]), float(plain[2])
    assert gap_dropped < gap_plain - 0.1
    assert float(plain[0]) > 0.8  # without regularization it learns the images by heart
    for key, cells in zip(
        (run_key(0, 0.5, 100), run_key(0, 0, 100)), (dropped, plain), strict=True
    ):
        fit = rg.fit(page.runs.results[key].history)
        assert cells == [f"{v:.2f}" for v in (fit.train_acc, fit.test_acc, fit.gap)]
    assert "hardly learned: too much" in page.summary.text()  # p = 0.5 is too much here
    names = [name for name, _, _ in page.view.overlays]
    assert names == ["no regularization", "dropout 0.5"]
    for item in (*page.view._overlay_items.values(), *page.view._overlay_train.values()):
        x, _ = item[1].getData()
        np.testing.assert_array_equal(x, np.arange(1, 101))  # both curves of both runs


def test_settings_tried_before_come_back_at_once(make_page, qtbot):
    page = make_page(weight_decay="0.1", epochs=10)
    qtbot.waitUntil(page.settled, timeout=60_000)
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.weight_decay.setCurrentIndex(page.weight_decay.findData("0.0"))
    assert page.status.text() == "Trained." and page.settled()  # the run without: kept
    assert [name for name, _, _ in page.view.overlays] == ["no regularization"]
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.weight_decay.setCurrentIndex(page.weight_decay.findData("0.1"))
    assert page.status.text() == "Both runs trained."
    assert [r[:2] for r in table_rows(page)] == [["0.1", "0"], ["0", "0"]]

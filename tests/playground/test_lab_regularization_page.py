"""The overfitting page as a learner sees it: the run without regularization and the run of the
chosen weight decay and dropout, training and test curves drifting apart, and a table of the
settings tried with their gaps; dropout 0.5 still learns and tests about as well, weight decay
0.3 is called too much."""

import numpy as np
import pytest
from dev_data import DEV_MNIST
from lab_pages import open_runs_page

from core.lab import regularization as rg
from playground.lab.regularization import VERDICTS, RegularizationPage, run_key


@pytest.fixture
def make_page(qtbot, monkeypatch):
    """The page on shorter runs (300 training and test images), made with the chosen settings
    before it comes on screen."""
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(DEV_MNIST.parent))  # else Fashion-MNIST
    monkeypatch.setattr(RegularizationPage, "TEST_IMAGES", 300)

    def make(weight_decay="0.0", dropout="0.0"):

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


def test_dropout_half_still_learns_and_tests_about_as_well(make_page, qtbot):
    page = make_page(dropout="0.5")
    assert page.status.text().startswith("Training in the background: 0 of 2 runs")
    qtbot.waitUntil(page.settled, timeout=60_000)
    assert page.status.text() == "Both runs trained."
    rows = table_rows(page)
    assert [r[:2] for r in rows] == [["0", "0.5"], ["0", "0"]]  # the chosen first
    (_, _, *dropped), (_, _, *plain) = rows
    assert float(plain[0]) > 0.97 and float(plain[2]) > 0.1  # learned by heart: a wide gap
    assert float(dropped[0]) > 0.9  # dropout does not stop it learning
    assert float(dropped[1]) > float(plain[1]) - 0.05
    assert float(dropped[2]) < float(plain[2]) + 0.05  # 300 images: the gap moves little
    epochs = rg.EPOCHS
    fits = [rg.fit(page.runs.results[run_key(0, p, epochs)].history) for p in (0.5, 0)]
    for cells, fit in zip((dropped, plain), fits, strict=True):
        assert cells == [f"{v:.2f}" for v in (fit.train_acc, fit.test_acc, fit.gap, fit.test_loss)]
    summary = page.summary.text()
    assert "too much" not in summary and VERDICTS[fits[0].verdict(fits[1])] in summary
    names = [name for name, _, _ in page.view.overlays]
    assert names == ["no regularization", "dropout 0.5"]
    for item in (*page.view._overlay_items.values(), *page.view._overlay_train.values()):
        x, _ = item[1].getData()
        np.testing.assert_array_equal(x, np.arange(1, epochs + 1))  # both curves of both runs


def test_too_much_weight_decay_is_called_so_and_runs_tried_come_back_at_once(make_page, qtbot):
    page = make_page(weight_decay="0.3")
    qtbot.waitUntil(page.settled, timeout=60_000)
    assert "with weight decay 0.3 — but it has hardly learned: too much" in page.summary.text()
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.weight_decay.setCurrentIndex(page.weight_decay.findData("0.0"))
    assert page.status.text() == "Trained." and page.settled()  # the run without: kept
    assert [name for name, _, _ in page.view.overlays] == ["no regularization"]
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.weight_decay.setCurrentIndex(page.weight_decay.findData("0.3"))
    assert page.status.text() == "Both runs trained."
    assert [r[:2] for r in table_rows(page)] == [["0.3", "0"], ["0", "0"]]

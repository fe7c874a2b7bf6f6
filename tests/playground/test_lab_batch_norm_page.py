"""The batch-norm page as a learner sees it: eight runs (four weight spreads, without and with
batch norm) trained in the background, each curve growing as its run trains, a table saying when
each run reached 80% training accuracy, and a note with Download… and Load from folder… when
there are no images to learn from."""

import threading

import numpy as np
import pytest
from dev_data import DEV_MNIST
from lab_pages import open_runs_page

from core.lab import batch_norm as bn
from core.runs import COLUMNS
from core.sweep.task import RunProgress
from playground import sweep_runner
from playground.lab import compare_runs
from playground.lab.batch_norm import BatchNormPage, cell_text


@pytest.fixture
def make_page(qtbot, monkeypatch):
    """The page on small runs (100 training and test images, 3 epochs), on screen."""
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(DEV_MNIST.parent))  # else Fashion-MNIST
    monkeypatch.setattr(BatchNormPage, "TRAIN_IMAGES", 100)
    monkeypatch.setattr(BatchNormPage, "TEST_IMAGES", 100)
    monkeypatch.setattr(BatchNormPage, "EPOCHS", 3)
    return lambda: open_runs_page(qtbot, BatchNormPage)


def curves(page, batchnorm: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Spread -> the (epochs, training accuracy) its accuracy curve draws."""
    view = page.views[batchnorm]
    return {name: view._overlay_items[record.id][1].getData() for name, _, record in view.overlays}


def test_eight_runs_train_and_the_table_says_when_each_learned(make_page, qtbot):
    page = make_page()
    assert page.status.text().startswith("Training in the background: 0 of 8 runs")
    title = page.images.title  # MNIST's development copy, else Debian's Fashion-MNIST
    assert f"Learning 100 {title} training images (10 of each class)" in page.images.label.text()
    assert not page.images.folder_button.isVisible()
    qtbot.waitUntil(page.settled, timeout=60_000)
    assert page.status.text() == "All 8 runs trained."
    keys = page.keys()
    assert len(page.runs.results) == 8
    for batchnorm in (False, True):
        shown = curves(page, batchnorm)
        assert list(shown) == list(bn.SCALES)
        for key, (scale, on) in keys.items():
            if on != batchnorm:
                continue
            result = page.runs.results[key]
            x, y = shown[scale]
            acc = result.history["train_acc"]
            ok = np.isfinite(acc)  # (a run that blew up may have no epoch, or a nan)
            np.testing.assert_array_equal(x if ok.any() else [], result.history["epoch"][ok])
            np.testing.assert_allclose(y if ok.any() else [], acc[ok], rtol=1e-12)
    for row, batchnorm in enumerate((False, True)):
        cells = [page.table.item(row, j).text() for j in range(1, 5)]
        expected = [
            cell_text(bn.outcome(page.runs.results[key]), 0)
            for key, (_, on) in keys.items()
            if on == batchnorm
        ]
        assert cells == expected
    assert page.summary.text().startswith("With batch norm, ")


class HoldingPool:
    """A pool whose runs each report their first two epochs, then wait until cancelled."""

    def __init__(self, workers):
        self.size, self.processes, self.cancelled = workers, [], False
        self._stop = threading.Event()

    def run(self, tasks, on_progress=None):
        for task in tasks[:1]:
            rows = np.full((2, len(COLUMNS)), 0.5)
            rows[:, 0], rows[:, 1] = (1, 2), (10, 20)
            on_progress(RunProgress(task.index, 2, 3, 0.5, 0.5, 0.5, 0.1, 20, 0.5, rows))
            self._stop.wait(30)
        return
        yield

    def cancel(self):
        self.cancelled = True
        self._stop.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def test_a_runs_curve_grows_as_its_epochs_end(make_page, qtbot, monkeypatch):
    monkeypatch.setattr(sweep_runner, "LocalPool", HoldingPool)
    page = make_page()
    qtbot.waitUntil(lambda: page.table.item(0, 1).text() == "epoch 2…", timeout=10_000)
    x, y = curves(page, False)["std 1"]
    np.testing.assert_array_equal(x, [1, 2])
    np.testing.assert_array_equal(y, [0.5, 0.5])
    assert page.table.item(1, 1).text() == "waiting"
    assert not page.settled()


def test_another_learning_rate_trains_anew_and_going_back_shows_the_runs_at_once(make_page, qtbot):
    page = make_page()
    qtbot.waitUntil(page.settled, timeout=60_000)
    first = dict(page.runs.results)
    page.lr.setCurrentIndex(page.lr.findData("0.03"))
    assert page.status.text().startswith("Training in the background: 0 of 8")
    assert all(len(x if x is not None else ()) == 0 for x, _ in curves(page, True).values())
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.lr.setCurrentIndex(page.lr.findData("0.1"))
    assert page.status.text() == "All 8 runs trained."
    assert all(page.runs.results[key] is first[key] for key in page.keys())
    qtbot.waitUntil(lambda: not page.runs.runner.running, timeout=10_000)  # the 0.03 runs stop


def test_without_images_the_page_says_where_to_get_them(make_page, qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(compare_runs, "find_images", lambda: None)
    page = make_page()
    text = page.images.label.text()
    assert "Neither MNIST nor Fashion-MNIST is on this computer" in text
    assert "Download MNIST…" in text and "Load from folder…" in text
    assert page.images.download_button.isVisible() and page.images.folder_button.isVisible()
    assert not page.runs.runner.running and page.status.text() == ""
    with qtbot.waitSignal(page.runs.failed, timeout=10_000):
        page.images.choose_folder(str(tmp_path))  # an empty folder
    assert "The runs could not train:" in page.images.label.text()
    assert "holds neither the four IDX files" in page.images.label.text()
    assert page.images.folder_button.isVisible() and not page.images.download_button.isVisible()
    assert page.settled()

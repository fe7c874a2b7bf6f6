"""Image mode on its own: panels -> a run description, snapshots -> the views (confusion matrix,
test images, first-layer weights, draw panel), and clear refusals for runs that can't start."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from unittest.mock import Mock

import numpy as np
import pytest

from core import metrics
from core.training.snapshot import take_snapshot
from core.training.trainer import build_trainer
from playground.image_data import layout_for, load_image_data
from playground.network_settings import LayerSettings
from playground.presets import image_presets
from playground.worker import TrainingController
from playground.workspaces.images import ImageWorkspace

FASHION = Path("/usr/share/datasets/fashion-mnist")
pytestmark = pytest.mark.skipif(
    not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed"
)


def small(name: str):
    session = image_presets()[name]
    session.data = dataclasses.replace(session.data, train_subset=1000, test_subset=1000)
    return session


@pytest.fixture
def workspace(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(tmp_path))  # no MNIST here
    ws = ImageWorkspace(Mock(spec=TrainingController))  # runs are set up by hand
    qtbot.addWidget(ws)
    return ws


def trained(ws, session, epochs=1):
    ws.apply_session(session)
    run = ws.prepare_run()
    ws.start_run(run)
    d = load_image_data(run.data, layout=layout_for(run.spec))
    trainer = build_trainer(run.spec, run.config, d.x_train, d.y_train, d.x_test, d.y_test)
    ws.show_snapshot(take_snapshot(trainer))
    for _ in range(epochs):
        trainer.run_epoch()
    snap = take_snapshot(trainer)
    ws.show_snapshot(snap)
    ws.flush_views()
    return run, d, snap


def test_snapshots_fill_the_confusion_matrix_images_filters_and_draw_panel(workspace):
    run, data, snap = trained(workspace, small("fashion-mlp"))
    assert run.data.dataset == "fashion-mnist" and run.spec["input_shape"] == [784]
    expected = metrics.confusion_matrix(data.y_test, snap.test_pred.astype(int), 10)
    shown = workspace.confusion_view.matrix
    assert f"predicted Dress: {expected[3, 3]} (" in shown.cell_text(3, 3)
    assert workspace.images_view.shown_indices().size > 0
    assert workspace.filters_view.tile_count() == 64  # first 64 of 100 units
    assert workspace.draw_view.model() is not None
    assert workspace.draw_view.class_names()[0] == "T-shirt/top"


def test_a_confusion_cell_shows_its_images(workspace, qtbot):
    _, data, snap = trained(workspace, small("fashion-mlp"))
    pred = snap.test_pred.astype(int)
    wrong = np.flatnonzero(pred != data.y_test)
    t, p = int(data.y_test[wrong[0]]), int(pred[wrong[0]])
    workspace.confusion_view.cellClicked.emit(t, p)
    n = int(np.sum((data.y_test == t) & (pred == p)))
    assert workspace.images_view.summary.text().startswith(f"{n} mistake")
    assert f"{n:,} images" in workspace.images_view.title.text()
    assert workspace.show_all_button.isVisibleTo(workspace)
    workspace.show_all_button.click()
    assert not workspace.show_all_button.isVisibleTo(workspace)


def test_a_cnn_shows_its_filters(workspace):
    session = small("fashion-cnn")
    run, _, _ = trained(workspace, session)
    assert run.spec["input_shape"] == [1, 28, 28]
    assert workspace.filters_view.tile_count() == 16
    assert workspace.filters_view.tile_shape() == (5, 5)


def test_an_impossible_network_is_refused_naming_the_row(workspace):
    session = small("fashion-cnn")
    session.network.hidden.insert(0, LayerSettings(kind="conv", filters=8, kernel=11))
    session.network.hidden.insert(1, LayerSettings(kind="conv", filters=8, kernel=11))
    session.network.hidden.insert(2, LayerSettings(kind="conv", filters=8, kernel=11))
    workspace.apply_session(session)
    with pytest.raises(ValueError, match="layer 3"):
        workspace.prepare_run()


def test_missing_mnist_says_how_to_get_it(workspace):
    workspace.apply_session(small("mnist-mlp"))
    with pytest.raises(ValueError, match="Download"):
        workspace.prepare_run()


def test_a_run_that_cant_start_leaves_no_views_of_the_last_one(workspace, qtbot):
    """Fashion predictions, then MNIST (missing here) or a network that doesn't build: the test
    images, the first-layer weights and the Draw tab's answer of the old run are gone."""
    trained(workspace, small("fashion-mlp"))
    workspace.show_drawing("7")
    assert workspace.images_view.shown_indices().size > 0
    assert workspace.draw_view.predictions() is not None
    assert workspace.filters_view._total == 100
    for broken in ("mnist-mlp", "bad network"):
        session = small("mnist-mlp") if broken == "mnist-mlp" else small("fashion-cnn")
        if broken == "bad network":  # pooled down to nothing: can't be built
            pool = session.network.hidden[1]
            session.network.hidden[1:1] = [pool] * 4
        workspace.apply_session(session)
        with pytest.raises(ValueError):
            workspace.prepare_run()
        assert workspace.images_view.shown_indices().size == 0
        assert workspace.filters_view._total == 0
        assert workspace.draw_view.predictions() is None
        assert workspace.confusion_view.matrix._m.sum() == 0


def test_a_continued_run_does_not_wait_for_the_first_epoch(workspace):
    ws = workspace
    ws.apply_session(small("fashion-mlp"))
    run = ws.prepare_run()
    ws.start_run(run)
    d = load_image_data(run.data, layout=layout_for(run.spec))
    trainer = build_trainer(run.spec, run.config, d.x_train, d.y_train, d.x_test, d.y_test)
    trainer.run_epoch()
    trainer.run_epoch()
    trainer.test_pred = None  # as a trainer rebuilt from a saved experiment
    ws.show_snapshot(take_snapshot(trainer))
    ws.flush_views()
    assert ws.images_view.title.text() == "Predictions appear after epoch 3"

"""Image mode driven through the window: switch modes, train on a Fashion-MNIST subset from the
Debian package to >= 75% test accuracy, see the views and the draw panel follow, persistence."""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from waiting import open_file

from core.io import save_model
from core.model import Sequential
from core.spec import normalize, parse_arch
from playground.image_session import MODE as IMAGES
from playground.main_window import MainWindow
from playground.workspaces.plane import PLANE

pytestmark = pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Debian's dataset-fashion-mnist is not installed",
)


def choose(qtbot, window, combo, value):
    with qtbot.waitSignal(window.runReset, timeout=10000):
        combo.setCurrentIndex(combo.findData(value))


@pytest.fixture
def images(make_window, qtbot):
    window = make_window("fashion-mlp")
    panel = window.images.data_panel
    choose(qtbot, window, panel.train_subset, 1000)
    choose(qtbot, window, panel.test_subset, 1000)
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=10000)
    return window


def test_trains_a_fashion_subset_to_75_percent_through_the_ui(images, qtbot):
    window = images
    assert window.mode == IMAGES and window.stack.currentWidget() is window.images
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(
        lambda: (
            (window.workspace.last_snapshot.test_acc or 0) >= 0.75
            and window.workspace.last_snapshot.epoch >= 2
        ),
        timeout=60000,
    )
    with qtbot.waitSignal(window.controller.stateChanged, timeout=5000):
        window.toolbar.play_action.trigger()
    window.flush_views()
    ws = window.images
    matrix = ws.confusion_view.matrix
    counts = [int(matrix.cell_text(t, t).split(": ")[1].split()[0]) for t in range(10)]
    assert sum(counts) >= 750  # the diagonal: every correct test image
    assert ws.images_view.shown_indices().size > 0
    assert ws.filters_view.tile_count() == 64
    assert ws.draw_view.model() is not None
    assert "Test loss" in window.status_metrics.text()


def test_draw_panel_classifies_with_the_model_being_trained(images, qtbot):
    window = images
    step_epoch(qtbot, window)
    window.flush_views()
    draw = window.images.draw_view
    window.images.tabs.setCurrentWidget(draw)
    canvas = draw.canvas
    with qtbot.waitSignal(draw.predictionUpdated, timeout=2000):
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(80, 60))
        qtbot.mouseMove(canvas, QPoint(200, 60))
        qtbot.mouseMove(canvas, QPoint(200, 220))
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 220))
    probs = draw.predictions()
    assert probs is not None and probs.shape == (10,) and np.isclose(probs.sum(), 1, atol=1e-4)
    assert draw.preprocessed().max() > 0.5


def test_an_impossible_network_shows_the_banner_and_keeps_the_panels(images, qtbot):
    window = images
    panel = window.images.network_panel
    for _ in range(5):  # 28 -> 14 -> 7 -> 3 -> 1 -> nothing
        panel.add_pool.click()
    assert "layer 5 (max pool 2)" in window.banner.text() and window.banner.isVisibleTo(window)
    assert panel.problem()
    # The old run was dropped: Play can't train a network other than the one shown.
    assert window.workspace.last_snapshot is None and window.workspace.run_session is None
    with qtbot.assertNotEmitted(window.controller.snapshotReady, wait=300):
        window.toolbar.play_action.trigger()
    assert window.toolbar.play_action.text() == "Play"


def test_mode_and_both_sessions_persist(make_window, qtbot, settings):
    window = make_window("fashion-mlp")
    plane_before = window.plane.session().to_dict()
    with qtbot.waitSignal(window.runReset, timeout=10000):
        window.toolbar.mode_box.setCurrentIndex(window.toolbar.mode_box.findData(PLANE))
        window.toolbar.mode_box.activated.emit(window.toolbar.mode_box.currentIndex())
    assert window.mode == PLANE and window.workspace.spec["input_shape"] == [2]
    window.close()
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    try:
        assert again.mode == PLANE
        assert again.plane.session().to_dict() == plane_before
        assert again.images.session().data.dataset == "fashion-mnist"
    finally:
        again.close()


def step_epoch(qtbot, window):
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=20000, check_params_cb=lambda s, r: s == "paused"
    ):
        window.toolbar.step_action.trigger()


def written(qtbot, window, action):
    with qtbot.waitSignal(window.controller.saved, timeout=20000) as blocker:
        assert action() is not False
    assert blocker.args[1] == ""
    return blocker.args[0]


def test_image_experiment_reopens_and_continues_identically(images, qtbot, tmp_path):
    window = images
    step_epoch(qtbot, window)
    path = written(qtbot, window, lambda: window.files.save_experiment(str(tmp_path / "e.npz")))
    step_epoch(qtbot, window)
    uninterrupted = window.workspace.last_snapshot
    with qtbot.waitSignal(window.runReset, timeout=20000):
        assert window.files.open(path)
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=20000)
    assert window.mode == IMAGES and window.workspace.last_snapshot.epoch == 1
    step_epoch(qtbot, window)
    continued = window.workspace.last_snapshot
    for column in ("step", "train_loss", "test_loss", "test_acc"):
        assert np.array_equal(continued.history[column], uninterrupted.history[column]), column


def test_an_exported_image_model_opens_in_the_editor_and_draw_panel(
    images, make_window, qtbot, tmp_path
):
    step_epoch(qtbot, images)
    saved = images.workspace.last_snapshot.weights
    path = written(
        qtbot, images, lambda: images.files.export_model("weights", str(tmp_path / "m.npz"))
    )
    plane = make_window("spiral")
    assert plane.mode == PLANE
    with qtbot.waitSignal(plane.runReset, timeout=20000):
        assert plane.files.open(path)
    qtbot.waitUntil(lambda: plane.workspace.last_snapshot is not None, timeout=20000)
    assert plane.mode == IMAGES and plane.images.session().data.dataset == "fashion-mnist"
    rows = plane.images.network_panel.settings().hidden
    assert [(r.kind, r.units) for r in rows] == [("dense", 100)]
    for name, value in saved.items():  # the run starts from the file's weights
        assert np.array_equal(plane.workspace.last_snapshot.weights[name], value), name
    plane.flush_views()
    draw = plane.images.draw_view
    assert plane.images.tabs.currentWidget() is draw and draw.model() is not None
    assert draw.class_names()[-1] == "Ankle boot"


def test_a_model_the_editor_cannot_show_opens_for_drawing_only(make_window, qtbot, tmp_path):
    spec = normalize(
        {
            "input_shape": [1, 28, 28],
            "layers": parse_arch("flatten,dense:10"),  # the editor's MLPs take flat pixels
            "loss": "softmax_ce",
        }
    )
    path = tmp_path / "flat.npz"
    save_model(Sequential(spec), path, {"class_names": [str(i) for i in range(10)]})
    window = make_window("spiral")
    assert open_file(qtbot, window, path)
    draw = window.images.draw_view
    assert window.mode == IMAGES and draw.model() is not None
    assert "flat.npz" in draw.title.text()
    assert "drawing only" in window.statusBar().currentMessage()


def test_a_plane_model_opened_in_image_mode_goes_to_the_plane(images, qtbot, tmp_path):
    spec = normalize({"input_shape": [2], "layers": parse_arch("dense:4,tanh,dense:2")})
    path = tmp_path / "plane.npz"
    save_model(Sequential(spec), path, {"features": ["x1", "x2"], "class_names": 10})
    with qtbot.waitSignal(images.runReset, timeout=10000):
        assert images.files.open(str(path))  # the odd class_names are ignored, not fatal
    assert images.mode == PLANE and images.workspace.spec["layers"][0]["units"] == 4


def test_choosing_the_mode_on_screen_again_keeps_the_run(images, qtbot):
    step_epoch(qtbot, images)
    step = images.workspace.last_snapshot.step
    with qtbot.assertNotEmitted(images.runReset, wait=100):
        images.toolbar.mode_box.activated.emit(images.toolbar.mode_box.findData(IMAGES))
    assert images.workspace.last_snapshot.step == step


def test_a_clamped_batch_size_is_the_one_the_run_uses(images, qtbot):
    data, panel = images.images.data_panel, images.images.training_panel
    choose(qtbot, images, data.train_subset, 5000)
    with qtbot.waitSignal(images.runReset, timeout=10000):
        panel.batch.setValue(3000)
    resets = []
    images.runReset.connect(lambda: resets.append(1))
    choose(qtbot, images, data.train_subset, 1000)  # the batch size is clamped to 1,000
    assert resets == [1]  # one run, not a second one for the clamp
    assert panel.batch.value() == 1000
    assert images.workspace.run_session.training.batch_size == 1000


def test_export_plots_offers_the_views_on_screen(images):
    names = [name for name, _ in images.workspace.views()]
    assert "confusion matrix" in names and "output view" not in names

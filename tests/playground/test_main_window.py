"""The app driven through its widgets: build a network, train, pause, step, reset, live learning
rate, closing while training, bad CSV files, clicks on the output view, exports, persistence."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QMessageBox
from waiting import exported, written

from playground.main_window import MainWindow
from playground.worker import PAUSED, RUNNING


def train_until(qtbot, window, condition, timeout=30000):
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(
        lambda: (
            window.workspace.last_snapshot is not None and condition(window.workspace.last_snapshot)
        ),
        timeout=timeout,
    )


def pause(qtbot, window):
    with qtbot.waitSignal(window.controller.stateChanged, timeout=5000):
        window.toolbar.play_action.trigger()
    assert window.controller.state == PAUSED


def test_build_a_network_through_the_editor(window, qtbot):
    panel = window.plane.network_panel
    assert len(panel.rows) == 2 and "354 parameters" in panel.params.text()
    with qtbot.waitSignal(window.runReset):
        panel.add.click()
    assert len(panel.rows) == 3
    with qtbot.waitSignal(window.runReset):
        panel.rows[2].units.setValue(4)
    with qtbot.waitSignal(window.runReset):
        panel.rows[2].activation.setCurrentIndex(panel.rows[2].activation.findData("tanh"))
    kinds = [(e["type"], e.get("units")) for e in window.workspace.spec["layers"]]
    assert kinds[-3:] == [("dense", 4), ("tanh", None), ("dense", 2)]
    # 2-16-16-4-2: (2*16+16) + (16*16+16) + (16*4+4) + (4*2+2)
    assert f"{48 + 272 + 68 + 10:,} parameters" in panel.params.text()
    with qtbot.waitSignal(window.runReset):
        panel.rows[0].remove.click()
    assert len(panel.rows) == 2 and window.workspace.spec["layers"][0]["units"] == 16
    assert len(window.plane.network_view._columns) == 4  # input, 2 hidden, output


def test_many_layers_and_wide_layers_are_allowed(window, qtbot):
    panel = window.plane.network_panel
    while panel.add.isEnabled():
        panel.add.click()
    assert len(panel.rows) >= 10
    with qtbot.waitSignal(window.runReset):
        panel.rows[0].units.setValue(256)
    assert window.workspace.spec["layers"][0]["units"] == 256


def test_trains_xor_to_95_percent(make_window, qtbot):
    window = make_window("xor")
    train_until(qtbot, window, lambda s: (s.test_acc or 0) >= 0.95)
    assert window.controller.state == RUNNING
    assert "accuracy" in window.status_metrics.text()


def test_trains_spiral_to_95_percent_and_pause_stops_snapshots(window, qtbot):
    train_until(qtbot, window, lambda s: (s.test_acc or 0) >= 0.95)
    pause(qtbot, window)
    with qtbot.assertNotEmitted(window.controller.snapshotReady, wait=400):
        pass
    steps = window.workspace.last_snapshot.step
    qtbot.wait(100)
    assert window.workspace.last_snapshot.step == steps


def step_epoch(qtbot, window):
    """Step, waiting for the pause that ends it (snapshots may show the epoch on its way)."""
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=5000, check_params_cb=lambda s, r: s == PAUSED
    ):
        window.toolbar.step_action.trigger()


def test_step_advances_exactly_one_epoch(window, qtbot):
    step_epoch(qtbot, window)
    assert window.workspace.last_snapshot.epoch == 1
    first = window.workspace.last_snapshot.step
    step_epoch(qtbot, window)
    snap = window.workspace.last_snapshot
    assert snap.epoch == 2 and snap.step == 2 * first
    assert window.controller.state == PAUSED
    assert len(snap.history["epoch"]) == 2


def test_reset_restores_the_initial_state(window, qtbot):
    initial = window.workspace.last_snapshot
    assert initial.step == 0
    train_until(qtbot, window, lambda s: s.epoch >= 5)
    pause(qtbot, window)
    with qtbot.waitSignal(window.controller.snapshotReady, timeout=5000):
        window.toolbar.reset_action.trigger()
    again = window.workspace.last_snapshot
    assert again.step == 0 and again.epoch == 0 and len(again.history["epoch"]) == 0
    for name, value in initial.weights.items():
        assert np.array_equal(again.weights[name], value), name
    assert np.array_equal(again.grid_output, initial.grid_output)


def test_learning_rate_change_reaches_the_running_worker(window, qtbot):
    train_until(qtbot, window, lambda s: s.step > 0)
    box = window.plane.training_panel.lr
    box.setEditText("0.0042")
    box.lineEdit().editingFinished.emit()
    qtbot.waitUntil(
        lambda: window.workspace.last_snapshot.lr == pytest.approx(0.0042), timeout=5000
    )
    assert window.controller.state == RUNNING  # no reset: the run goes on
    assert window.workspace.last_snapshot.step > 0


def test_regularization_change_is_live(window, qtbot):
    train_until(qtbot, window, lambda s: s.step > 0)
    panel = window.plane.training_panel
    panel.reg_kind.setCurrentIndex(panel.reg_kind.findData("l2"))
    panel.reg_rate.setEditText("0.3")
    panel.reg_rate.lineEdit().editingFinished.emit()
    step = window.workspace.last_snapshot.step
    qtbot.waitUntil(lambda: window.workspace.last_snapshot.l2 == pytest.approx(0.3), timeout=5000)
    assert (
        window.workspace.last_snapshot.step > step and window.workspace.last_snapshot.l1 == 0
    )  # same run


def test_structural_change_resets_the_run(window, qtbot):
    train_until(qtbot, window, lambda s: s.epoch >= 2)
    with qtbot.waitSignal(window.runReset):
        window.plane.data_panel.noise.setValue(0.2)
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=5000)
    assert window.workspace.last_snapshot.step == 0
    assert window.controller.state != RUNNING


def test_a_change_in_the_other_modes_panels_leaves_the_run_on_screen(window, qtbot):
    train_until(qtbot, window, lambda s: s.epoch >= 1)
    resets = []
    window.runReset.connect(lambda: resets.append(1))
    window.images.training_panel.batch.setValue(window.images.training_panel.batch.value() + 1)
    window.images.network_panel.changed.emit()
    assert resets == [] and window.workspace is window.plane
    assert window.workspace.last_snapshot.epoch >= 1


def test_closing_during_training_stops_the_thread(make_window, qtbot, qtlog):
    window = make_window()
    train_until(qtbot, window, lambda s: s.step > 0)
    window.close()
    assert not window.controller.running
    assert not [r for r in qtlog.records if "QThread" in r.message]


def test_bad_csv_shows_the_error_and_changes_nothing(window, qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2,0\n3,oops,1\n4,5,1\n1,1,0\n")
    before = window.workspace.session().to_dict()
    dataset = window.plane.dataset
    window.plane.data_panel.csvRequested.emit(str(bad))
    assert len(shown) == 1 and "line 3" in shown[0]
    assert window.workspace.session().to_dict() == before and window.plane.dataset is dataset


def import_points(qtbot, window, path):
    """Write 60 points of two classes (by quadrant) to ``path`` and import them as Import CSV…
    does; wait for their run."""
    rng = np.random.default_rng(0)
    pts = rng.uniform(-5, 5, (60, 2))
    path.write_text("\n".join(f"{a:.3f},{b:.3f},{int(a * b > 0)}" for a, b in pts))
    with qtbot.waitSignal(window.runReset):
        window.plane.data_panel.csvRequested.emit(str(path))


def test_good_csv_is_imported(window, qtbot, tmp_path):
    import_points(qtbot, window, tmp_path / "points.csv")
    assert window.plane.dataset.name == "points" and len(window.plane.dataset.x_train) == 30
    assert not window.plane.data_panel.samples.isEnabled()


def test_click_adds_and_right_click_removes_a_point(window, qtbot):
    view = window.plane.output_view
    n = len(window.plane.dataset.x_train)
    vb = view.plot.getPlotItem().vb

    def click(x, y, button):
        scene_pos = vb.mapViewToScene(QPointF(x, y))
        widget_pos = view.plot.mapFromScene(scene_pos)
        qtbot.mouseClick(view.plot.viewport(), button, pos=widget_pos)

    window.plane.data_panel.test_ratio.setValue(0.0)  # every added point joins the training set
    view.add_class.setCurrentIndex(1)
    with qtbot.assertNotEmitted(window.runReset, wait=100):
        click(5.5, -5.5, Qt.MouseButton.LeftButton)
    assert (
        len(window.plane.dataset.x_train) == n * 2 + 1
    )  # all 500 points trained on, and the new one
    assert np.allclose(window.plane.dataset.x_train[-1], [5.5, -5.5], atol=0.1)
    assert window.plane.dataset.y_train[-1] == 1
    with qtbot.assertNotEmitted(window.runReset, wait=100):
        click(5.5, -5.5, Qt.MouseButton.RightButton)
    assert len(window.plane.dataset.x_train) == n * 2


def test_clicking_a_neuron_shows_its_map(window, qtbot):
    view = window.plane.network_view
    node = view._columns[1][0]
    with qtbot.waitSignal(view.neuronClicked) as blocker:
        pos = view.mapFromScene(node.sceneBoundingRect().center())
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [1, 0]
    assert "Neuron 1 of layer 1" in window.plane.output_view.title.text()
    with qtbot.waitSignal(view.neuronClicked) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [None, None] and window.plane.output_view.title.text() == "Output"


def test_divergence_pauses_with_a_banner(make_window, qtbot):
    window = make_window("plane")
    panel = window.plane.training_panel
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("sgd"))
    panel.lr.setEditText("90")
    panel.lr.lineEdit().editingFinished.emit()
    with qtbot.waitSignal(
        window.controller.stateChanged,
        timeout=20000,
        check_params_cb=lambda state, reason: state == "done",
    ):
        window.toolbar.play_action.trigger()
    assert window.banner.isVisible()
    assert "diverged" in window.banner.text() and "learning rate" in window.banner.text()


def test_exports_png_and_history_csv(window, qtbot, tmp_path):
    step_epoch(qtbot, window)
    out = tmp_path / "out.png"
    assert exported(qtbot, window.files, window.plane.output_view, "output", out) == ""
    assert (tmp_path / "out.png").stat().st_size > 1000
    export = lambda: window.files.export_history(str(tmp_path / "h.csv"))  # noqa: E731
    assert written(qtbot, window.files, export) == ""
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,step") and len(lines) == 2


def test_settings_persist_between_launches(make_window, qtbot, settings):
    window = make_window()
    with qtbot.waitSignal(window.runReset):
        window.plane.data_panel.noise.setValue(0.25)
    window.close()
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    assert again.workspace.session().data.noise == pytest.approx(0.25)
    again.close()


def test_reset_after_the_engine_died_starts_a_new_one(window, qtbot):
    old = window.controller._process
    with qtbot.waitSignal(window.controller.failed, timeout=10000):
        old.kill()
    assert "Reset" in window.banner.text()
    with qtbot.waitSignal(window.runReset, timeout=10000):
        window.toolbar.reset_action.trigger()
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=10000)
    assert window.controller.running and window.controller._process is not old
    train_until(qtbot, window, lambda s: s.epoch >= 1)

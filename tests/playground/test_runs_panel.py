"""The Runs panel: every run trained for an epoch is kept, named after what changed, overlaid
on the curves when ticked, restored with a double-click (a pinned run with its weights),
kept across a restart and in experiment files, exported as CSV; a damaged runs file leaves
an empty list and a message."""

import csv
from dataclasses import replace

import numpy as np
from PySide6.QtCore import Qt

from core.runs import MAX_RUNS
from core.runs_archive import load_runs
from playground.image_session import MODE as IMAGES
from playground.panels.runs_model import COLUMNS, NAME, PIN, SORT_ROLE, RunsModel
from playground.workspaces.plane import PLANE
from tests.playground.test_keep_work import choose_mode, tiny_images  # noqa: F401 (a fixture)

CHECKED = Qt.CheckState.Checked.value
COLUMN = {what: i for i, (_, what, _) in enumerate(COLUMNS)}


def step_epoch(qtbot, window):
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=20000, check_params_cb=lambda s, r: s == "paused"
    ):
        window.toolbar.step_action.trigger()


def new_run(qtbot, window, **training):
    """Reset with other training settings; wait for the new run's first snapshot."""
    ws = window.workspace
    session = ws.session()
    ws.apply_session(replace(session, training=replace(session.training, **training)))
    with qtbot.waitSignal(window.runReset, timeout=20000):
        window.toolbar.reset_action.trigger()
    qtbot.waitUntil(lambda: ws.last_snapshot is not None, timeout=20000)


def two_runs(qtbot, window):
    """An adam run of 2 epochs, then an sgd run of 1 epoch; returns the run list."""
    step_epoch(qtbot, window)
    step_epoch(qtbot, window)
    new_run(qtbot, window, optimizer="sgd", lr=0.1)
    step_epoch(qtbot, window)
    runs = window.workspace.runs
    runs.records()  # the live run brought up to its last snapshot
    return runs


def test_two_runs_with_different_optimizers_are_listed_and_overlaid(window, qtbot):
    runs = two_runs(qtbot, window)
    model = runs.model
    assert [r.epochs for r in model.records] == [2, 1]
    first, second = model.records
    assert first.name.startswith("adam lr 0.01") and second.name == "sgd lr 0.1"
    assert first.settings["training"]["optimizer"] == "adam"
    assert first.n_params == 354 and second.wall_time > 0
    for row in (0, 1):
        model.setData(model.index(row, NAME), CHECKED, Qt.ItemDataRole.CheckStateRole)
    curves = window.workspace.curves_view
    assert set(curves._overlay_items) == {first.id, second.id}
    loss, acc = curves._overlay_items[second.id]
    x, y = loss.getData()
    np.testing.assert_array_equal(x, [1.0])
    np.testing.assert_allclose(y, second.history[:, 6])  # the test loss
    assert model.colors[first.id] != model.colors[second.id]
    assert first.name in curves.legend.toolTip() and second.name in curves.legend.text()
    curves.x_axis.setCurrentIndex(curves.x_axis.findData("seconds"))
    np.testing.assert_allclose(loss.getData()[0], second.history[:, 2])  # seconds of training
    model.setData(model.index(0, NAME), 0, Qt.ItemDataRole.CheckStateRole)
    assert set(curves._overlay_items) == {second.id}
    panel = runs.panel
    panel.table.sortByColumn(COLUMN["epochs"], Qt.SortOrder.AscendingOrder)
    assert panel.proxy.index(0, NAME).data() == second.name  # 1 epoch before 2
    panel.table.sortByColumn(COLUMN["test_loss"], Qt.SortOrder.DescendingOrder)
    losses = [panel.proxy.index(i, COLUMN["test_loss"]).data(SORT_ROLE) for i in (0, 1)]
    assert losses == sorted(losses, reverse=True)
    panel.table.selectRow(panel.proxy.mapFromSource(model.index(1, 0)).row())
    panel.delete_selected()
    assert [r.id for r in model.records] == [first.id] and curves._overlay_items == {}


def test_double_click_restores_settings_and_a_pinned_runs_weights(window, qtbot):
    runs = two_runs(qtbot, window)
    model, panel = runs.model, runs.panel
    first, second = model.records
    with qtbot.waitSignal(window.runReset, timeout=20000):
        panel.table.doubleClicked.emit(panel.proxy.index(0, NAME))
    training = window.workspace.session().training
    assert (training.optimizer, training.lr) == ("adam", 0.01)
    assert window.controller.last_setup.initial_state is None  # not pinned: settings only
    model.setData(model.index(1, PIN), CHECKED, Qt.ItemDataRole.CheckStateRole)
    assert model.records[1].pinned and model.records[1].weights is not None
    with qtbot.waitSignal(window.runReset, timeout=20000):
        panel.table.doubleClicked.emit(panel.proxy.index(1, NAME))
    assert window.workspace.session().training.optimizer == "sgd"
    start = window.controller.last_setup.initial_state
    assert start is not None and set(start) == set(second.weights)
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=20000)
    for key, value in window.workspace.last_snapshot.weights.items():
        np.testing.assert_array_equal(value, model.records[1].weights[key])


def test_the_list_survives_a_restart(make_window, qtbot, runs_folder):
    window = make_window()
    step_epoch(qtbot, window)
    window.workspace.runs.records()
    kept = window.workspace.runs.model.records
    assert len(kept) == 1
    window.workspace.runs.model.rename(kept[0].id, "my first run")
    window.close()
    assert [r.name for r in load_runs(runs_folder / "plane.npz")[0]] == ["my first run"]
    again = make_window()
    (record,) = again.workspace.runs.model.records
    assert (record.id, record.name, record.epochs) == (kept[0].id, "my first run", 1)
    np.testing.assert_array_equal(record.history, kept[0].history)


def test_a_damaged_runs_file_leaves_an_empty_list_and_says_why(make_window, qtbot, runs_folder):
    runs_folder.mkdir()
    (runs_folder / "plane.npz").write_bytes(b"PK\x03\x04 damaged")
    window = make_window()
    runs = window.workspace.runs
    assert runs.model.records == []
    assert "could not be read" in runs.panel.note.text()
    assert (runs_folder / "plane.damaged.npz").exists()  # set aside, not lost
    qtbot.waitUntil(lambda: "could not be read" in window.statusBar().currentMessage())
    step_epoch(qtbot, window)  # the list works on
    assert len(runs.records()) == 1


def test_the_table_exports_as_csv_and_experiments_keep_the_runs(window, qtbot, tmp_path):
    runs = two_runs(qtbot, window)
    assert runs.panel.export_csv(str(tmp_path / "runs.csv"))
    rows = list(csv.DictReader((tmp_path / "runs.csv").open()))
    assert [r["name"] for r in rows] == [r.name for r in runs.model.records]
    assert [int(r["epochs"]) for r in rows] == [2, 1]
    path = str(tmp_path / "e.npz")
    with qtbot.waitSignal(window.files.experimentSaved, timeout=20000):
        window.files.save_experiment_as(path)
    saved = [r.id for r in runs.model.records]
    runs.model.remove(saved)
    with qtbot.waitSignal(window.runReset, timeout=20000):
        window.files.open(path)
    assert [r.id for r in runs.model.records] == saved  # the resumed run kept its record
    step_epoch(qtbot, window)
    runs.records()
    assert [r.epochs for r in runs.model.records] == [2, 2] and len(runs.model.records) == 2


def test_each_mode_keeps_its_runs_and_a_parked_run_goes_on_in_its_record(
    make_window,
    qtbot,
    tiny_images,  # noqa: F811 (the fixture)
):
    window = make_window("spiral")
    step_epoch(qtbot, window)
    choose_mode(qtbot, window, IMAGES)
    step_epoch(qtbot, window)
    (image_run,) = window.images.runs.records()
    assert image_run.mode == IMAGES and image_run.epochs == 1
    assert image_run.name.startswith("adam lr 0.001") and image_run.n_params == 79_510
    choose_mode(qtbot, window, PLANE)  # the parked plane run is set up again
    step_epoch(qtbot, window)
    (plane_run,) = window.plane.runs.records()
    assert plane_run.epochs == 2 and len(plane_run.history) == 2
    assert window.images.runs.path.name == "images.npz"


def test_the_list_keeps_at_most_its_cap_dropping_the_oldest_unpinned_run(qapp):
    from tests.core.test_runs import record

    model = RunsModel()
    model.add(record(0, pinned=True))
    for i in range(1, MAX_RUNS + 1):
        model.add(replace(record(1), id=f"r{i}"))
    ids = [r.id for r in model.records]
    assert len(ids) == MAX_RUNS and ids[:2] == ["run0", "r2"]  # r1 left, the pinned run stayed

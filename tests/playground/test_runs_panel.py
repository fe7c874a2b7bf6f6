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
COLUMN_OF_TEST_LOSS = 6  # in a record's history


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
    qtbot.waitUntil(lambda: again.workspace.runs.loaded)
    (record,) = again.workspace.runs.model.records
    assert (record.id, record.name, record.epochs) == (kept[0].id, "my first run", 1)
    np.testing.assert_array_equal(record.history, kept[0].history)


def test_a_damaged_runs_file_leaves_an_empty_list_and_says_why(make_window, qtbot, runs_folder):
    runs_folder.mkdir()
    (runs_folder / "plane.npz").write_bytes(b"PK\x03\x04 damaged")
    window = make_window()
    runs = window.workspace.runs
    qtbot.waitUntil(lambda: runs.loaded)
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


# -- the list's bounds, files and messages -----------------------------------------------------
def messages(workspace) -> list[str]:
    """The status-bar messages ``workspace`` sends from now on."""
    said: list[str] = []
    workspace.statusMessage.connect(lambda text, _ms: said.append(text))
    return said


def test_imported_pins_past_the_cap_drop_their_weights_and_the_file_reads_back(window, qtbot):
    from core.runs import MAX_PINNED
    from tests.core.test_runs import record

    runs = window.workspace.runs
    said = messages(window.workspace)
    runs.add_runs([replace(record(1, pinned=True), id=f"p{i}") for i in range(MAX_PINNED + 1)])
    assert all(r.pinned for r in runs.model.records)
    assert [r.weights is not None for r in runs.model.records] == [True] * MAX_PINNED + [False]
    assert said[-1] == (
        f"Added {MAX_PINNED + 1} runs to the Runs tab; 1 run pinned came without weights "
        f"(at most {MAX_PINNED} keep them)."
    )
    runs.save(wait=True)
    back, skipped = load_runs(runs.path)
    assert skipped == [] and len(back) == MAX_PINNED + 1  # the app reads what it wrote


def test_opening_runs_near_the_cap_says_how_many_left(window, qtbot):
    from tests.core.test_runs import record

    runs = window.workspace.runs
    runs.add_runs([replace(record(1), id="mine")])
    said = messages(window.workspace)
    runs.add_runs([replace(record(1), id=f"r{i}") for i in range(MAX_RUNS)])
    assert len(runs.model.records) == MAX_RUNS and runs.model.record("mine") is None
    assert said == [
        f"Added {MAX_RUNS} runs to the Runs tab; the 1 run oldest unpinned left "
        f"(at most {MAX_RUNS} are kept)."
    ]


def test_a_runs_file_with_a_bad_run_keeps_the_others_and_sets_the_file_aside(
    make_window, qtbot, runs_folder
):
    from core.runs_archive import save_runs
    from playground.runs_saver import set_aside
    from tests.core.archives import rewrite
    from tests.core.test_runs import record

    path = runs_folder / "plane.npz"
    save_runs(path, [record(1), record(2)])
    rewrite(path, lambda a, m: m["runs"][0]["settings"].update(lr=float("nan")))
    (runs_folder / "plane.damaged.npz").write_bytes(b"an earlier one")
    window = make_window()
    runs = window.workspace.runs
    qtbot.waitUntil(lambda: runs.loaded)
    assert [r.id for r in runs.model.records] == ["run2"]
    assert "run 1: run run1: settings hold a value that is not finite" in runs.panel.note.text()
    assert (runs_folder / "plane.damaged.npz").read_bytes() == b"an earlier one"  # kept
    assert (runs_folder / "plane.damaged-2.npz").exists()
    path.write_bytes(b"x")
    assert set_aside(path) == runs_folder / "plane.damaged-3.npz"


def test_a_pinned_run_for_another_network_restores_its_settings_only(window, qtbot):
    from core.model import Sequential
    from core.spec import mlp_spec
    from playground.run_list import EDITS_LEFT_OUT

    step_epoch(qtbot, window)
    runs = window.workspace.runs
    (live,) = runs.records()
    other = mlp_spec(2, [3], 2)
    settings = {**live.settings, "data": {**live.settings["data"], EDITS_LEFT_OUT: True}}
    pinned = replace(
        live,
        id="other",
        pinned=True,
        spec=other,
        weights=Sequential(other).get_state(),
        settings=settings,
    )
    runs.add_runs([pinned])
    said = messages(window.workspace)
    with qtbot.waitSignal(runs.restoreRequested) as restored:
        runs.restore("other")
    assert restored.args[1] == {}  # settings only
    assert "its weights are for another network" in said[-1]
    assert "its point edits were not kept" in said[-1]
    with qtbot.waitSignal(runs.restoreRequested) as restored:
        runs.restore(live.id)  # its own network: no word about weights
    assert "another network" not in said[-1]


def test_a_failed_save_of_the_runs_is_asked_about_when_quitting(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from tests.core.test_runs import record

    def fail(path, records):
        raise OSError("disk full")

    monkeypatch.setattr("playground.runs_saver.save_runs", fail)
    asked = []

    def question(parent, title, text, *args):
        asked.append(text)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", question)
    window.workspace.runs.add_runs([record(1)])
    assert not window.kept.confirm_quit()
    assert len(asked) == 1 and "could not be saved (disk full)" in asked[0]


def test_the_list_is_saved_from_a_thread_the_newest_list_winning(window, qtbot, monkeypatch):
    import threading

    from tests.core.test_runs import record

    written, started, release = [], threading.Event(), threading.Event()

    def slow_save(path, records):
        started.set()
        release.wait(10)
        written.append([r.id for r in records])

    monkeypatch.setattr("playground.runs_saver.save_runs", slow_save)
    runs = window.workspace.runs
    for i in range(3):
        runs.add_runs([replace(record(1), id=f"r{i}")])
        runs.save()  # returns at once: the first is written in the thread, the last waits
        assert started.wait(10)
    assert written == []
    release.set()
    runs.save(wait=True)
    # r0 was being written; [r0, r1] was replaced by the newest list before its turn
    assert written[:2] == [["r0"], ["r0", "r1", "r2"]] and written[2:] in ([], written[1:2])


# -- the table and the overlays ----------------------------------------------------------------
def test_the_runs_file_is_read_in_a_thread_and_merged_with_runs_kept_meanwhile(
    make_window, qtbot, runs_folder, monkeypatch
):
    import threading

    from core.runs_archive import load_runs as real_load
    from core.runs_archive import save_runs
    from tests.core.test_runs import record

    save_runs(runs_folder / "plane.npz", [record(1), record(2)])
    release, readers = threading.Event(), []

    def slow_load(path):
        readers.append(threading.current_thread())
        release.wait(10)
        return real_load(path)

    monkeypatch.setattr("playground.run_list.load_runs", slow_load)
    window = make_window()  # shown while the file is read
    runs = window.workspace.runs
    assert not runs.loaded and readers[0] is not threading.main_thread()
    runs.add_runs([record(3)])
    runs.save()  # not before the file is read: it would lose its runs
    release.set()
    qtbot.waitUntil(lambda: runs.loaded)
    assert [r.id for r in runs.model.records] == ["run1", "run2", "run3"]
    runs.save(wait=True)
    assert [r.id for r in real_load(runs_folder / "plane.npz")[0]] == ["run1", "run2", "run3"]


def test_pin_is_disabled_for_runs_without_weights(qapp):
    from playground.panels.runs_model import NO_WEIGHTS
    from tests.core.test_runs import record

    model = RunsModel()
    refused = []
    model.refused.connect(refused.append)
    model.add(record(1))
    model.add(replace(record(2, pinned=True), pinned=False))  # weights, not pinned yet
    assert not model.flags(model.index(0, PIN)) & Qt.ItemFlag.ItemIsEnabled
    assert model.index(0, PIN).data(Qt.ItemDataRole.ToolTipRole) == NO_WEIGHTS
    assert not model.setData(model.index(0, PIN), CHECKED, Qt.ItemDataRole.CheckStateRole)
    assert not model.records[0].pinned and "no longer kept" in refused[0]
    assert model.flags(model.index(1, PIN)) & Qt.ItemFlag.ItemIsEnabled
    assert model.setData(model.index(1, PIN), CHECKED, Qt.ItemDataRole.CheckStateRole)


def test_twenty_ticked_runs_get_twenty_thin_pens_and_names_stay_text(qapp):
    from playground.views.curves_view import CurvesView
    from tests.core.test_runs import record

    model, curves = RunsModel(), CurvesView()
    model.overlayChanged.connect(
        lambda: curves.set_overlays([(r.name, c, r) for r, c in model.ticked()])
    )
    for i in range(20):
        model.add(replace(record(1), id=f"r{i}", name=f"<b>run</b> {i} & co"))
        model.setData(model.index(i, NAME), CHECKED, Qt.ItemDataRole.CheckStateRole)
    pens = [loss.opts["pen"] for loss, _ in curves._overlay_items.values()]
    assert len({p.color().rgb() for p in pens}) == 20
    assert all(p.widthF() == 1 and p.isCosmetic() for p in pens)
    assert curves.train_loss.opts["pen"].widthF() == 2  # the live run stays bold
    assert "&lt;b&gt;run&lt;/b&gt; 0 &amp; co" in curves.legend.text()
    assert "<b>" not in curves.legend.toolTip()
    tip = model.index(0, NAME).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "&lt;b&gt;run&lt;/b&gt; 0 &amp; co"


def test_runs_without_a_value_sort_last_in_either_order(qapp):
    from playground.panels.runs_panel import RunsPanel
    from tests.core.test_runs import record

    model = RunsModel()
    for i, loss in enumerate((0.5, np.nan, 0.2)):
        run = replace(record(1), id=f"r{i}")
        run.history[-1, COLUMN_OF_TEST_LOSS] = loss
        model.add(run)
    panel = RunsPanel(model)
    for order, ids in (
        (Qt.SortOrder.AscendingOrder, ["r2", "r0", "r1"]),
        (Qt.SortOrder.DescendingOrder, ["r0", "r2", "r1"]),
    ):
        panel.table.sortByColumn(COLUMN["test_loss"], order)
        rows = [panel.proxy.mapToSource(panel.proxy.index(i, 0)).row() for i in range(3)]
        assert [model.records[r].id for r in rows] == ids


def test_deleting_a_pinned_run_with_weights_asks_first(qapp, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from playground.panels.runs_panel import RunsPanel
    from tests.core.test_runs import record

    model = RunsModel()
    model.add(record(1, pinned=True))
    model.add(record(2))
    panel = RunsPanel(model)
    panel.table.selectAll()
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *args: answers.pop(0))
    panel.delete_selected()
    assert len(model.records) == 2 and len(answers) == 1  # asked; cancelled
    panel.delete_selected()
    assert model.records == [] and answers == []

"""Run ▸ Sweep…: a 2×2 sweep gives what each run gives alone, Cancel ends every worker process,
bad values are refused in the app's words."""

import os
import threading
import time

import numpy as np
import pytest

from core.sweep.task import run_task
from playground import sweep_runner
from playground.panels import sweep_dialog
from playground.panels.sweep_dialog import SweepDialog
from playground.session import Session
from playground.sweep_plan import sweep_tasks


def tiny_session(epochs: int = 4) -> Session:
    session = Session()
    session.data.dataset = "xor"
    session.data.n_samples = 40
    session.network.hidden[1].units = 4
    session.training.epochs = epochs
    return session


@pytest.fixture
def dialog(qtbot):
    def make(session: Session, workers: int = 2) -> SweepDialog:
        d = SweepDialog(session, workers=workers)
        qtbot.addWidget(d)
        d.show()
        made.append(d)
        return d

    made: list[SweepDialog] = []
    yield make
    for d in made:  # no worker outlives its test
        if d.runner.running:
            with qtbot.waitSignal(d.runner.done, timeout=10_000):
                d.cancel()


def choose(d: SweepDialog, first: tuple[str, str], second: tuple[str, str] | None) -> None:
    for row, choice in ((d.first, first), (d.second, second)):
        row.key_box.setCurrentIndex(row.key_box.findData(None if choice is None else choice[0]))
        if choice is not None:
            row.values_edit.setText(choice[1])


def test_a_2x2_sweep_gives_the_results_of_each_run_alone(qtbot, dialog):
    session = tiny_session()
    d = dialog(session)
    choose(d, ("lr", "0.01, 0.1"), ("optimizer", "sgd, adam"))
    assert d.preview.text() == "4 runs, 2 at a time"
    results, sessions = [], {}
    d.runFinished.connect(lambda r, s: (results.append(r), sessions.update({r.index: s})))

    with qtbot.waitSignal(d.runner.done, timeout=60_000) as done:
        assert d.start()
    assert done.args == [False]

    tasks = sweep_tasks(session, d.sweeps(), epochs=4)
    assert sorted(r.index for r in results) == [0, 1, 2, 3]
    for result in results:  # the session each run trained comes with it
        assert sessions[result.index].training == tasks[result.index].config
    for result in results:
        alone = run_task(tasks[result.index])
        assert (result.name, result.settings) == (alone.name, alone.settings)
        assert (result.epochs, result.steps, result.reason) == (4, alone.steps, "epochs")
        for column, values in alone.history.items():
            if column == "time":  # wall-clock seconds
                continue
            np.testing.assert_allclose(
                result.history[column], values, rtol=1e-5, atol=1e-7, err_msg=column
            )
        np.testing.assert_allclose(result.test_loss, alone.test_loss, rtol=1e-5)
        assert result.test_acc == alone.test_acc
        row = result.index
        assert d.table.item(row, 0).text() == alone.name
        assert d.table.item(row, 2).text() == f"{alone.test_acc:.1%}"
        assert d.bar(row).value() == d.bar(row).maximum()
    assert [d.table.item(row, 0).text() for row in range(4)] == [t.name for t in tasks]
    assert d.preview.text() == "Done: 4 runs."
    assert len(d.runner.pids) == 2 and d.runner.live_workers() == []


def test_cancel_ends_every_worker_process_at_once(qtbot, dialog):
    d = dialog(tiny_session(epochs=100_000))
    choose(d, ("seed", "0, 1"), ("lr", "0.01, 0.03"))
    running: set[int] = set()
    d.runner.progress.connect(lambda index, _: running.add(index))
    d.start()
    qtbot.waitUntil(lambda: len(running) == 2, timeout=30_000)  # both workers training
    pids = d.runner.live_workers()
    assert len(pids) == 2 and pids == d.runner.pids

    start = time.monotonic()
    with qtbot.waitSignal(d.runner.done, timeout=10_000) as done:
        d.cancel_button.click()
    assert done.args == [True]
    assert d.runner.live_workers() == []
    assert all(not os.path.exists(f"/proc/{pid}") for pid in pids)
    assert time.monotonic() - start < 5.0  # takes milliseconds
    assert d.preview.text() == "Cancelled: 0 of 4 runs finished."
    assert {d.bar(row).text() for row in range(4)} == {"cancelled"}
    assert d.start_button.isEnabled() and not d.cancel_button.isEnabled()


def test_bad_values_are_refused_naming_the_setting(qtbot, dialog):
    d = dialog(tiny_session())
    choose(d, ("lr", "0.01, fast"), None)
    assert d.preview.text().startswith("Learning rate: 'fast' is not a number; allowed:")
    assert not d.start_button.isEnabled()
    assert not d.start() and not d.runner.running
    choose(d, ("batch_size", "16, 0"), ("lr", "0.01"))
    assert d.preview.text() == (
        "Batch size: 0 is out of range; allowed: a whole number in [1, 1e+09]"
    )
    choose(d, ("lr", "0.01, 0.1"), ("lr", "0.3"))
    assert d.preview.text() == "Learning rate: chosen twice; allowed: two different settings"
    choose(d, ("lr", "0.01, 0.1"), None)
    assert d.preview.text() == "2 runs, 2 at a time" and d.start_button.isEnabled()


def test_a_run_that_cannot_train_is_refused_before_any_worker_starts(qtbot, dialog):
    session = tiny_session()
    session.network.hidden[0].batchnorm = True
    d = dialog(session)
    choose(d, ("batch_size", "16, 1"), None)
    with qtbot.waitSignal(d.runner.failed, timeout=10_000) as failed:
        d.start()
    assert "batch norm" in failed.args[0] and "(in the run batch 1)" in failed.args[0]
    assert d.preview.text().startswith("Can't start the sweep: batch norm")
    assert d.runner.pids == [] and d.table.rowCount() == 0


def test_the_run_menu_opens_the_sweep_of_the_session_on_screen(make_window):
    window = make_window("xor")
    window.sweep_action.trigger()
    assert window.sweep_dialog.isVisible()
    assert window.sweep_dialog.session == window.workspace.session()
    assert window.sweep_action in window.menuBar().actions()[2].menu().actions()


def test_tasks_and_workers_are_made_off_the_gui_thread(qtbot, dialog, monkeypatch):
    made_on = []
    real_tasks, real_pool = sweep_dialog.sweep_tasks, sweep_runner.LocalPool

    def tasks(*args, **kwargs):
        made_on.append(("tasks", threading.current_thread()))
        return real_tasks(*args, **kwargs)

    def pool(*args, **kwargs):
        made_on.append(("pool", threading.current_thread()))
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(sweep_dialog, "sweep_tasks", tasks)
    monkeypatch.setattr(sweep_runner, "LocalPool", pool)
    d = dialog(tiny_session(epochs=1), workers=1)
    choose(d, ("seed", "0"), None)
    with qtbot.waitSignal(d.runner.done, timeout=60_000):
        d.start()
    assert [what for what, _ in made_on] == ["tasks", "pool"]
    assert all(thread is not threading.main_thread() for _, thread in made_on)


def test_closing_the_dialog_cancels_the_sweep(qtbot, dialog):
    d = dialog(tiny_session(epochs=100_000), workers=1)
    choose(d, ("seed", "0, 1"), None)
    with qtbot.waitSignal(d.runner.progress, timeout=30_000):
        d.start()
    with qtbot.waitSignal(d.runner.done, timeout=10_000) as done:
        d.close()
    assert done.args == [True] and d.runner.live_workers() == []


def test_a_2x2_sweep_fills_four_rows_of_the_runs_tab(make_window, qtbot):
    window = make_window("xor")
    runs = window.plane.runs.model
    before = len(runs.records)
    d = window.sweep_dialog
    window.sweep_action.trigger()
    d.runner.workers = 2
    choose(d, ("lr", "0.01, 0.1"), ("optimizer", "sgd, adam"))
    d.epochs_box.setValue(2)
    with qtbot.waitSignal(d.runner.done, timeout=60_000):
        assert d.start()
    added = runs.records[before:]
    assert sorted(r.name for r in added) == sorted(
        ["sgd lr 0.01", "adam lr 0.01", "sgd lr 0.1", "adam lr 0.1"]
    )
    for record in added:
        assert record.epochs == 2 and len(record.history) == 2 and record.mode == "plane"
        assert record.settings["training"]["epochs"] == 2
    d.close()

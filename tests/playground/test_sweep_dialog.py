"""Run ▸ Sweep…: a 2×2 sweep gives what each run gives alone, Cancel ends every worker process,
bad values are refused in the app's words."""

import os
import threading
import time

import numpy as np
import pytest

from core import memory
from core.runs_archive import load_runs
from core.sweep.task import RunProgress, failed_result, run_task
from playground import sweep_runner
from playground.panels import sweep_dialog
from playground.panels.sweep_dialog import SweepDialog
from playground.session import Session
from playground.sweep_plan import sweep_tasks
from playground.worker import PAUSED, RUNNING


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


class ScriptedPool:
    """Stands for the runner's LocalPool without processes: trains the tasks here, in the
    runner's thread, one after another. ``fail``: run index -> the reason it could not run;
    ``hold``: runs that report epoch 2 then wait for Cancel; ``error``: raised after the first
    result (a pool that breaks midway)."""

    def __init__(self, workers, fail=None, hold=(), error=None):
        self.size, self.processes, self.cancelled = workers, [], False
        self.fail, self.hold, self.error = fail or {}, set(hold), error
        self._stop = threading.Event()

    def run(self, tasks, on_progress=None):
        for task in tasks:
            if self.cancelled:
                return
            if task.index in self.fail:
                yield failed_result(task, self.fail[task.index])
            elif task.index in self.hold:
                on_progress(RunProgress(task.index, 2, 100, 0.5, 0.6, 0.75, 0.1, 10, 0.8))
                self._stop.wait(30)
                return
            else:
                yield run_task(task, on_progress)
            if self.error is not None:
                raise self.error

    def cancel(self):
        self.cancelled = True
        self._stop.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def scripted(monkeypatch, **script):
    """The runner's pools are ScriptedPools; the list of those made (to look at)."""
    made = []

    def make(workers):
        made.append(ScriptedPool(workers, **script))
        return made[-1]

    monkeypatch.setattr(sweep_runner, "LocalPool", make)
    return made


def sweep_in(window, values: str, epochs: int = 2):
    d = window.sweep_dialog
    window.sweep_action.trigger()
    choose(d, ("lr", values), None)
    d.epochs_box.setValue(epochs)
    return d


def test_a_failed_run_stays_out_of_the_runs_tab_and_its_row_says_why(
    make_window, qtbot, monkeypatch
):
    scripted(monkeypatch, fail={1: "the data are gone"})
    window = make_window("xor")
    model = window.plane.runs.model
    before = len(model.records)
    d = sweep_in(window, "0.01, 0.1")
    with qtbot.waitSignal(d.runner.done, timeout=30_000):
        d.start()
    assert [r.name for r in model.records[before:]] == ["lr 0.01"]
    assert d.bar(1).text() == "failed: the data are gone"
    assert d.bar(0).text().startswith("2 epochs")
    assert d.preview.text() == "Done: 2 runs."


def test_the_runs_fill_the_runs_tab_live(make_window, qtbot, monkeypatch):
    scripted(monkeypatch, hold={1})
    window = make_window("xor")
    model = window.plane.runs.model
    before = len(model.records)
    d = sweep_in(window, "0.01, 0.1, 0.3")
    d.start()
    rows = model.records[before:]  # at once, before any run trained
    assert [(r.name, r.epochs) for r in rows] == [
        ("lr 0.01 (waiting)", 0),
        ("lr 0.1 (waiting)", 0),
        ("lr 0.3 (waiting)", 0),
    ]
    ids = [r.id for r in rows]
    qtbot.waitUntil(lambda: model.record(ids[1]).epochs == 2, timeout=30_000)
    first, second, third = (model.record(i) for i in ids)
    assert (first.name, first.epochs, len(first.history)) == ("lr 0.01", 2, 2)  # finished
    assert first.weights is not None
    assert (second.name, second.steps) == ("lr 0.1", 10)  # its progress
    assert second.last("test_acc") == 0.75 and second.last("train_loss") == 0.5
    assert third.name == "lr 0.3 (waiting)"
    with qtbot.waitSignal(d.runner.done, timeout=10_000) as done:
        d.cancel()
    assert done.args == [True]
    # the run that trained two epochs stays with them; the one that never started leaves
    assert [r.id for r in model.records[before:]] == ids[:2]
    assert model.record(ids[1]).epochs == 2


def test_a_pinned_sweep_run_restores_with_its_weights(make_window, qtbot, monkeypatch):
    scripted(monkeypatch)
    window = make_window("xor")
    runs = window.plane.runs
    d = sweep_in(window, "0.1")
    with qtbot.waitSignal(d.runner.done, timeout=30_000):
        d.start()
    record = runs.model.records[-1]
    assert record.name == "lr 0.1" and record.weights is not None
    assert runs.model.set_pinned(record.id, True)
    with qtbot.waitSignal(window.runReset, timeout=20_000):
        runs.restore(record.id)
    assert window.workspace.session().training.lr == 0.1
    start = window.controller.last_setup.initial_state
    assert start is not None and set(start) == set(record.weights)
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=20_000)
    for key, value in window.workspace.last_snapshot.weights.items():
        np.testing.assert_array_equal(value, record.weights[key], err_msg=key)


def test_cancel_while_the_tasks_are_built_starts_no_worker(qtbot, dialog, monkeypatch):
    building, go_on = threading.Event(), threading.Event()
    real_tasks = sweep_dialog.sweep_tasks

    def slow_tasks(*args, **kwargs):
        building.set()
        go_on.wait(10)
        return real_tasks(*args, **kwargs)

    monkeypatch.setattr(sweep_dialog, "sweep_tasks", slow_tasks)
    pools = scripted(monkeypatch)
    d = dialog(tiny_session())
    choose(d, ("seed", "0, 1"), None)
    d.start()
    assert building.wait(10)
    with qtbot.waitSignal(d.runner.done, timeout=10_000) as done:
        d.cancel_button.click()
        go_on.set()
    assert done.args == [True] and pools == []
    assert d.preview.text() == "Cancelled: 0 of 2 runs finished."


class FakeController:
    """The window's controller as the dialog sees it: its run's state, pause and start."""

    def __init__(self):
        self.state, self.last_setup, self.calls = RUNNING, object(), []

    def pause(self):
        self.calls.append("pause")
        self.state = PAUSED

    def start(self):
        self.calls.append("start")
        self.state = RUNNING


def test_while_the_windows_run_trains_the_sweep_uses_one_worker_fewer(qtbot, monkeypatch):
    pools = scripted(monkeypatch)
    controller = FakeController()
    d = SweepDialog(tiny_session(epochs=1), workers=2, controller=controller)
    qtbot.addWidget(d)
    choose(d, ("seed", "0, 1"), None)
    assert d.preview.text() == "2 runs, 1 at a time (one fewer: the window's run is training)"
    with qtbot.waitSignal(d.runner.done, timeout=30_000):
        d.start()
    assert controller.calls == []  # it trains on beside the sweep
    controller.state = PAUSED
    d.show_session()  # Run ▸ Sweep… again
    assert d.preview.text() == "2 runs, 2 at a time"
    with qtbot.waitSignal(d.runner.done, timeout=30_000):
        d.start()
    assert [pool.size for pool in pools] == [1, 2]


def test_with_one_worker_the_windows_run_pauses_while_the_sweep_trains(qtbot, monkeypatch):
    scripted(monkeypatch, hold={0})
    controller = FakeController()
    d = SweepDialog(tiny_session(epochs=1), workers=1, controller=controller)
    qtbot.addWidget(d)
    choose(d, ("seed", "0, 1"), None)
    assert d.preview.text() == "2 runs, 1 at a time (the window's run pauses while they train)"
    d.start()
    assert controller.calls == ["pause"]
    with qtbot.waitSignal(d.runner.done, timeout=10_000):
        d.cancel()
    assert controller.calls == ["pause", "start"]  # it goes on when the sweep ends
    d.start()
    controller.last_setup = object()  # the window's run was replaced meanwhile: it stays
    with qtbot.waitSignal(d.runner.done, timeout=10_000):
        d.cancel()
    assert controller.calls == ["pause", "start", "pause"]


def test_the_windows_run_is_paused_for_a_one_worker_sweep(make_window, qtbot, monkeypatch):
    scripted(monkeypatch, hold={0})
    window = make_window("xor")
    d = sweep_in(window, "0.01, 0.1")
    d.runner.workers = 2
    assert d.workers() == 2
    window.toggle_play()
    qtbot.waitUntil(lambda: window.controller.state == RUNNING, timeout=10_000)
    assert d.workers() == 1
    d.runner.workers = 1
    d.start()
    qtbot.waitUntil(lambda: window.controller.state == PAUSED, timeout=10_000)
    with qtbot.waitSignal(d.runner.done, timeout=10_000):
        d.cancel()
    qtbot.waitUntil(lambda: window.controller.state == RUNNING, timeout=10_000)
    window.toggle_play()


def test_too_little_memory_for_the_runs_side_by_side_is_said_in_the_apps_words(
    qtbot, dialog, monkeypatch
):
    monkeypatch.setattr(memory, "available_memory", lambda: 1000)
    pools = scripted(monkeypatch)
    d = dialog(tiny_session())
    choose(d, ("seed", "0, 1"), None)
    with qtbot.waitSignal(d.runner.failed, timeout=10_000):
        d.start()
    text = d.preview.text()
    assert text.startswith("Can't start the sweep: Memory: 2 runs at a time need about ")
    assert text.endswith(
        "is available; allowed: smaller hidden layers, a smaller batch size or fewer "
        "training images"
    )
    assert "--" not in text and pools == []


def test_start_sweeps_the_session_on_screen_now(qtbot, dialog, monkeypatch):
    scripted(monkeypatch)
    on_screen = [tiny_session()]
    d = dialog(lambda: on_screen[0])
    assert "(xor, hidden 8-4 tanh, adam lr 0.01, batch 32)" in d.intro.text()
    changed = tiny_session()
    changed.data.dataset, changed.training.optimizer = "circle", "sgd"
    on_screen[0] = changed
    choose(d, ("seed", "0"), None)
    d.epochs_box.setValue(1)
    sessions = []
    d.runFinished.connect(lambda _, session: sessions.append(session))
    with qtbot.waitSignal(d.runner.done, timeout=30_000):
        d.start()
    assert d.intro.text() == (
        "Train the plane session on screen (circle, hidden 8-4 tanh, sgd lr 0.01, batch 32) "
        "once per combination of these values, several runs at a time."
    )
    assert (sessions[0].data.dataset, sessions[0].training.optimizer) == ("circle", "sgd")
    assert sessions[0].training.epochs == 1  # the epochs chosen stay


def test_a_sweep_that_breaks_midway_says_so_and_keeps_its_finished_rows(qtbot, dialog, monkeypatch):
    scripted(monkeypatch, error=MemoryError())
    d = dialog(tiny_session(epochs=1))
    choose(d, ("seed", "0, 1"), None)
    with qtbot.waitSignal(d.runner.failed, timeout=30_000) as failed:
        d.start()
    assert failed.args == ["out of memory"] and not d.runner.running
    assert d.preview.text() == "Stopped after 1 of 2 runs: out of memory"
    assert d.table.rowCount() == 2 and d.table.item(0, 2).text().endswith("%")
    assert d.bar(1).text() == "stopped" and d.start_button.isEnabled()


def test_closing_the_window_mid_sweep_keeps_what_its_runs_trained(make_window, qtbot, monkeypatch):
    scripted(monkeypatch, hold={0})
    window = make_window("xor")
    runs = window.plane.runs
    saved = []
    monkeypatch.setattr(runs, "save", lambda wait=False: saved.append(runs.to_save()))
    before = len(runs.model.records)
    d = sweep_in(window, "0.01, 0.1")
    d.start()
    qtbot.waitUntil(lambda: d.bar(0).value() == 2, timeout=30_000)  # run 0 at epoch 2
    window.close()
    assert [(r.name, r.epochs) for r in saved[-1][before:]] == [("lr 0.01", 2)]


def test_a_finished_sweep_run_is_saved_in_place_of_its_row(make_window, qtbot):
    window = make_window("xor")
    runs = window.plane.runs
    session = tiny_session(epochs=2)
    qtbot.waitUntil(lambda: runs.loaded, timeout=5000)  # the list is read in a thread
    [row] = runs.add_sweep_rows([("lr 0.1", session)])
    runs.save(wait=True)  # the waiting row, on disk
    task = sweep_tasks(session, [("lr", (0.1,))], epochs=2)[0]
    runs.add_sweep_run(run_task(task), session, row)

    def saved():
        return [(r.id, r.name, r.epochs) for r in load_runs(runs.path)[0]][-1:]

    qtbot.waitUntil(lambda: saved() == [(row, "lr 0.1", 2)], timeout=5000)

"""Jobs off the GUI thread (playground.background) and the status bar's busy indicator: outcomes
arrive as signals on the GUI thread, Cancel stops the core's readers, a cancelled job never
delivers a result, and garbage collection waits for the GUI thread."""

import gc
import threading

import pytest
from PySide6.QtCore import QObject

from core.cancel import check
from playground.background import Job, stop_jobs
from playground.busy_indicator import BusyIndicator


@pytest.fixture
def owner(qapp):
    owner = QObject()
    yield owner
    stop_jobs(owner)


def outcome(qtbot, job):
    """Start ``job``; (signal name, its value, the thread it arrived on) once it has ended."""
    got = []
    for name in ("succeeded", "failed", "cancelled"):
        getattr(job, name).connect(lambda *v, n=name: got.append((n, *v, threading.get_ident())))
    with qtbot.waitSignal(job.ended, timeout=5000):
        job.start()
    assert len(got) == 1 and not job.running
    return got[0]


def test_the_result_and_the_error_arrive_on_the_gui_thread(qtbot, owner):
    worker = []
    job = Job("Adding", lambda: worker.append(threading.get_ident()) or 42, owner)
    assert outcome(qtbot, job) == ("succeeded", 42, threading.get_ident())
    assert worker and worker[0] != threading.get_ident()  # the work ran on another thread
    error = ValueError("bad file")
    name, value, _ = outcome(qtbot, Job("Failing", lambda: (_ for _ in ()).throw(error), owner))
    assert name == "failed" and value is error


def test_a_generator_reports_progress_then_its_result(qtbot, owner):
    def steps():
        yield "reading"
        yield "checking"
        return "done"

    job = Job("Steps", steps, owner)
    said = []
    job.progress.connect(said.append)
    assert outcome(qtbot, job)[:2] == ("succeeded", "done")
    assert said == ["reading", "checking"]


def test_cancel_stops_a_core_reader_and_nothing_is_delivered(qtbot, owner):
    gate, entered = threading.Event(), threading.Event()

    def read():  # a reader: checks for a Cancel between pieces
        entered.set()
        while not gate.wait(0.01):
            check()
        return "read"

    job = Job("Reading", read, owner)
    got = []
    job.succeeded.connect(got.append)
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.start()
        assert entered.wait(5)
        job.cancel()
    assert got == [] and not job.running


def test_a_cancel_after_the_work_finished_still_delivers_no_result(qtbot, owner):
    job = Job("Quick", lambda: "result", owner)
    got = []
    job.succeeded.connect(got.append)
    job.start()
    assert job.wait(5)  # finished; its result waits in the event queue
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.cancel()
    assert got == []


def test_garbage_is_collected_only_on_the_gui_thread_while_jobs_run(qtbot, owner):
    assert gc.isenabled()
    gate = threading.Event()
    job = Job("Waiting", lambda: gate.wait(5), owner)
    job.start()
    assert not gc.isenabled()  # a collection in the worker thread could delete Qt objects
    with qtbot.waitSignal(job.ended, timeout=5000):
        gate.set()
    assert gc.isenabled()


def test_stop_jobs_cancels_and_waits_for_an_owners_jobs(qtbot, owner):
    job = Job("Forever", _spin, owner)
    job.start()
    assert stop_jobs(owner, timeout=5)
    assert not job.running and job.wait(0) and gc.isenabled()
    with qtbot.assertNotEmitted(job.ended, wait=100):  # its queued outcome is dropped
        pass


def _spin():
    while True:
        check()
        threading.Event().wait(0.005)


def test_the_busy_indicator_shows_a_long_job_and_cancels_it(qtbot, owner):
    indicator = BusyIndicator()
    qtbot.addWidget(indicator)
    job = Job("Loading MNIST", _spin, owner)
    indicator.watch(job.start())
    assert indicator.isHidden()  # not at once: a quick job never flashes it
    qtbot.waitUntil(lambda: not indicator.isHidden(), timeout=2000)
    assert indicator.label.text() == "Loading MNIST…" and indicator.job is job
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        indicator.cancel_button.click()
    assert indicator.isHidden() and indicator.job is None

"""Snapshots cross the pipe with only the history rows the window has not acknowledged, so their
size does not grow with the run; the window puts the whole history back together, equal to the
engine's, whatever the acks did (late, none, rows missing), across resets and resumed runs."""

import dataclasses
from multiprocessing.reduction import ForkingPickler

import numpy as np
from test_engine_process import Pipe, numbered, step, stepped, tiny_run

from core.training.history import History
from playground.engine import Engine
from playground.history_rows import HistoryRows, rows_from


class Window:
    """The window's end of the pipe, as the worker has it (without Qt): every snapshot made
    whole, the newest of each read shown and acknowledged with the rows held."""

    def __init__(self, engine: Engine, pipe: Pipe) -> None:
        self.engine, self.pipe, self.read = engine, pipe, 0
        self.history = HistoryRows()
        self.shown = []

    def read_all(self, ack: bool = True) -> None:
        """Read what was sent so far and show the newest snapshot, acknowledging it if
        ``ack``."""
        assert self.engine.outbox.drain()
        latest = None
        for message in self.pipe.sent[self.read :]:
            if message[0] != "snapshot":
                continue
            run_id, snap, start = message[1:]
            whole = self.history.whole(run_id, snap, start)
            if whole is None:
                self.engine.ack(run_id, self.history.rows(run_id))
            else:
                latest = (run_id, whole)
        self.read = len(self.pipe.sent)
        if latest is not None:
            self.shown.append(latest[1])
            if ack:
                self.engine.ack(latest[0], self.history.rows(latest[0]))

    def history_is_the_engines(self) -> None:
        self.read_all()  # the snapshot sent on the last ack
        shown = self.shown[-1].history
        for name, column in self.engine.trainer.history.view().items():
            np.testing.assert_array_equal(shown[name], column, err_msg=name)


def train(engine: Engine, window: Window, pieces: int, **read) -> None:
    """Train ``pieces`` snapshots' worth, the window reading after each."""
    for _ in range(pieces):
        engine.advance()
        window.read_all(**read)


def running() -> tuple[Pipe, Engine]:
    """An engine training a tiny run without an epoch limit."""
    pipe, engine = Pipe(), Engine(Pipe())
    engine = Engine(pipe)
    run = tiny_run()
    engine.setup(dataclasses.replace(run, config=dataclasses.replace(run.config, epochs=0)))
    engine.handle(("start",))
    return pipe, engine


def resumed_at(epochs: int) -> tuple[Engine, Pipe, Window]:
    """An engine whose run was resumed from a state ``epochs`` epochs long (a made-up
    history on a run trained one epoch: cheap however long), its first snapshot read."""
    pipe, engine = stepped()
    kept = engine.kept({})
    per_epoch = engine.trainer.steps_per_epoch
    rows = np.tile(kept.state["history"], (epochs, 1))
    rows[:, 0] = np.arange(1, epochs + 1)
    rows[:, 1] = rows[:, 0] * per_epoch
    before = (epochs - 1) * per_epoch  # the last epoch is the one really trained
    state = {
        **kept.state,
        "history": rows,
        "epoch": epochs,
        "steps": epochs * per_epoch,
        "data_start": [epochs - 1, before],
        "optimizer_start": before,
    }
    run = tiny_run()
    config = dataclasses.replace(run.config, epochs=0)  # no limit: it trains on
    resume = dataclasses.replace(kept, state=state)
    engine.setup(dataclasses.replace(run, run_id=2, config=config, resume=resume))
    window = Window(engine, pipe)
    assert engine.outbox.drain()
    window.read = next(i for i, m in enumerate(pipe.sent) if m[1] == 2)  # the resumed run's
    window.read_all()
    return engine, pipe, window


def test_snapshot_bytes_stay_the_same_from_1000_to_40000_epochs():
    sizes = {}
    for epochs in (1000, 40_000):
        engine, pipe, window = resumed_at(epochs)
        first = [m for m in pipe.sent if m[0] == "snapshot" and m[1] == 2][0]
        assert first[3] == 0 and len(first[2].history["epoch"]) == epochs  # whole, once
        window.history_is_the_engines()
        sent = len(pipe.sent)
        for _ in range(5):  # an epoch each: a new row in each snapshot
            step(engine)
            window.read_all()
        snapshots = [m for m in pipe.sent[sent:] if m[0] == "snapshot"]
        assert [m[3] for m in snapshots] == list(range(epochs, epochs + 5))
        sizes[epochs] = [len(ForkingPickler.dumps(m)) for m in snapshots]
        window.history_is_the_engines()
    small, large = np.median(sizes[1000]), np.median(sizes[40_000])
    np.testing.assert_allclose(large, small, rtol=0.02)
    # Sent whole, the history alone would be 2.5 MB at 40,000 epochs.
    assert large < 20_000


def test_the_history_is_whole_when_acks_come_late_or_snapshots_are_coalesced():
    pipe, engine = running()
    window = Window(engine, pipe)
    train(engine, window, 3)
    train(engine, window, 6, ack=False)  # a busy window: the newest waits, replacing others
    engine.handle(("pause",))  # releases the waiting snapshot without an ack
    window.read_all()
    assert engine.trainer.epoch > 1
    window.history_is_the_engines()
    engine.handle(("start",))
    for i in range(4):  # several snapshots read at once, only the newest shown
        engine.advance()
        if i % 2:
            engine.handle(("pause",))
            engine.handle(("start",))
    window.read_all()
    window.history_is_the_engines()


def test_rows_the_window_lacks_are_sent_again():
    pipe, engine = running()
    window = Window(engine, pipe)
    train(engine, window, 3)
    window.history = HistoryRows()  # its copy is gone: the next rows do not join on
    train(engine, window, 1)
    assert len(window.shown) == 3  # that snapshot could not be shown...
    train(engine, window, 2)
    assert window.shown[-1].epoch > window.shown[2].epoch  # ...the history came again
    window.history_is_the_engines()


def test_a_new_run_starts_with_its_own_history():
    pipe, engine = stepped()
    window = Window(engine, pipe)
    window.read_all()
    assert len(window.shown[-1].history["epoch"]) == 1
    engine.setup(dataclasses.replace(tiny_run(), run_id=3))  # Reset
    window.read_all()
    assert window.shown[-1].epoch == 0 and len(window.shown[-1].history["epoch"]) == 0
    step(engine)
    window.read_all()
    window.history_is_the_engines()


def test_earlier_snapshots_keep_their_history():
    history = History()
    history.extend(np.ones((3, len(History.COLUMNS))))
    snap = dataclasses.replace(numbered(0), history=history.view())
    rows = HistoryRows()
    first = rows.whole(1, snap, 0)
    history.extend(2 * np.ones((100, len(History.COLUMNS))))
    later = rows.whole(1, rows_from(dataclasses.replace(snap, history=history.view()), 2), 2)
    assert len(first.history["epoch"]) == 3 and np.all(first.history["epoch"] == 1)
    assert len(later.history["epoch"]) == 103 and later.history["epoch"][-1] == 2
    assert rows.whole(1, rows_from(snap, 3), 200) is None  # rows 103-199 never came
    assert rows.whole(2, rows_from(snap, 3), 3) is None  # another run's rows

"""The engine's "keep" command: the current run's state sent back as an in-memory experiment,
from which a run continues exactly; data set problems are said in the app's words."""

import dataclasses

import numpy as np
from test_engine_process import Pipe, small_setup, step, stepped, tiny_run

from playground.engine import KEPT_RUN_LOST, Engine


def kept_reply(engine, pipe, token, data=None):
    engine.handle(("keep", token, data or {}))
    assert engine.outbox.drain()
    (reply,) = [m for m in pipe.sent if m[0] == "kept" and m[2] == token]
    return reply


def test_keep_sends_the_state_a_run_continues_from_exactly():
    pipe, engine = stepped()
    engine.control.set_lr(0.05)  # as the command reader does for ("lr", 0.05)
    reply = kept_reply(engine, pipe, 7)
    assert reply[1] == 1  # the run it belongs to
    kept = reply[3]
    assert kept.epoch == 1 and kept.steps == engine.trainer.steps
    assert kept.state["base_lr"] == 0.05  # a rate changed while paused belongs to the run
    step(engine)
    uninterrupted = engine.trainer.history.column("train_loss").copy()
    weights = engine.trainer.model.get_state()

    engine.setup(dataclasses.replace(tiny_run(), run_id=2, resume=kept))
    assert engine.trainer.epoch == 1 and engine.trainer.test_pred is not None
    step(engine)
    np.testing.assert_array_equal(engine.trainer.history.column("train_loss"), uninterrupted)
    for name, value in engine.trainer.model.get_state().items():
        np.testing.assert_array_equal(value, weights[name])


def test_keep_without_a_run_answers_none():
    pipe = Pipe()
    engine = Engine(pipe)
    assert kept_reply(engine, pipe, 1)[3] is None


def test_a_kept_run_keeps_the_edits_waiting_for_their_epoch_apart_and_continues_exactly():
    run, (x, y) = small_setup(epochs=0)
    pipe = Pipe()
    engine = Engine(pipe)
    engine.setup(run)
    edit = ["add", 0, 0, 1, "train"]
    engine.trainer.step()  # mid-epoch: the edit waits for the epoch to end
    engine.handle(("edit_points", x[:31], y[:31], x[30:40], y[30:40], 1, 0))
    kept = kept_reply(engine, pipe, 3, {"data": {"edits": [edit], "seed": 3}})[3]
    assert kept.data == {"data": {"edits": [], "queued_edits": [edit], "seed": 3}}
    for _ in range(7):
        engine.trainer.step()  # the edit joins at the boundary
    assert len(engine.trainer.x_train) == 31

    # Set up again on the data its state was trained with, the waiting edit queued again.
    resumed = Engine(Pipe())
    resumed.setup(dataclasses.replace(run, run_id=2, resume=kept))
    resumed.handle(("edit_points", x[:31], y[:31], x[30:40], y[30:40], 1, 0))
    assert resumed.trainer.data_queued
    for _ in range(7):
        resumed.trainer.step()
    np.testing.assert_array_equal(
        resumed.trainer.history.column("train_loss"), engine.trainer.history.column("train_loss")
    )
    weights = engine.trainer.model.get_state()
    for name, value in resumed.trainer.model.get_state().items():
        np.testing.assert_array_equal(value, weights[name])


def test_a_kept_run_that_no_longer_fits_its_points_is_said_in_words():
    run, (x, y) = small_setup(epochs=0)
    pipe = Pipe()
    engine = Engine(pipe)
    engine.setup(run)
    step(engine)
    kept = kept_reply(engine, pipe, 1)[3]
    other = dataclasses.replace(run, run_id=2, x_train=x[:31], y_train=y[:31], resume=kept)
    engine.setup(other)
    assert engine.outbox.drain() and engine.trainer is None
    assert pipe.sent[-2] == ("failed", 2, KEPT_RUN_LOST)
    assert (
        KEPT_RUN_LOST == "The run could not be brought back: its points changed since it was kept."
    )

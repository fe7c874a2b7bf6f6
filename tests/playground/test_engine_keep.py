"""The engine's "keep" command: the current run's state sent back as an in-memory experiment,
from which a run continues exactly; data set problems are said in the app's words."""

import dataclasses

import numpy as np
from test_engine_process import Pipe, spec_for, step, tiny_run

from core.training import TrainConfig
from playground.engine_process import Engine, RunSetup
from playground.image_data import ImageDataSettings


def kept_reply(engine, pipe, token):
    engine.handle(("keep", token))
    assert engine.outbox.drain()
    (reply,) = [m for m in pipe.sent if m[0] == "kept" and m[2] == token]
    return reply


def test_keep_sends_the_state_a_run_continues_from_exactly():
    pipe = Pipe()
    engine = Engine(pipe)
    engine.setup(tiny_run())
    engine.ack()
    step(engine)
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


def test_a_missing_data_set_is_reported_with_the_apps_buttons(tmp_path, monkeypatch):
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(tmp_path))
    pipe = Pipe()
    engine = Engine(pipe)
    spec = spec_for("dense:10", [784])
    engine.setup(RunSetup(spec, TrainConfig(), images=ImageDataSettings("mnist"), run_id=4))
    assert engine.outbox.drain()
    assert pipe.sent[0][:3] == (
        "failed",
        4,
        "MNIST is not on this computer yet: press Download in the Data panel, or Load from folder…",
    )

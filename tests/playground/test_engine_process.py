"""The engine process's logic without a process: message order and flow control of the outbox,
and image runs built from a recipe (the engine loads the images itself)."""

import multiprocessing
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.pace import Speed
from core.spec import mlp_spec, normalize, parse_arch
from core.training.config import TrainConfig
from core.training.snapshot import take_snapshot
from core.training.trainer import build_trainer
from playground.engine import DONE, IDLE, PAUSED, RUNNING, Engine
from playground.engine_process import engine_main, serve
from playground.image_data import ImageDataSettings
from playground.outbox import Outbox
from playground.run_setup import RunSetup

FASHION = Path("/usr/share/datasets/fashion-mnist")


class Pipe:
    """Records what is sent; ``gate`` can hold the sender (a GUI that isn't reading)."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, message: tuple) -> None:
        self.gate.wait(5)
        self.sent.append(message)


def kinds(pipe):
    return [m[0] if m[0] != "snapshot" else ("snapshot", m[2].step) for m in pipe.sent]


def numbered(n):
    """A snapshot numbered ``n`` (its step), of a tiny untrained run."""
    run = tiny_run()
    trainer = build_trainer(run.spec, run.config, run.x_train, run.y_train)
    return replace(take_snapshot(trainer), step=n)


def sent_one_snapshot():
    """An outbox (and its pipe) that has sent snapshot 1 and waits for its ack."""
    pipe = Pipe()
    box = Outbox(pipe)
    box.snapshot(0, numbered(1))
    assert box.drain()
    return pipe, box


def test_snapshots_wait_for_the_ack_and_the_newest_wins():
    pipe, box = sent_one_snapshot()
    box.snapshot(0, numbered(2))
    box.snapshot(0, numbered(3))
    assert box.drain()
    assert kinds(pipe) == [("snapshot", 1)]  # 2 and 3 wait for the ack; 3 replaced 2
    box.ack()
    assert box.drain()
    assert kinds(pipe) == [("snapshot", 1), ("snapshot", 3)]


def test_a_state_message_goes_after_the_waiting_snapshot_even_without_ack():
    pipe, box = sent_one_snapshot()
    box.snapshot(0, numbered(2))
    box.message(("state", 0, PAUSED, ""))
    assert box.drain()
    assert kinds(pipe) == [("snapshot", 1), ("snapshot", 2), "state"]


def test_a_slow_reader_never_blocks_the_caller():
    pipe = Pipe()
    pipe.gate.clear()  # the GUI is not reading
    box = Outbox(pipe)
    done = threading.Event()
    snaps = [numbered(n) for n in range(1000)]

    def publish():
        for snap in snaps:
            box.snapshot(0, snap)
        box.message(("state", 0, PAUSED, ""))
        done.set()

    threading.Thread(target=publish).start()
    assert done.wait(5)  # the publisher finished while the pipe was stuck
    pipe.gate.set()
    assert box.drain()
    assert kinds(pipe)[-1] == "state" and kinds(pipe)[-2] == ("snapshot", 999)


def step(engine):
    """What the engine's main loop does for a Step: train in chunks until the epoch ends."""
    engine.handle(("step",))
    while engine.busy:
        engine.advance()


def stepped():
    """An engine (and its pipe) that set up a tiny run and trained one Step of it."""
    pipe = Pipe()
    engine = Engine(pipe)
    engine.setup(tiny_run())
    engine.ack()
    step(engine)
    return pipe, engine


def spec_for(arch: str, shape: list[int]) -> dict:
    return normalize({"input_shape": shape, "layers": parse_arch(arch), "loss": "softmax_ce"})


def tiny_run(**kw):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 2)).astype(np.float32), rng.integers(0, 2, 40)
    return RunSetup(mlp_spec(2, [4], 2), TrainConfig(), x, y, x, y, run_id=1, **kw)


def test_step_sends_the_snapshot_then_paused():
    pipe, engine = stepped()
    assert engine.outbox.drain()
    assert [k if isinstance(k, str) else k[0] for k in kinds(pipe)] == [
        "snapshot",
        "state",
        "snapshot",
        "state",
    ]
    assert pipe.sent[1][2] == IDLE and pipe.sent[-1][2] == PAUSED
    assert pipe.sent[2][2].epoch == 1


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist not installed")
@pytest.mark.parametrize(
    "arch", ["dense:16,relu,dense:10", "conv:4x5,relu,pool:2,flatten,dense:10"]
)
def test_image_runs_load_their_images_from_the_recipe(arch):
    pipe = Pipe()
    engine = Engine(pipe)
    shape = [784] if arch.startswith("dense") else [1, 28, 28]
    spec = spec_for(arch, shape)
    recipe = ImageDataSettings("fashion-mnist", train_subset=200, test_subset=100, augment=True)
    engine.setup(RunSetup(spec, TrainConfig(batch_size=50), images=recipe, run_id=2))
    engine.ack()
    step(engine)
    assert engine.outbox.drain()
    assert pipe.sent[0][0] == "snapshot", pipe.sent
    snap = [m for m in pipe.sent if m[0] == "snapshot"][-1][2]
    assert snap.epoch == 1 and snap.test_pred.shape == (100,)
    assert engine.trainer.augment is not None
    assert engine.trainer.x_train.shape[1:] == tuple(spec["input_shape"])


def test_a_missing_data_set_is_reported_with_the_apps_buttons_not_raised(tmp_path, monkeypatch):
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(tmp_path))
    pipe = Pipe()
    engine = Engine(pipe)
    spec = spec_for("dense:10", [784])
    engine.setup(RunSetup(spec, TrainConfig(), images=ImageDataSettings("mnist"), run_id=4))
    assert engine.outbox.drain()
    assert pipe.sent[0][0] == "failed" and "mnist" in pipe.sent[0][2].lower()
    assert pipe.sent[0][:3] == (
        "failed",
        4,
        "MNIST is not on this computer yet: press Download in the Data panel, or Load from folder…",
    )
    assert engine.trainer is None


def test_rate_changes_for_a_dropped_run_do_not_reach_the_next():
    engine = Engine(Pipe())
    engine.setup(tiny_run())
    engine.control.set_lr(0.5)  # asked while that run was on screen
    engine.handle(("discard",))
    assert engine.trainer is None and engine.iter is None
    engine.setup(tiny_run())
    assert engine.trainer.lr == TrainConfig().lr


def test_any_failure_to_build_a_run_is_reported(monkeypatch):
    pipe = Pipe()
    engine = Engine(pipe)

    def broken(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("playground.engine.build_trainer", broken)
    engine.setup(tiny_run())
    assert engine.outbox.drain()
    assert pipe.sent[0][:2] == ("failed", 1) and "MemoryError" in pipe.sent[0][2]


def test_a_step_can_be_paused_before_its_epoch_ends():
    pipe = Pipe()
    engine = Engine(pipe)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20000, 2)).astype(np.float32), rng.integers(0, 2, 20000)
    engine.setup(RunSetup(mlp_spec(2, [4], 2), TrainConfig(batch_size=1), x, y, run_id=1))
    engine.handle(("step",))
    engine.advance()  # one chunk (~40 ms): far from the end of a 20,000-step epoch
    engine.handle(("pause",))
    assert not engine.busy and engine.trainer.epoch == 0 and 0 < engine.trainer.steps < 20000
    assert engine.outbox.drain() and pipe.sent[-1] == ("state", 1, PAUSED, "")


# -- failures, speed and runs that go on after a change ----------------------------------------


def failures(pipe):
    return [m[2] for m in pipe.sent if m[0] == "failed"]


def test_a_command_that_fails_is_reported_and_the_engine_serves_on(monkeypatch):
    pipe = Pipe()
    engine = Engine(pipe)
    engine.setup(tiny_run())

    def broken(*args):
        raise MemoryError

    monkeypatch.setattr(engine, "set_config", broken)
    serve(engine, ("set_config", TrainConfig()))
    serve(engine, ("ordered", ("lr", -1.0)))  # a rate change that waited behind a set-up
    step(engine)  # the engine still trains
    assert engine.outbox.drain()
    assert failures(pipe)[0] == "The training engine could not do that: MemoryError"
    assert failures(pipe)[1].startswith("The training engine could not do that: lr: -1.0")
    assert engine.trainer.epoch == 1


def test_the_engine_process_loop_survives_a_failing_set_up(monkeypatch):
    def broken(self, run):
        raise RuntimeError("the set-up broke")

    monkeypatch.setattr(Engine, "setup", broken)
    app, child = multiprocessing.Pipe()
    loop = threading.Thread(target=engine_main, args=(child,), daemon=True)
    loop.start()
    app.send(("setup", tiny_run()))
    app.send(("lr", -2.0))  # refused in the command reader: said, and reading goes on
    assert app.poll(10)
    assert app.recv() == ("failed", 0, "The training engine could not do that: the set-up broke")
    assert app.poll(10) and "lr: -2.0" in app.recv()[2]
    app.send(("quit",))
    loop.join(10)
    assert not loop.is_alive()  # it served until "quit"


def small_setup(epochs):
    """A run on 30 points in batches of 8 (4 steps an epoch); 60 points to edit it with."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1.5, (60, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    config = TrainConfig(batch_size=8, epochs=epochs, seed=2)
    spec = mlp_spec(2, [4], 2)
    return RunSetup(spec, config, x[:30], y[:30], x[30:40], y[30:40], run_id=1), (x, y)


def small_run(epochs, pipe=None):
    """An engine with the run of :func:`small_setup`."""
    run, xy = small_setup(epochs)
    engine = Engine(pipe or Pipe())
    engine.setup(run)
    return engine, xy


def ended_run():
    """An engine whose run ended at its limit of 1 epoch."""
    engine, (x, y) = small_run(epochs=1)
    engine.handle(("start",))
    while engine.iter is not None:
        engine.advance()
    assert engine.state == DONE and engine.done_reason == "epochs"
    return engine, (x, y)


@pytest.mark.parametrize("change", ["edit_points", "set_config"])
def test_play_trains_on_after_a_change_to_a_run_that_ended_at_its_limit(change):
    engine, (x, y) = ended_run()
    if change == "edit_points":
        engine.handle(("edit_points", x[:31], y[:31], x[30:40], y[30:40], 1, 0))
    else:
        engine.handle(("set_config", replace(engine.trainer.config, optimizer="sgd")))
    assert engine.state == PAUSED and engine.done_reason == ""
    engine.handle(("start",))
    for _ in range(1000):
        if not engine.busy or engine.trainer.epoch >= 3:
            break
        engine.advance()
    assert engine.state == RUNNING and engine.trainer.epoch >= 3  # past its limit of 1


def test_the_speed_in_epochs_follows_an_edit_that_changes_the_epochs_length():
    engine, (x, y) = small_run(epochs=0)
    engine.handle(("speed", Speed(2, "epoch")))
    assert engine.pace.rate == 2 * 4  # 2 epochs/s of 4 steps
    engine.handle(("edit_points", x[:40], y[:40], x[40:50], y[40:50], 1, 0))  # at a boundary
    assert engine.trainer.steps_per_epoch == 5 and engine.pace.rate == 2 * 5
    engine.trainer.step()  # mid-epoch
    engine.handle(("start",))
    engine.handle(("edit_points", x[:24], y[:24], x[40:50], y[40:50], 2, 0))  # waits
    assert engine.pace.rate == 2 * 5
    while engine.trainer.data_queued:
        engine.advance()
    assert engine.trainer.steps_per_epoch == 3 and engine.pace.rate == 2 * 3

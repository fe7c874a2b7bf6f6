"""The toolbar's speed control: its stops, the Max button, the setting it keeps, preset
defaults; paced training in the engine (a snapshot per step, commands acting at once); and the
status bar saying why a run stopped until the next action."""

import dataclasses
import time

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from core.pace import MAX, Pace, Speed
from core.spec import mlp_spec
from core.training.config import TrainConfig
from playground.engine import Engine
from playground.panels.speed_control import SPEEDS, SpeedControl
from playground.presets import presets
from playground.run_setup import RunSetup
from playground.run_status import stop_message
from playground.worker import DONE, IDLE, PAUSED, RUNNING

#: A pace whose next step is far away: a command that acts at once can't be the wait ending.
SLOW = Speed(0.05, "step")


@pytest.fixture
def fresh_settings(tmp_path):
    return QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)


def test_stops_run_from_one_step_a_second_to_max(qtbot, fresh_settings):
    control = SpeedControl(fresh_settings, default=Speed(20))
    qtbot.addWidget(control)
    labels = [s.label for s in SPEEDS]
    assert labels[0] == "1 step/s" and labels[-1] == "max"
    assert {"10 steps/s", "1 epoch/s", "10 epochs/s", "100 epochs/s"} <= set(labels)
    assert control.value_label.text() == "20 epochs/s" and not control.max_button.isChecked()
    control.slider.setFocus()
    with qtbot.waitSignal(control.speedChanged) as signal:
        qtbot.keyClick(control.slider, Qt.Key.Key_Home)
    assert signal.args == [Speed(1, "step")] and control.value_label.text() == "1 step/s"
    qtbot.keyClick(control.slider, Qt.Key.Key_Right)
    assert control.speed() == Speed(10, "step")


def test_max_is_one_click_away_and_a_second_click_goes_back(qtbot, fresh_settings):
    control = SpeedControl(fresh_settings, default=Speed(5))
    qtbot.addWidget(control)
    with qtbot.waitSignal(control.speedChanged) as signal:
        qtbot.mouseClick(control.max_button, Qt.MouseButton.LeftButton)
    assert signal.args == [MAX] and control.value_label.text() == "max"
    assert control.max_button.isChecked()
    with qtbot.waitSignal(control.speedChanged) as signal:
        qtbot.mouseClick(control.max_button, Qt.MouseButton.LeftButton)
    assert signal.args == [Speed(5)] and not control.max_button.isChecked()


def test_the_speed_is_remembered(qtbot, fresh_settings):
    control = SpeedControl(fresh_settings, default=Speed(20))
    qtbot.addWidget(control)
    control.set_speed(Speed(1, "step"))
    again = SpeedControl(fresh_settings, default=Speed(20))
    qtbot.addWidget(again)
    assert again.speed() == Speed(1, "step")
    fresh_settings.setValue("speed", "warp 9")  # damaged: the default
    third = SpeedControl(fresh_settings, default=Speed(20))
    qtbot.addWidget(third)
    assert third.speed() == Speed(20)


def choose_preset(window, name):
    index = window.toolbar.preset_box.findData(name)
    window.toolbar.preset_box.setCurrentIndex(index)
    window.toolbar.preset_box.activated.emit(index)


def test_presets_bring_their_speed(window, qtbot):
    choose_preset(window, "spiral")
    assert window.toolbar.speed_control.speed() == Speed(20)
    assert window.controller.speed == Speed(20)
    choose_preset(window, "xor")
    assert window.toolbar.speed_control.value_label.text() == "1 epoch/s"


def test_a_fresh_start_uses_the_presets_speed(make_window, fresh_settings):
    window = make_window("spiral", settings=fresh_settings)
    assert window.toolbar.speed_control.speed() == Speed(20)
    assert window.controller.speed == Speed(20)


class Clock:
    def __init__(self) -> None:
        self.now, self.reads = 0.0, 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


def paced_engine(speed: Speed, clock: Clock, batch_size: int = 8, interval: float = 0.04):
    """An engine (no process) on 40 points, 5 steps an epoch at batches of 8, running at
    ``speed`` on ``clock`` (snapshots by time every ``interval`` s too); returns it and the
    steps of the snapshots it publishes."""
    engine = Engine(lambda message: None)
    engine.pace = Pace(clock=clock)
    published = []
    publish = engine.publish
    engine.publish = lambda snap: (published.append(snap.step), publish(snap))
    engine.handle(("speed", speed))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 2)).astype(np.float32), rng.integers(0, 2, 40)
    config = TrainConfig(batch_size=batch_size, epochs=0)
    setup = RunSetup(mlp_spec(2, [4], 2), config, x, y, x, y, run_id=1, interval=interval)
    engine.setup(setup)
    engine.handle(("start",))
    return engine, published


def run_main_loop(engine, clock: Clock, steps: int) -> float:
    """What the engine's main loop does, waits taken on ``clock``; returns the time waited."""
    waited = 0.0
    while engine.trainer.steps < steps:
        wait = engine.wait_time()
        clock.now += wait
        waited += wait
        engine.advance()
    return waited


def test_slow_paces_train_a_step_at_a_time_each_with_its_snapshot():
    clock = Clock()
    engine, published = paced_engine(Speed(10, "step"), clock)
    waited = run_main_loop(engine, clock, 12)
    assert engine.trainer.steps == 12
    assert sorted(set(published)) == list(range(13))  # the untrained state, then every step
    assert waited == pytest.approx(1.1, rel=1e-12)  # 12 steps at 10/s: the first at once


def test_epoch_paces_train_an_epoch_a_piece_when_steps_are_fast():
    clock = Clock()
    # 250 steps/s: an epoch a piece. No snapshots by time (a loaded machine can take 40 ms for
    # an epoch): only the paced ones.
    engine, published = paced_engine(Speed(50), clock, interval=1e9)
    waited = run_main_loop(engine, clock, 15)
    assert engine.trainer.steps == 15
    assert [s for s in published if s] == [5, 10, 15]
    assert waited == pytest.approx(2 / 50, rel=1e-12)


def test_fast_paces_train_as_the_loop_goes_then_wait_for_what_they_did():
    clock = Clock()
    engine, published = paced_engine(Speed(100), clock)  # 500 steps/s: no snapshot per epoch
    engine.advance()  # about 40 ms of training, many epochs of this tiny run
    assert not engine.control.epoch_end_snapshots
    assert engine.trainer.steps == published[-1] > 0
    assert engine.wait_time() == pytest.approx(engine.trainer.steps / 500, rel=1e-12)


def test_max_never_waits_nor_reads_the_clock():
    clock = Clock()
    engine, _ = paced_engine(MAX, clock)
    assert run_main_loop(engine, clock, 50) == 0.0
    assert clock.reads == 0


def snapshots_while(qtbot, window, condition, timeout=10000):
    seen = []
    window.controller.snapshotReady.connect(seen.append)
    qtbot.waitUntil(lambda: condition(seen), timeout=timeout)
    window.controller.snapshotReady.disconnect(seen.append)
    return seen


def test_slow_steps_each_send_a_snapshot_and_pause_acts_at_once(window, qtbot):
    window.toolbar.speed_control.set_speed(Speed(10, "step"))
    window.toolbar.play_action.trigger()
    seen = snapshots_while(qtbot, window, lambda s: len({x.step for x in s}) >= 4)
    steps = sorted({x.step for x in seen})
    assert steps[-1] - steps[0] < 2 * len(steps)  # a step or two a snapshot, not epochs
    qtbot.waitUntil(lambda: window.workspace.last_snapshot.step > steps[-1], timeout=5000)
    window.controller.set_speed(SLOW)  # slower than the slider goes
    start = time.perf_counter()
    with qtbot.waitSignal(window.controller.stateChanged, timeout=5000) as signal:
        # pause while the engine waits for the next step (20 s)
        window.toolbar.play_action.trigger()
    assert signal.args[0] == PAUSED
    assert time.perf_counter() - start < 3  # not after the wait (loose: a wait is 20 s)


def test_reset_and_quit_act_at_once_during_a_slow_wait(window, qtbot):
    window.toolbar.speed_control.set_speed(Speed(10, "step"))
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: window.workspace.last_snapshot.step >= 1, timeout=5000)
    window.controller.set_speed(SLOW)  # slower than the slider goes
    start = time.perf_counter()
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=5000, check_params_cb=lambda s, r: s == IDLE
    ):
        qtbot.keyClick(window, Qt.Key.Key_R)
    assert time.perf_counter() - start < 3  # loose: the next step was 20 s away
    window.toolbar.speed_control.set_speed(Speed(10, "step"))
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: window.workspace.last_snapshot.step >= 1, timeout=5000)
    window.controller.set_speed(SLOW)  # slower than the slider goes
    start = time.perf_counter()
    assert window.controller.shutdown()  # "quit" ends the engine in time
    assert time.perf_counter() - start < 3


def test_max_applies_at_once_during_a_slow_wait(window, qtbot):
    window.toolbar.speed_control.set_speed(Speed(1, "step"))
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: window.workspace.last_snapshot.step >= 1, timeout=5000)
    qtbot.mouseClick(window.toolbar.speed_control.max_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.workspace.last_snapshot.step >= 200, timeout=5000
    )  # 200 s at 1/s


def test_step_at_a_slow_speed_shows_the_epoch_in_stages(window, qtbot):
    window.toolbar.speed_control.set_speed(Speed(2))  # 32 steps/s: a step at a time
    per_epoch = 16  # the spiral preset: 250 training points, batches of 16
    seen = []
    window.controller.snapshotReady.connect(seen.append)
    with qtbot.waitSignal(window.controller.stateChanged, timeout=10000) as signal:
        window.toolbar.step_action.trigger()
    assert signal.args[0] == PAUSED
    assert (
        window.workspace.last_snapshot.epoch == 1
        and window.workspace.last_snapshot.step == per_epoch
    )
    # Shown in stages (every step is sent; a busy GUI shows the newest it can)
    assert len({x.step for x in seen if 0 < x.step < per_epoch}) >= 2


def run_to_the_end(qtbot, window, **training):
    session = presets()["spiral"]
    session.training = TrainConfig.from_dict({**session.training.to_dict(), **training})
    window.apply_session(session)
    qtbot.waitUntil(lambda: window.controller.state == IDLE, timeout=5000)
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=20000, check_params_cb=lambda s, r: s == DONE
    ) as signal:
        window.toolbar.play_action.trigger()
    return signal.args[1]


def test_the_epoch_limit_is_said_in_words_until_space_trains_on(window, qtbot):
    assert run_to_the_end(qtbot, window, epochs=3) == "epochs"
    note = window.status_note
    assert note.text() == "Finished: reached 3 epochs — press Space to train on, R to start again"
    qtbot.wait(50)
    assert note.isVisible() and window.statusBar().currentMessage() == ""
    with qtbot.waitSignal(
        window.controller.stateChanged, check_params_cb=lambda s, r: s == RUNNING
    ):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert note.text() == ""
    qtbot.waitUntil(
        lambda: window.workspace.last_snapshot.epoch >= 5, timeout=10000
    )  # past the limit
    with qtbot.waitSignal(window.controller.stateChanged, timeout=5000):
        window.toolbar.play_action.trigger()
    assert window.controller.state == PAUSED


def test_a_step_after_the_epoch_limit_trains_one_more_epoch(window, qtbot):
    run_to_the_end(qtbot, window, epochs=2)
    assert window.status_note.text().startswith("Finished: reached 2 epochs")
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=10000, check_params_cb=lambda s, r: s == PAUSED
    ):
        window.toolbar.step_action.trigger()
    assert window.status_note.text() == ""
    qtbot.waitUntil(
        lambda: window.controller.state == PAUSED and window.workspace.last_snapshot.epoch == 3
    )


def test_target_loss_and_early_stopping_are_said_until_reset(window, qtbot):
    # The Training panel sets neither a target loss nor patience: the engine's words come
    # from a run that had them (e.g. one saved by the command line).
    window.workspace.run_session.training = TrainConfig(target_loss=0.05, patience=1)
    window.controller.stateChanged.emit(DONE, "target_loss")
    assert window.status_note.text() == "Reached the target loss 0.05 — press R to start again"
    with qtbot.waitSignal(window.controller.stateChanged):
        qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.status_note.text() == ""
    with qtbot.waitSignal(window.controller.stateChanged, timeout=10000):
        window.toolbar.step_action.trigger()  # a run with a test loss to watch
    window.workspace.run_session.training = dataclasses.replace(
        window.workspace.run_session.training, patience=1
    )
    window.controller.stateChanged.emit(DONE, "early_stopping")
    assert window.status_note.text() == (
        "Stopped early: the test loss stopped improving for 1 epoch — press R to start again"
    )
    with qtbot.waitSignal(window.controller.stateChanged):
        qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.status_note.text() == ""


def test_a_settings_change_after_the_epoch_limit_clears_the_note(window, qtbot):
    window.plane.training_panel.epochs.setValue(1)  # applies to the run: no reset
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=10000, check_params_cb=lambda s, r: s == DONE
    ):
        window.toolbar.play_action.trigger()
    assert window.status_note.text().startswith("Finished: reached 1 epoch")
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=10000, check_params_cb=lambda s, r: s == PAUSED
    ):
        window.plane.training_panel.epochs.setValue(3)  # the run can go on: Play continues it
    assert window.status_note.text() == "" and window.workspace.last_snapshot.epoch == 1


def test_every_stop_reason_has_words():
    config = TrainConfig(target_loss=0.01, patience=5)
    assert stop_message("epochs", 1).startswith("Finished: reached 1 epoch —")
    assert stop_message("epochs", 12000).startswith("Finished: reached 12,000 epochs —")
    assert stop_message("target_loss", 40, config).startswith("Reached the target loss 0.01 —")
    assert stop_message("early_stopping", 40, config, test_set=False).startswith(
        "Stopped early: the train loss stopped improving for 5 epochs —"
    )
    diverged = stop_message("diverged: the loss became nan at step 3; try a lower rate", 0)
    assert diverged.startswith("Stopped: training diverged") and "nan" not in diverged
    assert "engine stopped unexpectedly" in stop_message("engine stopped", 3)
    assert stop_message("stopped", 3) == "Stopped — press R to start again"
    for reason in ("epochs", "target_loss", "early_stopping", "stopped", "engine stopped"):
        assert "_" not in stop_message(reason, 3, config)

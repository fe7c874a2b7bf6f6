"""Point edits and settings changes during a run: clicks add or remove points (each recording its
set) and training goes on from the current weights; another optimizer goes on with a fresh
state; only a new network shape or data set resets, saying so; an experiment saved after edits
(some still waiting for their epoch to end) reopens and continues bit for bit."""

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from core.data.toy2d import make_dataset
from core.experiment import load_experiment
from core.spec import mlp_spec
from core.training.config import TrainConfig
from playground import point_edits
from playground.engine import Engine
from playground.point_edits import apply_edits, edit_split, removal_split
from playground.run_setup import RunSetup
from playground.session import DataSettings, Session, reset_reason
from playground.worker import DONE, PAUSED

# -- the edits themselves (no Qt) ----------------------------------------------------------------


def test_each_added_point_draws_its_set_from_the_seed_and_its_index():
    data = DataSettings(test_ratio=0.3, seed=5)
    splits = [edit_split(data, i) for i in range(2000)]
    assert splits == [edit_split(data, i) for i in range(2000)]  # the same every time
    assert 0.27 < splits.count("test") / 2000 < 0.33
    assert splits != [edit_split(DataSettings(test_ratio=0.3, seed=6), i) for i in range(2000)]
    assert {edit_split(DataSettings(test_ratio=0.0), i) for i in range(100)} == {"train"}


def test_edits_replay_into_the_set_they_record():
    base = make_dataset("xor", n_samples=40, test_ratio=0.5, seed=1)
    n_tr, n_te = len(base.x_train), len(base.x_test)
    added = apply_edits(base, [["add", 5.5, 5.5, 1, "test"], ["add", -5.5, 5.5, 0, "train"]])
    assert (len(added.x_train), len(added.x_test)) == (n_tr + 1, n_te + 1)
    assert added.x_test[-1].tolist() == [5.5, 5.5] and added.y_test[-1] == 1
    assert added.x_train[-1].tolist() == [-5.5, 5.5] and added.y_train[-1] == 0
    assert added.x_test.dtype == base.x_test.dtype and added.y_test.dtype == base.y_test.dtype

    # A removal takes the nearest point of the set it records, even if the other set's is nearer.
    x1, x2 = base.x_test[0]
    assert removal_split(base, x1, x2) == "test"
    train_near = [["add", float(x1) + 0.1, float(x2), 0, "train"]]
    edited = apply_edits(base, [*train_near, ["remove", float(x1), float(x2), "train"]])
    assert len(edited.x_train) == n_tr and len(edited.x_test) == n_te
    assert not np.any(np.all(edited.x_train == [float(x1) + 0.1, x2], axis=1).astype(bool))
    assert removal_split(base, 5.9, -5.9) is None  # nothing within reach


def test_edits_saved_before_sets_were_recorded_replay_as_before():
    base = make_dataset("xor", n_samples=40, test_ratio=0.5, seed=1)
    x1, x2 = (float(v) for v in base.x_test[3])
    old = apply_edits(base, [["add", 1.0, 2.0, 1], ["remove", x1, x2]])
    assert len(old.x_train) == len(base.x_train) + 1  # added points joined the training set
    assert len(old.x_test) == len(base.x_test) - 1  # the nearest point of either set went
    settings = Session.from_dict(
        {**Session().to_dict(), "data": {"edits": [["add", 1.0, 2.0, 1], ["remove", x1, x2]]}}
    )
    assert settings.data.queued_edits == []


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ([["add", 0, 0, 1, "both"]], r"edits, entry 1, set: 'both'; allowed: \"train\" or"),
        ([["remove", 0, 0, 1]], r"edits, entry 1, set: 1; allowed"),
        ([["add", 0, 0, 1, "test", 2]], r"edits, entry 1: .*allowed: \[\"add\", x1, x2, label"),
    ],
)
def test_bad_recorded_sets_are_refused(edits, message):
    with pytest.raises(ValueError, match=message):
        DataSettings(edits=edits).validate()
    with pytest.raises(ValueError, match=message.replace("edits", "queued_edits", 1)):
        DataSettings(queued_edits=edits).validate()


def test_what_resets_a_run():
    run = Session()
    same = run.copy()
    assert reset_reason(run, same) is None
    same.training.optimizer, same.training.epochs, same.training.lr = "sgd", 7, 0.5
    assert reset_reason(run, same) is None  # these apply to the run, which goes on
    for change, reason in (
        (lambda s: setattr(s.network.hidden[0], "units", 3), "the network's shape changed"),
        (lambda s: setattr(s.data, "noise", 0.3), "the data set changed"),
        (lambda s: s.data.edits.clear() or setattr(s.data, "seed", 2), "the data set changed"),
        (lambda s: setattr(s.training, "batch_size", 3), "the batch size changed"),
        (lambda s: setattr(s.training, "seed", 3), "the run seed changed"),
    ):
        other = run.copy()
        change(other)
        assert reset_reason(run, other).startswith(reason)


# -- in the engine (no process) ------------------------------------------------------------------


def engine_run(tmp_path):
    """An engine with a run on 30 training points (batches of 8: 4 steps an epoch)."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1.5, (40, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    engine = Engine(lambda message: None)
    config = TrainConfig(batch_size=8, epochs=1, seed=2)
    spec = mlp_spec(2, [4], 2)
    engine.handle(("setup", RunSetup(spec, config, x[:30], y[:30], x[30:], y[30:])))
    return engine, (x, y)


def test_the_engine_saves_edits_waiting_for_the_epoch_apart(tmp_path):
    engine, (x, y) = engine_run(tmp_path)
    engine.trainer.step()  # mid-epoch
    settings = {"data": {"edits": [["add", 0, 0, 1, "train"], ["add", 1, 1, 0, "test"]]}}
    engine.handle(("edit_points", x[:31], y[:31], x[31:], y[31:], 1, 0))
    engine.handle(("edit_points", x[:32], y[:32], x[32:], y[32:], 2, 0))
    assert engine.with_queued_edits(settings)["data"] == {
        "edits": [],
        "queued_edits": settings["data"]["edits"],
    }
    for _ in range(3):
        engine.trainer.step()  # the epoch ends: both edits are in the data
    assert len(engine.trainer.x_train) == 32
    assert engine.with_queued_edits(settings) == settings


def test_an_ended_run_goes_on_after_an_edit_or_other_settings(tmp_path):
    engine, (x, y) = engine_run(tmp_path)
    engine.handle(("start",))
    while engine.iter is not None:
        engine.advance()  # one epoch, then done
    assert engine.state == "done" and engine.trainer.epoch == 1
    engine.handle(("edit_points", x[:31], y[:31], x[31:], y[31:], 1, 0))
    assert engine.state == "paused" and len(engine.trainer.x_train) == 31  # at once: a boundary
    engine.handle(("set_config", replace(engine.trainer.config, epochs=2, optimizer="sgd")))
    engine.handle(("start",))
    while engine.iter is not None:
        engine.advance()
    assert engine.trainer.epoch == 2 and engine.trainer.optimizer.name == "sgd"
    engine.handle(("set_config", replace(engine.trainer.config, batch_size=4)))
    assert engine.trainer.config.batch_size == 8  # refused: it shapes the run from its start


# -- in the window -------------------------------------------------------------------------------


def click(qtbot, window, x, y, button=Qt.MouseButton.LeftButton):
    view = window.plane.output_view
    scene_pos = view.plot.getPlotItem().vb.mapViewToScene(QPointF(x, y))
    qtbot.mouseClick(view.plot.viewport(), button, pos=view.plot.mapFromScene(scene_pos))


def until_state(qtbot, window, state, action, timeout=20000):
    with qtbot.waitSignal(
        window.controller.stateChanged,
        timeout=timeout,
        check_params_cb=lambda s, reason: s == state,
    ):
        action()


def step_epoch(qtbot, window):
    until_state(qtbot, window, PAUSED, window.toolbar.step_action.trigger)


def saved(qtbot, window, path):
    with qtbot.waitSignal(window.controller.saved, timeout=10000) as blocker:
        assert window.files.save_experiment_as(str(path))
    assert blocker.args == [str(path), ""]
    return load_experiment(path)


def message(window):
    return window.statusBar().currentMessage()


@pytest.fixture
def resets(make_window):
    window = make_window("xor")  # 250 training points in batches of 10: 25 steps an epoch
    count = []
    window.runReset.connect(lambda: count.append(1))
    return window, count


def test_clicks_add_and_remove_points_and_training_goes_on(resets, qtbot, tmp_path):
    window, count = resets
    step_epoch(qtbot, window)
    n_train, n_test = len(window.plane.dataset.x_train), len(window.plane.dataset.x_test)
    split = edit_split(window.plane.data_panel.settings(), 0)
    window.plane.output_view.add_class.setCurrentIndex(1)
    click(qtbot, window, 5.5, -5.5)
    [edit] = window.plane.data_panel.settings().edits
    assert edit[0] == "add" and edit[3:] == [1, split]
    np.testing.assert_allclose(edit[1:3], [5.5, -5.5], atol=0.1)
    grew = (n_train + 1, n_test) if split == "train" else (n_train, n_test + 1)
    assert (len(window.plane.dataset.x_train), len(window.plane.dataset.x_test)) == grew
    where = "training" if split == "train" else "test"
    assert message(window).startswith(f"Point added to the {where} set: training goes on")
    assert count == [] and window.workspace.last_snapshot.epoch == 1  # no new run

    # Drawn with the others: in its set's points, a training point with its ring too.
    view = window.plane.output_view
    points = view.train_points if split == "train" else view.test_points
    assert len(points.data) == grew[split == "test"]
    assert len(view.train_rings.data) == len(window.plane.dataset.x_train)
    assert np.allclose([points.data["x"][-1], points.data["y"][-1]], edit[1:3])

    step_epoch(qtbot, window)  # trains on the new data (at the boundary: at once)
    experiment = saved(qtbot, window, tmp_path / "run.npz")
    assert window.workspace.last_snapshot.epoch == experiment.epoch == 2 and count == []
    assert experiment.state["n_train"] == len(window.plane.dataset.x_train)
    assert experiment.state["data_start"] == [1, 25]
    assert experiment.data["data"]["edits"] == [edit]

    click(qtbot, window, *edit[1:3], button=Qt.MouseButton.RightButton)
    assert window.plane.data_panel.settings().edits == [edit, ["remove", *edit[1:3], split]]
    assert (len(window.plane.dataset.x_train), len(window.plane.dataset.x_test)) == (
        n_train,
        n_test,
    )
    assert message(window).startswith(f"Point removed from the {where} set")
    click(qtbot, window, -5.9, 5.9, button=Qt.MouseButton.RightButton)
    assert message(window).startswith("No point to remove there")
    assert len(window.plane.data_panel.settings().edits) == 2 and count == []


def test_another_optimizer_goes_on_and_only_shape_or_data_reset(resets, qtbot):
    window, count = resets
    panel = window.plane.training_panel
    step_epoch(qtbot, window)
    weights = window.workspace.last_snapshot.weights
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("rmsprop"))
    assert message(window).startswith("Optimizer rmsprop: training goes on from the current")
    step_epoch(qtbot, window)
    snap = window.workspace.last_snapshot
    assert count == [] and snap.epoch == 2 and len(snap.history["train_loss"]) == 2
    assert any(not np.array_equal(snap.weights[k], v) for k, v in weights.items())

    # A run that ended goes on when its epochs are raised.
    panel.epochs.setValue(2)
    until_state(qtbot, window, DONE, window.toolbar.play_action.trigger)
    assert (
        window.workspace.last_snapshot.reason == "epochs"
        and window.workspace.last_snapshot.epoch == 2
    )
    until_state(qtbot, window, PAUSED, lambda: panel.epochs.setValue(3))
    until_state(qtbot, window, DONE, window.toolbar.play_action.trigger)
    assert window.workspace.last_snapshot.epoch == 3 and count == []

    with qtbot.waitSignal(window.runReset, timeout=10000):
        window.plane.network_panel.rows[0].units.setValue(5)
    assert message(window) == "Reset: the network's shape changed"
    with qtbot.waitSignal(window.runReset, timeout=10000):
        window.plane.data_panel.noise.setValue(0.2)
    assert message(window) == "Reset: the data set changed"
    with qtbot.waitSignal(window.runReset, timeout=10000):
        panel.batch.setValue(20)
    assert message(window).startswith("Reset: the batch size changed")
    assert len(count) == 3


def pause_mid_epoch(qtbot, window, after_step):
    """Play, then pause somewhere inside an epoch after ``after_step``."""
    while True:
        start = max(after_step, window.workspace.last_snapshot.step)
        window.toolbar.play_action.trigger()
        qtbot.waitUntil(lambda s=start: window.workspace.last_snapshot.step > s, timeout=10000)
        until_state(qtbot, window, PAUSED, window.toolbar.play_action.trigger)
        snap = window.workspace.last_snapshot
        ended = snap.history["step"]  # where each epoch ended (epochs may differ in steps)
        if len(ended) == 0 or ended[-1] != snap.step:
            return snap


def test_experiment_saved_after_edits_continues_bit_for_bit(resets, qtbot, tmp_path):
    window, count = resets
    panel = window.plane.training_panel
    panel.epochs.setValue(0)  # no limit: pausing mid-epoch can't miss the end of the run
    step_epoch(qtbot, window)
    click(qtbot, window, 4.5, 4.5)  # at an epoch boundary: in the data at once
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("momentum"))
    step_epoch(qtbot, window)
    paused = pause_mid_epoch(qtbot, window, 50)
    window.plane.output_view.add_class.setCurrentIndex(1)
    click(qtbot, window, -4.5, -4.5)  # mid-epoch: waits for the epoch to end
    panel.epochs.setValue(paused.epoch + 3)
    first, waiting = window.plane.data_panel.settings().edits

    experiment = saved(qtbot, window, tmp_path / "run.npz")
    assert experiment.data["data"]["edits"] == [first]
    assert experiment.data["data"]["queued_edits"] == [waiting]
    assert experiment.config.optimizer == "momentum" and experiment.steps == paused.step
    until_state(qtbot, window, DONE, window.toolbar.play_action.trigger)
    uninterrupted = window.workspace.last_snapshot
    assert uninterrupted.epoch == paused.epoch + 3 and count == []

    with qtbot.waitSignal(window.runReset, timeout=10000):
        assert window.files.open(str(tmp_path / "run.npz"))
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=10000)
    assert window.workspace.last_snapshot.step == paused.step
    assert window.plane.data_panel.settings().edits == [first, waiting]
    until_state(qtbot, window, DONE, window.toolbar.play_action.trigger)
    continued = window.workspace.last_snapshot
    for column in ("step", "train_loss", "test_loss", "train_acc", "test_acc"):
        assert np.array_equal(continued.history[column], uninterrupted.history[column]), column
    for name, value in uninterrupted.weights.items():
        assert np.array_equal(continued.weights[name], value), name


def test_clicks_stop_at_the_most_edits_a_file_keeps(resets, qtbot, monkeypatch):
    window, count = resets
    monkeypatch.setattr(point_edits, "MAX_EDITS", 2)  # as at 50,000, sooner
    click(qtbot, window, 4.5, 4.5)
    click(qtbot, window, -4.5, 4.5)
    assert len(window.plane.data_panel.settings().edits) == 2
    click(qtbot, window, 4.5, -4.5)
    click(qtbot, window, 4.5, 4.5, Qt.MouseButton.RightButton)
    assert len(window.plane.data_panel.settings().edits) == 2 and count == []
    assert message(window).startswith("No more points: 2 clicks")

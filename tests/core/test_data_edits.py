"""Changes during a run: other data (points added or removed) joins at the next epoch boundary,
another optimizer starts fresh on the current weights, and a run saved after (or between) such
changes continues bit for bit."""

import json

import numpy as np
import pytest

from core.archive import ModelFileError
from core.experiment import load_experiment, save_experiment
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import Trainer, build_trainer

SPEC = mlp_spec(2, [6], 2, activation="tanh", dropout=0.2)
CONFIG = TrainConfig(optimizer="adam", lr=0.02, batch_size=8, epochs=0, seed=3)


def data(n_train=30, n_test=10, seed=0):
    """Two classes of points in the plane: (x_train, y_train, x_test, y_test)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1.5, (n_train + n_test, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def edited(arrays, added=3, test_added=1):
    """``arrays`` with points added to both sets and the first training point removed."""
    x_tr, y_tr, x_te, y_te = arrays
    rng = np.random.default_rng(7)
    new = rng.normal(0, 1.5, (added + test_added, 2)).astype(np.float32)
    labels = np.arange(added + test_added) % 2
    return (
        np.vstack([x_tr[1:], new[:added]]),
        np.concatenate([y_tr[1:], labels[:added]]),
        np.vstack([x_te, new[added:]]),
        np.concatenate([y_te, labels[added:]]),
    )


def steps(trainer, n):
    return [trainer.step() for _ in range(n)]


def test_data_given_mid_epoch_waits_for_the_epoch_to_end():
    old = data()
    trainer = build_trainer(SPEC, CONFIG, *old)
    steps(trainer, 2)  # 2 of the 4 steps of the first epoch (30 samples, batches of 8)
    new = edited(old)
    assert trainer.set_data(*new) is False and trainer.data_queued
    assert len(trainer.x_train) == 30 and trainer.steps_per_epoch == 4
    steps(trainer, 2)  # the epoch ends on the old data, evaluated on it
    assert trainer.epoch == 1 and not trainer.data_queued
    reference = build_trainer(SPEC, CONFIG, *old)
    reference.model.set_state(trainer.model.get_state())
    assert trainer.history.last("train_loss") == reference.evaluate("train")[0]
    assert len(trainer.x_train) == 32 and len(trainer.x_test) == 11
    assert trainer.steps_per_epoch == 4 and trainer.progress == 1.0
    steps(trainer, 4)
    assert trainer.epoch == 2 and trainer.progress == 2.0
    assert np.array_equal(np.sort(trainer._perm), np.arange(32))  # drawn for the new set

    # At an epoch boundary, data takes effect at once; a later call replaces a queued one.
    assert trainer.set_data(*old) is True and len(trainer.x_train) == 30
    trainer.step()
    assert trainer.set_data(*new) is False
    assert trainer.set_data(*edited(old, added=9)) is False
    steps(trainer, 3)
    assert len(trainer.x_train) == 38 and trainer.steps_per_epoch == 5


def test_bad_data_is_refused_and_changes_nothing():
    trainer = build_trainer(SPEC, CONFIG, *data())
    trainer.step()
    x_tr, y_tr, x_te, y_te = data()
    with pytest.raises(ValueError, match=r"y_train: labels span 4..5"):
        trainer.set_data(x_tr, y_tr + 4, x_te, y_te)
    with pytest.raises(ValueError, match=r"x_train: the training set is empty"):
        trainer.set_data(x_tr[:0], y_tr[:0])
    assert not trainer.data_queued and len(trainer.x_train) == 30


def saved_and_continued(trainer, arrays, path, n, queued=None):
    """Save ``trainer`` to ``path``, reopen it on ``arrays`` (queueing ``queued`` again, as the
    app does with an experiment's waiting edits) and return the losses of ``n`` more steps."""
    save_experiment(path, trainer, {"kind": "test"})
    resumed = load_experiment(path).build_trainer(*arrays)
    if queued is not None:
        assert resumed.set_data(*queued) is False
    return resumed, steps(resumed, n)


@pytest.mark.parametrize("save_after", [5, 9, 12])  # queued, mid-epoch after, at a boundary
def test_a_run_with_data_changes_continues_bit_for_bit(save_after, tmp_path):
    old = data()
    new = edited(old)
    run = build_trainer(SPEC, CONFIG, *old)
    steps(run, 5)  # mid second epoch
    run.set_data(*new)
    steps(run, save_after - 5)
    queued = run.data_queued
    resumed, continued = saved_and_continued(
        run,
        old if queued else new,
        tmp_path / "run.npz",
        20,
        queued=new if queued else None,
    )
    uninterrupted = steps(run, 20)
    assert continued == uninterrupted  # exactly equal floats
    assert np.array_equal(resumed.model.theta, run.model.theta)
    assert resumed.state_dict()["data_start"] == run.state_dict()["data_start"] == [2, 8]
    assert np.array_equal(resumed.history.column("train_loss"), run.history.column("train_loss"))


def test_another_optimizer_keeps_the_weights_and_starts_fresh(tmp_path):
    arrays = data()
    run = build_trainer(SPEC, CONFIG, *arrays)
    steps(run, 6)
    weights, history = run.model.theta.copy(), run.history.columns()
    adam = run.optimizer
    run.set_config(TrainConfig(**{**CONFIG.to_dict(), "epochs": 9, "clip_norm": 1.0}))
    assert run.optimizer is adam and run.config.epochs == 9  # the same optimizer goes on
    momentum = TrainConfig(
        optimizer="momentum", optimizer_params={"momentum": 0.8}, lr=0.05, batch_size=8, seed=3
    )
    run.set_config(momentum)
    assert np.array_equal(run.model.theta, weights)
    assert run.optimizer.name == "momentum" and run.optimizer.state_dict()["step"] == 0
    assert run.epoch == 1 and run.steps == 6
    assert run.base_lr == 0.02  # the rate changes through set_lr, never undone by a config
    assert np.array_equal(run.history.columns()["train_loss"], history["train_loss"])

    # The same steps as a fresh momentum optimizer on those weights at that point.
    reference = build_trainer(SPEC, momentum, *arrays)
    reference.load_state_dict(run.state_dict())
    assert steps(run, 3) == steps(reference, 3)

    _, continued = saved_and_continued(run, arrays, tmp_path / "run.npz", 12)  # saved config
    assert continued == steps(run, 12)
    meta = load_experiment(tmp_path / "run.npz")
    assert meta.config.optimizer == "momentum" and meta.state["optimizer_start"] == 6


def test_settings_that_shape_the_run_are_refused_and_change_nothing():
    run = build_trainer(SPEC, CONFIG, *data())
    run.step()
    before = run.state_dict()
    for change, message in (
        ({"batch_size": 4}, r"batch_size: 4; a run keeps its 8"),
        ({"seed": 5}, r"seed: 5; a run keeps its 3"),
        ({"optimizer": "nadam"}, r"optimizer"),
    ):
        with pytest.raises(ValueError, match=message):
            run.set_config(TrainConfig(**{**CONFIG.to_dict(), **change}))
    after = run.state_dict()
    assert run.optimizer.name == "adam" and after["optimizer_start"] == 0
    assert np.array_equal(after["optimizer"]["exp_avg"], before["optimizer"]["exp_avg"])


def test_states_saved_before_changes_were_recorded_still_load():
    arrays = data()
    run = build_trainer(SPEC, CONFIG, *arrays)
    steps(run, 7)
    state = run.state_dict()
    del state["data_start"], state["optimizer_start"]
    resumed = build_trainer(SPEC, CONFIG, *arrays)
    resumed.load_state_dict(state)
    assert steps(resumed, 5) == steps(run, 5)


def test_experiment_files_written_before_changes_were_recorded_still_continue(tmp_path):
    arrays = data()
    run = build_trainer(SPEC, CONFIG, *arrays)
    steps(run, 7)
    path = tmp_path / "old.npz"
    save_experiment(path, run, {"kind": "test"})
    tampered(path, remove=("data_start", "optimizer_start"))  # as in older files
    resumed = load_experiment(path).build_trainer(*arrays)
    assert steps(resumed, 5) == steps(run, 5)


def tampered(path, remove=(), **trainer_meta):
    """Rewrite an experiment file's trainer entries (``remove``: the keys to leave out)."""
    with np.load(path) as archive:
        arrays = dict(archive)
    meta = json.loads(str(arrays["meta.json"]))
    meta["trainer"].update(trainer_meta)
    for key in remove:
        del meta["trainer"][key]
    arrays["meta.json"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data_start": [9, 8]}, r"data_start.*took over after the run's epoch 3"),
        ({"data_start": [2, 9]}, r"14 training steps do not fit 1 epochs .* expected 15"),
        ({"optimizer_start": 3}, r"11 training steps since step 3, but the optimizer's state"),
        ({"data_start": "x"}, r"trainer.data_start is 'x'; expected \[epoch, steps\]"),
        ({"optimizer_start": -1}, r"trainer.optimizer_start is -1"),
    ],
)
def test_inconsistent_change_records_are_refused(change, message, tmp_path):
    old = data()
    run = build_trainer(SPEC, CONFIG, *old)
    steps(run, 5)
    run.set_data(*edited(old))
    steps(run, 9)  # epoch 3, step 14; the new data took effect at epoch 2, step 8
    path = tmp_path / "run.npz"
    save_experiment(path, run, {"kind": "test"})
    assert load_experiment(path).state["data_start"] == [2, 8]
    tampered(path, **change)
    with pytest.raises(ModelFileError, match=message):
        load_experiment(path)


def test_a_state_for_other_data_is_still_refused():
    old = data()
    run = build_trainer(SPEC, CONFIG, *old)
    steps(run, 5)
    run.set_data(*edited(old))
    steps(run, 5)
    fresh = Trainer(run.model, CONFIG, *old)
    with pytest.raises(ValueError, match=r"n_train'\]: saved with 32 training samples, this run"):
        fresh.load_state_dict(run.state_dict())

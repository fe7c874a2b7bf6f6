"""The run-health rules alone (core.health) and in training: divergence stops a run with a
reason, a run that does not learn carries a hint, healthy runs get neither, resume agrees."""

import dataclasses
import math

import numpy as np
import pytest

from core import health
from tests.core.test_training import run, toy, trainer_for

LN2 = math.log(2)


def test_chance_loss_is_the_best_constant_prediction():
    assert health.chance_loss(True, np.array([0, 1, 0, 1])) == pytest.approx(LN2)
    p = np.array([0.5, 0.25, 0.25])
    expect = -np.sum(p * np.log(p))
    assert health.chance_loss(True, np.array([2, 0, 1, 0])) == pytest.approx(expect)
    assert health.chance_loss(True, np.array([1, 1, 1])) == 0.0
    y = np.array([[1.0, 0.0], [3.0, 4.0]])
    assert health.chance_loss(False, y) == pytest.approx((1 + 1 + 4 + 4) / 4)
    assert health.chance_loss(False, np.zeros(0)) == 0.0


def test_divergence_rule_on_histories():
    chance = LN2
    # Three epochs over 10x the first epoch's loss: diverged; two are not enough.
    assert health.divergence(np.array([0.7, 8.0, 8.0, 8.0]), chance, 3.0) is not None
    assert health.divergence(np.array([0.7, 0.6, 8.0, 8.0]), chance, 3.0) is None
    assert health.divergence(np.array([0.7, 8.0, 8.0, 0.5]), chance, 3.0) is None
    # A first epoch unusually high (then falling) is no divergence, and never raises the bar
    # below chance level: the reference is max(first epoch, chance).
    assert health.divergence(np.array([500.0, 40.0, 3.0, 0.9]), chance, 3.0) is None
    assert health.divergence(np.array([0.01, 0.5, 0.6, 0.65]), chance, 3.0) is None
    # Weights or outputs beyond 1e15, or non-finite: diverged at once, the size named.
    reason = health.divergence(np.array([0.7]), chance, 2.5e20)
    assert reason is not None and "2.5e+20" in reason and "learning rate" in reason
    assert health.divergence(np.array([0.7]), chance, math.inf) is not None
    assert health.divergence(np.array([0.7]), chance, math.nan) is not None
    assert health.divergence(np.array([0.7]), chance, 1e15) is None


def test_not_learning_rule_on_histories():
    chance = LN2
    stuck = np.array([4.2, 0.75, 0.75, 0.69, 0.70, 0.70, 0.71, 0.69, 0.72, 0.70])
    hint = health.not_learning(stuck, chance)
    assert hint is not None and "10 epochs" in hint and "lower" in hint
    assert health.not_learning(stuck[:9], chance) is None  # too early to say
    # Above chance but still falling (a low learning rate): no hint.
    slow = np.linspace(1.6, 1.0, 30)
    assert health.not_learning(slow, chance) is None
    # Learned, or learning: far below chance.
    assert health.not_learning(np.linspace(0.68, 0.3, 30), chance) is None
    # Learned, then got worse again up to chance level: the hint.
    relapse = np.concatenate([np.linspace(0.6, 0.2, 20), np.full(5, 0.7)])
    assert health.not_learning(relapse, chance) is not None
    # Chance level 0 (one class only): never a hint.
    assert health.not_learning(np.full(20, 0.1), 0.0) is None
    # Settled steadily just below chance: the network cannot fit the data, not a high rate.
    settled = np.concatenate([np.linspace(0.75, 0.688, 8), np.full(12, 0.687)])
    hint = health.not_learning(settled, chance)
    assert hint is not None and "unable to fit" in hint and "lower" not in hint


def test_xor_without_a_hidden_layer_is_told_to_grow_the_network():
    trainer = trainer_for(toy("xor"), hidden=[], optimizer="adam", lr=0.003, epochs=40)
    last = run(trainer, interval=0.0)[-1]
    assert last.reason == "epochs" and last.hint is not None
    assert "hidden layer" in last.hint and "lower" not in last.hint


def epochs_with_hint(snaps):
    return sorted({s.epoch for s in snaps if s.hint})


def test_sgd_at_lr_10_on_the_spiral_diverges_in_the_first_epoch():
    trainer = trainer_for(toy("spiral"), optimizer="sgd", lr=10.0, epochs=50)
    with np.errstate(all="ignore"):
        last = run(trainer)[-1]
    assert last.done and last.epoch == 1
    assert last.reason.startswith("diverged: a weight or output reached")
    assert "lower learning rate" in last.reason


@pytest.mark.parametrize("lr", [1.0, 10.0, 100.0])
def test_adam_at_a_high_rate_on_the_spiral_goes_on_with_a_hint(lr):
    trainer = trainer_for(toy("spiral"), optimizer="adam", lr=lr, epochs=30)
    snaps = run(trainer, interval=0.0)
    last = snaps[-1]
    assert last.reason == "epochs" and last.epoch == 30  # training went on
    assert last.hint is not None and "too high" in last.hint
    assert epochs_with_hint(snaps)[0] == 2 * health.HINT_WINDOW
    assert trainer.chance_loss == pytest.approx(LN2, rel=1e-2)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("spiral", {}),
        ("spiral", {"n_classes": 3, "hidden": (32, 32, 16), "n": 600}),
        ("checkerboard", {"hidden": (32, 32, 16), "n": 800}),
        ("bumps", {"activation": "tanh", "loss": "mse", "n": 600}),
        ("plane", {"hidden": (4,), "activation": "tanh", "loss": "mse", "batch_size": 10}),
        ("xor", {"hidden": (8, 4), "activation": "tanh", "lr": 0.03, "batch_size": 10}),
    ],
)
def test_healthy_presets_get_no_hint_and_do_not_diverge(name, options):
    data_options = {k: options.pop(k) for k in ("n_classes", "n") if k in options}
    trainer = trainer_for(toy(name, **data_options), epochs=150, **options)
    snaps = run(trainer, interval=0.0, detail=False)
    assert snaps[-1].reason == "epochs" and epochs_with_hint(snaps) == []
    assert trainer.history.last("train_loss") < 0.6 * trainer.chance_loss  # it did learn


def test_a_run_whose_first_epoch_is_unusually_high_gets_no_hint_and_does_not_diverge():
    data = toy("bumps", n=600)
    shifted = dataclasses.replace(data, y_train=data.y_train + 10, y_test=data.y_test + 10)
    trainer = trainer_for(shifted, activation="tanh", loss="mse", epochs=60)
    snaps = run(trainer, interval=0.0, detail=False)
    losses = trainer.history.column("train_loss")
    assert losses[0] > 100 * trainer.chance_loss  # the network must first learn the offset
    assert snaps[-1].reason == "epochs" and epochs_with_hint(snaps) == []
    assert losses[-1] < 0.6 * trainer.chance_loss


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_large_regression_targets_are_not_taken_for_divergence():
    data = toy("bumps", n=200)
    scale = 1e16  # targets in the 1e16s: a network that fits them outputs as much
    big = dataclasses.replace(data, y_train=data.y_train + scale, y_test=data.y_test + scale)
    trainer = trainer_for(big, activation="tanh", loss="mse", epochs=5)
    trainer.model.layers[-1].params["b"][:] = scale  # a fit: outputs ≈ targets
    trainer.run_epoch()
    assert trainer.divergence is None
    trainer.model.layers[-1].params["b"][:] = 1e16 * scale  # far beyond any target
    trainer.run_epoch()
    assert trainer.divergence is not None and "reached" in trainer.divergence


def test_resumed_run_reaches_the_same_verdicts():
    def fresh():
        return trainer_for(toy("spiral", n=200), optimizer="adam", lr=10.0, epochs=16)

    whole = run(fresh(), interval=0.0)
    first = fresh()
    for _ in range(7 * first.steps_per_epoch + 3):  # stop in the middle of epoch 8
        first.step()
    resumed = fresh()
    resumed.load_state_dict(first.state_dict())
    assert resumed.hint == first.hint
    rest = run(resumed, interval=0.0)
    by_epoch = {s.epoch: s.hint for s in whole}
    assert all(s.hint == by_epoch[s.epoch] for s in rest)
    assert rest[-1].hint is not None and rest[-1].hint == whole[-1].hint

"""The batch-norm experiment on the app's run path (RunTask on the sweep's worker pool): with
batch norm the network learns fast from weights of any spread; without it, small weights stall
and large ones blow up."""

import numpy as np
import pytest
from lab_images import lab_images, train_all

from core.lab import batch_norm as bn
from core.lab.image_runs import epochs_to, last_value
from core.model import Sequential


@pytest.fixture(scope="module")
def images():
    return lab_images(bn.TRAIN_IMAGES, bn.TEST_IMAGES)


def test_the_pairs_start_from_the_same_dense_weights_of_the_chosen_spread():
    plain, normed = bn.bn_spec(False), bn.bn_spec(True)
    assert [e["type"] for e in normed["layers"][:3]] == ["dense", "batchnorm", "relu"]
    for scale, std in (("std 0.01", 0.01), ("std 1", 1.0), ("He", np.sqrt(2 / 784))):
        a, b = bn.initial_state(plain, scale, seed=3), bn.initial_state(normed, scale, seed=3)
        dense_a = [v for k, v in a.items() if k.endswith(".W")]  # in layer order
        dense_b = [v for k, v in b.items() if k.endswith(".W")]
        assert len(dense_a) == len(dense_b) == 6
        for wa, wb in zip(dense_a, dense_b, strict=True):
            np.testing.assert_array_equal(wa, wb)
        first = next(v for k, v in a.items() if k == "0.W")
        np.testing.assert_allclose(first.std(), std, rtol=0.02)
        assert all(np.all(v == 0) for k, v in a.items() if k.endswith(".b"))
    model = Sequential(normed)
    model.set_state(bn.initial_state(normed, "std 0.1"))  # a state the model takes whole


def test_tasks_come_in_pairs_without_and_with_batch_norm(images):
    tasks = bn.batch_norm_tasks(images, lr=0.03, epochs=7, seed=2)
    assert [t.name for t in tasks[:2]] == ["std 1, without batch norm", "std 1, with batch norm"]
    assert [t.index for t in tasks] == list(range(2 * len(bn.SCALES)))
    assert [t.settings["batchnorm"] for t in tasks] == [False, True] * len(bn.SCALES)
    assert {(t.config.optimizer, t.config.lr, t.config.epochs, t.config.seed) for t in tasks} == {
        ("sgd", 0.03, 7, 2)
    }
    with pytest.raises(ValueError, match="scale: 'std 2' is unknown"):
        bn.initial_state(tasks[0].spec, "std 2")


def test_the_history_readers():
    outcomes = [bn.Outcome(0.9, 4, False), bn.Outcome(0.1, None, False), bn.Outcome(1, 7, False)]
    assert bn.reached(outcomes) == (2, 7) and bn.reached(outcomes[1:2]) == (0, None)
    history = {"epoch": np.arange(1.0, 5.0), "train_acc": np.array([0.2, 0.5, 0.91, 0.95])}
    assert epochs_to(history, "train_acc", 0.9) == 3
    assert epochs_to(history, "train_acc", 0.99) is None
    np.testing.assert_allclose(last_value(history, "train_acc", 2), 0.93, rtol=1e-12)
    assert np.isnan(last_value({"epoch": np.array([])}, "train_acc"))


def test_with_batch_norm_learning_is_fast_and_nearly_independent_of_the_init_scale(images):
    """Three spreads for 12 epochs (the page: four for 20): with batch norm each reaches 80%
    training accuracy within 8 epochs and sooner than without; without, std 0.01 stalls."""
    scales = ("std 0.1", "std 0.01", "He")
    results = train_all(bn.batch_norm_tasks(images, epochs=12, scales=scales))
    plain = [bn.outcome(r) for r in results[0::2]]
    normed = [bn.outcome(r) for r in results[1::2]]
    assert bn.reached(normed)[0] == 3 and bn.reached(normed)[1] <= 8, normed
    assert plain[1].train_acc < 0.2 and plain[1].epochs_to is None  # std 0.01 stalls
    for p, n in zip(plain, normed, strict=True):
        assert p.epochs_to is None or n.epochs_to < p.epochs_to, (p, n)


@pytest.mark.slow
def test_the_pages_whole_experiment(images):
    """All four spreads for 20 epochs: std 1 blows up without batch norm and learns with it."""
    outcomes = [bn.outcome(r) for r in train_all(bn.batch_norm_tasks(images))]
    assert outcomes[0].diverged and outcomes[0].train_acc is None
    assert bn.reached(outcomes[1::2])[0] == 4, outcomes
    assert bn.reached(outcomes[0::2])[0] <= 2, outcomes
    assert outcomes[4].epochs_to is None  # std 0.01 without batch norm

"""The overfitting experiment on the app's run path (RunTask on the sweep's worker pool): on 300
images the big MLP learns every training image while its test accuracy stays far below and its
test loss climbs again; dropout 0.5 keeps it learning and testing as well; a little weight decay
stops the test loss climbing, too much costs test accuracy, then all learning.

The thresholds leave room: on seeds 0–2 of MNIST and Fashion-MNIST the run without
regularization ends at training accuracy 1.00 with a gap of 0.16–0.23 and its test loss up
0.08–0.29 from its lowest; dropout 0.5 at training accuracy ≥ 0.96, test accuracy −0.02 to
+0.02 of it; weight decay 0.01 with the test loss up 0.02–0.10; 0.1 testing 0.04–0.12 lower;
0.3 at training accuracy ≤ 0.43."""

import numpy as np
import pytest
from lab_images import lab_images, train_all

from core.lab import regularization as rg


@pytest.fixture(scope="module")
def images():
    return lab_images(rg.TRAIN_IMAGES, rg.TEST_IMAGES)


@pytest.fixture(scope="module")
def plain_and_dropped(images):
    """The fits of the runs without regularization and with dropout 0.5."""
    tasks = [rg.regularization_task(images, dropout=p, index=i) for i, p in enumerate((0, 0.5))]
    return [rg.fit(r.history) for r in train_all(tasks)]


def test_the_task_is_a_wide_network_with_the_chosen_regularization(images):
    assert images.x_train.shape == (300, 784) and np.all(np.bincount(images.y_train) == 30)
    task = rg.regularization_task(images, weight_decay=0.1, dropout=0.2, seed=5, index=3)
    kinds = [e["type"] for e in task.spec["layers"]]
    assert kinds == ["dense", "relu", "dropout"] * 2 + ["dense"]
    assert [e["units"] for e in task.spec["layers"] if e["type"] == "dense"] == [256, 256, 10]
    assert {e["rate"] for e in task.spec["layers"] if e["type"] == "dropout"} == {0.2}
    c = task.config
    assert (c.optimizer, c.lr, c.batch_size, c.l2, c.epochs, c.seed) == (
        "adam",
        0.001,
        50,
        0.1,
        60,
        5,
    )
    assert (task.index, task.name) == (3, "weight decay 0.1, dropout 0.2")
    assert "dropout" not in [e["type"] for e in rg.overfit_spec(0.0)["layers"]]
    assert rg.run_name(0, 0) == "no regularization"


def test_the_fit_reads_the_last_epochs():
    history = {
        "train_acc": np.r_[np.zeros(5), np.full(10, 0.9)],
        "test_acc": np.r_[np.zeros(5), np.full(10, 0.6)],
        "test_loss": np.r_[np.linspace(2.0, 0.5, 5), np.full(10, 0.8)],
    }
    fit = rg.fit(history)
    np.testing.assert_allclose([fit.gap, fit.test_loss], [0.3, 0.8], rtol=1e-9)
    np.testing.assert_allclose(rg.gap(history), 0.3, rtol=1e-9)
    np.testing.assert_allclose(rg.rise_of_test_loss(history), 0.3, rtol=1e-9)


def test_the_verdict_says_what_a_smaller_gap_cost():
    plain = rg.Fit(1.0, 0.83, 0.7)
    assert plain.verdict(plain) == "" and plain.verdict(None) == ""
    assert rg.Fit(1.0, 0.84, 0.7).verdict(plain) == "memorized"
    assert rg.Fit(0.93, 0.82, 0.6).verdict(plain) == ""
    assert rg.Fit(0.93, 0.77, 0.9).verdict(plain) == "worse"
    assert rg.Fit(0.2, 0.2, 2.3).verdict(plain) == "underfit"


def test_without_regularization_it_learns_the_images_by_heart(plain_and_dropped):
    plain, _ = plain_and_dropped
    assert plain.train_acc > 0.97
    assert plain.gap > 0.12


def test_dropout_half_still_learns_and_tests_as_well(plain_and_dropped):
    plain, dropped = plain_and_dropped
    assert dropped.train_acc > 0.9  # far from the book's deep net, stuck near 25% with it
    assert dropped.test_acc > plain.test_acc - 0.03
    # with 300 images it still learns nearly all by heart: the gap moves little, either way
    assert dropped.gap < plain.gap + 0.03


@pytest.mark.slow
def test_a_little_weight_decay_stops_the_test_loss_climbing_and_more_costs_accuracy(images):
    tasks = [
        rg.regularization_task(images, weight_decay=wd, index=i)
        for i, wd in enumerate((0, 0.01, 0.1, 0.3))
    ]
    results = train_all(tasks)
    rises = [rg.rise_of_test_loss(r.history) for r in results[:2]]
    assert rises[0] > 0.06 and rises[1] < 0.5 * rises[0], rises
    plain, little, much, too_much = (rg.fit(r.history) for r in results)
    assert little.test_acc > plain.test_acc - 0.03
    assert much.train_acc < plain.train_acc - 0.03  # it no longer fits every training image
    assert much.verdict(plain) == "worse"
    assert too_much.verdict(plain) == "underfit"

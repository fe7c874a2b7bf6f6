"""The overfitting experiment on the app's run path (RunTask on the sweep's worker pool): on 300
images the big MLP's training accuracy runs away from its test accuracy; weight decay and
dropout close the gap."""

import numpy as np
import pytest
from lab_images import lab_images, train_all

from core.lab import regularization as rg
from core.lab.image_runs import last_value


@pytest.fixture(scope="module")
def images():
    return lab_images(rg.TRAIN_IMAGES, rg.TEST_IMAGES)


def test_the_task_is_the_books_network_with_the_chosen_regularization(images):
    assert images.x_train.shape == (300, 784) and np.all(np.bincount(images.y_train) == 30)
    task = rg.regularization_task(images, weight_decay=0.1, dropout=0.2, seed=5, index=3)
    kinds = [e["type"] for e in task.spec["layers"]]
    assert kinds.count("dense") == 7 and kinds.count("dropout") == 6
    assert {e["rate"] for e in task.spec["layers"] if e["type"] == "dropout"} == {0.2}
    c = task.config
    assert (c.optimizer, c.lr, c.l2, c.epochs, c.seed) == ("sgd", 0.01, 0.1, 200, 5)
    assert (task.index, task.name) == (3, "weight decay 0.1, dropout 0.2")
    assert "dropout" not in [e["type"] for e in rg.overfit_spec(0.0)["layers"]]
    assert rg.run_name(0, 0) == "no regularization"


def test_the_gap_is_training_minus_test_accuracy_over_the_last_epochs():
    history = {
        "train_acc": np.r_[np.zeros(5), np.full(10, 0.9)],
        "test_acc": np.r_[np.zeros(5), np.full(10, 0.6)],
    }
    np.testing.assert_allclose(rg.gap(history), 0.3, rtol=1e-9)


def test_dropout_half_gives_a_smaller_gap_than_none(images):
    tasks = [
        rg.regularization_task(images, dropout=p, epochs=100, index=i)
        for i, p in enumerate((0, 0.5))
    ]
    plain, dropped = train_all(tasks)
    assert last_value(plain.history, "train_acc", 10) > 0.9  # it memorizes the 300 images
    assert rg.gap(plain.history) > 0.15
    assert rg.gap(dropped.history) < rg.gap(plain.history) - 0.1


@pytest.mark.slow
def test_the_gap_shrinks_as_weight_decay_grows(images):
    tasks = [
        rg.regularization_task(images, weight_decay=wd, index=i)
        for i, wd in enumerate((0, 0.1, 0.3))
    ]
    gaps = [rg.gap(r.history) for r in train_all(tasks)]
    assert gaps[0] > gaps[1] > gaps[2], gaps

"""The bounded per-step loss record: exact while it fits, then pairwise merged, never losing
the run's start or its mean."""

import numpy as np
import pytest

from core.trace import LossTrace


def fill(trace, losses):
    for step, loss in enumerate(losses, 1):
        trace.add(step, loss)


def test_keeps_every_step_while_it_fits():
    trace = LossTrace(capacity=8)
    fill(trace, [5.0, 4.0, 3.0])
    steps, loss = trace.arrays()
    assert steps.tolist() == [1, 2, 3] and loss.tolist() == [5.0, 4.0, 3.0]


def test_merges_pairs_when_full_and_keeps_the_mean():
    rng = np.random.default_rng(0)
    losses = rng.random(1000)
    trace = LossTrace(capacity=16)
    fill(trace, losses)
    steps, loss = trace.arrays()
    assert trace.width == 64 and len(steps) <= 16
    assert np.all(np.diff(steps) == trace.width)  # evenly spaced, each the end of its bucket
    assert steps[0] == trace.width
    covered = steps[-1]
    # Each point is the mean of the `width` steps it covers.
    np.testing.assert_allclose(loss, losses[:covered].reshape(-1, trace.width).mean(axis=1))


def test_arrays_are_copies():
    trace = LossTrace(capacity=4)
    fill(trace, [1.0, 2.0])
    steps, loss = trace.arrays()
    loss[:] = 0
    assert trace.arrays()[1].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("capacity", [0, 1, 3])
def test_capacity_must_be_even(capacity):
    with pytest.raises(ValueError, match="capacity"):
        LossTrace(capacity)

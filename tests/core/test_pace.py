"""The training speed limiter with an injected clock (exact), and speeds by their labels."""

import pytest

from core.pace import MAX, Pace, Speed


class Clock:
    """A clock that moves only when told; counts its readings."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


def test_quick_pieces_wait_for_their_share_of_a_second():
    clock = Clock()
    pace = Pace(4.0, clock)  # 4 steps a second
    assert pace.delay() == 0.0  # the first piece at once
    pace.done(1)
    assert pace.delay() == 0.25
    clock.now += 0.1
    assert pace.delay() == pytest.approx(0.15, abs=1e-12)
    clock.now += 0.15
    assert pace.delay() == 0.0
    pace.done(2)  # a piece of two steps
    assert pace.delay() == 0.5


def test_waits_that_end_late_do_not_slow_the_pace():
    clock = Clock(0.0)
    pace = Pace(10.0, clock)
    for _ in range(100):
        clock.now += pace.delay() + 0.003  # every wait ends 3 ms late
        pace.done(1)  # an instant step
    # 100 steps due 0.1 s apart: the last one began at 9.9 s (+3 ms), not 100 × 3 ms later
    assert clock.now == pytest.approx(9.903, abs=1e-9)


def test_a_slow_piece_is_made_up_for_only_briefly():
    clock = Clock(0.0)
    pace = Pace(10.0, clock, catch_up=0.25)
    pace.done(1)
    clock.now = 0.1
    clock.now += 2.0  # this step took 2 s: 20 steps' worth
    pace.done(1)
    # 0.25 s of catching up (2.5 steps' worth): three steps at once, then the pace again
    for _ in range(3):
        assert pace.delay() == 0.0
        pace.done(1)
    assert pace.delay() == pytest.approx(0.05, abs=1e-12)
    clock.now += 0.05
    pace.done(1)
    assert pace.delay() == pytest.approx(0.1, abs=1e-12)


def test_a_hiccup_does_not_lower_the_pace():
    clock = Clock(0.0)
    pace = Pace(100.0, clock)  # catching up for up to 0.1 s
    for n in range(200):
        clock.now += pace.delay()
        clock.now += 0.03 if n == 50 else 0.001  # one piece takes 30 ms, its share is 10 ms
        pace.done(1)
    # 200 pieces at 100/s: the last one begins at 1.99 s, as without the hiccup
    assert clock.now == pytest.approx(1.991, abs=1e-9)


def test_restart_after_a_pause_gives_no_credit_and_max_never_waits():
    clock = Clock(0.0)
    pace = Pace(1.0, clock)
    pace.done(1)
    clock.now = 60.0  # paused for a minute
    pace.restart()
    pace.done(1)
    assert pace.delay() == 1.0
    pace.set_rate(None)  # max: no wait, and the clock is not even read
    reads = clock.reads
    for _ in range(1000):
        pace.done(1)
        assert pace.delay() == 0.0
    assert clock.reads == reads


def test_a_new_rate_applies_at_once():
    clock = Clock(0.0)
    pace = Pace(1.0, clock)
    pace.done(1)
    assert pace.delay() == 1.0
    pace.set_rate(100.0)  # faster: the pending second-long wait is dropped
    assert pace.delay() == 0.0
    pace.done(1)
    assert pace.delay() == 0.01


@pytest.mark.parametrize("rate", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_rates_are_refused(rate):
    with pytest.raises(ValueError, match="allowed: a positive number"):
        Pace(rate)
    with pytest.raises(ValueError, match="allowed: a positive number"):
        Speed(rate)


def test_speeds_by_label():
    for label, speed in [
        ("1 step/s", Speed(1, "step")),
        ("10 steps/s", Speed(10, "step")),
        ("1 epoch/s", Speed(1)),
        ("20 epochs/s", Speed(20)),
        ("0.5 epochs/s", Speed(0.5)),
        ("max", MAX),
    ]:
        assert speed.label == label
        assert Speed.parse(label) == speed
    assert Speed(20).steps_per_second(16) == 320
    assert Speed(10, "step").steps_per_second(16) == 10
    assert MAX.steps_per_second(16) is None
    for bad in ["", "fast", "10 epochs", "-1 step/s", "0 steps/s", "1 min/s"]:
        with pytest.raises(ValueError, match=r'allowed: "max", "N steps/s"|a positive number'):
            Speed.parse(bad)
    with pytest.raises(ValueError, match="allowed: step, epoch"):
        Speed(1, "batch")

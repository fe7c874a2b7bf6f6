"""Rate-limited updates: at most one call per interval, never missing the newest value."""

from PySide6.QtCore import QObject

from playground.throttle import Throttled


def test_first_call_is_immediate_and_the_newest_value_follows(qtbot):
    calls = []
    owner = QObject()
    throttled = Throttled(calls.append, 50, owner)
    throttled(1)
    throttled(2)
    throttled(3)
    assert calls == [1]  # 2 was replaced by 3 while waiting
    qtbot.waitUntil(lambda: calls == [1, 3], timeout=1000)
    qtbot.wait(120)  # nothing else is kept, so nothing else comes
    assert calls == [1, 3]


def test_flush_and_cancel(qtbot):
    calls = []
    owner = QObject()
    throttled = Throttled(calls.append, 10_000, owner)
    throttled("a")
    throttled("b")
    throttled.flush()
    assert calls == ["a", "b"]
    throttled("c")
    throttled.cancel()
    throttled.flush()
    assert calls == ["a", "b"]
    throttled("d")  # the interval was cancelled too: shown at once
    assert calls == ["a", "b", "d"]


def test_later_waits_for_the_interval_and_keeps_the_newest(qtbot):
    calls = []
    owner = QObject()
    throttled = Throttled(calls.append, 30, owner)
    throttled.later(1)
    throttled.later(2)
    assert calls == []
    qtbot.waitUntil(lambda: calls == [2], timeout=1000)

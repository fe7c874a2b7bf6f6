"""The engine's command loop (engine_main, in a thread): a rate typed while the engine is still
building an earlier run belongs to the run the GUI shows, not to the one being built."""

import queue
import threading

import numpy as np

from core.spec import mlp_spec
from core.training.config import TrainConfig
from playground import engine as engine_module
from playground.engine import PAUSED
from playground.engine_process import engine_main
from playground.run_setup import RunSetup


class Conn:
    """The engine's end of the pipe: commands come from a queue, messages are recorded.
    ``waiting`` is set while the reader waits for a command (all earlier ones are handled)."""

    def __init__(self) -> None:
        self.commands: queue.Queue = queue.Queue()
        self.sent: list[tuple] = []
        self.waiting = threading.Event()
        self.changed = threading.Condition()

    def recv(self) -> tuple:
        if self.commands.empty():
            self.waiting.set()
        command = self.commands.get(timeout=10)
        self.waiting.clear()
        return command

    def send(self, message: tuple) -> None:
        with self.changed:
            self.sent.append(message)
            self.changed.notify_all()

    def wait_for(self, message: tuple) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: message in self.sent, timeout=10)


def run(run_id: int, optimizer: str) -> RunSetup:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 2)).astype(np.float32), rng.integers(0, 2, 40)
    config = TrainConfig(optimizer=optimizer, lr=0.001, batch_size=8)
    return RunSetup(mlp_spec(2, [4], 2), config, x, y, x, y, run_id=run_id)


def test_a_rate_sent_while_an_earlier_run_is_built_reaches_the_next_run(monkeypatch):
    built, release = [], threading.Event()
    build = engine_module.build_trainer

    def slow_build(*args, **kwargs):  # the first run takes long to build (e.g. loading images)
        if not built:
            built.append(None)
            assert release.wait(10)
        trainer = build(*args, **kwargs)
        built.append(trainer)
        return trainer

    monkeypatch.setattr(engine_module, "build_trainer", slow_build)
    conn = Conn()
    errors = np.geterr()
    engine = threading.Thread(target=engine_main, args=(conn,), daemon=True)
    conn.commands.put(("setup", run(1, "sgd")))
    conn.commands.put(("setup", run(2, "adam")))  # the optimizer changed
    conn.commands.put(("lr", 0.25))  # then the rate, typed at once
    try:
        engine.start()  # all three wait before the reader starts: it can't idle in between
        assert conn.waiting.wait(10)  # the reader has taken all three
        release.set()
        conn.commands.put(("step",))
        assert conn.wait_for(("state", 2, PAUSED, ""))
        conn.commands.put(("quit",))
        engine.join(10)
    finally:
        np.seterr(**errors)
        release.set()
    first, second = built[1:]
    assert second.optimizer.name == "adam" and second.lr == 0.25
    assert first.lr == 0.001  # the run that was replaced kept its own rate
    snapshots = [m[2] for m in conn.sent if m[0] == "snapshot" and m[1] == 2]
    assert snapshots[-1].lr == 0.25 and snapshots[-1].epoch == 1

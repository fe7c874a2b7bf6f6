"""Hostile model and experiment files: zip bombs, lying sizes and headers, pipes, temporary files
of killed saves. Each is refused with ModelFileError after decompressing no more than what the
file's own architecture needs (counted exactly), within a bounded memory (a subprocess's peak
RSS) and without blocking."""

import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.archive import ModelFileError, peek_format
from core.atomic import STALE_TEMP_SECONDS
from core.experiment import load_experiment, save_experiment
from core.io import load_model, save_model
from core.model import Sequential
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import build_trainer
from tests.core.archives import (
    MB,
    add_zero_member,
    counting_decompression,
    load_cost,
    npy_header,
    rewrite,
)
from tests.probe import child_env

SPEC = mlp_spec(2, [8], 3, batchnorm=True)


def experiment(path, steps=7, optimizer="adam"):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1.5, (24, 2)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    trainer = build_trainer(SPEC, TrainConfig(optimizer=optimizer, batch_size=5), x, y)
    for _ in range(steps):
        trainer.step()
    save_experiment(path, trainer, {"name": "test"})
    return trainer


@pytest.fixture
def decompressed():
    """Bytes decompressed from zip members, counted where zipfile inflates them."""
    with counting_decompression() as count:
        yield count


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "good.npz"
    save_model(Sequential(SPEC, seed=0), path)
    return path


def copy_of(path, tmp_path, name="bad.npz"):
    target = tmp_path / name
    target.write_bytes(Path(path).read_bytes())
    return target


# -- bombs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("load", [load_model, peek_format])
def test_unknown_member_is_refused_before_it_is_decompressed(
    model_file, tmp_path, decompressed, load
):
    path = copy_of(model_file, tmp_path)
    add_zero_member(path, "extra.npy", 64 * MB)
    decompressed[0] = 0
    if load is peek_format:  # File ▸ Open reads only meta.json to tell models from experiments
        assert load(path) == "nn-playground/model"
    else:
        with pytest.raises(ModelFileError, match="unexpected arrays 'extra'"):
            load(path)
    assert decompressed[0] <= os.path.getsize(model_file)  # meta.json and the weights at most


def test_oversized_or_lying_members_are_refused_unread(model_file, tmp_path, decompressed):
    # A member the architecture needs, declaring 64 MB of zeros instead of 2x8 floats.
    big = copy_of(model_file, tmp_path, "big.npz")
    rewrite(big, lambda arrays, meta: arrays.pop("param/0.W"))
    add_zero_member(big, "param/0.W.npy", 64 * MB)
    # A header that claims 10^12 floats in a member of 8 bytes.
    lying = copy_of(model_file, tmp_path, "lying.npz")
    rewrite(lying, lambda arrays, meta: arrays.pop("param/0.W"))
    with zipfile.ZipFile(lying, "a") as zf:
        zf.writestr("param/0.W.npy", npy_header((10**6, 10**6)) + bytes(8))
    decompressed[0] = 0
    with pytest.raises(
        ModelFileError, match=r"param/0.W declares 67,108,992 bytes; an array of shape \(2, 8\)"
    ):
        load_model(big)
    assert decompressed[0] <= os.path.getsize(model_file)
    with pytest.raises(ModelFileError, match=r"param/0.W has shape \(1000000, 1000000\)"):
        load_model(lying)


def test_experiment_bombs_are_refused_before_decompression(tmp_path, decompressed):
    good = tmp_path / "good.npz"
    experiment(good)
    extra = copy_of(good, tmp_path, "extra.npz")
    add_zero_member(extra, "optimizer/momentum_buffer.npy", 64 * MB)
    history = copy_of(good, tmp_path, "history.npz")  # a history far longer than its epochs
    rewrite(history, lambda arrays, meta: arrays.pop("history"))
    add_zero_member(history, "history.npy", 64 * MB, shape=(64 * MB // 64, 8))
    decompressed[0] = 0
    with pytest.raises(ModelFileError, match="unexpected arrays 'optimizer/momentum_buffer'"):
        load_experiment(extra)
    with pytest.raises(ModelFileError, match="history declares"):
        load_experiment(history)
    assert decompressed[0] <= 2 * os.path.getsize(good)


def test_a_huge_member_the_meta_asks_for_is_refused_by_its_ratio(tmp_path, decompressed):
    """meta.json may claim 2^20 epochs; a history of zeros that long expands ~1000 times."""
    path = tmp_path / "e.npz"
    experiment(path, steps=5)  # one epoch of 5 steps
    epochs = 2**20

    def claim(arrays, meta):
        arrays.pop("history")
        meta["trainer"].update(epoch=epochs, steps=epochs * 5, position=24)
        meta["optimizer"]["step"] = epochs * 5

    rewrite(path, claim)
    add_zero_member(path, "history.npy", epochs * 64, shape=(epochs, 8))
    decompressed[0] = 0
    with pytest.raises(ModelFileError, match="history expands .* times"):
        load_experiment(path)
    assert decompressed[0] < MB


def bomb_costs(model_file, tmp_path, n_bytes):
    path = copy_of(model_file, tmp_path)
    add_zero_member(path, "extra.npy", n_bytes)
    _, _, baseline = load_cost(model_file)
    _, seconds, peak = load_cost(path)
    return peak - baseline, seconds


def test_a_bomb_costs_little_memory(model_file, tmp_path):
    above, seconds = bomb_costs(model_file, tmp_path, 200 * MB)
    assert above < 100 * MB and seconds < 10


@pytest.mark.slow
def test_the_reported_1_9_gb_bomb_costs_little_memory(model_file, tmp_path):
    above, seconds = bomb_costs(model_file, tmp_path, 1900 * MB)
    assert above < 100 * MB and seconds < 10


# -- pipes ---------------------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("load", [load_model, load_experiment, peek_format])
def test_a_fifo_is_refused_without_blocking(tmp_path, load):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)

    def unblock():  # releases a reader that waits for a writer, so a failing test ends
        time.sleep(3)
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # no reader waits: nothing to release
            pass

    threading.Thread(target=unblock, daemon=True).start()
    with pytest.raises(ModelFileError, match="not a regular file"):
        load(fifo)


# -- temporary files of saves ---------------------------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="advisory locks (fcntl) are POSIX")
def test_stale_temporary_files_are_removed_and_live_ones_kept(model_file, tmp_path):
    import fcntl

    path = copy_of(model_file, tmp_path, "m.npz")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    dead_pid = int(gone.stdout)
    dead = tmp_path / f".m.npz.{dead_pid}.abc.tmp"
    old = tmp_path / f".m.npz.{os.getppid()}.def.tmp"  # a running writer's PID, but long idle
    live = tmp_path / f".m.npz.{dead_pid}.ghi.tmp"  # a PID reused, but locked: being written
    unrelated = tmp_path / ".other.npz.1.x.tmp"
    for p in (dead, old, live, unrelated):
        p.write_bytes(b"partial")
    os.utime(old, (time.time() - STALE_TEMP_SECONDS - 60,) * 2)
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        load_model(path)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["m.npz", live.name, unrelated.name]
        )
    save_model(Sequential(SPEC, seed=1), path)  # the lock is gone with its file descriptor
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.npz", unrelated.name])


SAVER = """
import sys
from core.io import save_model
from core.model import Sequential
spec = {spec!r}
model = Sequential(spec, seed=int(sys.argv[2]))
for _ in range(int(sys.argv[3])):
    save_model(model, sys.argv[1])
"""


def test_concurrent_savers_never_break_each_other(tmp_path):
    """Two processes save the same file 40 times each: every save succeeds, the file is one of
    the two models, and no temporary file remains."""
    path = tmp_path / "m.npz"
    spec = mlp_spec(64, [256], 3)
    env = child_env()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SAVER.format(spec=spec), str(path), str(seed), "40"],
            env=env,
            stderr=subprocess.PIPE,
        )
        for seed in (1, 2)
    ]
    errors = [p.communicate()[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    model, _ = load_model(path)
    assert any(np.array_equal(model.theta, Sequential(spec, seed=s).theta) for s in (1, 2))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]

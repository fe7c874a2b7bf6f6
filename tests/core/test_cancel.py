"""Cancelling long reads (core.cancel): the readers of big files check the calling thread's flag
between pieces of work, stop with Cancelled (never a file error), and give the same results as
before when nobody cancels."""

import hashlib
import threading

import numpy as np
import pytest
from dev_data import DEV_MNIST
from idx_server import NAMES, idx_bytes, write_folder

from core.cancel import HASH_PIECE, Cancelled, cancel_on, check, update_hash
from core.data.csv import read_points_csv
from core.data.idx import read_idx
from core.data.loading import load_folder
from core.data.prepare import normalize
from core.experiment import file_sha256, load_experiment, save_experiment
from core.io import load_model, save_model
from core.model import Sequential
from core.spec import mlp_spec
from core.training.config import TrainConfig
from core.training.trainer import build_trainer


class SetAfter:
    """A flag that is set from its ``n``-th check on; counts the checks."""

    def __init__(self, n: int) -> None:
        self.n, self.checks = n, 0

    def is_set(self) -> bool:
        self.checks += 1
        return self.checks >= self.n


def cancelled(flag, read) -> None:
    with cancel_on(flag), pytest.raises(Cancelled):
        read()


def test_check_raises_only_inside_a_cancelled_scope_and_passes_except_exception():
    check()  # no flag: a script or notebook never stops
    flag = threading.Event()
    with cancel_on(flag):
        check()
        flag.set()
        try:
            check()
        except Exception:  # the readers' "any decoding error is a bad file" clauses
            pytest.fail("Cancelled must not be an Exception")
        except Cancelled:
            pass
    check()  # the scope has ended


def test_a_flag_is_the_current_threads_own():
    flag = threading.Event()
    flag.set()
    seen = []
    with cancel_on(flag):
        thread = threading.Thread(target=lambda: seen.append(check()))
        thread.start()
        thread.join()
    assert seen == [None]  # another thread is not cancelled


def test_update_hash_gives_the_same_digest_and_stops_between_pieces():
    data = np.random.default_rng(0).integers(0, 255, 3 * HASH_PIECE + 8, dtype=np.uint8)
    for chunk in (data, data.reshape(-1, 8), data[:0], b"abc"):
        whole, pieces = hashlib.sha256(), hashlib.sha256()
        whole.update(chunk)
        update_hash(pieces, chunk)
        assert pieces.hexdigest() == whole.hexdigest()
    flag = SetAfter(3)
    cancelled(flag, lambda: update_hash(hashlib.sha256(), data))
    assert flag.checks == 3  # stopped in the middle


@pytest.mark.parametrize("compress", [False, True])
def test_idx_reading_stops_mid_file(tmp_path, compress):
    images = np.random.default_rng(1).integers(0, 255, (4000, 28, 28), dtype=np.uint8)  # 3 MB
    folder = write_folder(tmp_path / "f", {NAMES[0]: idx_bytes(images)}, compress=compress)
    path = next(folder.iterdir())
    assert np.array_equal(read_idx(path), images)
    flag = SetAfter(2)
    cancelled(flag, lambda: read_idx(path))
    assert flag.checks == 2


def test_a_folder_of_the_real_images_is_checked_at_least_every_two_megabytes():
    if not DEV_MNIST.is_dir():
        pytest.skip("the development copy of MNIST is not here")
    flag = SetAfter(10**9)  # never set: counts the checks of a whole read
    with cancel_on(flag):
        ds = load_folder(DEV_MNIST)
    raw = ds.x_train.nbytes + ds.x_test.nbytes
    assert flag.checks >= raw / (2 * 1024**2)
    cancelled(SetAfter(5), lambda: load_folder(DEV_MNIST))


def test_normalize_stops_between_pieces_and_is_unchanged():
    x = np.random.default_rng(2).integers(0, 256, (7000, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(normalize(x), x.astype(np.float32) / np.float32(255.0))
    assert normalize(np.uint8(255)) == 1.0  # one pixel too
    cancelled(SetAfter(2), lambda: normalize(x))


def test_model_and_experiment_files_stop_mid_read(tmp_path):
    spec = mlp_spec(784, [512], 10)  # a 1.6 MB weight: read in pieces
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64)
    trainer = build_trainer(spec, TrainConfig(batch_size=32), x, y)
    trainer.step()
    experiment, model = tmp_path / "e.npz", tmp_path / "m.npz"
    save_experiment(experiment, trainer, {"name": "test"})
    save_model(trainer.model, model)
    for read in (lambda: load_model(model), lambda: load_experiment(experiment)):
        flag = SetAfter(10**9)
        with cancel_on(flag):
            read()  # unchanged without a Cancel
        assert flag.checks > 2
        cancelled(SetAfter(2), read)
    assert isinstance(load_model(model)[0], Sequential)


def test_fingerprint_file_hash_and_csv_stop(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((4000, 784), dtype=np.float32)  # 12.5 MB
    trainer = build_trainer(mlp_spec(784, [4], 2), TrainConfig(), x, rng.integers(0, 2, 4000))
    cancelled(SetAfter(2), trainer.data_fingerprint)
    fingerprint = trainer.data_fingerprint()  # not kept from the cancelled try
    h = hashlib.sha256()
    for a in (trainer.x_train, trainer.y_train):
        h.update(f"{a.dtype.str}{a.shape};".encode())
        h.update(np.ascontiguousarray(a).data)
    h.update(b"none;none;")
    assert fingerprint == h.hexdigest()
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2,label\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(40000)))
    cancelled(SetAfter(2), lambda: read_points_csv(csv))
    cancelled(SetAfter(1), lambda: file_sha256(csv))

"""Model files: round trips, atomic writes and refusal of bad files."""

import json

import numpy as np
import pytest

from core.io import ModelFileError, load_model, save_model
from core.model import Sequential
from core.spec import mlp_spec


@pytest.fixture
def model():
    m = Sequential(mlp_spec(2, [8, 8], 3, activation="tanh", batchnorm=True), seed=3)
    m.forward(np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32), training=True)
    return m


def test_round_trip_gives_identical_predictions(model, tmp_path):
    path = tmp_path / "m.npz"
    save_model(model, path, {"dataset": "spiral"})
    loaded, meta = load_model(path)
    x = np.random.default_rng(1).normal(size=(50, 2))
    assert np.array_equal(loaded.predict_proba(x), model.predict_proba(x))
    assert meta == {"dataset": "spiral"} and loaded.spec == model.spec


def test_file_is_plain_numpy_without_pickle(model, tmp_path):
    path = tmp_path / "m.npz"
    save_model(model, path)
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta.json"]))
        assert meta["format"] == "nn-playground/model" and meta["version"] == 1
        assert data["param/0.W"].shape == (2, 8)
        assert "buffer/1.running_var" in data.files


def test_failed_save_leaves_previous_file(model, tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save_model(model, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError):
        save_model(model, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary left behind


@pytest.mark.parametrize("corrupt", ["truncated", "garbage", "nan", "shape", "version", "pickle"])
def test_bad_files_raise_model_file_error(model, tmp_path, corrupt):
    path = tmp_path / "bad.npz"
    save_model(model, path)
    arrays = dict(np.load(path, allow_pickle=False))
    if corrupt == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif corrupt == "garbage":
        path.write_bytes(b"not a zip at all")
    else:
        if corrupt == "nan":
            arrays["param/0.W"] = np.full((2, 8), np.nan, np.float32)
        elif corrupt == "shape":
            arrays["param/0.W"] = np.zeros((3, 8), np.float32)
        elif corrupt == "version":
            meta = json.loads(str(arrays["meta.json"]))
            meta["version"] = 99
            arrays["meta.json"] = np.array(json.dumps(meta))
        elif corrupt == "pickle":
            arrays["param/0.W"] = np.array([{"x": 1}], dtype=object)
        np.savez(path, **arrays)
    with pytest.raises(ModelFileError):
        load_model(path)

"""File ▸ Export as PyTorch writes the network on screen as a PyTorch file that predicts what
the app shows; File ▸ Open puts PyTorch weights (.safetensors) into the network on screen."""

import importlib.util

import numpy as np
import pytest
import waiting
from test_file_menu import (
    file_action,
    grid_inputs,
    open_file,
    shown_predictions,
    step_epoch,
    written,
)
from test_file_menu import warnings as warnings  # noqa: F401 (a fixture)

from core.model import Sequential
from core.torch_export import torch_state
from playground.worker import IDLE
from tests.core.test_safetensors import write_safetensors


def test_export_as_pytorch_predicts_what_the_app_shows(window, qtbot, tmp_path):
    pytest.importorskip("torch")
    assert file_action(window, "Export as PyTorch…") is not None
    step_epoch(qtbot, window)
    expected = shown_predictions(window)
    target = str(tmp_path / "spiral_torch.py")
    path = written(qtbot, window, lambda: window.files.export_model("torch", target))
    spec = importlib.util.spec_from_file_location("exported_torch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x = grid_inputs(["x1", "x2"])
    np.testing.assert_allclose(module.predict_proba(x), expected, rtol=1e-5, atol=1e-5)
    assert module.METADATA["dataset"] == "spiral"
    optimizer = module.optimizer(module.load())
    training = window.plane.training_panel.config()
    assert optimizer.defaults["lr"] == pytest.approx(training.lr)


def test_pytorch_weights_open_into_the_network_on_screen(window, qtbot, tmp_path):
    spec = window.workspace.spec
    model = Sequential(spec, rng=np.random.default_rng(7))  # other weights than the run's
    path = write_safetensors(tmp_path / "weights.safetensors", torch_state(model))
    session = window.workspace.session()
    open_file(qtbot, window, path)
    snap = window.workspace.last_snapshot
    assert snap.step == 0 and window.controller.state == IDLE
    assert window.workspace.session() == session  # the same network, now with those weights
    for name, value in model.get_state().items():
        np.testing.assert_array_equal(snap.weights[name], value, err_msg=name)
    expected = model.predict_proba(grid_inputs(["x1", "x2"]))
    np.testing.assert_allclose(shown_predictions(window), expected, rtol=1e-5, atol=1e-5)


def test_weights_of_another_network_are_refused_and_change_nothing(
    window, qtbot, tmp_path, warnings
):
    other = Sequential({**window.workspace.spec, "layers": [{"type": "dense", "units": 2}]})
    path = write_safetensors(tmp_path / "other.safetensors", torch_state(other))
    before = window.workspace.last_snapshot
    assert not waiting.open_file(qtbot, window, path)
    assert len(warnings) == 1 and "other.safetensors" in warnings[0]
    assert "the network in the editor has" in warnings[0]
    assert window.workspace.last_snapshot is before


def test_opening_weights_keeps_the_rates_changed_live(window, qtbot, tmp_path):
    panel = window.plane.training_panel
    panel.lr.setValue(0.0042)  # applies live: no new run
    assert panel.config().lr == pytest.approx(0.0042)
    model = Sequential(window.workspace.spec, rng=np.random.default_rng(8))
    path = write_safetensors(tmp_path / "w.safetensors", torch_state(model))
    open_file(qtbot, window, path)
    assert panel.config().lr == pytest.approx(0.0042)
    assert window.workspace.run_session.training.lr == pytest.approx(0.0042)

"""Session settings (no Qt): presets build, JSON round trips, point edits, clear errors."""

import numpy as np
import pytest

from core.model import Sequential
from playground.presets import presets
from playground.session import LayerSettings, Session


@pytest.mark.parametrize("name", sorted(presets()))
def test_every_preset_builds_a_valid_run(name):
    session = presets()[name]
    data = session.build_dataset()
    spec = session.build_spec(data)
    model = Sequential(spec)
    assert model.input_shape == (len(session.data.features),)
    session.training.validate()
    assert Session.from_json(session.to_json()).to_dict() == session.to_dict()


def test_output_units_follow_the_task_and_loss():
    session = presets()["spiral-3"]
    data = session.build_dataset()
    assert session.build_spec(data)["layers"][-1]["units"] == 3
    regression = presets()["bumps"]
    spec = regression.build_spec(regression.build_dataset())
    assert spec["loss"] == "mse" and spec["layers"][-1]["units"] == 1
    session = presets()["xor"]
    session.network.loss = "sigmoid_bce"
    assert session.build_spec(session.build_dataset())["layers"][-1]["units"] == 1


def test_layer_options_become_layers():
    session = presets()["spiral"]
    session.network.hidden = [LayerSettings(5, "elu", batchnorm=True, dropout=0.2)]
    kinds = [e["type"] for e in session.build_spec(session.build_dataset())["layers"]]
    assert kinds == ["dense", "batchnorm", "elu", "dropout", "dense"]


def test_edits_add_and_remove_points():
    session = presets()["gauss"]
    base = session.build_dataset()
    session.data.edits = [["add", 1.0, 2.0, 1], ["add", -3.0, 3.0, 0]]
    data = session.build_dataset()
    assert len(data.x_train) == len(base.x_train) + 2
    assert np.allclose(data.x_train[-1], [-3.0, 3.0]) and data.y_train[-1] == 0
    x, y = base.x_train[0]
    session.data.edits = [["remove", float(x) + 0.01, float(y)]]
    assert len(session.build_dataset().x_train) == len(base.x_train) - 1
    session.data.edits = [["remove", 5.9, -5.9]]  # nothing near: nothing removed
    assert len(session.build_dataset().x_train) == len(base.x_train)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: setattr(s.data, "noise", 2.0), "noise"),
        (lambda s: setattr(s.data, "features", ["x1", "cube"]), "cube"),
        (lambda s: setattr(s.network.hidden[0], "units", 0), "neurons"),
        (lambda s: setattr(s.network.hidden[0], "activation", "mish"), "mish"),
        (lambda s: setattr(s.data, "dataset", "galaxy"), "dataset"),
    ],
)
def test_bad_settings_raise_clear_errors(change, field):
    session = presets()["spiral"]
    change(session)
    with pytest.raises(ValueError, match=field):
        session.build_spec(session.build_dataset())


def test_damaged_json_is_refused():
    with pytest.raises(ValueError, match="session"):
        Session.from_json("{not json")
    with pytest.raises(ValueError, match="session"):
        Session.from_json('{"data": {}}')

"""Session settings (no Qt): presets build, JSON round trips, point edits, clear errors."""

import json
import math

import numpy as np
import pytest

from core.model import Sequential
from core.spec import normalize, parse_arch
from playground.image_data import layout_for
from playground.image_session import ImageSession, session_from_json
from playground.network_settings import (
    LayerSettings,
    NetworkError,
    NetworkSettings,
    network_from_spec,
    network_shapes,
    network_spec,
)
from playground.presets import image_presets, presets
from playground.session import Session

IMAGE = [1, 28, 28]


def small_cnn(**last_dense) -> NetworkSettings:
    """conv 16@5×5 relu, max pool 2, conv 32@3×3 relu, max pool 2, dense 100 relu."""
    return NetworkSettings(
        [
            LayerSettings(kind="conv", filters=16, kernel=5, activation="relu"),
            LayerSettings(kind="maxpool", size=2),
            LayerSettings(kind="conv", filters=32, kernel=3, activation="relu"),
            LayerSettings(kind="maxpool", size=2),
            LayerSettings(100, "relu", **last_dense),
        ]
    )


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


def test_sessions_saved_before_layer_kinds_still_load():
    session = presets()["spiral"]
    session.network.hidden = [LayerSettings(5, "elu", batchnorm=True, dropout=0.2)]
    old = session.to_dict()
    old["network"]["hidden"] = [
        {"units": 5, "activation": "elu", "batchnorm": True, "dropout": 0.2}
    ]  # the format before conv and pool rows
    loaded = Session.from_dict(old)
    assert loaded.network.hidden[0].kind == "dense"
    assert loaded.build_spec(loaded.build_dataset()) == session.build_spec(session.build_dataset())


def test_conv_and_pool_rows_round_trip_through_json():
    session = presets()["spiral"]
    session.network = small_cnn()
    session.network.hidden[1] = LayerSettings(kind="avgpool", size=3, stride=1)
    loaded = Session.from_json(session.to_json())
    assert loaded.network == session.network
    assert loaded.network.hidden[1].stride == 1 and loaded.network.hidden[0].stride is None


def test_cnn_spec_is_the_engines_compact_form_with_flatten_added():
    spec = network_spec(small_cnn(), IMAGE, 10, "softmax_ce")
    text = "conv:16x5,relu,pool:2,conv:32x3,relu,pool:2,flatten,dense:100,relu,dense:10"
    assert spec == normalize({"input_shape": IMAGE, "layers": parse_arch(text)})
    shapes, n_params = network_shapes(small_cnn(), IMAGE, 10)
    assert n_params == Sequential(spec).n_params == 86_166
    assert shapes == [(16, 24, 24), (16, 12, 12), (32, 10, 10), (32, 5, 5), (100,)]


def test_flatten_goes_before_dense_layers_and_the_output_when_the_input_is_an_image():
    mlp = NetworkSettings([LayerSettings(64, "relu")])
    kinds = [e["type"] for e in network_spec(mlp, IMAGE, 10, "softmax_ce")["layers"]]
    assert kinds == ["flatten", "dense", "relu", "dense"]
    convs = NetworkSettings([LayerSettings(kind="conv", filters=4, kernel=3, batchnorm=True)])
    spec = network_spec(convs, IMAGE, 10, "softmax_ce")
    assert [e["type"] for e in spec["layers"]] == ["conv", "batchnorm", "tanh", "flatten", "dense"]
    assert network_shapes(convs, IMAGE, 10) == ([(4, 26, 26)], Sequential(spec).n_params)
    plane = NetworkSettings([LayerSettings(8)])
    assert "flatten" not in [e["type"] for e in network_spec(plane, [2], 2, "mse")["layers"]]


def test_stride_padding_and_average_pooling_shape_rows():
    net = NetworkSettings(
        [
            LayerSettings(kind="conv", filters=8, kernel=3, stride=2, padding=1),
            LayerSettings(kind="avgpool", size=3, stride=1),
            LayerSettings(kind="maxpool", size=3),
        ]
    )
    shapes, n_params = network_shapes(net, IMAGE, 10)
    assert shapes == [(8, 14, 14), (8, 12, 12), (8, 4, 4)]
    assert n_params == Sequential(network_spec(net, IMAGE, 10, "softmax_ce")).n_params


@pytest.mark.parametrize(
    ("rows", "bad_row", "message"),
    [
        (
            [
                LayerSettings(kind="conv", filters=4, kernel=5, stride=4),  # 28 -> 6
                LayerSettings(kind="maxpool", size=2),  # 6 -> 3
                LayerSettings(kind="maxpool", size=4),
            ],
            3,
            r"layer 3 \(max pool 4\): pool 4x4 does not fit input 3x3",
        ),
        (
            [LayerSettings(kind="maxpool", size=8), LayerSettings(kind="conv", kernel=7)],
            2,
            r"layer 2 \(conv 16@7×7\): kernel 7x7 does not fit input 3x3 \(padding 0\)",
        ),
        (
            [LayerSettings(100), LayerSettings(kind="conv")],
            2,
            r"layer 2 \(conv 16@3×3\): input shape \(100,\) is not an image",
        ),
    ],
)
def test_impossible_shapes_name_the_row(rows, bad_row, message):
    with pytest.raises(NetworkError, match=message) as info:
        network_shapes(NetworkSettings(rows), IMAGE, 10)
    assert info.value.row == bad_row
    assert len(info.value.shapes) == bad_row - 1  # the rows before it still have shapes


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (LayerSettings(kind="conv", filters=0), r"layer 2 \(conv 0@3×3\): filters: 0"),
        (LayerSettings(kind="conv", kernel=12), "kernel: 12 is out of range"),
        (LayerSettings(kind="maxpool", size=2, stride=0), "stride: 0"),
        (LayerSettings(kind="lstm"), "kind: 'lstm' is not known"),
    ],
)
def test_bad_row_values_name_the_row(layer, message):
    with pytest.raises(NetworkError, match=message) as info:
        network_spec(NetworkSettings([LayerSettings(), layer]), IMAGE, 10, "softmax_ce")
    assert info.value.row == 2


@pytest.mark.parametrize("name", sorted(image_presets()))
def test_every_image_preset_builds_and_round_trips(name):
    session = image_presets()[name]
    model = Sequential(session.build_spec())
    assert math.prod(model.input_shape) == 784 and model.n_outputs == 10
    assert layout_for(session.build_spec()) == (
        "image" if session.network.hidden[0].kind != "dense" else "flat"
    )
    session.training.validate()
    again = session_from_json(session.to_json())
    assert isinstance(again, ImageSession) and again.to_dict() == session.to_dict()
    assert isinstance(session_from_json(presets()["xor"].to_json()), Session)


@pytest.mark.parametrize("name", sorted(image_presets()))
def test_image_networks_round_trip_through_their_spec(name):
    session = image_presets()[name]
    spec = session.build_spec()
    again = ImageSession(session.data, network_from_spec(spec), session.training)
    assert again.build_spec() == spec


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"edits": [5]}, r"edits, entry 1: 5; allowed: \[\"add\""),
        ({"edits": [[]]}, r"edits, entry 1: \[\]"),
        ({"edits": [["add", 1.0, 2.0]]}, r"edits, entry 1: \['add', 1.0, 2.0\]"),
        ({"edits": [["remove", "a", 0]]}, r"edits, entry 1, x1: 'a' is not a number"),
        ({"edits": [["add", 0, 1e308, 1]]}, r"edits, entry 1, x2: 1e\+308 is out of range"),
        ({"edits": [["add", 0, 0, None]]}, r"edits, entry 1, label: None is not a number"),
        ({"edits": [[["add"], 0, 0]]}, r"edits, entry 1"),
        ({"edits": "abc"}, r"edits: 'abc' is not a list"),
        ({"edits": {"add": 1}}, r"edits: \{'add': 1\} is not a list"),
        ({"features": None}, r"features: None is not a sequence"),
        ({"features": "x1"}, r"features: 'x1' is not a sequence"),
        ({"features": [1]}, r"features: 1 is not known"),
        ({"features": []}, r"features: \[\] is empty"),
        ({"csv_path": 5}, r"csv_path: 5; allowed: none or a file's path"),
        ({"csv_path": ""}, r"csv_path: ''"),
        ({"csv_sha256": "abc"}, r"csv_sha256: 'abc'"),
        ({"dataset": 3}, r"dataset: 3 is not known"),
        ({"n_samples": "500"}, r"n_samples: '500' is not a number"),
        ({"n_samples": 10**12}, r"n_samples: 1000000000000 is out of range"),
        ({"noise": -1}, r"noise: -1 is out of range"),
        ({"test_ratio": 2}, r"test_ratio: 2 is out of range"),
        ({"seed": 1.5}, r"seed: 1.5 is not a whole number"),
        ({"seed": 2**64}, r"seed: 18446744073709551616 is out of range"),
        ({"n_classes": 11}, r"n_classes: 11 is out of range"),
    ],
)
def test_a_malformed_data_section_is_refused_naming_the_field(data, message):
    """Every value of a session's data section is checked when it is read (from an experiment
    file, the last configuration or a preset), so a bad one never reaches the data set."""
    session = Session().to_dict()
    session["data"].update(data)
    with pytest.raises(ValueError, match=message):
        Session.from_dict(session)
    with pytest.raises(ValueError, match=message):
        session_from_json(json.dumps(session))


@pytest.mark.parametrize("data", [None, [], "spiral", 5])
def test_a_data_section_that_is_not_an_object_is_refused(data):
    session = Session().to_dict()
    session["data"] = data
    with pytest.raises(ValueError, match="data: .* is not an object of data settings"):
        Session.from_dict(session)


def test_added_points_need_a_class_of_the_data_set():
    session = Session()
    session.data.edits = [["add", 0.5, 0.5, 1.5]]
    with pytest.raises(ValueError, match=r"class 1.5 is not one of the data set's \(0 to 1\)"):
        session.build_dataset()


def test_data_settings_of_a_later_version_are_ignored():
    session = Session().to_dict()
    session["data"]["colour"] = "red"  # a setting this version does not know
    assert Session.from_dict(session).data == Session().data

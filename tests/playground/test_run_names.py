"""Run names say what differs from the run before: training settings, then the network, then
the data; a first run (or one that changed nothing) is named by its training and network."""

import copy

import pytest

from playground.presets import all_presets
from playground.run_names import MAX_CHARS, network_words, run_name


@pytest.fixture
def spiral():
    return all_presets()["spiral"].to_dict()


def changed(settings, **paths):
    out = copy.deepcopy(settings)
    for path, value in paths.items():
        section, key = path.split("__")
        out[section][key] = value
    return out


def test_what_changed_names_the_run(spiral):
    assert run_name(spiral, changed(spiral, training__optimizer="sgd")) == "sgd"
    other = changed(spiral, training__optimizer="adam", training__lr=0.03)
    hidden = [{**spiral["network"]["hidden"][0], "units": 16}] * 2
    other["network"]["hidden"] = [{**h, "activation": "relu"} for h in hidden]
    before = changed(spiral, training__optimizer="sgd")
    before["network"]["hidden"] = [{**h, "activation": "tanh"} for h in hidden[:1]]
    assert run_name(before, other) == "adam lr 0.03 · 16-16 relu"
    assert run_name(spiral, changed(spiral, data__noise=0.2)) == "noise 0.2"
    edited = changed(spiral, data__edits=[["add", 0.0, 0.0, 1, "train"]] * 3)
    assert run_name(spiral, edited) == "3 edited points"


def test_a_first_run_or_the_same_settings_are_named_by_training_and_network(spiral):
    first = run_name(None, spiral)
    assert first == "adam lr 0.01 batch 16 · 16-16 relu · spiral"
    assert run_name(spiral, spiral) == "adam lr 0.01 batch 16 · 16-16 relu"
    panel = changed(spiral, training__optimizer_params={"betas": [0.9, 0.999]})
    panel["training"]["schedule"] = {"name": "constant"}
    assert run_name(None, panel) == first  # the editor's defaults say nothing
    sgd = changed(panel, training__optimizer="sgd", training__optimizer_params={"momentum": 0})
    assert run_name(panel, sgd) == "sgd"  # another optimizer's parameters follow it
    assert run_name(panel, changed(panel, training__schedule={"name": "step"})) == "schedule step"
    cnn = all_presets()["fashion-cnn"].to_dict()
    assert run_name(None, cnn).startswith("adam lr 0.001 batch 64 · conv16×5-maxpool2-100 relu")


def test_network_words_and_long_names():
    rows = [
        {"kind": "dense", "units": 8, "activation": "tanh", "batchnorm": True, "dropout": 0.2},
        {"kind": "dense", "units": 4, "activation": "relu"},
    ]
    assert network_words(rows) == "8 bn drop 0.2 tanh-4 relu"
    assert network_words([]) == "no hidden layer"
    long = run_name({"training": {"k": 0}}, {"training": {f"k{i}": i + 1 for i in range(40)}})
    assert len(long) == MAX_CHARS and long.endswith("…")

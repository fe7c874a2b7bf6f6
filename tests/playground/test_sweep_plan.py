"""A sweep of the session on screen turned into tasks, without a window: the values typed, the
sessions varied, and the data of each run as the workspace builds its own."""

import numpy as np
import pytest
from dev_data import DEV_MNIST

from core import memory
from core.data.csv import read_points_csv
from core.data.features import feature_map
from core.recipe import ToyRecipe, TrainingData
from core.sweep.fit import run_memory
from playground.image_data import ImageDataSettings, load_image_data
from playground.image_session import ImageSession
from playground.network_settings import LayerSettings
from playground.session import Session
from playground.sweep_plan import SweepCancelled, count_runs, parse_values, sweep_tasks, vary


def plane_session(**data) -> Session:
    session = Session()
    session.data.dataset = "xor"
    session.data.n_samples = 60
    for name, value in data.items():
        setattr(session.data, name, value)
    return session


def assert_arrays(recipe: TrainingData, x_train, y_train, x_test, y_test) -> None:
    for got, want in zip(
        (recipe.x_train, recipe.y_train, recipe.x_test, recipe.y_test),
        (x_train, y_train, x_test, y_test),
        strict=True,
    ):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_point_edits_travel_as_the_arrays_with_the_features_applied():
    features = ["x1", "x2", "x1x2"]
    edits = [["add", 5.5, 5.5, 1, "train"], ["add", -5.5, 5.5, 0, "test"]]
    session = plane_session(features=features, edits=edits)
    sweeps = [("lr", parse_values("lr", "0.01, 0.03")), ("seed", parse_values("seed", "0, 1"))]

    tasks = sweep_tasks(session, sweeps, epochs=3)

    edited = session.build_dataset()  # the workspace's run: the base data with the edits
    assert len(edited.x_train) == 31 and len(edited.x_test) == 31  # 30 + 1 each
    recipe = tasks[0].recipe
    assert isinstance(recipe, TrainingData)
    assert all(t.recipe is recipe for t in tasks)  # built once, sent once per worker
    assert_arrays(
        recipe,
        feature_map(edited.x_train, features),
        edited.y_train,
        feature_map(edited.x_test, features),
        edited.y_test,
    )
    assert tasks[0].spec["input_shape"] == [3]
    assert [t.config.epochs for t in tasks] == [3] * 4
    assert [(t.config.lr, t.config.seed) for t in tasks] == [
        (0.01, 0),
        (0.01, 1),
        (0.03, 0),
        (0.03, 1),
    ]
    assert [t.name for t in tasks] == [
        "lr 0.01 · seed 0",
        "lr 0.01 · seed 1",
        "lr 0.03 · seed 0",
        "lr 0.03 · seed 1",
    ]


def test_a_csv_file_travels_as_its_arrays(tmp_path):
    path = tmp_path / "points.csv"
    rows = "".join(f"{i % 7 - 3},{i % 5 - 2},{i % 2}\n" for i in range(20))
    path.write_text("x1,x2,label\n" + rows, encoding="utf-8")
    session = plane_session(csv_path=str(path), features=["x1sq", "x2"], test_ratio=0.25, seed=3)

    (task,) = sweep_tasks(session, [("optimizer", ("sgd",))], epochs=2)

    points = read_points_csv(str(path), test_ratio=0.25, seed=3)
    assert isinstance(task.recipe, TrainingData)
    assert_arrays(
        task.recipe,
        feature_map(points.x_train, ["x1sq", "x2"]),
        points.y_train,
        feature_map(points.x_test, ["x1sq", "x2"]),
        points.y_test,
    )


def test_a_toy_set_travels_as_its_recipe_and_builds_the_workspace_arrays():
    session = plane_session(noise=0.1, features=["x1", "sinx2"], seed=5)
    (task,) = sweep_tasks(session, [("l2", (0.001,))], epochs=2)
    assert isinstance(task.recipe, ToyRecipe)
    d = session.build_dataset()
    assert_arrays(
        task.recipe.build(),
        feature_map(d.x_train, ["x1", "sinx2"]),
        d.y_train,
        feature_map(d.x_test, ["x1", "sinx2"]),
        d.y_test,
    )
    assert task.config.l2 == 0.001


def test_varied_sessions_change_only_the_swept_setting():
    session = plane_session()
    session.network.hidden = [LayerSettings(units=4, activation="relu", dropout=0.1)]
    session.training.optimizer, session.training.optimizer_params = "momentum", {"beta": 0.8}

    layers = vary(session, {"layers": "16,8", "activation": "tanh"})
    assert [(r.units, r.activation, r.dropout) for r in layers.network.hidden] == [
        (16, "tanh", 0.1),
        (8, "tanh", 0.1),
    ]
    assert layers.training == session.training
    adam = vary(session, {"optimizer": "adam", "dropout": 0.3, "batch_size": 16})
    assert adam.training.optimizer_params == {}  # momentum's options are not adam's
    assert adam.training.batch_size == 16
    assert adam.network.hidden[0].dropout == 0.3
    assert session.network.hidden[0].units == 4  # the session on screen is left alone
    assert vary(session, {"layers": ""}).network.hidden == []


def test_layer_sizes_keep_the_conv_rows_of_an_image_network():
    session = ImageSession()
    conv = LayerSettings(kind="conv", filters=4, activation="relu")
    session.network.hidden = [conv, LayerSettings(units=32)]
    varied = vary(session, {"layers": "8,8", "activation": "tanh"})
    assert [r.kind for r in varied.network.hidden] == ["conv", "dense", "dense"]
    assert [r.activation for r in varied.network.hidden] == ["tanh"] * 3


@pytest.mark.parametrize(
    ("key", "text", "words"),
    [
        ("lr", "0.01, fast", ["Learning rate", "'fast' is not a number", "allowed"]),
        ("lr", "0.01, 0.01", ["Learning rate", "listed twice"]),
        ("lr", "0.01,", ["Learning rate", "an empty value"]),
        ("batch_size", "0, 16", ["Batch size", "allowed"]),
        ("layers", "16-0", ["Hidden layers", "layer sizes"]),
        ("optimizer", "adamm", ["Optimizer", "adam"]),
        ("dropout", "2", ["Dropout", "allowed"]),
    ],
)
def test_bad_values_name_the_setting_in_the_apps_words(key, text, words):
    with pytest.raises(ValueError) as info:
        parse_values(key, text)
    message = str(info.value)
    assert all(word in message for word in words), message
    assert "--sweep" not in message


def test_too_many_runs_or_the_same_setting_twice_are_refused():
    with pytest.raises(ValueError, match="Learning rate: chosen twice"):
        count_runs([("lr", (0.1,)), ("lr", (0.2,))])
    with pytest.raises(ValueError, match="100 runs; allowed: at most 64"):
        count_runs([("seed", tuple(range(10))), ("l2", tuple(range(10)))])
    assert count_runs([("seed", (0, 1)), ("lr", (0.1, 0.2, 0.3))]) == 6


def test_a_network_that_cannot_be_built_names_the_run():
    session = plane_session()
    session.network.hidden[0].batchnorm = True
    with pytest.raises(ValueError, match=r"batches of at least 2 .*\(in the run batch 1\)"):
        sweep_tasks(session, [("batch_size", (16, 1))], epochs=2)


def test_image_runs_train_on_the_workspaces_balanced_subsets():
    if not DEV_MNIST.is_dir():
        pytest.skip("the development copy of MNIST is not here")
    data = ImageDataSettings(folder=str(DEV_MNIST), train_subset=100, test_subset=50, seed=4)
    session = ImageSession(data=data)
    session.network.hidden = [LayerSettings(kind="conv", filters=2), LayerSettings(units=8)]

    tasks = sweep_tasks(session, [("lr", (0.01, 0.1))], epochs=1)

    want = load_image_data(data, layout="image")
    assert tasks[0].recipe is tasks[1].recipe
    assert_arrays(tasks[0].recipe, want.x_train, want.y_train, want.x_test, want.y_test)
    assert tasks[0].recipe.x_train.shape == (100, 1, 28, 28)
    assert np.bincount(tasks[0].recipe.y_train).tolist() == [10] * 10  # balanced


def test_the_training_set_is_counted_once_and_cancel_is_asked_between_runs(monkeypatch):
    builds = []
    real_build = ToyRecipe.build
    monkeypatch.setattr(ToyRecipe, "build", lambda self: builds.append(1) or real_build(self))
    session = plane_session()
    values = parse_values("lr", "0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008")

    tasks = sweep_tasks(session, [("lr", values)], epochs=2)
    assert len(tasks) == 8 and builds == []  # the workers build the toy set, not the plan

    asked = []
    with pytest.raises(SweepCancelled):
        sweep_tasks(
            session, [("lr", values)], 2, cancelled=lambda: asked.append(1) or len(asked) > 2
        )
    assert len(asked) == 3  # before each run: the third run was not made


def test_runs_side_by_side_must_fit_in_memory_in_the_apps_words(monkeypatch):
    session = plane_session()
    sweeps = [("layers", parse_values("layers", "300-300, 200, 100"))]
    tasks = sweep_tasks(session, sweeps, epochs=2)
    info = tasks[0].recipe.describe()
    first, second, _ = (run_memory(t, info) for t in tasks)
    monkeypatch.setattr(memory, "available_memory", lambda: first + second - 1)
    with pytest.raises(ValueError) as refused:
        sweep_tasks(session, sweeps, epochs=2, workers=2)
    size = memory.format_bytes
    assert str(refused.value) == (
        f"Memory: 2 runs at a time need about {size(first + second)} of memory (the largest: "
        f"300-300 {size(first)}, 200 {size(second)}; each its network and its worker's two "
        f"copies of the training data), but {size(first + second - 1)} is available; allowed: "
        "smaller hidden layers, a smaller batch size or fewer training images (one at a time "
        "fits)"
    )
    assert len(sweep_tasks(session, sweeps, epochs=2, workers=1)) == 3  # one at a time fits

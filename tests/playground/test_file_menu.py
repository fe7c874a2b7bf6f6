"""The File menu driven with given paths (no dialogs): experiments saved and continued exactly,
model exports that agree with the engine, opening model files (also by dropping them), bad
files refused with the run untouched, view and history exports, recent files."""

import importlib.util
import json
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import waiting
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from test_main_window import import_points

from core.data.features import feature_map, grid_points
from core.data.toy2d import DOMAIN
from core.experiment import file_sha256, load_experiment
from core.io import load_model, save_model
from core.model import Sequential
from core.spec import mlp_spec, normalize, parse_arch
from core.training.config import TrainConfig
from playground.engine import Engine
from playground.network_settings import network_from_spec
from playground.recent_files import RECENT_KEY
from playground.run_setup import RunSetup
from playground.session import DataSettings, Session
from playground.worker import DONE, IDLE, PAUSED
from playground.workspaces.plane import GRID_RESOLUTION


@pytest.fixture
def warnings(monkeypatch):
    """Messages of the warning dialogs shown (the dialogs themselves are not opened)."""
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    return shown


def step_epoch(qtbot, window):
    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=10000, check_params_cb=lambda s, r: s == PAUSED
    ):
        window.toolbar.step_action.trigger()


def written(qtbot, window, action):
    """Run a save or export through the engine; return the path it reports."""
    with qtbot.waitSignal(window.controller.saved, timeout=10000) as blocker:
        assert action() is not False
    path, error = blocker.args
    assert error == ""
    return path


def open_file(qtbot, window, path):
    with qtbot.waitSignal(window.runReset, timeout=10000):
        assert window.files.open(str(path))
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=10000)


def file_action(window, text):
    """The File menu's action (or a submenu's) whose text is ``text``."""
    menus = [window.menuBar().actions()[0].menu()]
    while menus:
        for action in menus.pop().actions():
            if action.menu() is not None:
                menus.append(action.menu())
            elif action.text().replace("&", "") == text:
                return action
    raise AssertionError(f"no {text!r} in the File menu")


def grid_inputs(features):
    return feature_map(grid_points(GRID_RESOLUTION, DOMAIN), features)


def shown_predictions(window):
    snap = window.workspace.last_snapshot
    return snap.grid_output.reshape(GRID_RESOLUTION**2, -1)


def test_saved_experiment_continues_with_identical_losses(make_window, qtbot, tmp_path):
    window = make_window("xor")
    window.plane.training_panel.epochs.setValue(500)  # the run goes on with it
    path = str(tmp_path / "run.npz")
    done = {"timeout": 60000, "check_params_cb": lambda state, reason: state == DONE}
    with qtbot.waitSignal(window.controller.stateChanged, **done):
        window.toolbar.play_action.trigger()
        qtbot.waitUntil(lambda: window.workspace.last_snapshot.step > 0, timeout=10000)
        written(qtbot, window, lambda: window.files.save_experiment(path))  # while running
    saved = load_experiment(path)
    assert 0 < saved.steps and saved.epoch < 500  # saved mid-run, between two steps
    uninterrupted = window.workspace.last_snapshot
    assert uninterrupted.epoch == 500

    open_file(qtbot, window, path)
    assert window.workspace.last_snapshot.step == saved.steps and window.controller.state == IDLE
    assert window.workspace.session().to_dict() == saved.data
    # The per-step loss before the save comes back with the file (and so on the curves).
    assert np.array_equal(window.workspace.last_snapshot.trace_steps, saved.state["trace"]["steps"])
    assert window.workspace.last_snapshot.trace_steps[-1] == saved.steps
    with qtbot.waitSignal(window.controller.stateChanged, **done):
        window.toolbar.play_action.trigger()
    continued = window.workspace.last_snapshot
    assert np.array_equal(continued.trace_loss, uninterrupted.trace_loss)
    for column in ("step", "train_loss", "test_loss", "train_acc"):
        assert np.array_equal(continued.history[column], uninterrupted.history[column]), column
    for name, value in uninterrupted.weights.items():
        assert np.array_equal(continued.weights[name], value), name


def test_save_before_training_then_ctrl_s_and_a_failed_save(
    window, qtbot, tmp_path, warnings, monkeypatch
):
    path = str(tmp_path / "fresh.npz")
    written(qtbot, window, lambda: window.files.save_experiment_as(path))
    saved = load_experiment(path)
    assert saved.epoch == 0 and saved.steps == 0
    assert saved.data == window.workspace.session().to_dict()
    assert saved.metadata["features"] == ["x1", "x2"] and saved.metadata["task"] == "classification"
    for name, value in window.workspace.last_snapshot.weights.items():
        assert np.array_equal(saved.state["model"][name], value), name
    assert window.windowTitle().startswith("fresh.npz")

    # Ctrl+S writes to the same file, without asking.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: pytest.fail("asked"))
    step_epoch(qtbot, window)
    save = file_action(window, "Save experiment")
    assert save.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    written(qtbot, window, save.trigger)
    assert load_experiment(path).epoch == 1

    with qtbot.waitSignal(window.controller.saved, timeout=10000):
        window.files.save_experiment_as(str(tmp_path / "no-such-folder" / "x.npz"))
    assert len(warnings) == 1 and "no-such-folder" in warnings[0]
    assert load_experiment(path).epoch == 1


def test_exported_weights_and_python_predict_as_the_engine(window, qtbot, tmp_path):
    step_epoch(qtbot, window)
    expected = shown_predictions(window)
    x = grid_inputs(["x1", "x2"])

    path = written(
        qtbot, window, lambda: window.files.export_model("weights", str(tmp_path / "m.npz"))
    )
    model, metadata = load_model(path)
    np.testing.assert_allclose(model.predict_proba(x), expected, rtol=1e-5, atol=1e-5)
    assert metadata["dataset"] == "spiral" and metadata["features"] == ["x1", "x2"]
    assert metadata["class_names"] == ["0", "1"] and metadata["task"] == "classification"

    path = written(
        qtbot, window, lambda: window.files.export_model("python", str(tmp_path / "m.py"))
    )
    spec = importlib.util.spec_from_file_location("exported_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    np.testing.assert_allclose(module.predict_proba(x), expected, rtol=1e-5, atol=1e-5)


def test_exported_onnx_agrees_with_onnxruntime(window, qtbot, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    step_epoch(qtbot, window)
    expected = shown_predictions(window)
    path = written(
        qtbot, window, lambda: window.files.export_model("onnx", str(tmp_path / "m.onnx"))
    )
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(["probabilities"], {"input": grid_inputs(["x1", "x2"])})
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)


def test_engine_reports_failed_saves_and_carries_on(monkeypatch, tmp_path):
    sent = []
    engine = Engine(sent.append)

    def handle(command):
        engine.handle(command)
        assert engine.outbox.drain()

    handle(("save_experiment", "run.npz", {}, {}))
    assert sent[-1][0] == "saved" and "no network" in sent[-1][3]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 2)).astype(np.float32), rng.integers(0, 2, 20)
    engine.setup(RunSetup(mlp_spec(2, [4], 2), TrainConfig(), x, y, x, y, None, run_id=3))
    monkeypatch.setitem(sys.modules, "onnx", None)  # the optional package is not installed
    path = str(tmp_path / "m.onnx")
    handle(("export", "onnx", path, {}))
    assert sent[-1][:3] == ("saved", 3, path) and "pip install" in sent[-1][3]
    engine.handle(("step",))
    while engine.busy:  # the main loop trains the epoch in chunks
        engine.advance()
    assert engine.outbox.drain()
    assert sent[-1] == ("state", 3, PAUSED, "")


def test_views_export_as_svg_and_png_and_history_as_csv(window, qtbot, tmp_path):
    step_epoch(qtbot, window)
    drawable = {"path", "polyline", "polygon", "rect", "line", "image", "text", "circle"}
    for name, widget in window.workspace.views():
        stem = name.replace(" ", "-")
        assert waiting.exported(qtbot, window.files, widget, name, tmp_path / f"{stem}.svg") == ""
        tags = [e.tag.rpartition("}")[2] for e in ET.parse(tmp_path / f"{stem}.svg").iter()]
        assert sum(t in drawable for t in tags) >= 10, (name, tags)
        assert waiting.exported(qtbot, window.files, widget, name, tmp_path / f"{stem}.png") == ""
        image = QImage(str(tmp_path / f"{stem}.png"))
        assert not image.isNull() and image.width() >= widget.width() > 0
    output_tags = {e.tag.rpartition("}")[2] for e in ET.parse(tmp_path / "output-view.svg").iter()}
    assert {"image", "text"} <= output_tags  # the heatmap and the axis labels
    export = lambda: window.files.export_history(str(tmp_path / "h.csv"))  # noqa: E731
    assert waiting.written(qtbot, window.files, export) == ""
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,step") and len(lines) == 2


def test_dropping_a_model_file_shows_its_network_and_predictions(make_window, qtbot, tmp_path):
    window = make_window("xor")
    # Three classes of the spiral over inputs listed in another order than the editor's.
    features = ["x1x2", "x1", "x2"]
    model = Sequential(mlp_spec(3, [6, 5], 3, activation="tanh"), rng=np.random.default_rng(3))
    path = tmp_path / "spiral3.npz"
    metadata = {"dataset": "spiral", "features": features, "class_names": ["a", "b", "c"]}
    save_model(model, path, metadata)

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        QPoint(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    resets = []
    window.runReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(window.runReset, timeout=10000):
        QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: window.workspace.last_snapshot is not None, timeout=10000)

    assert len(resets) == 1  # the whole session applied with one reset
    layers = window.plane.network_panel.settings().hidden
    assert [(r.units, r.activation) for r in layers] == [(6, "tanh"), (5, "tanh")]
    data = window.plane.data_panel.settings()
    assert data.dataset == "spiral" and data.n_classes == 3
    assert data.features == ["x1", "x2", "x1x2"]
    assert window.workspace.last_snapshot.step == 0 and window.controller.state == IDLE
    assert window.plane.output_view._snapshot is window.workspace.last_snapshot
    expected = model.predict_proba(grid_inputs(features))
    np.testing.assert_allclose(shown_predictions(window), expected, rtol=1e-5, atol=1e-5)
    assert window.files.recent.files() == [str(path.resolve())]


def test_editor_settings_rebuild_a_model_network():
    spec = mlp_spec(3, [8, 4], 3, activation=["relu", "elu"], batchnorm=True, dropout=0.25)
    network = network_from_spec(spec)
    assert [(r.units, r.activation, r.batchnorm, r.dropout) for r in network.hidden] == [
        (8, "relu", True, 0.25),
        (4, "elu", True, 0.25),
    ]
    data = DataSettings("spiral", n_classes=3, features=["x1", "x2", "x1x2"])
    session = Session(data, network)
    assert session.build_spec(session.build_dataset()) == spec
    for arch in ("dense:4,dense:2", "dense:4,relu,dense:2,softmax", "dense:4,relu,relu,dense:2"):
        with pytest.raises(ValueError, match="editor"):
            network_from_spec(normalize({"input_shape": [2], "layers": parse_arch(arch)}))


def test_bad_files_are_refused_and_change_nothing(window, qtbot, tmp_path, warnings):
    step_epoch(qtbot, window)
    good = tmp_path / "good.npz"
    model = Sequential(mlp_spec(2, [4], 2), rng=np.random.default_rng(0))
    save_model(model, good, {"features": ["x1", "x2"]})
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:-200])
    nan = tmp_path / "nan.npz"
    with np.load(good, allow_pickle=False) as archive:
        arrays = dict(archive)
    arrays["param/0.W"] = np.full_like(arrays["param/0.W"], np.nan)
    np.savez(nan, **arrays)
    text = tmp_path / "notes.npz"
    text.write_text("not a model\n")
    cnn = tmp_path / "cnn.npz"
    cnn_spec = {"input_shape": [1, 8, 8], "layers": parse_arch("conv:4x3,relu,flatten,dense:3")}
    save_model(Sequential(cnn_spec, rng=np.random.default_rng(0)), cnn)
    other_data = tmp_path / "other-data.npz"
    written(qtbot, window, lambda: window.files.save_experiment_as(str(other_data)))
    with np.load(other_data, allow_pickle=False) as archive:
        arrays = dict(archive)
    meta = str(arrays["meta.json"]).replace('"seed": 0, "n_classes"', '"seed": 7, "n_classes"')
    assert meta != str(arrays["meta.json"])
    arrays["meta.json"] = np.array(meta)
    np.savez(other_data, **arrays)

    session, spec = window.workspace.session().to_dict(), window.workspace.spec
    snap, title = window.workspace.last_snapshot, window.windowTitle()
    recent = window.files.recent.files()
    cases = {
        truncated: "not a readable model or experiment file",
        nan: "param/0.W contains NaN",
        text: "not a readable",
        cnn: "1x8x8 inputs",
        other_data: "cannot continue this run",
    }
    with qtbot.assertNotEmitted(window.runReset):
        for path in cases:
            assert not waiting.open_file(qtbot, window, path)
    assert len(warnings) == len(cases)
    for (path, expected), message in zip(cases.items(), warnings, strict=True):
        assert message.startswith(f"{path}: ") and expected in message, message
    assert window.workspace.session().to_dict() == session and window.workspace.spec is spec
    assert window.workspace.last_snapshot is snap and window.windowTitle() == title
    assert window.files.recent.files() == recent
    step_epoch(qtbot, window)  # the same run goes on
    assert window.workspace.last_snapshot.epoch == 2
    assert window.workspace.last_snapshot.history["train_loss"][0] == snap.history["train_loss"][0]


def test_recent_files_are_kept_and_a_missing_one_is_dropped(
    window, qtbot, tmp_path, warnings, settings
):
    paths = []
    for seed in range(2):
        path = tmp_path / f"model{seed}.npz"
        model = Sequential(mlp_spec(2, [4], 2), rng=np.random.default_rng(seed))
        save_model(model, path, {"features": ["x1", "x2"]})
        open_file(qtbot, window, path)
        paths.append(str(path.resolve()))
    exported = written(
        qtbot, window, lambda: window.files.export_model("weights", str(tmp_path / "w.npz"))
    )
    recent = [str(tmp_path.resolve() / "w.npz"), paths[1], paths[0]]
    assert exported == str(tmp_path / "w.npz") and window.files.recent.files() == recent
    stored = QSettings(settings.fileName(), QSettings.Format.IniFormat)
    assert stored.value(RECENT_KEY, [], type=list) == recent  # persisted for the next launch
    menu = [a.data() for a in window.files.recent.menu.actions() if a.data()]
    assert menu == recent

    (tmp_path / "model0.npz").unlink()
    assert not window.files.recent.open(paths[0])
    assert len(warnings) == 1 and "no longer exists" in warnings[0]
    assert window.files.recent.files() == recent[:2]
    with qtbot.waitSignal(window.runReset, timeout=10000):
        file_action(window, f"2 {Path(paths[1]).name}").trigger()
    assert window.files.recent.files() == [paths[1], recent[0]]
    file_action(window, "Clear list").trigger()
    assert window.files.recent.files() == []
    assert [a.text() for a in window.files.recent.menu.actions() if a.text()] == ["Clear list"]


def rewrite_data(source, target, change):
    """Copy an experiment file with its meta.json's ``data`` section changed by ``change``."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = dict(archive)
    meta = json.loads(str(arrays["meta.json"]))
    change(meta["data"]["data"])
    arrays["meta.json"] = np.array(json.dumps(meta))
    np.savez(target, **arrays)
    return target


def unchanged(window):
    """What must stay as it was when a file is refused."""
    return (
        window.workspace.session().to_dict(),
        window.workspace.spec,
        window.workspace.last_snapshot,
        window.windowTitle(),
        window.files.recent.files(),
    )


def refusals(qtbot, window, good, cases, warnings):
    """Open a copy of the experiment ``good`` per case (name -> (data values, _)), its data
    section updated with the values: each is refused and changes nothing. The (case, warning)
    pairs."""
    before = unchanged(window)
    with qtbot.assertNotEmitted(window.runReset):
        for name, (values, _) in cases.items():
            path = rewrite_data(good, good.parent / f"{name}.npz", lambda d, v=values: d.update(v))
            assert waiting.open_file(qtbot, window, path) is False
    assert len(warnings) == len(cases)
    assert unchanged(window) == before
    return zip(cases.items(), warnings, strict=True)


def test_a_malformed_data_section_is_shown_in_a_dialog_and_changes_nothing(
    window, qtbot, tmp_path, warnings
):
    step_epoch(qtbot, window)
    good = tmp_path / "good.npz"
    written(qtbot, window, lambda: window.files.save_experiment_as(str(good)))
    cases = {
        "edits=[5]": ({"edits": [5]}, "edits, entry 1: 5"),
        "edits=[[]]": ({"edits": [[]]}, "edits, entry 1: []"),
        "edits=abc": ({"edits": "abc"}, "edits: 'abc' is not a list"),
        "features=null": ({"features": None}, "features: None"),
        "features=x1": ({"features": "x1"}, "features: 'x1'"),
        "csv_path=5": ({"csv_path": 5}, "csv_path: 5"),
        "n_classes=x": ({"n_classes": "x"}, "n_classes: 'x' is not a number"),
    }
    for (name, (_, expected)), message in refusals(qtbot, window, good, cases, warnings):
        assert message.startswith(f"{tmp_path / name}.npz: ") and expected in message, message


def test_an_experiments_data_file_is_checked_and_never_quoted(window, qtbot, tmp_path, warnings):
    """The CSV an experiment names is checked by its SHA-256 before it is read; a file that is
    not a points CSV (any file of the computer) is named with its problem, never its text."""
    points = tmp_path / "points.csv"
    import_points(qtbot, window, points)
    step_epoch(qtbot, window)
    good = tmp_path / "csv-run.npz"
    written(qtbot, window, lambda: window.files.save_experiment_as(str(good)))
    assert load_experiment(good).data["data"]["csv_sha256"] == file_sha256(points)

    secret = tmp_path / "secret.conf"
    secret.write_text("password: hunter2-SECRET\n" * 3)
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    cases = {
        "other-file": ({"csv_path": str(secret), "csv_sha256": None}, "line 1"),
        "changed": ({"csv_path": str(secret)}, "has changed since the experiment was saved"),
        "pipe": ({"csv_path": str(pipe)}, "not a regular file"),
        "missing": ({"csv_path": str(tmp_path / "gone.csv")}, "no such file"),
    }
    for (name, (values, expected)), message in refusals(qtbot, window, good, cases, warnings):
        assert message.startswith(f"{tmp_path / name}.npz: ") and expected in message, message
        assert values["csv_path"] in message and "hunter2" not in message, message
    open_file(qtbot, window, good)  # the untouched file continues its run
    assert window.workspace.last_snapshot.epoch == 1

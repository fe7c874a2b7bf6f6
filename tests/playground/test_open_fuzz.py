"""Generated bad files through the app: the session an experiment stores (its ``data`` section)
with arbitrary JSON in any field, and File ▸ Open of corrupted model and experiment files. A
bad value is refused with ValueError naming its field; File ▸ Open shows every problem in a
dialog, raises nothing, and leaves the settings, the run and the window as they were."""

import io
import json
import zipfile

import numpy as np
import pytest
import waiting
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtWidgets import QMessageBox

from playground.image_session import session_from_dict
from playground.session import DataSettings, Session

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, -1, 2, 10**6, 2**64, 10**400, "x1", "add", "remove", "spiral"])
    | st.floats()
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=10,
)
EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), JSON, JSON, JSON).map(list),
        st.tuples(st.just("remove"), JSON, JSON).map(list),
        JSON,
    ),
    max_size=4,
)
FIELDS = sorted(DataSettings().__dict__)
#: Values certainly invalid for some fields of the data section.
BAD_DATA = {
    "edits": [[5], [[]], "abc", [["add", 0, 0]], [["remove", 0, None]]],
    "features": [None, "x1", [], [5]],
    "csv_path": [5, "", ["a.csv"]],
    "n_classes": ["x", 10**9, 1.5],
}


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(FIELDS), value=JSON, edits=EDITS, use_edits=st.booleans())
def test_any_data_section_is_refused_naming_its_field_or_builds(field, value, edits, use_edits):
    session = Session().to_dict()
    if use_edits:
        field, value = "edits", edits
    session["data"][field] = value
    try:
        rebuilt = session_from_dict(session)
    except ValueError as exc:
        assert field in str(exc) or "data" in str(exc), exc
        return
    if rebuilt.data.csv_path is None:  # never read files named by generated paths
        try:
            rebuilt.build_dataset()
        except ValueError as exc:
            assert "added point" in str(exc), exc


# -- File ▸ Open ---------------------------------------------------------------------------------
def _step_epoch(qtbot, window):
    from playground.worker import PAUSED

    with qtbot.waitSignal(
        window.controller.stateChanged, timeout=10000, check_params_cb=lambda s, r: s == PAUSED
    ):
        window.toolbar.step_action.trigger()


@pytest.fixture
def saved(window, qtbot, tmp_path):
    """Bytes of an experiment and a model file the app saved after one epoch (made once per
    test: hypothesis runs every example with the same fixtures)."""
    _step_epoch(qtbot, window)
    files = {}
    for kind, call in (
        ("experiment", window.files.save_experiment_as),
        ("model", lambda p: window.files.export_model("weights", p)),
    ):
        path = tmp_path / f"{kind}.npz"
        with qtbot.waitSignal(window.controller.saved, timeout=10000):
            call(str(path))
        files[kind] = path.read_bytes()
    return files


def _arrays(blob):
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        return dict(archive)


def _npz(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def bad_file(data, blob: bytes) -> bytes:
    """A certainly invalid copy of an app-saved file."""
    kind = data.draw(st.sampled_from(["data", "truncate", "bomb", "member", "array", "meta"]))
    if kind == "truncate":
        return blob[: data.draw(st.integers(0, len(blob) - 1))]
    if kind in ("bomb", "member"):
        buf = io.BytesIO(blob)
        with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as zf:
            name = data.draw(st.sampled_from(["extra.npy", "param/9.W.npy", "notes.txt"]))
            zf.writestr(name, bytes(4 * 1024**2 if kind == "bomb" else 16))
        return buf.getvalue()
    arrays = _arrays(blob)
    meta = json.loads(str(arrays["meta.json"]))
    if kind == "array":
        key = data.draw(st.sampled_from(sorted(k for k in arrays if k.startswith("param/"))))
        arrays[key] = np.full(arrays[key].shape, data.draw(st.sampled_from([np.nan, 1e39])))
    elif kind == "meta":
        field = data.draw(st.sampled_from(["spec", "version", "format", "dtype"]))
        meta[field] = data.draw(st.sampled_from([None, 1.0, "x", [1], {"a": 2}]))
    else:  # a bad value in the session the experiment stores
        section = meta.get("data", {}).get("data")
        if section is None:  # a model file: it has no session
            meta["spec"] = None
        else:
            field = data.draw(st.sampled_from(sorted(BAD_DATA)))
            section[field] = data.draw(st.sampled_from(BAD_DATA[field]))
    arrays["meta.json"] = np.array(json.dumps(meta))
    return _npz(arrays)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_file_open_shows_every_bad_file_in_a_dialog(window, saved, qtbot, tmp_path, data):
    blob = saved[data.draw(st.sampled_from(["experiment", "model"]))]
    path = tmp_path / "bad.npz"
    path.write_bytes(bad_file(data, blob))
    shown = []
    before = (
        window.workspace.session().to_dict(),
        window.workspace.spec,
        window.workspace.last_snapshot,
        window.windowTitle(),
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
        with qtbot.assertNotEmitted(window.runReset):
            assert waiting.open_file(qtbot, window, path) is False
    assert len(shown) == 1 and shown[0].startswith(f"{path}: "), shown
    after = (
        window.workspace.session().to_dict(),
        window.workspace.spec,
        window.workspace.last_snapshot,
        window.windowTitle(),
    )
    assert after == before

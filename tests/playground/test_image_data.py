"""Image mode, data side: settings, loading and subsets, the data panel (status, folders) and
the download dialog against a local HTTP server."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import numpy as np
import pytest
from idx_server import (
    NAMES,
    IdxServer,
    idx_bytes,
    listing,
    npy_bytes,
    npy_of,
    tiny_arrays,
    tiny_spec,
    write_folder,
)
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox
from waiting import check_folder

from core.data import connection
from core.data.idx import NPZ_KEYS, read_idx
from core.data.loading import DatasetNotFound
from core.data.locations import ENV_VAR, status
from core.data.prepare import normalize
from core.data.registry import DATASETS, DIGITS, FASHION_CLASSES
from playground.image_data import ImageDataSettings, layout_for, load_image_data
from playground.panels.download_dialog import DownloadDialog
from playground.panels.image_data_panel import ImageDataPanel
from playground.worker import TrainingController
from playground.workspaces.images import ImageWorkspace

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(
    not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed"
)


@pytest.fixture
def empty_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty data set cache, used through NN_PLAYGROUND_DATA as the app does."""
    root = tmp_path / "datasets"
    monkeypatch.setenv(ENV_VAR, str(root))
    return root


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes the panel shows, as (title, text); none is opened."""
    shown: list[tuple[str, str]] = []

    def warning(parent: Any, title: str, text: str, *args: Any) -> QMessageBox.StandardButton:
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", warning)
    return shown


def labels_bytes(labels: list[int]) -> bytes:
    return idx_bytes(np.array(labels, np.uint8))


# ------------------------------------------------------------------------------------ settings


def test_settings_round_trip_through_json() -> None:
    s = ImageDataSettings(
        dataset="fashion-mnist",
        folder="/data/fashion",
        train_subset=1000,
        test_subset=None,
        seed=7,
        augment=True,
    )
    back = ImageDataSettings.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s
    assert ImageDataSettings.from_dict({}) == ImageDataSettings()  # missing keys: defaults
    assert ImageDataSettings.from_dict({"train_subset": 5000.0}).train_subset == 5000
    assert isinstance(ImageDataSettings.from_dict({"train_subset": 5000.0}).train_subset, int)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dataset": "cifar10"}, r"dataset: 'cifar10' is not known; allowed: mnist, fashion"),
        ({"folder": ""}, r"folder: ''; allowed: None or a non-empty path"),
        ({"folder": 3}, "folder: 3"),
        ({"train_subset": 5}, r"train_subset: 5 is out of range"),
        ({"train_subset": 1005}, r"train_subset: 1005 is not a multiple of 10"),
        ({"train_subset": "many"}, r"train_subset: 'many' is not a number"),
        ({"test_subset": True}, r"test_subset: True is not a number"),
        ({"test_subset": 2.5}, r"test_subset: 2.5 is not a whole number"),
        ({"seed": -1}, r"seed: -1 is out of range"),
        ({"seed": 2**31}, r"seed: 2147483648 is out of range"),
        ({"augment": "yes"}, r"augment: 'yes'; allowed: true or false"),
        ({"colour": 1}, r"image data: unknown fields colour"),
    ],
)
def test_settings_validation_names_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ImageDataSettings.from_dict({**ImageDataSettings().to_dict(), **change})


def test_settings_module_does_not_import_qt() -> None:
    code = (
        "import sys, playground.image_data; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_layout_follows_the_first_layer() -> None:
    conv = {"input_shape": [1, 28, 28], "layers": [{"type": "conv", "filters": 8}]}
    assert layout_for(conv) == "image"
    assert layout_for({"layers": [{"type": "pool"}]}) == "image"
    assert layout_for({"input_shape": [784], "layers": [{"type": "dense", "units": 10}]}) == "flat"


# ------------------------------------------------------------------------------------- loading


@needs_fashion
def test_fashion_subsets_are_balanced_and_deterministic(tmp_path: Path) -> None:
    s = ImageDataSettings("fashion-mnist", train_subset=1000, test_subset=2000, seed=3)
    p = load_image_data(s, cache_dir=tmp_path)  # nothing cached: Debian's copy
    assert p.source == str(DEBIAN_FASHION)
    assert p.class_names == FASHION_CLASSES and p.layout == "flat"
    assert p.x_train.shape == (1000, 784) and p.x_test.shape == (2000, 784)
    assert p.x_train.dtype == np.float32 and p.x_test.dtype == np.float32
    assert p.x_val.shape == (0, 784) and p.input_shape == (784,)
    assert p.x_train.min() == 0.0 and p.x_train.max() == 1.0
    assert np.bincount(p.y_train).tolist() == [100] * 10
    assert np.bincount(p.y_test).tolist() == [200] * 10
    assert p.y_train.dtype == np.int64
    assert p.test_images.shape == (2000, 28, 28) and p.test_images.dtype == np.uint8
    assert np.array_equal(p.test_images.reshape(2000, -1) / np.float32(255), p.x_test)
    # The same settings give the same arrays; another seed draws other images.
    again = load_image_data(s, cache_dir=tmp_path, layout="image")
    assert again.x_train.shape == (1000, 1, 28, 28) and again.input_shape == (1, 28, 28)
    assert np.array_equal(again.x_train.reshape(1000, -1), p.x_train)
    assert np.array_equal(again.y_test, p.y_test)
    other = load_image_data(dataclasses.replace(s, seed=4), cache_dir=tmp_path)
    assert not np.array_equal(other.x_train, p.x_train)
    # Every test image of the full set, in its stored order.
    full = load_image_data(dataclasses.replace(s, test_subset=None), cache_dir=tmp_path)
    assert full.x_test.shape == (10000, 784)
    assert np.array_equal(full.y_test, read_idx(DEBIAN_FASHION / f"{NAMES[3]}.gz"))


def test_folder_subsets_and_errors(tmp_path: Path, tiny: dict[str, bytes]) -> None:
    folder = write_folder(tmp_path / "digits", tiny)
    s = ImageDataSettings(folder=str(folder), train_subset=10, test_subset=1000)
    p = load_image_data(s, cache_dir=tmp_path / "empty")
    assert p.source == str(folder) and p.class_names == DIGITS
    assert np.bincount(p.y_train).tolist() == [1] * 10  # 1 of the 2 images of each class
    rows = {r.tobytes() for r in normalize(tiny_arrays()[NAMES[0]]).reshape(20, -1)}
    assert all(r.tobytes() in rows for r in p.x_train)
    assert p.x_test.shape == (10, 784)  # asked for more than there are: all of them
    assert np.array_equal(p.test_images, tiny_arrays()[NAMES[2]])
    # A subset the classes cannot fill equally is refused, naming the field.
    uneven = dict(tiny)
    uneven[NAMES[0]] = idx_bytes(np.zeros((40, 28, 28), np.uint8))
    uneven[NAMES[1]] = labels_bytes([0] * 31 + list(range(1, 10)))
    s.folder = str(write_folder(tmp_path / "uneven", uneven))
    with pytest.raises(ValueError, match=r"train_subset: 20 images.*class 1 has only 1"):
        load_image_data(dataclasses.replace(s, train_subset=20))
    with pytest.raises(ValueError, match="layout"):
        load_image_data(s, layout="nchw")
    with pytest.raises(DatasetNotFound, match="MNIST is not on this computer yet: press"):
        load_image_data(ImageDataSettings("mnist"), cache_dir=tmp_path / "empty")


# --------------------------------------------------------------------------------------- panel


def visible(widget: Any) -> bool:
    return widget.isVisibleTo(widget.parentWidget())


def test_panel_shows_where_each_set_is(qtbot: Any, empty_root: Path) -> None:
    panel = ImageDataPanel()
    qtbot.addWidget(panel)
    assert panel.settings() == ImageDataSettings()
    assert panel.status_text() == "Not downloaded" and not panel.available()
    assert visible(panel.download_button)
    assert panel.download_button.text() == "Download (12 MB)"
    assert str(empty_root / "mnist") in panel.status.toolTip()
    if not DEBIAN_FASHION.is_dir():
        return
    with qtbot.waitSignal(panel.changed, timeout=1000):
        panel.dataset.setCurrentIndex(panel.dataset.findData("fashion-mnist"))
    assert panel.status_text() == f"Found: {DEBIAN_FASHION}" and panel.available()
    assert not visible(panel.download_button) and not visible(panel.named_button)
    assert panel.settings().dataset == "fashion-mnist"


def test_panel_settings_round_trip_and_changes(qtbot: Any, empty_root: Path) -> None:
    panel = ImageDataPanel()
    qtbot.addWidget(panel)
    emitted: list[bool] = []
    panel.changed.connect(lambda: emitted.append(True))
    s = ImageDataSettings("fashion-mnist", None, 20_000, None, 42, True)
    panel.set_settings(s)  # 20,000 is not offered: added to the list
    assert panel.settings() == s and emitted == []
    for change in (
        lambda: panel.train_subset.setCurrentIndex(0),
        lambda: panel.test_subset.setCurrentIndex(1),
        lambda: panel.seed.setValue(5),
        lambda: panel.augment.setChecked(False),
    ):
        with qtbot.waitSignal(panel.changed, timeout=1000):
            change()
    assert panel.settings() == ImageDataSettings("fashion-mnist", None, 1000, 2000, 5, False)
    assert all(w.toolTip() for w in (panel.dataset, panel.train_subset, panel.test_subset))
    assert all(w.toolTip() for w in (panel.seed, panel.folder_button, panel.download_button))
    assert "±2 px" in panel.augment.toolTip() and "±10°" in panel.augment.toolTip()


@pytest.fixture
def panel(qtbot: Any, empty_root: Path) -> ImageDataPanel:
    """A panel over an empty data set cache."""
    panel = ImageDataPanel()
    qtbot.addWidget(panel)
    return panel


def test_load_from_folder_accepts_valid_images(
    qtbot: Any,
    panel: ImageDataPanel,
    tmp_path: Path,
    tiny: dict[str, bytes],
    warnings: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = write_folder(tmp_path / "my digits", tiny, compress=False)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    with qtbot.waitSignal(panel.changed, timeout=1000):
        assert panel.choose_folder()  # through the (stubbed) folder dialog
    assert warnings == []
    assert panel.settings().folder == str(folder) and panel.available()
    assert panel.status_text() == f"Folder: {folder} (20 train, 10 test)"
    assert visible(panel.named_button) and not visible(panel.download_button)
    assert panel.named_button.text() == "Use MNIST"
    assert load_image_data(panel.settings()).x_train.shape == (20, 784)
    with qtbot.waitSignal(panel.changed, timeout=1000):
        panel.named_button.click()
    assert panel.settings().folder is None and panel.status_text() == "Not downloaded"
    # An mnist.npz file is accepted too.
    a = tiny_arrays()
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=a[NAMES[0]], y_train=a[NAMES[1]], x_test=a[NAMES[2]], y_test=a[NAMES[3]])
    with qtbot.waitSignal(panel.changed, timeout=1000):
        assert panel.choose_npz(str(npz))
    assert panel.settings().folder == str(npz) and warnings == []
    # Cancelling the dialog changes nothing.
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    assert not panel.choose_folder() and panel.settings().folder == str(npz)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", r"train-labels-idx1-ubyte: truncated"),
        ("missing", r"incomplete IDX set: t10k-images-idx3-ubyte missing"),
        ("absent", r"no such folder"),
        ("npz", r"y_train: declares shape \(10000000000,\) of float64 .* but stores 16 bytes"),
        ("pipe", r"train-images-idx3-ubyte\.gz: not a regular file"),
    ],
)
def test_load_from_folder_refuses_bad_images(
    qtbot: Any,
    panel: ImageDataPanel,
    tmp_path: Path,
    tiny: dict[str, bytes],
    warnings: list[tuple[str, str]],
    damage: str,
    message: str,
) -> None:
    good = write_folder(tmp_path / "good", tiny)
    bad = write_folder(tmp_path / "bad", tiny, compress=False)
    if damage == "truncate":
        (bad / NAMES[1]).write_bytes(tiny[NAMES[1]][:-3])
    elif damage == "missing":
        (bad / NAMES[2]).unlink()
    elif damage == "npz":  # 1e10 float64 declared, 16 bytes stored: was a MemoryError
        bad = tmp_path / "archive"
        bad.mkdir()
        a = tiny_arrays()
        header = "{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000,)}"
        with zipfile.ZipFile(bad / "mnist.npz", "w") as zf:
            for key, array in zip(NPZ_KEYS, a.values(), strict=True):
                zf.writestr(
                    f"{key}.npy",
                    npy_bytes(header, bytes(16)) if key == "y_train" else npy_of(array),
                )
    elif damage == "pipe":
        os.mkfifo(bad / f"{NAMES[0]}.gz")
    else:
        bad = tmp_path / "nowhere"
    assert check_folder(qtbot, panel, panel.choose_folder, str(good))
    before, status = panel.settings(), panel.status_text()
    emitted: list[bool] = []
    panel.changed.connect(lambda: emitted.append(True))
    assert not check_folder(qtbot, panel, panel.choose_folder, str(bad))
    assert QApplication.overrideCursor() is None  # the wait cursor is gone
    assert len(warnings) == 1 and warnings[0][0] == "Cannot use these images"
    assert str(bad) in warnings[0][1]
    assert re.search(message, warnings[0][1])
    assert panel.settings() == before and panel.status_text() == status and emitted == []


def test_a_run_from_a_folder_that_cannot_be_read_is_refused_with_the_reason(
    qtbot: Any, empty_root: Path, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    """Settings from a file may name any folder: one the system can't open gets the same clear
    refusal as a damaged one, not a stray error."""
    pipe = write_folder(tmp_path / "pipe", {n: tiny[n] for n in NAMES[1:]})
    os.mkfifo(pipe / f"{NAMES[0]}.gz")
    workspace = ImageWorkspace(Mock(spec=TrainingController))  # runs are set up by hand
    qtbot.addWidget(workspace)
    session = workspace.session()
    for folder, reason in ((tmp_path / ("x" * 300), "File name too long"), (pipe, "not a regular")):
        session.data = dataclasses.replace(session.data, folder=str(folder))
        workspace.apply_session(session)
        with pytest.raises(ValueError, match=f"^Can't read the images: .*{reason}"):
            workspace.prepare_run()


# ------------------------------------------------------------------------------------ download


def test_download_dialog_success(
    qtbot: Any, server: IdxServer, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    server.serve("m1", tiny)
    spec = tiny_spec(tiny)  # no mirrors of its own: the dialog's are used
    dialog = DownloadDialog(spec, mirrors=[server.url("m1")], cache_dir=tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    assert status(spec, tmp_path) is None
    with qtbot.waitSignal(dialog.downloadFinished, timeout=10_000) as blocker:
        dialog.start()
    assert blocker.args == [True, str(tmp_path / "tiny")]
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    assert dialog.error == "" and dialog.done_bytes == dialog.total_bytes > 0
    total = dialog.total_bytes / 1e6
    assert dialog.amount.text() == f"{total:.1f} of {total:.1f} MB"
    assert listing(tmp_path / "tiny") == sorted(f"{n}.gz" for n in NAMES)
    loc = status(spec, tmp_path, verify=True)
    assert loc is not None and loc.source == "cache"


@pytest.mark.parametrize("fault", ["404", "checksum"])
def test_download_dialog_failure_then_retry(
    qtbot: Any, server: IdxServer, tmp_path: Path, tiny: dict[str, bytes], fault: str
) -> None:
    spec = tiny_spec(tiny, (server.url("m1"), server.url("m2")))
    if fault == "checksum":
        server.serve("m1", {n: raw[:-1] + b"\x07" for n, raw in tiny.items()})
    dialog = DownloadDialog(spec, cache_dir=tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.downloadFinished, timeout=10_000) as blocker:
        dialog.start()
    ok, message = blocker.args
    assert not ok and dialog.error == message
    assert ("HTTP 404" if fault == "404" else "checksum mismatch") in message
    assert server.url("m2") in message  # every mirror was tried
    assert dialog.isVisible() and visible(dialog.message) and visible(dialog.retry_button)
    assert "Download failed" in dialog.message.text() and not visible(dialog.cancel_button)
    assert listing(tmp_path) == []  # nothing left behind, not even the folder
    # Retry once a mirror works.
    server.serve("m2", tiny)
    with qtbot.waitSignal(dialog.downloadFinished, timeout=10_000) as blocker:
        dialog.retry_button.click()
    assert blocker.args[0] and dialog.result() == QDialog.DialogCode.Accepted
    assert len(listing(tmp_path / "tiny")) == 4


def test_download_dialog_close_after_failure_rejects(
    qtbot: Any, server: IdxServer, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    dialog = DownloadDialog(tiny_spec(tiny, (server.url("none"),)), cache_dir=tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.downloadFinished, timeout=10_000):
        dialog.start()
    dialog.close_button.click()
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()


@pytest.fixture
def slow_dialog(
    qtbot: Any,
    server: IdxServer,
    tmp_path: Path,
    tiny: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> DownloadDialog:
    """A dialog (not started) downloading into ``tmp_path`` from a slow link: 1 KiB every 50 ms,
    ~0.8 s for the first file, cancellation checked between reads of 1 KiB."""
    monkeypatch.setattr(connection, "CHUNK_SIZE", 1024)
    server.serve("m1", tiny, mode="throttle")
    dialog = DownloadDialog(tiny_spec(tiny, (server.url("m1"),)), cache_dir=tmp_path)
    qtbot.addWidget(dialog)
    return dialog


def test_download_dialog_cancel_midway(
    qtbot: Any, server: IdxServer, tmp_path: Path, slow_dialog: DownloadDialog
) -> None:
    dialog = slow_dialog
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.done_bytes > 0, timeout=5000)
    assert dialog.is_running()
    with qtbot.waitSignal(dialog.downloadFinished, timeout=5000) as blocker:
        dialog.cancel_button.click()
        assert dialog.headline.text() == "Cancelling…" and not dialog.cancel_button.isEnabled()
    assert blocker.args == [False, "Download of Tiny cancelled."]
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.is_running()
    assert 0 < dialog.done_bytes < dialog.total_bytes
    assert server.fetched() == [f"m1:{NAMES[0]}.gz"]  # stopped inside the first file
    assert listing(tmp_path) == []


@pytest.mark.parametrize("how", ["cancel", "quit"])
def test_download_dialog_cancel_on_a_crawling_link(
    qtbot: Any, server: IdxServer, tmp_path: Path, tiny: dict[str, bytes], how: str
) -> None:
    """2 bytes per second, well inside the 30 s read timeout: Cancel closes the dialog within
    a second (Quit stops the download as fast), and nothing is left in the cache."""
    server.serve("m1", tiny, mode="throttle")
    server.piece, server.pace = 1, 0.5
    dialog = DownloadDialog(tiny_spec(tiny, (server.url("m1"),)), cache_dir=tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.done_bytes > 0, timeout=5000)
    start = time.perf_counter()
    if how == "cancel":
        with qtbot.waitSignal(dialog.finished, timeout=5000):
            dialog.cancel_button.click()
        assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.is_running()
    else:
        assert dialog.stop(timeout=5.0)
    assert time.perf_counter() - start < 1.0
    assert listing(tmp_path) == []


@pytest.fixture
def mnist_panel(
    qtbot: Any, empty_root: Path, tiny: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], ImageDataPanel]:
    """A shown panel, MNIST being the tiny set and downloaded from the mirror given."""
    tiny_mnist = dataclasses.replace(tiny_spec(tiny), name="mnist", title="MNIST")
    monkeypatch.setitem(DATASETS, "mnist", tiny_mnist)

    def make(mirror: str) -> ImageDataPanel:
        panel = ImageDataPanel(mirrors=[mirror])
        qtbot.addWidget(panel)
        panel.show()
        return panel

    return make


def test_panel_download_makes_the_set_available(
    qtbot: Any, server: IdxServer, empty_root: Path, tiny: dict[str, bytes], mnist_panel: Any
) -> None:
    server.serve("m1", tiny)
    panel = mnist_panel(server.url("m1"))
    assert visible(panel.download_button) and not panel.available()
    with qtbot.waitSignal(panel.changed, timeout=10_000):
        panel.download_button.click()
    dialog = panel.download_dialog
    assert dialog is not None and dialog.result() == QDialog.DialogCode.Accepted
    assert panel.status_text() == f"Found: {empty_root / 'mnist'}" and panel.available()
    assert not visible(panel.download_button)
    p = load_image_data(dataclasses.replace(panel.settings(), train_subset=10))
    assert p.source == str(empty_root / "mnist") and np.bincount(p.y_train).tolist() == [1] * 10


def test_stopping_a_download_on_quit_leaves_nothing_behind(
    qtbot: Any, tmp_path: Path, slow_dialog: DownloadDialog
) -> None:
    dialog = slow_dialog
    dialog.start()
    qtbot.waitUntil(lambda: dialog.done_bytes > 0, timeout=5000)
    assert dialog.stop(timeout=5.0)  # returns once the download thread has ended
    assert listing(tmp_path) == []


def test_failed_download_offers_load_from_folder(
    qtbot: Any, server: IdxServer, mnist_panel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda *a, **k: asked.append(a[1]) or ""
    )
    panel = mnist_panel(server.url("none"))
    panel.download_button.click()
    dialog = panel.download_dialog
    qtbot.waitUntil(lambda: visible(dialog.retry_button), timeout=10_000)
    assert visible(dialog.folder_button) and dialog.folder_button.text() == "Load from folder…"
    assert "Load from folder…" in dialog.message.text()
    dialog.folder_button.click()
    assert not dialog.isVisible() and asked == ["Folder with the four IDX files"]

"""Finding and loading image data sets: folders and .npz files, the cache and system folders
(never the network), the real data when present, and the registry."""

from __future__ import annotations

import dataclasses
import importlib
import socket
import sys
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from idx_server import (
    NAMES,
    good_npz_arrays,
    gz,
    idx_bytes,
    listing,
    npz_file,
    tiny_arrays,
    tiny_spec,
    write_folder,
)

from core.data.download import download
from core.data.idx import MnistError, read_idx
from core.data.loading import DatasetNotFound, load, load_folder
from core.data.locations import cache_folder, default_data_root, status
from core.data.registry import DATASETS, FASHION_CLASSES

SHARED_MNIST = Path("/work/shared/data/mnist")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


# ------------------------------------------------------------------------------ load_folder


def test_load_folder_idx_mixed_gz_and_raw(tmp_path: Path, tiny: dict[str, bytes]) -> None:
    folder = tmp_path / "digits"
    write_folder(folder, dict(list(tiny.items())[:2]), compress=True)
    write_folder(folder, dict(list(tiny.items())[2:]), compress=False)
    d = load_folder(folder)
    a = tiny_arrays()
    assert d.name == "digits" and d.n_train == 20 and d.n_test == 10
    assert np.array_equal(d.x_train, a[NAMES[0]]) and np.array_equal(d.y_test, a[NAMES[3]])
    named = load_folder(folder, name="fashion", class_names=FASHION_CLASSES)
    assert named.name == "fashion" and named.class_names[9] == "Ankle boot"


def test_load_folder_npz(tmp_path: Path) -> None:
    npz_file(tmp_path / "mnist.npz", **good_npz_arrays())
    assert load_folder(tmp_path).n_train == 20
    assert load_folder(tmp_path / "mnist.npz").name == "mnist"


def test_load_folder_missing_files(tmp_path: Path, tiny: dict[str, bytes]) -> None:
    with pytest.raises(DatasetNotFound, match="neither the four IDX files"):
        load_folder(tmp_path)
    with pytest.raises(DatasetNotFound, match="no such folder"):
        load_folder(tmp_path / "absent")
    write_folder(tmp_path, dict(list(tiny.items())[:3]))
    with pytest.raises(DatasetNotFound, match="t10k-labels-idx1-ubyte missing"):
        load_folder(tmp_path)


def test_load_folder_wrong_kinds_and_counts(tmp_path: Path, tiny: dict[str, bytes]) -> None:
    swapped = dict(tiny)
    swapped[NAMES[0]] = tiny[NAMES[1]]
    with pytest.raises(MnistError, match="train-images-idx3-ubyte must hold images"):
        load_folder(write_folder(tmp_path / "a", swapped))
    fewer = dict(tiny)
    fewer[NAMES[3]] = idx_bytes(np.zeros(9, np.uint8))
    with pytest.raises(MnistError, match="10 test images but 9 test labels"):
        load_folder(write_folder(tmp_path / "b", fewer))
    small = dict(tiny)
    small[NAMES[2]] = idx_bytes(np.zeros((10, 8, 8), np.uint8))
    with pytest.raises(MnistError, match=r"\(n, 28, 28\)"):
        load_folder(write_folder(tmp_path / "c", small))


# ------------------------------------------------------------------ real data (when present)


@pytest.fixture(scope="module")
def shared_mnist() -> Path:
    if not all((SHARED_MNIST / f"{n}.gz").is_file() for n in NAMES):
        pytest.skip("the MNIST development copy is not available")
    return SHARED_MNIST


def test_real_mnist_test_split_checksums(shared_mnist: Path) -> None:
    files = DATASETS["mnist"].files
    x = read_idx(shared_mnist / f"{files[2].name}.gz", sha256=files[2].sha256)
    y = read_idx(shared_mnist / f"{files[3].name}.gz", sha256=files[3].sha256)
    assert x.shape == (10000, 28, 28) and y.shape == (10000,)
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    spec = dataclasses.replace(DATASETS["mnist"], system_dirs=(str(shared_mnist),))
    loc = status(spec, cache_dir="/nonexistent-cache-root")
    assert loc is not None and loc.source == "system" and loc.folder == shared_mnist


@pytest.mark.slow
def test_real_mnist_full_load_verified(shared_mnist: Path, tmp_path: Path) -> None:
    spec = dataclasses.replace(DATASETS["mnist"], system_dirs=(str(shared_mnist),))
    d = load(spec, cache_dir=tmp_path)  # verifies every SHA-256
    assert d.x_train.shape == (60000, 28, 28) and d.y_train.shape == (60000,)
    assert d.x_test.shape == (10000, 28, 28) and d.y_test.shape == (10000,)
    assert load_folder(shared_mnist).n_train == 60000


def test_debian_fashion_mnist_is_found(tmp_path: Path) -> None:
    if not DEBIAN_FASHION.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    loc = status("fashion-mnist", cache_dir=tmp_path)
    assert loc is not None and loc.source == "system" and loc.folder == DEBIAN_FASHION
    labels = read_idx(loc.files[3], sha256=DATASETS["fashion-mnist"].files[3].sha256)
    assert labels.shape == (10000,) and np.bincount(labels).tolist() == [1000] * 10


@pytest.mark.slow
def test_debian_fashion_mnist_full_load_verified(tmp_path: Path) -> None:
    if not DEBIAN_FASHION.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    assert status("fashion-mnist", cache_dir=tmp_path, verify=True) is not None
    d = load("fashion-mnist", cache_dir=tmp_path)
    assert d.x_train.shape == (60000, 28, 28) and d.class_names == FASHION_CLASSES


# ------------------------------------------------------------------- locating, no network


def test_cache_root_env_and_platforms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(tmp_path / "root"))
    assert default_data_root() == tmp_path / "root"
    assert cache_folder("mnist") == tmp_path / "root" / "mnist"
    assert cache_folder("fashion-mnist", tmp_path) == tmp_path / "fashion-mnist"
    monkeypatch.delenv("NN_PLAYGROUND_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_root() == tmp_path / "xdg" / "nn-playground" / "datasets"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert default_data_root() == tmp_path / "home/.local/share/nn-playground/datasets"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert default_data_root() == (
        tmp_path / "home/Library/Application Support/nn-playground/datasets"
    )
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert default_data_root() == tmp_path / "local" / "nn-playground" / "datasets"


def test_unknown_name_and_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="name: 'cifar10' is not known; allowed: mnist"):
        status("cifar10")
    spec = tiny_spec({n: b"" for n in NAMES}, ("http://127.0.0.1:9/",))
    with pytest.raises(ValueError, match="mirrors: empty"):
        download(spec, tmp_path, mirrors=[])
    with pytest.raises(ValueError, match="mirrors: 'ftp://x/'"):
        download(spec, tmp_path, mirrors=["ftp://x/"])
    with pytest.raises(ValueError, match="timeout"):
        download(spec, tmp_path, timeout=0)
    with pytest.raises(TypeError, match="cancel"):
        download(spec, tmp_path, cancel=5)
    assert listing(tmp_path) == []


def test_locating_never_touches_the_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access")

    monkeypatch.setattr(urllib.request, "urlopen", forbidden)
    monkeypatch.setattr(socket, "create_connection", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(socket.socket, "connect_ex", forbidden)
    monkeypatch.setenv("NN_PLAYGROUND_DATA", str(tmp_path / "root"))
    assert status("mnist") is None
    assert status("mnist", cache_dir=tmp_path, verify=True) is None
    status("fashion-mnist", cache_dir=tmp_path)
    with pytest.raises(DatasetNotFound, match=r"download it \(about 12 MB\)"):
        load("mnist")
    spec = tiny_spec(tiny, ("http://127.0.0.1:9/",))
    write_folder(tmp_path / "root" / "tiny", tiny)
    loc = status(spec, verify=True)
    assert loc is not None and loc.source == "cache" and loc.folder == tmp_path / "root" / "tiny"
    assert load(spec, download=True).n_train == 20  # found locally: no download
    assert listing(tmp_path) == ["root"]  # nothing created by looking


def test_status_checks_sizes_and_load_checks_checksums(
    tmp_path: Path, tiny: dict[str, bytes]
) -> None:
    spec = tiny_spec(tiny)
    folder = write_folder(tmp_path / "tiny", tiny, compress=False)
    assert status(spec, tmp_path) is not None
    # Same size, different content: status (sizes only) accepts, verify and load refuse.
    labels = bytearray(tiny[NAMES[1]])
    labels[-1] = (labels[-1] + 1) % 10
    (folder / NAMES[1]).write_bytes(bytes(labels))
    assert status(spec, tmp_path) is not None
    assert status(spec, tmp_path, verify=True) is None
    with pytest.raises(MnistError, match="local copy is damaged.*SHA-256"):
        load(spec, tmp_path)
    # A truncated file fails even the cheap check.
    (folder / NAMES[1]).write_bytes(tiny[NAMES[1]][:-1])
    assert status(spec, tmp_path) is None
    (folder / NAMES[1]).unlink()
    (folder / f"{NAMES[1]}.gz").write_bytes(gz(tiny[NAMES[1]])[:-3])
    assert status(spec, tmp_path) is None
    (folder / f"{NAMES[1]}.gz").write_bytes(gz(tiny[NAMES[1]]))
    assert load(spec, tmp_path).n_test == 10


def test_registry_entries() -> None:
    assert set(DATASETS) == {"mnist", "fashion-mnist"}
    for spec in DATASETS.values():
        assert [f.name for f in spec.files] == NAMES
        assert [f.size for f in spec.files] == [47040016, 60008, 7840016, 10008]
        assert all(u.endswith("/") and u.startswith("http") for u in spec.mirrors)
    assert 11e6 < DATASETS["mnist"].download_size < 12e6
    assert DATASETS["fashion-mnist"].class_names[0] == "T-shirt/top"
    assert DATASETS["mnist"].class_names == tuple("0123456789")


IMAGE_DATA_MODULES = (
    "augment",
    "connection",
    "download",
    "gunzip",
    "idx",
    "image_dataset",
    "loading",
    "locations",
    "prepare",
    "registry",
)


@pytest.mark.parametrize("name", IMAGE_DATA_MODULES)
def test_core_module_does_not_mention_the_shared_folder(name: str) -> None:
    text = Path(importlib.import_module(f"core.data.{name}").__file__).read_text(encoding="utf-8")
    assert "/work/shared" not in text and "../shared" not in text

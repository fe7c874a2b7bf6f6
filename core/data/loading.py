"""Loading an image data set: a registered one, or any MNIST-style folder or ``.npz``.

A registered data set is read from where it lives (:mod:`core.data.locations`), every file's
SHA-256 checked, and downloaded first only on request (:mod:`core.data.download`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.data.download import DEFAULT_TIMEOUT, ProgressFn
from core.data.download import download as download_files
from core.data.idx import MnistError, read_idx_set, read_npz
from core.data.image_dataset import ImageDataset
from core.data.locations import Location, cache_folder, find_file, local_copies
from core.data.registry import DATASETS, DIGITS, DatasetSpec, dataset_spec


class DatasetNotFound(FileNotFoundError):
    """A data set is in none of the places searched; the message lists them."""


def load_folder(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    class_names: Sequence[str] = DIGITS,
) -> ImageDataset:
    """Read an MNIST-style data set from a folder or an ``.npz`` file.

    Parameters
    ----------
    path : str or os.PathLike
        A folder holding the four IDX files under their standard names
        (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
        ``t10k-labels-idx1-ubyte``, each optionally ``.gz``), or else ``mnist.npz``; or the path
        of an ``.npz`` archive.
    name : str, optional
        Data set name (default: the folder name, or the archive's stem).
    class_names : sequence of str
        10 display names (default ``"0"``..``"9"``; use
        :data:`core.data.registry.FASHION_CLASSES` for Fashion-MNIST).

    Returns
    -------
    ImageDataset
        ``x_*`` uint8 ``(n, 28, 28)``, ``y_*`` int64 ``(n,)``.

    Raises
    ------
    DatasetNotFound
        The path does not exist, or the folder holds neither a complete IDX set nor
        ``mnist.npz`` (the message lists what is missing).
    MnistError
        A file is invalid (see :func:`core.data.idx.read_idx`, :func:`core.data.idx.read_npz`).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        if path.suffix.lower() != ".npz":
            raise MnistError(f"{path}: not a folder or an .npz archive")
        return read_npz(path, name=name, class_names=class_names)
    if not path.is_dir():
        raise DatasetNotFound(f"{path}: no such folder")
    names = [f.name for f in DATASETS["mnist"].files]
    found = [find_file(path, n) for n in names]
    if all(found):
        arrays = read_idx_set(str(path), found, names, [None] * 4)  # type: ignore[arg-type]
        return ImageDataset(path.name if name is None else name, *arrays, tuple(class_names))
    if (path / "mnist.npz").exists():
        return read_npz(
            path / "mnist.npz", name=path.name if name is None else name, class_names=class_names
        )
    missing = [n for n, p in zip(names, found, strict=True) if p is None]
    if len(missing) < 4:
        raise DatasetNotFound(
            f"{path}: incomplete IDX set: {', '.join(missing)} missing (each may end in .gz)"
        )
    raise DatasetNotFound(
        f"{path}: holds neither the four IDX files ({', '.join(names)}, each may end in .gz) "
        "nor mnist.npz"
    )


def load(
    name: str | DatasetSpec,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    mirrors: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    cancel: Any = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ImageDataset:
    """Load a registered data set from the cache or a system folder, verifying checksums;
    download it first only when ``download=True`` and no valid local copy exists.

    Parameters
    ----------
    name : str or DatasetSpec
        ``"mnist"``, ``"fashion-mnist"`` or a custom registry entry.
    cache_dir : str or os.PathLike, optional
        Cache root (default :func:`core.data.locations.default_data_root`).
    download : bool
        Allow a download (see :func:`core.data.download.download`) when no valid local copy is
        found.
    mirrors, progress, cancel, timeout
        Passed to the download.

    Returns
    -------
    ImageDataset
        ``x_*`` uint8 ``(n, 28, 28)``, ``y_*`` int64 ``(n,)``, the entry's class names.

    Raises
    ------
    DatasetNotFound
        No local copy and ``download`` is False (the message says how much to download).
    MnistError
        Every local copy is damaged and ``download`` is False.
    DownloadError, DownloadCancelled
        From the download.
    """
    spec = dataset_spec(name)
    problems = []
    for loc in local_copies(spec, cache_dir):
        try:
            return _read_location(spec, loc)
        except MnistError as exc:
            problems.append(str(exc))
    if download:
        folder = download_files(
            spec, cache_dir, mirrors=mirrors, progress=progress, cancel=cancel, timeout=timeout
        )
        loc = local_copies(spec, cache_dir)
        if not loc or loc[0].folder != folder:
            raise MnistError(f"{folder}: the downloaded files could not be found again")
        return _read_location(spec, loc[0])
    if problems:
        raise MnistError(
            f"{spec.title}: the local copy is damaged: {'; '.join(problems)}. Download it again "
            "(download() or load(..., download=True)) or delete the file"
        )
    searched = [str(cache_folder(spec, cache_dir)), *spec.system_dirs]
    raise DatasetNotFound(
        f"{spec.title} is not available locally (searched {', '.join(searched)}); download it "
        f"(about {spec.download_size / 1e6:.0f} MB) with download({spec.name!r}) or "
        "load(..., download=True)"
    )


def _read_location(spec: DatasetSpec, loc: Location) -> ImageDataset:
    arrays = read_idx_set(
        str(loc.folder),
        loc.files,
        [f.name for f in spec.files],
        [f.sha256 for f in spec.files],
    )
    return ImageDataset(spec.name, *arrays, spec.class_names)

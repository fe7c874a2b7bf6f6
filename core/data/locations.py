"""Where data sets live on this computer: the per-user cache and read-only system folders.

Where a data set is found, in order (:func:`status`, :func:`core.data.loading.load`)
------------------------------------------------------------------------------------
1. The cache folder ``<root>/<name>/``, where ``<root>`` is the ``cache_dir`` argument, else the
   environment variable ``NN_PLAYGROUND_DATA``, else the per-user data folder:
   ``$XDG_DATA_HOME/nn-playground/datasets`` (default ``~/.local/share/...``) on Linux and
   other Unix systems, ``%LOCALAPPDATA%\\nn-playground\\datasets`` on Windows and
   ``~/Library/Application Support/nn-playground/datasets`` on macOS.
2. Read-only system folders of the entry (:attr:`DatasetSpec.system_dirs`): Debian's
   ``dataset-fashion-mnist`` package installs ``/usr/share/datasets/fashion-mnist/``.

A folder counts when it holds all four files, each either decompressed (``train-images-idx3-
ubyte``) or gzip-compressed (``train-images-idx3-ubyte.gz``; preferred when both exist).
:func:`status` only looks at file sizes (cheap); loading checks every file's SHA-256 while
reading it and falls back to the next folder when one is damaged.
"""

from __future__ import annotations

import hashlib
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from core.data.gunzip import GZIP_MAGIC, READ_CHUNK, GunzipFile
from core.data.idx import MnistError, open_regular
from core.data.registry import DataFile, DatasetSpec, dataset_spec

ENV_VAR = "NN_PLAYGROUND_DATA"
"""Environment variable naming the cache root (data sets in ``<root>/<name>/``)."""


def default_data_root() -> Path:
    """The cache root: ``$NN_PLAYGROUND_DATA`` if set, else the per-user data folder
    (``$XDG_DATA_HOME/nn-playground/datasets``, ``~/.local/share/nn-playground/datasets``;
    ``%LOCALAPPDATA%\\nn-playground\\datasets`` on Windows;
    ``~/Library/Application Support/nn-playground/datasets`` on macOS). Nothing is created."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return user_data_folder() / "datasets"


def user_data_folder() -> Path:
    """The app's per-user data folder: ``$XDG_DATA_HOME/nn-playground`` (default
    ``~/.local/share/nn-playground``), ``%LOCALAPPDATA%\\nn-playground`` on Windows,
    ``~/Library/Application Support/nn-playground`` on macOS. Nothing is created."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        # The XDG spec says relative paths are invalid and must be ignored.
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "nn-playground"


def cache_folder(name: str | DatasetSpec, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder of a data set: ``<cache_dir or default_data_root()>/<name>``."""
    spec = dataset_spec(name)
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_data_root()
    return root / spec.name


@dataclass(frozen=True)
class Location:
    """Where a data set was found.

    Attributes
    ----------
    name : str
        Data set name.
    folder : pathlib.Path
        The folder holding the four files.
    source : str
        ``"cache"`` (the cache folder) or ``"system"`` (a read-only system folder).
    files : tuple of pathlib.Path
        The four files in :data:`core.data.registry.ROLES` order (``.gz`` or decompressed).
    """

    name: str
    folder: Path
    source: str
    files: tuple[Path, ...]


def _plausible(path: Path, f: DataFile) -> bool:
    """Cheap size check: a decompressed file's size, or a ``.gz`` file's magic bytes and its
    trailer's ISIZE (decompressed size modulo 2**32)."""
    try:
        st = path.stat()
        if path.suffix != ".gz":
            return st.st_size == f.size
        if st.st_size < 18:
            return False
        with open_regular(path, str(path)) as fh:
            if fh.read(2) != GZIP_MAGIC:
                return False
            fh.seek(-4, os.SEEK_END)
            return int.from_bytes(fh.read(4), "little") == f.size % 2**32
    except (OSError, MnistError):
        return False


def local_copies(spec: DatasetSpec, cache_dir: str | os.PathLike[str] | None) -> list[Location]:
    """Folders holding all four files with plausible sizes, in search order (no network)."""
    candidates = [(cache_folder(spec, cache_dir), "cache")]
    candidates += [(Path(d), "system") for d in spec.system_dirs]
    found = []
    for folder, source in candidates:
        paths = [find_file(folder, f.name) for f in spec.files]
        if all(p is not None and _plausible(p, f) for p, f in zip(paths, spec.files, strict=True)):
            found.append(Location(spec.name, folder, source, tuple(paths)))  # type: ignore[arg-type]
    return found


def verified(path: Path, f: DataFile) -> bool:
    """True if the decompressed content of ``path`` has ``f``'s size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open_regular(path, str(path)) as raw:
            fh = GunzipFile(raw) if raw.read(2) == GZIP_MAGIC else raw
            raw.seek(0)
            while chunk := fh.read(READ_CHUNK):
                size += len(chunk)
                if size > f.size:
                    return False
                digest.update(chunk)
    except (OSError, zlib.error, MnistError):
        return False
    return size == f.size and digest.hexdigest() == f.sha256


def find_file(folder: Path, file_name: str) -> Path | None:
    """The path of ``file_name`` in ``folder``: ``.gz`` first, then decompressed; or None."""
    for candidate in (folder / f"{file_name}.gz", folder / file_name):
        if candidate.exists():  # a pipe or device is found, and refused by the reader
            return candidate
    return None


def status(
    name: str | DatasetSpec,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    verify: bool = False,
) -> Location | None:
    """Where a data set can be loaded from without downloading, or None. Never uses the network.

    Parameters
    ----------
    name : str or DatasetSpec
        ``"mnist"``, ``"fashion-mnist"`` or a custom registry entry.
    cache_dir : str or os.PathLike, optional
        Cache root (default :func:`default_data_root`).
    verify : bool
        Also check every file's SHA-256 (reads and decompresses about 55 MB; under a second).
        Without it only file sizes are checked; loading verifies checksums anyway.

    Returns
    -------
    Location or None
        The first folder (cache, then system folders) holding all four files; None when the data
        set must be downloaded (about ``DATASETS[name].download_size`` bytes).
    """
    spec = dataset_spec(name)
    for loc in local_copies(spec, cache_dir):
        if not verify or all(verified(p, f) for p, f in zip(loc.files, spec.files, strict=True)):
            return loc
    return None

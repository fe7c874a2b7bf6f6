"""Image-mode data settings (plain data, JSON round trip) and the model-ready arrays they make.

No Qt here: the engine process imports this module to load the images itself from the settings,
so the arrays are never pickled across the pipe.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from core.data.idx import MnistError
from core.data.image_dataset import ImageDataset
from core.data.loading import DatasetNotFound, load, load_folder
from core.data.locations import status
from core.data.prepare import LAYOUTS, PreparedData, prepare, subset
from core.data.registry import DATASETS, DatasetSpec
from core.validation import check_choice, check_number

DATASET_NAMES = ("mnist", "fashion-mnist")
TRAIN_SUBSETS = (1_000, 5_000, 10_000, None)
"""Training-set sizes the panel offers (None: every image, 60,000 for the MNIST family)."""
TEST_SUBSETS = (1_000, 2_000, None)
"""Test-set sizes the panel offers (None: every image, 10,000 for the MNIST family)."""
MAX_SEED = 2**31 - 1


@dataclass
class ImageDataSettings:
    """Which images to learn from.

    Attributes
    ----------
    dataset : str
        ``"mnist"`` or ``"fashion-mnist"``; names the classes, and the data set looked up in the
        cache and system folders when ``folder`` is None.
    folder : str or None
        A folder of the four IDX files (raw or ``.gz``) or holding ``mnist.npz``, or the path of
        an ``.npz`` file; used instead of the named data set's lookup.
    train_subset, test_subset : int or None
        Balanced subsets: ``n // 10`` random images of each class (seeded); None keeps every
        image. Multiples of 10, at least 10. Smaller sets make epochs (and live views) faster;
        evaluating 2,000 test images instead of 10,000 keeps snapshots cheap.
    seed : int
        Seed of the subsets, in ``[0, 2**31 - 1]``.
    augment : bool
        Random ±2 px shifts and ±10° rotations of the training images, fresh every epoch
        (applied by the trainer, not here).
    """

    dataset: str = "mnist"
    folder: str | None = None
    train_subset: int | None = 10_000
    test_subset: int | None = 2_000
    seed: int = 0
    augment: bool = False

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field (fields are normalized in place)."""
        check_choice("dataset", self.dataset, DATASET_NAMES)
        if self.folder is not None and (not isinstance(self.folder, str) or not self.folder):
            raise ValueError(f"folder: {self.folder!r}; allowed: None or a non-empty path")
        for name in ("train_subset", "test_subset"):
            value = getattr(self, name)
            if value is None:
                continue
            allowed = "None (every image) or a whole number >= 10, a multiple of 10"
            n = check_number(name, value, low=10, integer=True)
            if n % 10:
                raise ValueError(f"{name}: {value!r} is not a multiple of 10; allowed: {allowed}")
            setattr(self, name, int(n))
        self.seed = int(check_number("seed", self.seed, low=0, high=MAX_SEED, integer=True))
        if not isinstance(self.augment, bool):
            raise ValueError(f"augment: {self.augment!r}; allowed: true or false")

    @property
    def spec(self) -> DatasetSpec:
        """The registry entry of :attr:`dataset` (title, class names, download size)."""
        return DATASETS[self.dataset]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageDataSettings:
        """Rebuild from :meth:`to_dict`; missing keys take their defaults. Raises ValueError
        naming the field for unknown keys or bad values."""
        if not isinstance(data, dict):
            raise ValueError(f"image data: {type(data).__name__}; allowed: an object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"image data: unknown fields {', '.join(unknown)}; allowed: {', '.join(known)}"
            )
        return cls(**data)


@dataclass(frozen=True, eq=False)
class PreparedImages(PreparedData):
    """Model-ready arrays (see :class:`core.data.prepare.PreparedData`; no validation split) plus
    what the app shows beside them.

    Attributes
    ----------
    test_images : np.ndarray
        ``(n_test, 28, 28)`` uint8 pixels of ``x_test``, for display.
    source : str
        Where the images were read from (a folder or file path).
    """

    test_images: np.ndarray
    source: str


def layout_for(spec: dict[str, Any]) -> str:
    """The input layout an architecture spec needs: ``"image"`` ``(n, 1, 28, 28)`` when its
    first layer is a convolution or pooling layer, else ``"flat"`` ``(n, 784)``."""
    layers = spec.get("layers") or [{}]
    first = str(layers[0].get("type", ""))
    return "image" if first in ("conv", "maxpool", "avgpool", "pool") else "flat"


def _balanced(
    name: str, x: np.ndarray, y: np.ndarray, n: int | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n // classes`` random samples of every class, in their stored order; all of them when
    ``n`` is None or not smaller than the set."""
    if n is None or n >= len(y):
        return x, y
    classes = np.unique(y)
    try:
        return subset(x, y, per_class=n // len(classes), rng=rng)
    except ValueError as exc:
        raise ValueError(f"{name}: {n:,} images, balanced over the classes: {exc}") from None


def load_dataset(
    settings: ImageDataSettings, cache_dir: str | os.PathLike[str] | None = None
) -> ImageDataset:
    """The whole data set the settings name: the chosen folder, else the named set from the
    cache or a system folder (never downloads; checksums verified).

    Raises
    ------
    DatasetNotFound
        Not available locally, or no such folder.
    MnistError
        A file is invalid or damaged.

    The messages are the app's (they name its buttons, not core's functions).
    """
    settings.validate()
    spec = settings.spec
    if settings.folder is not None:
        return load_folder(settings.folder, name=settings.dataset, class_names=spec.class_names)
    try:
        return load(spec, cache_dir)
    except (DatasetNotFound, MnistError) as exc:
        raise type(exc)(not_here_message(spec, exc)) from None


def not_here_message(spec: DatasetSpec, exc: Exception) -> str:
    """What the app says when a named data set can't be loaded from this computer: core's
    messages advise its Python functions; the app's name its buttons."""
    if isinstance(exc, DatasetNotFound):
        return (
            f"{spec.title} is not on this computer yet: press Download in the Data panel, or "
            "Load from folder…"
        )
    damaged = str(exc).split(" Download it again", 1)[0].rstrip(".")
    return f"{damaged}. Press Download in the Data panel to fetch it again, or Load from folder…"


def load_image_data(
    settings: ImageDataSettings,
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    layout: str = "flat",
) -> PreparedImages:
    """Load and prepare the images the settings describe; the same settings give identical
    arrays.

    Parameters
    ----------
    settings : ImageDataSettings
    cache_dir : str or os.PathLike, optional
        Data set cache root (default :func:`core.data.locations.default_data_root`).
    layout : str
        ``"flat"``: ``x`` is ``(n, 784)`` for MLPs; ``"image"``: ``(n, 1, 28, 28)`` for CNNs
        (see :func:`layout_for`).

    Returns
    -------
    PreparedImages
        ``x_train``, ``x_test`` float32 in ``[0, 1]``; ``y_*`` ``(n,)`` int64; ``x_val`` empty;
        ``test_images`` the uint8 test images ``(n_test, 28, 28)``.

    Raises
    ------
    ValueError
        Bad settings or layout, or a subset the data cannot fill with equal class counts.
    DatasetNotFound, MnistError
        See :func:`load_dataset`.
    """
    check_choice("layout", layout, LAYOUTS)
    ds = load_dataset(settings, cache_dir)
    # Balanced draws rather than prepare()'s first-n test images: the first 1,000 MNIST test
    # images hold from 85 zeros to 126 ones, which skews a small test set's accuracy.
    rng = np.random.default_rng(settings.seed)
    x_train, y_train = _balanced("train_subset", ds.x_train, ds.y_train, settings.train_subset, rng)
    x_test, y_test = _balanced("test_subset", ds.x_test, ds.y_test, settings.test_subset, rng)
    chosen = ImageDataset(ds.name, x_train, y_train, x_test, y_test, ds.class_names)
    p = prepare(chosen, layout=layout)
    source = settings.folder if settings.folder is not None else _where(settings, cache_dir)
    return PreparedImages(
        p.x_train,
        p.y_train,
        p.x_val,
        p.y_val,
        p.x_test,
        p.y_test,
        p.class_names,
        p.layout,
        test_images=np.asarray(x_test),
        source=source,
    )


def _where(settings: ImageDataSettings, cache_dir: str | os.PathLike[str] | None) -> str:
    loc = status(settings.spec, cache_dir)
    return str(loc.folder) if loc is not None else settings.spec.title

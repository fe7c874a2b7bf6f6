"""Data recipes: the data a run trains on, described so that any process (a pool worker, a
cluster node) rebuilds the very same arrays from a few picklable fields.

Three kinds, each with ``build() -> TrainingData``, ``describe()`` (what a network needs to know
about the data before it is built: name, task, classes, input shape, training-set size) and
``augment``:

- :class:`ToyRecipe`: a toy 2D data set from its name, parameters, seed and input features;
- :class:`ImageRecipe`: MNIST or Fashion-MNIST from the data set's name, subsets, layout and
  seed, read on the worker from its cache or system folder (downloaded only when ``download``);
- :class:`TrainingData`: the arrays themselves (CSV points, edited points, images loaded from a
  folder), which travel as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core.data.download import download as download_files
from core.data.features import feature_map
from core.data.image_dataset import ImageDataset
from core.data.loading import load, load_folder
from core.data.locations import status
from core.data.prepare import prepare
from core.data.registry import DATASETS as IMAGE_DATASETS
from core.data.registry import IMAGE_SIDE
from core.data.toy2d import make_dataset

#: Training images of a whole MNIST-style data set (the size a memory estimate assumes).
FULL_TRAIN_IMAGES = 60_000


@dataclass(frozen=True, eq=False)
class TrainingData:
    """Model-ready arrays and what the model file should say about them; also the recipe of
    data that travel as arrays (``build()`` returns it as it is).

    ``x_*`` are ``(n, *input_shape)`` float32, ``y_*`` ``(n,)`` class indices or targets.
    """

    name: str
    task: str
    n_classes: int
    class_names: tuple[str, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    metadata: dict[str, Any]
    #: How the data were made, for experiment files (see :func:`core.cli_data.data_args`).
    params: dict[str, Any]
    #: Random shifts and rotations of the training images each epoch (image data only).
    augment: bool = False

    @property
    def images(self) -> bool:
        return self.name in IMAGE_DATASETS

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    def build(self) -> TrainingData:
        return self

    def describe(self) -> TrainingData:
        return self


@dataclass(frozen=True)
class DataInfo:
    """What a network and a memory estimate need to know about data not yet built."""

    name: str
    task: str
    n_classes: int
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    n_train: int
    images: bool


@dataclass(frozen=True)
class ToyRecipe:
    """A toy 2D data set (:func:`core.data.toy2d.make_dataset`) mapped to input ``features``."""

    name: str
    n_samples: int = 500
    noise: float = 0.0
    test_ratio: float = 0.5
    seed: int = 0
    n_classes: int = 2
    features: tuple[str, ...] = ("x1", "x2")
    augment = False

    @property
    def images(self) -> bool:
        return False

    def build(self) -> TrainingData:
        toy = {
            "name": self.name,
            "n_samples": self.n_samples,
            "noise": self.noise,
            "test_ratio": self.test_ratio,
            "seed": self.seed,
            "n_classes": self.n_classes,
        }
        d = make_dataset(**toy)
        features = list(self.features)
        return points_data(d, features, {"kind": "toy", **toy, "features": features})

    def describe(self) -> TrainingData:
        """The data themselves: a toy set takes milliseconds to make."""
        return self.build()


@dataclass(frozen=True)
class ImageRecipe:
    """MNIST or Fashion-MNIST prepared by :func:`core.data.prepare.prepare`: ``layout``
    ``"flat"`` ``(n, 784)`` or ``"image"`` ``(n, 1, 28, 28)``, training subset (first
    ``train_subset`` images or ``per_class`` random ones of each class, seeded), the first
    ``test_subset`` test images. Read from the cache or system folders of the process that
    builds it; downloaded there only when ``download``."""

    name: str
    layout: str = "flat"
    train_subset: int | None = None
    per_class: int | None = None
    test_subset: int | None = None
    seed: int = 0
    augment: bool = False
    download: bool = False

    @property
    def images(self) -> bool:
        return True

    def build(self, folder: str | None = None) -> TrainingData:
        """The prepared images; from ``folder`` (IDX files or an ``mnist.npz``) when given."""
        names = IMAGE_DATASETS[self.name].class_names
        if folder:
            return self.prepared(load_folder(folder, name=self.name, class_names=names), folder)
        return self.prepared(load(self.name, download=self.download), None)

    def fetched(self) -> ImageRecipe:
        """This recipe once its data set is on this machine, for processes that build it later
        from the cache (a sweep's workers): downloaded here now when missing and ``download``,
        else the error a :meth:`build` would raise (DatasetNotFound). Nothing is read."""
        if status(self.name) is None:
            if self.download:
                download_files(self.name)
            else:
                load(self.name)  # finds nothing: raises the message of a single run
        return replace(self, download=False)

    def prepared(self, ds: ImageDataset, folder: str | None) -> TrainingData:
        """Model-ready arrays of ``ds`` as this recipe asks (``folder``: where it was read)."""
        names = IMAGE_DATASETS[self.name].class_names
        p = prepare(
            ds,
            layout=self.layout,
            n_train=self.train_subset,
            per_class=self.per_class,
            n_test=self.test_subset,
            seed=self.seed,
        )
        meta = {
            "dataset": self.name,
            "input": "28x28 grayscale image, values 0..1",
            "layout": p.layout,
            "task": "classification",
            "class_names": list(names),
        }
        params = {
            "kind": "images",
            "name": self.name,
            "data_dir": folder,
            "layout": self.layout,
            "train_subset": self.train_subset,
            "per_class": self.per_class,
            "test_subset": self.test_subset,
            "seed": self.seed,
            "augment": bool(self.augment),
        }
        x_train, y_train, x_test, y_test = p.x_train, p.y_train, p.x_test, p.y_test
        return TrainingData(
            self.name,
            "classification",
            len(names),
            tuple(names),
            x_train,
            y_train,
            x_test,
            y_test,
            meta,
            params,
            self.augment,
        )

    def describe(self) -> DataInfo:
        """What the images will be, without reading them (the builder may be elsewhere)."""
        names = IMAGE_DATASETS[self.name].class_names
        shape = (IMAGE_SIDE * IMAGE_SIDE,) if self.layout == "flat" else (1, IMAGE_SIDE, IMAGE_SIDE)
        n_train = FULL_TRAIN_IMAGES
        if self.per_class is not None:
            n_train = min(n_train, self.per_class * len(names))
        elif self.train_subset is not None:
            n_train = min(n_train, self.train_subset)
        return DataInfo(self.name, "classification", len(names), tuple(names), shape, n_train, True)


Recipe = ToyRecipe | ImageRecipe | TrainingData


def points_data(d: Any, features: list[str], params: dict[str, Any]) -> TrainingData:
    """Points ``d`` (a :class:`core.data.dataset.Dataset`) with ``features`` as model inputs."""
    meta = {
        "dataset": d.name,
        "features": features,
        "task": d.task,
        "class_names": list(d.class_names),
    }
    return TrainingData(
        d.name,
        d.task,
        d.n_classes,
        d.class_names,
        feature_map(d.x_train, features),
        d.y_train,
        feature_map(d.x_test, features),
        d.y_test,
        meta,
        params,
    )

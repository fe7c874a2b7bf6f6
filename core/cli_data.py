"""The training data the command line's options describe, and the options an experiment file's
data-set parameters set back (so that a resumed run rebuilds the same arrays)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.data.augment import augment_images
from core.data.csv import read_points_csv
from core.data.features import feature_map
from core.data.loading import load, load_folder
from core.data.prepare import prepare
from core.data.registry import DATASETS as IMAGE_DATASETS
from core.data.toy2d import make_dataset
from core.experiment import file_sha256


@dataclass(frozen=True)
class TrainingData:
    """Model-ready arrays and what the model file should say about them."""

    name: str
    task: str
    n_classes: int
    class_names: tuple[str, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    metadata: dict[str, Any]
    #: How the data were made, for experiment files (see :func:`data_args`).
    params: dict[str, Any]

    @property
    def images(self) -> bool:
        return self.name in IMAGE_DATASETS


def image_layout(args: argparse.Namespace) -> str:
    """CNN architectures take (1, 28, 28) images, MLPs flat 784-vectors."""
    return "image" if args.arch and "conv" in args.arch else "flat"


def load_data(args: argparse.Namespace) -> TrainingData:
    seed = args.seed if args.data_seed is None else args.data_seed
    if args.dataset in IMAGE_DATASETS and not args.csv:
        names = IMAGE_DATASETS[args.dataset].class_names
        layout = getattr(args, "layout", None) or image_layout(args)
        if args.data_dir:
            ds = load_folder(args.data_dir, name=args.dataset, class_names=names)
        else:
            ds = load(args.dataset, download=args.download)
        p = prepare(
            ds,
            layout=layout,
            n_train=args.train_subset,
            per_class=args.per_class,
            n_test=args.test_subset,
            seed=seed,
        )
        meta = {
            "dataset": args.dataset,
            "input": "28x28 grayscale image, values 0..1",
            "layout": p.layout,
            "task": "classification",
            "class_names": list(names),
        }
        params = {
            "kind": "images",
            "name": args.dataset,
            "data_dir": str(Path(args.data_dir).resolve()) if args.data_dir else None,
            "layout": layout,
            "train_subset": args.train_subset,
            "per_class": args.per_class,
            "test_subset": args.test_subset,
            "seed": seed,
            "augment": bool(args.augment),
        }
        return TrainingData(
            args.dataset,
            "classification",
            len(names),
            tuple(names),
            p.x_train,
            p.y_train,
            p.x_test,
            p.y_test,
            meta,
            params,
        )
    features = [f.strip() for f in args.features.split(",")]
    if args.csv:
        d = read_points_csv(args.csv, test_ratio=args.test_ratio, seed=seed)
        params = {
            "kind": "csv",
            "path": str(Path(args.csv).resolve()),
            "sha256": file_sha256(args.csv),
            "test_ratio": args.test_ratio,
            "seed": seed,
            "features": features,
        }
    else:
        toy = {
            "name": args.dataset,
            "n_samples": args.samples,
            "noise": args.noise,
            "test_ratio": args.test_ratio,
            "seed": seed,
            "n_classes": args.classes,
        }
        d = make_dataset(**toy)
        params = {"kind": "toy", **toy, "features": features}
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


def data_args(args: argparse.Namespace, params: dict[str, Any]) -> None:
    """Set the data options of ``args`` from an experiment's data-set parameters (as written
    by :func:`load_data`), so that :func:`load_data` rebuilds the same arrays. ValueError if
    they are unusable, or a CSV file changed since the experiment was saved."""
    kind = params.get("kind")
    try:
        if kind == "toy":
            args.csv = None
            args.dataset = params["name"]
            args.samples, args.noise = params["n_samples"], params["noise"]
            args.test_ratio, args.data_seed = params["test_ratio"], params["seed"]
            args.classes = params["n_classes"]
            args.features = ",".join(params["features"])
        elif kind == "csv":
            path = params["path"]
            if not Path(path).is_file():
                raise ValueError(f"the data file {path} of this experiment is missing")
            if file_sha256(path) != params["sha256"]:
                raise ValueError(
                    f"the data file {path} changed since the experiment was saved (SHA-256 "
                    "differs); continuing would not continue the same run"
                )
            args.csv, args.test_ratio, args.data_seed = path, params["test_ratio"], params["seed"]
            args.features = ",".join(params["features"])
        elif kind == "images":
            args.csv = None
            args.dataset = params["name"]
            args.data_dir = args.data_dir or params["data_dir"]
            args.layout = params["layout"]
            args.train_subset, args.per_class = params["train_subset"], params["per_class"]
            args.test_subset, args.data_seed = params["test_subset"], params["seed"]
            args.augment = bool(params["augment"])
        else:
            raise ValueError(f"unknown kind of data {kind!r}")
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"--resume: the experiment's data-set parameters are incomplete ({exc})"
        ) from None
    except ValueError as exc:
        raise ValueError(f"--resume: {exc}") from None


def image_augment(data: TrainingData):
    """Random shifts and rotations of the training images (any layout), as ``f(x, rng)``."""
    if not data.images:
        raise ValueError("--augment: only for image data sets")
    return augment_images

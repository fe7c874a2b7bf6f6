"""The training data the command line's options describe, and the options an experiment file's
data-set parameters set back (so that a resumed run rebuilds the same arrays)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.data.augment import augment_images
from core.data.csv import read_points_csv
from core.data.registry import DATASETS as IMAGE_DATASETS
from core.experiment import file_sha256
from core.recipe import ImageRecipe, Recipe, ToyRecipe, TrainingData, points_data

#: The options that decide the data (with --seed, the data seed unless --data-seed is given,
#: and --arch, which decides the images' layout).
DATA_OPTIONS = (
    "dataset",
    "csv",
    "samples",
    "noise",
    "test_ratio",
    "classes",
    "data_seed",
    "seed",
    "features",
    "data_dir",
    "download",
    "train_subset",
    "per_class",
    "test_subset",
    "augment",
    "arch",
)


def image_layout(args: argparse.Namespace) -> str:
    """CNN architectures take (1, 28, 28) images, MLPs flat 784-vectors."""
    return "image" if args.arch and "conv" in args.arch else "flat"


def data_recipe(args: argparse.Namespace) -> Recipe:
    """The recipe of the data the options describe: toy data and named image sets are built
    where the run trains (:meth:`build`); a CSV file and images from --data-dir are read here
    and travel as arrays."""
    seed = args.seed if args.data_seed is None else args.data_seed
    if args.dataset in IMAGE_DATASETS and not args.csv:
        recipe = ImageRecipe(
            args.dataset,
            layout=getattr(args, "layout", None) or image_layout(args),
            train_subset=args.train_subset,
            per_class=args.per_class,
            test_subset=args.test_subset,
            seed=seed,
            augment=bool(args.augment),
            download=bool(args.download),
        )
        if args.data_dir:
            return recipe.build(folder=str(Path(args.data_dir).resolve()))
        return recipe
    if args.augment:
        raise ValueError("--augment: only for image data sets")
    features = [f.strip() for f in args.features.split(",")]
    if not args.csv:
        return ToyRecipe(
            args.dataset,
            args.samples,
            args.noise,
            args.test_ratio,
            seed,
            args.classes,
            tuple(features),
        )
    d = read_points_csv(args.csv, test_ratio=args.test_ratio, seed=seed)
    params = {
        "kind": "csv",
        "path": str(Path(args.csv).resolve()),
        "sha256": file_sha256(args.csv),
        "test_ratio": args.test_ratio,
        "seed": seed,
        "features": features,
    }
    return points_data(d, features, params)


def load_data(args: argparse.Namespace) -> TrainingData:
    """The training data the options describe (see :func:`data_recipe`)."""
    return data_recipe(args).build()


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

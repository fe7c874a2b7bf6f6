"""What a model or experiment file opens as: the session that rebuilds its run here, checked
completely (the data, the network, the settings) before anything on screen changes.

Each function raises ValueError with a message for the user, naming the file where it helps.
None touches Qt: File ▸ Open runs them off the GUI thread.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from core import experiment as experiment_file
from core.data.dataset import Dataset
from core.data.features import FEATURES, check_features, feature_map
from core.data.toy2d import DATASETS
from core.experiment import Experiment
from core.model import Sequential
from playground.image_data import (
    DATASET_NAMES,
    ImageDataSettings,
    PreparedImages,
    layout_for,
    load_image_data,
)
from playground.image_session import ImageSession, session_from_dict
from playground.network_settings import network_from_spec
from playground.point_edits import apply_edits
from playground.session import DataSettings, Session

#: Where a data set's images are read from (Load from folder…), given its settings.
Folders = Callable[[ImageDataSettings], ImageDataSettings]
#: The data sets' cache folder (None: the default, see core.data.locations).
CacheDir = str | os.PathLike[str] | None


def image_model_session(
    model: Sequential,
    metadata: dict[str, Any],
    current: ImageSession,
    known_folder: Folders,
    cache_dir: CacheDir = None,
) -> tuple[ImageSession, PreparedImages]:
    """The image session that trains ``model`` on, on the images it was trained on (the
    ``current`` session's training settings), and those images (read from ``cache_dir``, None:
    the default); ValueError if the editor can't show it or those images aren't here."""
    try:
        network = network_from_spec(model.spec)
    except ValueError as exc:
        raise ValueError(f"the network editor can't show it ({exc})") from None
    data = current.data
    dataset = metadata.get("dataset")
    if dataset in DATASET_NAMES and dataset != data.dataset:
        data = replace(data, dataset=dataset, folder=None)
    session = ImageSession(known_folder(data), network, current.training)
    with _reworded("", (ValueError, OSError)):  # OSError: the images are not here
        same = _without_init(session.build_spec()) == _without_init(model.spec)
        session.training.validate()
        images = load_image_data(session.data, cache_dir)  # here, and they fill the subsets
    if not same:
        raise ValueError("the network editor builds a different network from it")
    return session, images


def model_session(
    path: str, model: Sequential, metadata: dict[str, Any], current: Session
) -> tuple[Session, dict]:
    """The session that shows ``model`` in the 2D playground (with the ``current``
    session's training settings), and its weights in that session's input order;
    ValueError (naming the file) if it cannot be shown."""
    features = metadata.get("features", ["x1", "x2"])
    with _reworded(f"{path}: the file's metadata lists unknown inputs", (TypeError, ValueError)):
        features = list(check_features(features))
    if model.spec["input_shape"] != [len(features)]:
        shape = "x".join(map(str, model.spec["input_shape"]))
        listed = f" (its file lists {len(features)})" if "features" in metadata else ""
        raise ValueError(
            f"{path}: this model takes {shape} inputs{listed}; the playground shows "
            f"networks whose inputs are features of a point of the plane: "
            f"{', '.join(FEATURES.values())}"
        )
    with _reworded(f"{path}: the network editor can't show this model"):
        network = network_from_spec(model.spec)
    # The panel orders features as FEATURES does: reorder the first layer's inputs to match.
    order = [f for f in FEATURES if f in features]
    state = model.get_state()
    state["0.W"] = state["0.W"][[features.index(f) for f in order]]
    data = replace(current.data, features=order)
    name = metadata.get("dataset")
    if name in DATASETS and (name != data.dataset or data.csv_path):
        data = replace(data, dataset=name, csv_path=None, edits=[])
    classes = metadata.get("class_names")
    if name in DATASETS and DATASETS[name].multiclass and isinstance(classes, list):
        data = replace(data, n_classes=len(classes))
    session = Session(data, network, current.training)
    dataset = _build(path, session, model.spec)
    auto = replace(network, loss="auto")
    if Session(data, auto, current.training).loss_name(dataset) == network.loss:
        session.network = auto  # the editor's default loss is this model's
    return session, state


def experiment_session(
    path: str, exp: Experiment, known_folder: Folders, cache_dir: CacheDir = None
) -> tuple[Any, PreparedImages | None]:
    """The session (plane or images) an experiment was saved from, checked to rebuild its
    run exactly, and for images the images it read for that (from ``cache_dir``)."""
    if "kind" in exp.data:
        raise ValueError(
            f"{path}: this experiment was saved by nn-playground-train; continue it with "
            f"nn-playground-train --resume {path}"
        )
    with _reworded(f"{path}: the saved settings are unusable"):
        session = session_from_dict(exp.data)
    if isinstance(session, ImageSession):
        return _image_experiment_session(path, exp, session, known_folder, cache_dir)
    if session.data.csv_path:
        _check_data_file(path, session.data)
    dataset = _build(path, session, exp.spec, quote_data=False)
    features = session.data.features
    exp.build_trainer(  # refuses other data or settings that change the run
        feature_map(dataset.x_train, features),
        dataset.y_train,
        feature_map(dataset.x_test, features),
        dataset.y_test,
        config=session.training,
    )
    return session, None


def _image_experiment_session(
    path: str, exp: Experiment, session: ImageSession, known_folder: Folders, cache_dir: CacheDir
) -> tuple[ImageSession, PreparedImages]:
    session = replace(session, data=known_folder(session.data))
    unusable = f"{path}: the file's settings don't build a run here"
    with _reworded(unusable, (ValueError, OSError)):  # a missing or unreadable data set
        built = session.build_spec()
        session.training.validate()
        images = load_image_data(session.data, cache_dir, layout=layout_for(exp.spec))
    if _without_init(built) != _without_init(exp.spec):
        raise ValueError(f"{path}: the network editor builds a different network from it")
    exp.build_trainer(  # refuses other images or settings that change the run
        images.x_train, images.y_train, images.x_test, images.y_test, config=session.training
    )
    return session, images


def _build(path: str, session: Session, spec: dict[str, Any], quote_data: bool = True) -> Dataset:
    """The session's data set, after checking that it builds ``spec``'s network (the
    initializers aside: the weights are given). Without ``quote_data``, a CSV file that
    can't be read is named with its problem but none of its text (a file's settings may
    name any file of this computer)."""
    unusable = f"{path}: the file's settings don't build a run here"
    try:
        base = session.base_dataset()
    except ValueError as exc:
        csv_path = session.data.csv_path
        if quote_data or not csv_path:
            raise ValueError(f"{unusable}: {exc}") from None
        line = re.search(r", line (\d+)", str(exc))
        where = f" (line {line[1]})" if line else ""
        raise ValueError(
            f"{path}: its data file {csv_path} can't be used{where}: it is not a CSV file "
            "of points (x1, x2, label)"
        ) from None
    with _reworded(unusable):
        dataset = apply_edits(base, session.data.edits)
        built = session.build_spec(dataset)
        session.training.validate()
    if _without_init(built) != _without_init(spec):
        outputs, needed = spec["layers"][-1]["units"], built["layers"][-1]["units"]
        detail = (
            f"it has {outputs} outputs, the {dataset.name} data needs {needed}"
            if outputs != needed
            else "the network editor builds a different network from its settings"
        )
        raise ValueError(f"{path}: this network doesn't fit the playground: {detail}")
    return dataset


def _check_data_file(path: str, data: DataSettings) -> None:
    """Check an experiment's CSV file before anything reads it: a regular file of at most
    :data:`core.experiment.MAX_DATA_FILE_BYTES`, with the SHA-256 the experiment recorded (if
    it did). ValueError naming both files and the problem, never the file's text."""
    csv_path = data.csv_path
    try:
        digest = experiment_file.file_sha256(csv_path)
    except (ValueError, OSError) as exc:
        problem = str(exc).removeprefix(f"{csv_path}: ")
        raise ValueError(f"{path}: its data file {csv_path} can't be used: {problem}") from None
    if data.csv_sha256 is not None and digest != data.csv_sha256:
        raise ValueError(
            f"{path}: its data file {csv_path} has changed since the experiment was saved (its "
            "SHA-256 differs); the run can't continue on other data"
        )


@contextmanager
def _reworded(said: str, errors: tuple[type[Exception], ...] = (ValueError,)) -> Iterator[None]:
    """One of ``errors`` raised inside becomes a ValueError saying ``said``: and its message
    (the message alone without ``said``), shown to the user as it is."""
    try:
        yield
    except errors as exc:
        raise ValueError(f"{said}: {exc}" if said else str(exc)) from None


def usable_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """A model file's metadata without the fields whose type the app can't use (metadata is
    free-form: a file may hold anything there), so they are ignored rather than fatal."""
    kinds = {"dataset": str, "features": list, "class_names": list, "task": str}
    usable = {k: v for k, v in metadata.items() if k not in kinds or isinstance(v, kinds[k])}
    for key in ("features", "class_names"):
        if key in usable and not all(isinstance(v, (str, int)) for v in usable[key]):
            del usable[key]
    return usable


def _without_init(spec: dict[str, Any]) -> dict[str, Any]:
    layers = [{k: v for k, v in e.items() if k != "init"} for e in spec["layers"]]
    return {**spec, "layers": layers}

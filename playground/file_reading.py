"""File ▸ Open's work, done off the GUI thread: a file read and checked completely into what it
opens as (:class:`Opened`), which the File menu then shows on the GUI thread.

A model or experiment file (``.npz``, told apart by its ``meta.json``) or PyTorch weights
(``.safetensors``) for the network on screen. What the reading needs of the window is taken
before, on the GUI thread (:class:`OnScreen`): nothing here touches Qt. Every problem raises
ValueError or OSError with a message for the user, naming the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import experiment as experiment_file
from core.archive import peek_format
from core.experiment import load_experiment
from core.io import load_model
from core.model import Sequential
from core.runs import RunRecord
from core.torch_import import load_safetensors
from playground.file_sessions import (
    CacheDir,
    Folders,
    experiment_session,
    image_model_session,
    model_session,
    usable_metadata,
)
from playground.image_data import PreparedImages
from playground.image_session import FLAT_SHAPE, ImageSession
from playground.session import Session
from playground.views.draw_classifier import check_model

IMAGE_PIXELS = FLAT_SHAPE[0]  # models of 28×28 images open in the image mode's draw panel


@dataclass(frozen=True)
class OnScreen:
    """What reading a file needs of the window, taken on the GUI thread before the read."""

    plane: Session  # the plane's settings: a model opens with their training settings
    images: ImageSession  # the image mode's
    known_folder: Folders  # where the image mode reads a data set (a plain function)
    cache_dir: CacheDir  # and its cache of data sets
    live: Session | ImageSession | None  # the run on screen with its live rates (None: none)
    spec: dict[str, Any] | None  # that run's network, which weights go into
    trains: bool  # whether the mode on screen trains a network (else: a Lab page)


@dataclass(frozen=True)
class Opened:
    """What a file opens as: a run of ``session`` set up as ``start`` says (RunSetup's
    ``resume`` or ``initial_state``), or with no session, a model shown for drawing only."""

    path: str
    message: str  # what the status bar says
    session: Session | ImageSession | None = None
    start: dict[str, Any] = field(default_factory=dict)
    document: str | None = None  # where Save experiment writes then (an experiment: itself)
    runs: tuple[RunRecord, ...] = ()  # the run list an experiment brings
    images: PreparedImages | None = None  # the images read to check it (not read again)
    drawing: tuple[Sequential, Any] | None = None  # (model, class names) for the Draw tab


def read_file(path: str, here: OnScreen) -> Opened:
    """Read and check the file at ``path`` (see the module docstring)."""
    if path.lower().endswith(".safetensors"):
        return read_weights(path, here)
    if peek_format(path) == experiment_file.FORMAT:
        return read_experiment(path, here)
    return read_model(path, here)


def read_model(path: str, here: OnScreen) -> Opened:
    """A model file's network with its weights, paused: its predictions are shown. A classifier
    of 28×28 images opens in image mode, in the editor when it can show it, else in the Draw
    tab only."""
    model, metadata = load_model(path)
    metadata = usable_metadata(metadata)
    name = Path(path).name
    if math.prod(model.input_shape) != IMAGE_PIXELS:
        session, state = model_session(path, model, metadata, here.plane)
        message = f"Opened the model {name}: its predictions are shown. Play trains it on."
        return Opened(path, message, session, {"initial_state": state})
    names = metadata.get("class_names")
    check_model(model, names)  # the Draw tab can show it
    try:
        session, images = image_model_session(
            model, metadata, here.images, here.known_folder, here.cache_dir
        )
    except ValueError as exc:  # the editor can't show it, or its images aren't here
        why = str(exc).removeprefix(path + ": ")
        return Opened(path, f"Opened {name} for drawing only: {why}", drawing=(model, names))
    message = f"Opened {name}: draw to see how it classifies; Play trains it on."
    start = {"initial_state": model.get_state()}
    return Opened(path, message, session, start, images=images, drawing=(model, names))


def read_experiment(path: str, here: OnScreen) -> Opened:
    """An experiment's settings and run, to continue exactly where it was saved."""
    exp = load_experiment(path)
    session, images = experiment_session(path, exp, here.known_folder, here.cache_dir)
    message = (
        f"Opened {Path(path).name} at epoch {exp.epoch:,}, step {exp.steps:,}: "
        "Play continues the run."
    )
    return Opened(path, message, session, {"resume": exp}, path, exp.runs, images)


def read_weights(path: str, here: OnScreen) -> Opened:
    """PyTorch weights (a state dict saved with safetensors) into the network on screen,
    matched by layer order and shapes (:mod:`core.torch_import`): a new run starts from them,
    paused, its predictions shown."""
    if here.live is None or here.spec is None:
        where = (
            "build it in the Network panel first"
            if here.trains
            else "open them in the Plane or Image mode, whose network takes them"
        )
        raise ValueError(
            f"{path}: the settings on screen build no network to take these weights; {where}"
        )
    state = load_safetensors(path, Sequential(here.spec))
    message = (
        f"Opened the PyTorch weights {Path(path).name} into the network: its predictions are "
        "shown. Play trains it on."
    )
    return Opened(path, message, here.live, {"initial_state": state})

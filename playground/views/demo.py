"""Run any single view on its own with a briefly trained model:

python -m playground.views.demo output|network|curves|stats [--preset NAME]
    [--epochs N] [--theme light|dark] [--screenshot out.png]

The Runs panel beside the curves, with two runs of the preset (Adam, then SGD) ticked:

python -m playground.views.demo runs [--preset NAME] [--epochs N] [--screenshot out.png]

The image views train on a 2,000-image subset of Fashion-MNIST (or MNIST) and show the test set:

python -m playground.views.demo filters|confusion|images [--dataset fashion-mnist|mnist]
    [--arch "dense:32,relu,dense:10"] [--epochs N] [--mistakes] [--screenshot out.png]
"""

from __future__ import annotations

import argparse
import functools
import sys

import numpy as np

from core.data.features import feature_map, grid_points
from core.data.loading import DatasetNotFound, load
from core.data.prepare import prepare
from core.metrics import confusion_matrix
from core.spec import normalize, parse_arch
from core.training.config import TrainConfig
from core.training.snapshot import Grid, take_snapshot
from core.training.trainer import build_trainer
from playground.presets import presets

VIEWS = ("output", "network", "curves", "stats", "runs")
IMAGE_VIEWS = ("filters", "confusion", "images")
IMAGE_ARCH = "dense:32,relu,dense:10"


def trained_snapshot(preset, epochs: int):
    """(session, dataset, spec, snapshot) after ``epochs`` epochs of the preset (a name, or
    a session)."""
    session = presets()[preset] if isinstance(preset, str) else preset
    data = session.build_dataset()
    spec = session.build_spec(data)
    f = session.data.features
    trainer = build_trainer(
        spec,
        session.training,
        feature_map(data.x_train, f),
        data.y_train,
        feature_map(data.x_test, f),
        data.y_test,
    )
    for _ in range(epochs):
        trainer.run_epoch()
    grid = Grid(feature_map(grid_points(100), f), 100, neuron_stride=2)
    return session, data, spec, take_snapshot(trainer, grid)


@functools.lru_cache(maxsize=4)
def trained_image_model(dataset: str, arch: str, epochs: int):
    """(prepared data, spec, model, test probabilities ``(n_test, 10)``) after ``epochs`` epochs
    on 200 training images per class; 1,000 test images."""
    layers = parse_arch(arch)
    layout = "image" if layers[0]["type"] == "conv" else "flat"
    data = prepare(load(dataset), layout=layout, per_class=200, n_test=1000, seed=0)
    spec = normalize({"input_shape": list(data.input_shape), "layers": layers})
    config = TrainConfig(optimizer="adam", lr=0.003, batch_size=32, epochs=epochs, seed=0)
    trainer = build_trainer(spec, config, data.x_train, data.y_train, data.x_test, data.y_test)
    for _ in range(epochs):
        trainer.run_epoch()
    return data, spec, trainer.model, trainer.model.predict_proba(data.x_test)


def make_image_view(name: str, data, spec, model, probs, mistakes: bool = False):
    from playground.views.confusion_view import ConfusionView
    from playground.views.filters_view import FiltersView
    from playground.views.image_grid_view import ImageGridView

    predicted = probs.argmax(axis=1)
    if name == "filters":
        view = FiltersView()
        first = next(i for i, e in enumerate(spec["layers"]) if e["type"] in ("dense", "conv"))
        view.set_weights(model.get_state()[f"{first}.W"], spec["layers"][first]["type"])
    elif name == "confusion":
        view = ConfusionView()
        k = len(data.class_names)
        view.set_matrix(confusion_matrix(data.y_test, predicted, k), data.class_names)
    else:
        view = ImageGridView()
        view.mistakes_only.setChecked(mistakes)
        view.set_images(
            data.x_test.reshape(-1, 28, 28),
            data.y_test,
            predicted,
            probs[np.arange(len(probs)), predicted],
            data.class_names,
        )
    return view


def trained_runs(preset: str, epochs: int) -> list:
    """Run records of the preset trained ``epochs`` epochs with Adam, then with SGD."""
    from dataclasses import replace

    from core.runs import RunRecord, kept_history
    from core.training.history import History
    from playground.run_list import param_count
    from playground.run_names import run_name

    base = presets()[preset]
    records, previous = [], None
    for optimizer, lr in (("adam", 0.01), ("sgd", 0.1)):
        session = replace(base, training=replace(base.training, optimizer=optimizer, lr=lr))
        _, _, spec, snap = trained_snapshot(session, epochs)
        settings = session.to_dict()
        rows = np.column_stack([snap.history[c] for c in History.COLUMNS])
        records.append(
            RunRecord(
                id=optimizer,
                name=run_name(previous, settings),
                mode="plane",
                settings=settings,
                history=kept_history(rows),
                epochs=snap.epoch,
                steps=snap.step,
                wall_time=snap.elapsed,
                n_params=param_count(spec),
            )
        )
        previous = settings
    return records


def runs_demo(preset: str, epochs: int):
    """The Runs panel with two runs ticked, beside the curves they overlay."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QSplitter

    from playground.panels.runs_panel import RunsPanel
    from playground.views.curves_view import CurvesView

    curves, panel = CurvesView(), RunsPanel()
    panel.model.overlayChanged.connect(
        lambda: curves.set_overlays([(r.name, c, r) for r, c in panel.model.ticked()])
    )
    for record in trained_runs(preset, epochs):
        panel.model.add(record)
        panel.model.set_ticked(record.id, True)
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(curves.with_options())
    split.addWidget(panel)
    split.setSizes([520, 480])
    return split


def make_view(name: str, session, data, spec, snap):
    from playground.views.curves_view import CurvesView
    from playground.views.network_view import NetworkView
    from playground.views.output_view import OutputView
    from playground.views.stats_view import StatsView

    if name == "output":
        view = OutputView()
        view.set_dataset(data)
    elif name == "network":
        view = NetworkView()
        f = session.data.features
        grids = feature_map(grid_points(100), f).T.reshape(len(f), 100, 100)
        view.set_structure(spec, f, grids, data.task == "classification")
    elif name == "curves":
        view = CurvesView()
    else:
        view = StatsView()
        dense = [i for i, e in enumerate(spec["layers"]) if e["type"] == "dense"]
        view.set_layers([(i, f"dense {k + 1}") for k, i in enumerate(dense)])
    view.show_snapshot(snap)
    return view


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m playground.views.demo")
    p.add_argument("view", choices=VIEWS + IMAGE_VIEWS)
    p.add_argument("--preset", default="spiral", choices=sorted(presets()))
    p.add_argument("--dataset", default="fashion-mnist", choices=("fashion-mnist", "mnist"))
    p.add_argument("--arch", default=IMAGE_ARCH, help="image views: the network, e.g. %(default)s")
    p.add_argument("--epochs", type=int, help="default: 60 (2D views), 2 (image views)")
    p.add_argument("--mistakes", action="store_true", help="images: mistakes only")
    p.add_argument("--theme", default="light", choices=("light", "dark"))
    p.add_argument("--screenshot", metavar="PNG")
    args = p.parse_args(argv)
    from playground.views.standalone import show_alone, start_app

    app = start_app(args.theme, args.screenshot)
    if args.view in IMAGE_VIEWS:
        try:
            run = trained_image_model(args.dataset, args.arch, args.epochs or 2)
        except DatasetNotFound as exc:
            print(exc, file=sys.stderr)
            return 2
        view = make_image_view(args.view, *run, mistakes=args.mistakes)
    elif args.view == "runs":
        view = runs_demo(args.preset, args.epochs or 60)
        view.resize(1000, 320)
    else:
        view = make_view(args.view, *trained_snapshot(args.preset, args.epochs or 60))
    if args.view != "runs":
        view.resize(640, 480)
    view.setWindowTitle(f"NN Playground: {args.view}")
    return show_alone(app, view, args.screenshot)


if __name__ == "__main__":
    sys.exit(main())

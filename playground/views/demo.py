"""Run any single view on its own with a briefly trained model:

python -m playground.views.demo output|network|curves|stats [--preset NAME]
    [--epochs N] [--screenshot out.png]
"""

from __future__ import annotations

import argparse
import os
import sys

from core.data.features import feature_map, grid_points
from core.training import Grid, build_trainer, take_snapshot
from playground.presets import presets

VIEWS = ("output", "network", "curves", "stats")


def trained_snapshot(preset: str, epochs: int):
    """(session, dataset, spec, snapshot) after ``epochs`` epochs of the preset."""
    session = presets()[preset]
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
    p.add_argument("view", choices=VIEWS)
    p.add_argument("--preset", default="spiral", choices=sorted(presets()))
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--screenshot", metavar="PNG")
    args = p.parse_args(argv)
    if args.screenshot and not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from playground.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    apply_theme(app)
    view = make_view(args.view, *trained_snapshot(args.preset, args.epochs))
    view.resize(640, 480)
    view.setWindowTitle(f"NN Playground: {args.view}")
    view.show()
    if args.screenshot:
        app.processEvents()
        return 0 if view.grab().save(args.screenshot, "PNG") else 1
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())

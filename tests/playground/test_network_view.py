"""The network view draws a weight of exactly zero (L1 makes them) as a dead link."""

import numpy as np

from core.data.features import feature_map, grid_points
from core.training.config import TrainConfig
from core.training.snapshot import Grid, take_snapshot
from core.training.trainer import build_trainer
from playground.presets import presets
from playground.views.network_view import NetworkView


def test_links_at_exactly_zero_are_drawn_dead(qapp):
    session = presets()["spiral"]
    data = session.build_dataset()
    spec = session.build_spec(data)
    config = TrainConfig.from_dict({**session.training.to_dict(), "l1": 0.01})
    trainer = build_trainer(spec, config, data.x_train, data.y_train)
    for _ in range(2000):
        trainer.step()
    f = session.data.features
    snap = take_snapshot(trainer, Grid(feature_map(grid_points(20), f), 20, neuron_stride=2))
    view = NetworkView()
    view.set_structure(spec, f, feature_map(grid_points(20), f).T.reshape(len(f), 20, 20), True)
    view.show_snapshot(snap)
    dead = alive = 0
    for d, links, sources, targets in view._links:
        zero = snap.weights[f"{d}.W"][sources, targets] == 0
        assert [link.dead for link in links] == zero.tolist()
        dead, alive = dead + int(zero.sum()), alive + int((~zero).sum())
    assert dead > 0 and alive > 0
    link = next(link for _, links, _, _ in view._links for link in links if link.dead)
    assert (
        link.pen().style()
        != next(other for _, links, _, _ in view._links for other in links if not other.dead)
        .pen()
        .style()
    )
    assert np.count_nonzero(trainer.model.theta[: trainer.model.n_regularized] == 0) >= dead


def test_weights_gone_to_nan_are_not_drawn_dead(qapp):
    session = presets()["xor"]
    data = session.build_dataset()
    spec = session.build_spec(data)
    trainer = build_trainer(spec, session.training, data.x_train, data.y_train)
    f = session.data.features
    trainer.model.layers[0].params["W"][:] = np.nan  # a diverged run's weights
    with np.errstate(all="ignore"):
        snap = take_snapshot(trainer, Grid(feature_map(grid_points(20), f), 20))
    view = NetworkView()
    view.set_structure(spec, f, feature_map(grid_points(20), f).T.reshape(len(f), 20, 20), True)
    view.show_snapshot(snap)
    first = [link for d, links, _, _ in view._links if d == 0 for link in links]
    assert first and not any(link.dead for link in first)

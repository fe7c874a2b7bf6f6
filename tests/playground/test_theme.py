"""View ▸ Theme: light, dark or the system's; remembered; readable check boxes in the dark."""

from PySide6.QtCore import QPoint
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QCheckBox, QStyle, QStyleOptionButton

from playground.app import chosen_theme, parse_args
from playground.theme import apply_theme, current_theme


def indicator_contrast(box: QCheckBox) -> int:
    """The largest lightness step between the window and the unchecked box's indicator frame."""
    option = QStyleOptionButton()
    box.initStyleOption(option)
    rect = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    image = box.grab().toImage()
    window = box.palette().color(QPalette.ColorRole.Window).lightness()
    y = rect.center().y()
    return max(
        abs(image.pixelColor(QPoint(x, y)).lightness() - window)
        for x in range(rect.left(), rect.left() + 3)
    )


def test_view_menu_switches_theme_and_remembers_it(make_window, qapp, settings):
    window = make_window("xor")
    try:
        assert set(window.theme_actions) == {"system", "light", "dark"}
        window.theme_actions["dark"].trigger()
        assert current_theme() == "dark" and settings.value("theme") == "dark"
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 128
        plot = window.plane.curves_view.loss_plot
        assert plot.backgroundBrush().color().lightness() < 128  # plots made before follow
        box = QCheckBox("x")
        box.resize(60, 24)
        assert indicator_contrast(box) > 80  # the unchecked box's frame reads on dark
        window.theme_actions["light"].trigger()
        assert settings.value("theme") == "light"
        assert plot.backgroundBrush().color().lightness() > 200
    finally:
        apply_theme(qapp, "light")


def test_theme_follows_the_system_unless_chosen(settings):
    assert chosen_theme(parse_args([]).theme, settings) == "system"  # a first launch
    settings.setValue("theme", "dark")  # chosen in View ▸ Theme last time
    assert chosen_theme(parse_args([]).theme, settings) == "dark"
    assert chosen_theme(parse_args(["--theme", "light"]).theme, settings) == "light"
    settings.setValue("theme", "sepia")  # a damaged setting
    assert chosen_theme(None, settings) == "system"


def test_dead_neurons_are_hatched_not_white_in_the_dark(qapp):
    import numpy as np

    from core.data.features import feature_map, grid_points
    from core.training.snapshot import Grid, take_snapshot
    from core.training.trainer import build_trainer
    from playground.presets import presets
    from playground.views.network_view import NetworkView

    session = presets()["spiral"]  # ReLU layers
    data = session.build_dataset()
    spec = session.build_spec(data)
    trainer = build_trainer(spec, session.training, data.x_train, data.y_train)
    state = trainer.model.get_state()
    state["0.W"][:, 0], state["0.b"][0] = 0.0, -1.0  # unit 1 of layer 1: ReLU(-1) = 0 everywhere
    trainer.model.set_state(state)
    f = session.data.features
    grid = feature_map(grid_points(20), f)
    snap = take_snapshot(trainer, Grid(grid, 20, neuron_stride=2))
    apply_theme(qapp, "dark")
    try:
        view = NetworkView()
        view.set_structure(spec, f, grid.T.reshape(len(f), 20, 20), True)
        view.resize(600, 400)
        view.show_snapshot(snap)
        image = view.grab().toImage()  # laid out for its size (the neurons are made anew)
        dead, alive = view._columns[1][0], view._columns[1][1]
        assert dead.dead and not alive.dead
        centre = view.mapFromScene(dead.sceneBoundingRect().center())
        patch = [
            image.pixelColor(centre.x() + dx, centre.y() + dy).lightness()
            for dx in range(-4, 5)
            for dy in range(-4, 5)
        ]
        assert np.mean(patch) < 140  # dark with a grey hatch, not a white square
        assert not dead.pixmap.isVisible()
    finally:
        apply_theme(qapp, "light")


def icon_ink(icon) -> int:
    """The mean lightness of an icon's opaque pixels."""
    image = icon.pixmap(32, 32).toImage()
    ink = [
        image.pixelColor(x, y).lightness()
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() > 200
    ]
    return sum(ink) // len(ink)


def test_toolbar_icons_follow_the_theme(make_window):
    window = make_window("xor")
    try:
        window.theme_actions["dark"].trigger()
        for action in (
            window.toolbar.reset_action,
            window.toolbar.play_action,
            window.toolbar.step_action,
        ):
            assert icon_ink(action.icon()) > 180, action.text()  # light ink on a dark toolbar
        window.theme_actions["light"].trigger()
        for action in (
            window.toolbar.reset_action,
            window.toolbar.play_action,
            window.toolbar.step_action,
        ):
            assert icon_ink(action.icon()) < 80, action.text()
    finally:
        window.theme_actions["light"].trigger()

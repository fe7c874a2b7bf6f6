"""The optimizer race page as a learner sees it: the elongated bowl with every optimizer's path,
a click that moves the start, the table of results, lines hidden and redrawn at once."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from core.lab.surfaces import OPTIMIZER_NAMES, SURFACES, TOLERANCE, trajectory
from playground.lab.optimizer_race import OptimizerRacePage
from playground.theme import apply_theme


@pytest.fixture
def page(qtbot, qapp):
    apply_theme(qapp)
    page = OptimizerRacePage()
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.timer.setInterval(1)  # the race's pace is not what these tests look at
    page.race_ticks = 4
    page.show()
    page.shown()
    return page


def line_points(page, name):
    x, y = page.lines[name].getData()
    return np.column_stack([x, y])


def click_map(page, qtbot, x, y):
    vb = page.plot.getPlotItem().vb
    widget_pos = page.plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(page.plot.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)


def test_opens_to_the_elongated_bowl_with_every_path(page):
    assert page.function.currentData() == "elongated"
    assert page.start == (-7.0, 2.0)
    assert page.steps.value() == SURFACES["elongated"].steps
    assert page.rates["sgd"].value() == 0.95 and page.rates["momentum"].value() == 0.1
    assert page.rates["adagrad"].value() == 1.5 and page.rates["adam"].value() == 0.3
    for name in OPTIMIZER_NAMES:
        assert page.lines[name].isVisible()
        points = line_points(page, name)
        assert len(points) == page.steps.value() + 1  # the whole path at once
        np.testing.assert_allclose(points[0], (-7.0, 2.0))
    # SGD's zigzag across the valley and Momentum's overshoot past x = 0 are on the map
    sgd_y = line_points(page, "sgd")[:, 1]
    assert np.count_nonzero(np.diff(np.sign(sgd_y))) >= 30
    assert line_points(page, "momentum")[:, 0].max() > 1.0
    for name in ("SGD", "Momentum", "Adam", "AdamW"):
        assert name in page.key.text()


def test_clicking_the_map_moves_the_start_and_races_again(page, qtbot):
    before = line_points(page, "adam")
    with qtbot.waitSignal(page.raceFinished, timeout=5000):
        click_map(page, qtbot, 5.0, -3.0)
        assert page.drawn is not None  # the race animates from the new start
    np.testing.assert_allclose(page.start, (5.0, -3.0), atol=0.1)
    for name in OPTIMIZER_NAMES:
        points = line_points(page, name)
        np.testing.assert_allclose(points[0], page.start)
        assert len(points) == page.steps.value() + 1
    assert not np.allclose(line_points(page, "adam")[:5], before[:5])


def test_the_table_shows_adam_reaching_the_bowl_minimum(page):
    page.function.setCurrentIndex(page.function.findData("bowl"))
    bowl = SURFACES["bowl"]
    path, reached = trajectory(bowl, "adam", bowl.rates["adam"], bowl.start, bowl.steps)
    assert reached is not None
    assert page.reached["adam"].text() == str(reached)
    assert float(page.final_f["adam"].text()) < TOLERANCE
    np.testing.assert_allclose(float(page.final_f["adam"].text()), bowl.value(path[-1]), rtol=1e-2)


def test_the_saddle_says_where_runs_leave_the_map(page):
    page.function.setCurrentIndex(page.function.findData("saddle"))
    saddle = SURFACES["saddle"]
    path, _ = trajectory(saddle, "sgd", saddle.rates["sgd"], saddle.start, saddle.steps)
    assert page.reached["sgd"].text() == f"— (left at {len(path) - 1})"
    assert page.minima.data.size == 0  # no minimum to mark


def test_turning_an_optimizer_off_hides_its_line(page):
    page.visible["rmsprop"].setChecked(False)
    assert not page.lines["rmsprop"].isVisible()
    assert "RMSprop" not in page.key.text()
    page.visible["rmsprop"].setChecked(True)
    assert page.lines["rmsprop"].isVisible() and "RMSprop" in page.key.text()


def test_a_learning_rate_change_redraws_at_once(page):
    page.rates["sgd"].setValue(0.5)  # no waiting: the line changes in the same event-loop turn
    expected, _ = trajectory(SURFACES["elongated"], "sgd", 0.5, (-7.0, 2.0), page.steps.value())
    np.testing.assert_allclose(line_points(page, "sgd"), expected)
    # y shrinks by 1 - 0.5 * 2 = 0 in one step: no zigzag any more
    assert np.count_nonzero(np.diff(np.sign(line_points(page, "sgd")[1:, 1]))) == 0
    page.steps.setValue(10)
    assert len(line_points(page, "adam")) == 11


def test_hidden_page_stops_the_race(page, qtbot):
    page.play()
    page.hidden()
    assert not page.timer.isActive()
    with qtbot.waitSignal(page.raceFinished, timeout=5000):
        page.shown()
    assert page.drawn is None


def test_a_diverging_rate_says_so_and_its_line_still_shows(page, qtbot):
    page.function.setCurrentIndex(page.function.findData("rosenbrock"))
    page.timer.stop()
    page.drawn = None
    page.rates["sgd"].setValue(0.5)
    assert page.reached["sgd"].text() == "— (diverged at 2)"
    points = line_points(page, "sgd")
    # the run jumps to (106.6, 45) then (-2.4e8, 1.1e6); its line is drawn towards the first
    # jump, up to the border of the map grown by 10 sizes each way (x = 2 + 40)
    slope = (45.0 - 1.0) / (106.6 + 1.2)
    np.testing.assert_allclose(points, [[-1.2, 1.0], [42.0, 1.0 + slope * 43.2]])


def test_the_map_follows_the_theme(page, qapp):
    light = page.image.lut.copy()
    try:
        apply_theme(qapp, "dark")
        dark = page.image.lut
        # the map is faded into the plot's background: bright in the light theme, dark here
        assert light.mean() > 150 and dark.mean() < 110
    finally:
        apply_theme(qapp, "light")
    np.testing.assert_array_equal(page.image.lut, light)

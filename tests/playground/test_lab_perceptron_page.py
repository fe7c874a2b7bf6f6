"""The Lab's perceptron page as a learner sees it: Learn solves AND (the truth table all ✓),
the sliders move the line, XOR is declared impossible for one line, and the 2-2-1 network
built then gets all four points right."""

import numpy as np
import pytest

from core.lab.perceptron import INPUTS, targets
from playground.lab.perceptron import SLIDER_STEP, PerceptronPage
from playground.lab.widgets import CHECK, CROSS
from playground.theme import apply_theme


@pytest.fixture
def page(qtbot, qapp):
    apply_theme(qapp)
    page = PerceptronPage()
    qtbot.addWidget(page)
    page.slow_ms = page.fast_ms = 1  # the same updates, sooner
    page.show()
    page.shown()
    return page


def column(table, j):
    return [table.item(i, j).text() for i in range(table.rowCount())]


def learn(qtbot, page):
    """Press Learn and wait for the rule to finish: whether it converged."""
    with qtbot.waitSignal(page.learningDone, timeout=10000) as done:
        page.learn_button.click()
    assert not page.timer.isActive() and page.learn_button.text() == "Learn"
    return done.args[0]


@pytest.mark.parametrize("gate", ["AND", "NAND"])
def test_learn_solves_the_gate_on_screen(page, qtbot, gate):
    page.set_gate(gate)
    assert CROSS in column(page.table, 4)  # the starting line (OR's) is wrong for it
    assert learn(qtbot, page) is True
    assert column(page.table, 4) == [CHECK] * 4
    assert column(page.table, 3) == [str(t) for t in targets(gate)]
    assert "Solved" in page.verdict.text()
    assert "point" in page.update_label.text()  # the last update is described
    assert not page.build_button.isVisible()


def test_step_shows_one_update_with_its_numbers(page, qtbot):
    page.set_gate("AND")
    page.set_weights(0.0, 0.0, 0.0)
    page.step_button.click()  # (0, 0): right, no change
    assert "no change" in page.update_label.text()
    page.step_button.click()  # (0, 1): right too
    page.step_button.click()  # (1, 0)
    page.step_button.click()  # (1, 1): t = 1, y = 0: Δw = 0.1·(1 − 0)·(1, 1)
    text = page.update_label.text()
    assert "t = 1, y = 0: wrong" in text and "(0.10, 0.10)" in text
    np.testing.assert_allclose(page.neuron.weights, [0.1, 0.1])
    assert page.values[0].text() == "0.10" and page.sliders[0].value() == 2


def test_the_sliders_move_the_line_and_the_table(page, qtbot):
    page.set_gate("AND")
    for slider, value in zip(page.sliders, (1.0, 1.0, -1.5), strict=True):
        slider.setValue(round(value / SLIDER_STEP))
    np.testing.assert_allclose([*page.neuron.weights, page.neuron.bias], [1.0, 1.0, -1.5])
    assert column(page.table, 3) == ["0", "0", "0", "1"]
    assert column(page.table, 4) == [CHECK] * 4 and "Solved" in page.verdict.text()
    # the line drawn is w·x + b = 0: its point nearest the origin, along (w2, −w1)
    np.testing.assert_allclose([page.line.pos().x(), page.line.pos().y()], [0.75, 0.75])
    assert page.line.angle % 180 == pytest.approx(135)


def test_xor_defeats_the_line_and_the_network_solves_it(page, qtbot):
    page.set_gate("XOR")
    assert not page.build_button.isVisible()
    assert learn(qtbot, page) is False
    assert "No line can separate these points" in page.verdict.text()
    assert CROSS in column(page.table, 4)
    assert page.build_button.isVisible()
    with qtbot.waitSignal(page.networkBuilt, timeout=5000):
        page.build_button.click()
    assert page.hidden_table.isVisible() and not page.table.isVisible()
    assert column(page.hidden_table, 6) == [CHECK] * 4
    assert "4/4" in page.verdict.text()
    assert all(line.isVisible() for line in page.hidden_lines) and not page.line.isVisible()
    # the table's hidden activations are the network's
    h = np.array([[float(v) for v in column(page.hidden_table, j)] for j in (3, 4)]).T
    np.testing.assert_allclose(h, page.network.hidden, atol=0.006)
    assert len(INPUTS) == page.hidden_table.rowCount()
    # another gate: the network goes, the neuron's line is back
    page.set_gate("OR")
    assert page.network is None and page.table.isVisible() and page.line.isVisible()


def test_hidden_stops_learning(page, qtbot):
    page.slow_ms = 10_000  # the first update waits: Learn is still on
    page.learn_button.click()
    assert page.timer.isActive()
    page.hidden()
    assert not page.timer.isActive() and not page.learn_button.isChecked()

"""The glass-box page as a learner sees it: a paused run with a point chosen, Next and Back
through forward, loss, backward and update with the record's own numbers on the graph and in
the heat maps, a click on the plane choosing a point, the gradient check's table all ✓ (and
≈ or ✗ where it should), a click on a unit putting it in the formula, and Play and Pause."""

import numpy as np
import pytest
from lab_pages import open_page
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QTextDocument

from core.lab.backprop import LayerCheck, explain
from playground.lab.backprop import WARM_EPOCHS, BackpropPage
from playground.lab.glass_graph import Stage
from playground.lab.gradient_check_view import ROUNDING_MARK, TOLERANCE, GradientCheckView
from playground.lab.widgets import CHECK, CROSS, significant
from playground.theme import apply_theme


@pytest.fixture
def page(qtbot, qapp):
    apply_theme(qapp)
    page = open_page(qtbot, BackpropPage)
    page.shown()
    yield page
    page.hidden()


def formula(page):
    """The stage's text as the learner reads it (rich text made plain)."""
    doc = QTextDocument()
    doc.setHtml(page.text.text())
    return doc.toPlainText()


def texts(values):
    return [significant(v) for v in values]


def record_now(page):
    t = page.trainer
    return explain(t.model, t.optimizer, t.x_train[page.index], t.y_train[page.index], lr=t.lr)


def go_to(page, qtbot, kind, layer=-1):
    """Press Next or Back until the stage is (kind, layer)."""
    target = page.stages.index(Stage(kind, layer))
    while page.stage_index != target:
        button = page.next_button if page.stage_index < target else page.back_button
        with qtbot.waitSignal(page.redrawn, timeout=2000):
            button.click()


def click_plane(page, qtbot, x, y):
    vb = page.plot.getPlotItem().vb
    pos = page.plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(page.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_opens_paused_with_the_point_the_network_is_least_sure_of(page):
    t = page.trainer
    assert t.epoch == WARM_EPOCHS and not page.timer.isActive()
    assert page.play_button.text() == "Play" and "paused" in page.status.text()
    probs = t.model.predict_proba(t.x_train)[np.arange(len(t.x_train)), t.y_train]
    assert page.index == int(np.argmin(probs))
    assert page.stage == Stage("forward", 0) and not page.back_button.isEnabled()
    rec = page.record
    np.testing.assert_array_equal(rec.x, t.x_train[page.index])
    np.testing.assert_allclose(rec.loss, record_now(page).loss)
    # forward through layer 1: the inputs and layer 1's z and a, nothing beyond yet
    lines = page.graph.lines
    assert [lines[0, j][0] for j in range(2)] == texts(rec.x)
    hidden = rec.layers[0]
    for j in range(4):
        assert lines[1, j] == (f"z {significant(hidden.z[j])}", f"a {significant(hidden.a[j])}")
    assert lines[2, 0] == () and lines[3, 0] == ()
    assert "h₁: z = " in formula(page) and significant(hidden.z[0]) in formula(page)
    # the heat maps show the weights
    assert page.matrices[0].title == "Layer 1: W"
    assert page.matrices[0].texts == [texts(row) for row in hidden.W]


def test_next_and_back_walk_forward_loss_backward_and_update_with_the_records_numbers(page, qtbot):
    rec = page.record
    hidden, out = rec.layers
    go_to(page, qtbot, "forward", 1)
    p = rec.prediction
    assert page.graph.lines[2, 1] == (f"z {significant(out.z[1])}", f"p {significant(p[1])}")
    go_to(page, qtbot, "loss")
    assert page.graph.lines[3, 0] == (f"L {significant(rec.loss)}",)
    assert f"= {significant(rec.loss)}" in formula(page)
    assert "3/6 · The loss" in page.stage_label.text()
    go_to(page, qtbot, "backward", 1)
    assert [page.graph.lines[2, j] for j in range(2)] == [(f"∂z {significant(v)}",) for v in out.dz]
    np.testing.assert_allclose(out.dz, p - np.eye(2)[rec.y], rtol=1e-5, atol=1e-7)
    assert page.matrices[1].title == "Layer 2: ∂L/∂W"
    assert page.matrices[1].texts == [texts(row) for row in out.dW]
    assert page.matrices[0].values is None  # layer 1's gradient comes next
    go_to(page, qtbot, "backward", 0)
    for j in range(4):
        assert page.graph.lines[1, j] == (
            f"∂a {significant(hidden.da[j])}",
            f"∂z {significant(hidden.dz[j])}",
        )
    assert page.matrices[0].texts == [texts(row) for row in hidden.dW]
    assert "chain rule" in formula(page)
    go_to(page, qtbot, "update")
    assert not page.next_button.isEnabled() and "6/6" in page.stage_label.text()
    assert page.matrices[0].title == "Layer 1: ΔW"
    np.testing.assert_allclose(hidden.step_W, -page.trainer.lr * hidden.dW, rtol=1e-4, atol=1e-9)
    assert page.matrices[0].texts == [texts(row) for row in hidden.step_W]
    assert page.graph.lines[2, 0][1] == f"Δb {significant(out.step_b[0])}"
    assert "Δw = −η·∂L/∂w" in formula(page)
    go_to(page, qtbot, "forward", 0)
    assert page.stage_label.text().startswith("1/6")


def test_clicking_a_training_point_chooses_it_and_pauses(page, qtbot):
    page.play_button.click()
    assert page.timer.isActive()
    t = page.trainer
    other = (page.index + 5) % len(t.x_train)
    x1, x2 = t.x_train[other]
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        click_plane(page, qtbot, x1, x2)
    assert page.index == other and not page.timer.isActive()
    assert page.play_button.text() == "Play"
    np.testing.assert_array_equal(page.record.x, t.x_train[other])
    np.testing.assert_allclose(page.chosen.getData()[0], [x1])
    assert significant(page.record.loss) in page.status.text()
    click_plane(page, qtbot, 5.9, -5.9)  # far from every point: nothing changes
    assert page.index == other


def test_the_gradient_check_agrees_with_backprop_on_every_layer(page, qtbot):
    assert page.check_view.table.item(0, 2).text() == ""
    page.check_button.click()
    assert len(page.checks) == 2
    for k, check in enumerate(page.checks):
        assert check.error < TOLERANCE
        assert page.check_view.table.item(k, 2).text() == f"{check.error:.2e}"
        assert page.check_view.table.item(k, 3).text() == CHECK
    assert "agree" in page.check_view.note.text()
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.step_button.click()  # another model: the old check no longer applies
    assert page.checks is None and page.check_view.table.item(0, 3).text() == ""


def test_clicking_a_unit_puts_it_in_the_formula(page, qtbot):
    graph = page.graph
    box = graph.box(1, 2)
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        qtbot.mouseClick(graph, Qt.MouseButton.LeftButton, pos=box.center().toPoint())
    assert page.focus_unit(0) == 2 and graph.focus == (1, 2)
    hidden = page.record.layers[0]
    assert "h₃: z = " in formula(page)
    assert f"tanh({significant(hidden.z[2])}) = {significant(hidden.a[2])}" in formula(page)


def test_play_trains_and_pause_stops(page, qtbot):
    page.timer.setInterval(1)
    start = page.trainer.epoch
    page.play_button.click()
    assert "training" in page.status.text()
    qtbot.waitUntil(lambda: page.trainer.epoch >= start + 3, timeout=5000)
    page.play_button.click()
    assert not page.timer.isActive() and "paused" in page.status.text()
    # the record follows the model: it is the chosen point's now
    np.testing.assert_allclose(page.record.loss, record_now(page).loss, rtol=1e-6)
    page.play_button.click()
    page.hidden()
    assert not page.timer.isActive() and not page.play_button.isChecked()


def test_other_choices_make_their_run_and_show_their_step(page, qtbot):
    old, boundary = page.trainer, page.image.image.copy()
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.data_box.setCurrentIndex(page.data_box.findData("circle"))
    assert page.trainer is not old and page.trainer.epoch == WARM_EPOCHS
    assert not np.array_equal(page.trainer.x_train, old.x_train)
    assert not np.array_equal(page.image.image, boundary)  # the new run's boundary
    np.testing.assert_allclose(np.column_stack(page.points.getData()), page.trainer.x_train)
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.activation_box.setCurrentIndex(page.activation_box.findData("relu"))
    assert page.graph.headers[1] == "layer 1 · relu"
    trainer = page.trainer
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.optimizer_box.setCurrentIndex(page.optimizer_box.findData("adam"))
    assert page.trainer is trainer and trainer.optimizer.name == "adam"  # the same weights
    assert page.rate.value() == pytest.approx(0.03) and trainer.lr == pytest.approx(0.03)
    go_to(page, qtbot, "update")
    assert "Adam's step" in formula(page)
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.rate.setValue(0.05)
    assert page.trainer.lr == pytest.approx(0.05) and page.record.lr == pytest.approx(0.05)


def test_the_check_table_tells_rounding_from_a_wrong_gradient(qtbot):
    view = GradientCheckView(2)
    qtbot.addWidget(view)
    sure = LayerCheck(12, {"W": 3e-6, "b": 1e-7}, limit=1e-4)  # within what rounding allows
    fine = LayerCheck(10, {"W": 1e-9, "b": 2e-9}, limit=1e-8)
    view.show_checks((sure, fine))
    assert [view.table.item(k, 3).text() for k in range(2)] == [ROUNDING_MARK, CHECK]
    assert "so sure of this point" in view.note.text()
    wrong = LayerCheck(12, {"W": 0.1, "b": 1e-9}, limit=1e-8)
    view.show_checks((wrong, fine))
    assert [view.table.item(k, 3).text() for k in range(2)] == [CROSS, CHECK]
    assert "disagree on layer 1" in view.note.text()
    assert view.table.item(0, 2).text() == "1.00e-01"


def test_a_diverging_run_stops_and_says_so_and_new_run_starts_over(page, qtbot):
    page.activation_box.setCurrentIndex(page.activation_box.findData("relu"))
    page.rate.setValue(100.0)  # far too large: the weights blow up
    page.timer.setInterval(1)
    page.play_button.click()
    qtbot.waitUntil(lambda: not page.timer.isActive(), timeout=10000)
    assert page.trainer.divergence is not None
    assert "Stopped at epoch" in page.status.text() and "lower learning rate" in page.status.text()
    page.play_button.click()  # a diverged run trains no further
    assert not page.timer.isActive() and not page.play_button.isChecked()
    for stage in range(len(page.stages)):  # its numbers are drawn, whatever they are
        page.set_stage(stage)
        page.graph.grab()
    page.rate.setValue(0.1)
    with qtbot.waitSignal(page.redrawn, timeout=2000):
        page.new_button.click()
    assert page.trainer.divergence is None and page.trainer.epoch == WARM_EPOCHS
    assert np.isfinite(page.record.loss) and "paused" in page.status.text()


def test_the_chosen_ring_follows_the_theme(page, qapp):
    apply_theme(qapp, "dark")
    try:
        assert page.chosen.opts["pen"].color() == page.palette().text().color()
        assert page.palette().text().color().lightness() > 128
    finally:
        apply_theme(qapp, "light")
    assert page.chosen.opts["pen"].color().lightness() < 128

"""Typed numbers, as a user types them: every box checks its entry when it is committed, against
the engine's range; a refused entry is shown (red frame, reason in the tooltip) and the value in
use stays; the allowed range is in every tooltip."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit

from core.data.toy2d import MAX_SAMPLES
from core.layers import MAX_DROPOUT
from core.optimizer import MAX_LR, MAX_WEIGHT_DECAY
from core.training.config import MAX_REGULARIZATION
from playground.network_settings import MAX_KERNEL, LayerSettings, NetworkSettings
from playground.panels.data_panel import DataPanel
from playground.panels.network_panel import NetworkPanel
from playground.panels.training_panel import TrainingPanel
from playground.panels.widgets import REFUSED_COLOR, FloatBox, IntBox, RateBox


def type_in(qtbot, box, text: str) -> None:
    """Select the box's text and type ``text`` over it, as a user would (not committed)."""
    target = box if isinstance(box, QAbstractSpinBox) else box.lineEdit()
    target.setFocus()
    (box.selectAll if isinstance(box, QAbstractSpinBox) else box.lineEdit().selectAll)()
    qtbot.keyClicks(target, text)


def commit(qtbot, box, text: str) -> None:
    """Type ``text`` over the box's text and press Enter."""
    type_in(qtbot, box, text)
    target = box if isinstance(box, QAbstractSpinBox) else box.lineEdit()
    qtbot.keyClick(target, Qt.Key.Key_Return)


def shown(box) -> str:
    return box.cleanText() if isinstance(box, QAbstractSpinBox) else box.currentText()


def red_frame(box) -> bool:
    image = box.grab().toImage()
    return image.pixelColor(1, image.height() // 2) == QColor(REFUSED_COLOR)


@pytest.fixture
def training(qtbot):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.show()
    return panel


@pytest.fixture
def network(qtbot):
    panel = NetworkPanel()
    qtbot.addWidget(panel)
    panel.set_settings(NetworkSettings([LayerSettings(16, "relu")]))
    panel.set_input_shape([1, 28, 28], 10)
    panel.add_conv.click()
    panel.show()
    return panel


def test_a_rate_of_500_is_refused_visibly_and_the_rate_in_use_stays(training, qtbot):
    box, sent = training.lr, []
    training.lrChanged.connect(sent.append)
    in_use = box.value()
    assert "type any value" not in box.toolTip().lower()
    assert "Allowed: a number above 0, up to 100." in box.toolTip()
    assert not red_frame(box)
    commit(qtbot, box, "500")
    assert sent == [] and box.value() == in_use
    assert shown(box) == f"{in_use:g}"  # the box shows the rate the run uses
    assert box.refusal() == (
        f"“500” is not allowed here: type a number above 0, up to 100. Still using {in_use:g}."
    )
    assert box.toolTip().startswith(box.refusal()) and red_frame(box)
    commit(qtbot, box, "1")  # typed values are taken as typed (no completion to 1e-05)
    assert sent == [1.0] and box.refusal() == "" and not red_frame(box)
    assert box.count() == 12  # typed values do not pile up in the list


def test_the_kernel_box_keeps_15_as_typed_and_refuses_it_on_enter(network, qtbot):
    kernel, changes = network.rows[0].kernel, []
    network.changed.connect(lambda: changes.append(kernel.value()))
    assert f"Allowed: a whole number from 1 to {MAX_KERNEL}." in kernel.toolTip()
    type_in(qtbot, kernel, "15")
    assert kernel.text() == "15"  # not cut to "1"
    qtbot.keyClick(kernel, Qt.Key.Key_Return)
    assert kernel.value() == 3 and kernel.text() == "3" and changes == []
    assert kernel.refusal() == (
        f"“15” is not allowed here: type a whole number from 1 to {MAX_KERNEL}. Still using 3."
    )
    assert red_frame(kernel)
    commit(qtbot, kernel, "5")
    assert kernel.value() == 5 and changes == [5]
    assert kernel.refusal() == "" and not red_frame(kernel)


def test_leaving_the_box_commits_and_checks_too(network, qtbot):
    kernel, filters = network.rows[0].kernel, network.rows[0].filters
    type_in(qtbot, kernel, "30")
    assert kernel.text() == "30"
    filters.setFocus()
    qtbot.waitUntil(lambda: kernel.refusal() != "")
    assert kernel.value() == 3 and kernel.text() == "3"
    assert kernel.refusal().startswith("“30” is not allowed here")


@pytest.mark.parametrize(
    ("box", "accepted", "refused", "allowed"),
    [
        ("lr", MAX_LR, "100.5", "a number above 0, up to 100"),
        ("lr", 1e-6, "0", "a number above 0, up to 100"),
        ("weight_decay", MAX_WEIGHT_DECAY, "1.5", "a number from 0 to 1"),
        ("momentum", 0.99, "1", "a number from 0 to below 1"),
        ("beta2", 0.9999, "1", "a number from 0 to below 1"),
        ("gamma", 0.1, "0", "a number above 0, up to 1"),
        ("reg_rate", MAX_REGULARIZATION, "10.5", "a number from 0 to 10"),
    ],
)
def test_training_boxes_take_the_engines_ranges(training, qtbot, box, accepted, refused, allowed):
    training.reg_kind.setCurrentIndex(training.reg_kind.findData("l2"))  # enables the rate
    w = getattr(training, box)
    commit(qtbot, w, f"{accepted:g}")
    assert w.value() == pytest.approx(accepted, rel=1e-9) and w.refusal() == ""
    commit(qtbot, w, refused)
    assert w.value() == pytest.approx(accepted, rel=1e-9)
    assert f"type {allowed}." in w.refusal()


def test_data_and_dropout_boxes_take_the_engines_ranges(qtbot):
    data = DataPanel()
    qtbot.addWidget(data)
    data.show()
    commit(qtbot, data.samples, str(MAX_SAMPLES))
    assert data.samples.value() == MAX_SAMPLES and data.samples.refusal() == ""
    commit(qtbot, data.samples, str(MAX_SAMPLES + 1))
    assert data.samples.value() == MAX_SAMPLES and data.samples.refusal() != ""
    net = NetworkPanel()
    qtbot.addWidget(net)
    net.set_settings(NetworkSettings([LayerSettings(16, "relu")]))
    net.show()
    dropout = net.rows[0].dropout
    commit(qtbot, dropout, f"{MAX_DROPOUT:g}")
    assert dropout.value() == pytest.approx(MAX_DROPOUT) and dropout.refusal() == ""


def numeric_inputs(window) -> list:
    """Every box of the window's panels a number can be typed in (both modes)."""
    boxes = window.findChildren(QAbstractSpinBox) + [
        w for w in window.findChildren(QComboBox) if w.isEditable()
    ]
    return [w for w in boxes if not isinstance(w.parent(), QLineEdit)]


def test_every_box_a_number_can_be_typed_in_refuses_out_of_range_values(make_window, qtbot):
    window = make_window()
    window.images.network_panel.add_conv.click()
    window.images.network_panel.add_pool.click()
    boxes = numeric_inputs(window)
    assert len(boxes) >= 25
    for box in boxes:
        assert isinstance(box, (IntBox, FloatBox, RateBox)), (type(box).__name__, box.toolTip())
        assert "Allowed: " in box.toolTip(), box.toolTip()
        box.setEnabled(True)
        before = box.value()
        high = box.limits.high
        commit(qtbot, box, str(int(high) + 1) if isinstance(box, IntBox) else f"{high + 1:g}")
        assert box.value() == before and box.refusal().endswith(f"Still using {shown(box)}.")
        assert red_frame(box), box.toolTip()

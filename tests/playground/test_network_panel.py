"""The network editor on its own: dense rows on the plane; conv, pool and dense rows for images,
with each row's output shape, the parameter count and impossible shapes named by row."""

import pytest
from PySide6.QtCore import Qt

from core.model import Sequential
from playground.network_settings import LayerSettings, NetworkSettings, network_spec
from playground.panels.layer_row import DENSE_COLUMNS
from playground.panels.network_panel import NetworkPanel

IMAGE = [1, 28, 28]


@pytest.fixture
def panel(qtbot):
    panel = NetworkPanel()
    qtbot.addWidget(panel)
    panel.set_settings(NetworkSettings([LayerSettings(16, "relu")]))
    panel.show()
    return panel


def click(qtbot, panel, button):
    with qtbot.waitSignal(panel.changed, timeout=1000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def heads(panel):
    return [panel.grid.itemAtPosition(0, c).widget().text() for c in range(len(DENSE_COLUMNS))]


def test_plane_editor_offers_dense_rows_only(panel, qtbot):
    assert panel.add_conv.isHidden() and panel.add_pool.isHidden()
    assert panel.add.text() == "+ Add layer"
    assert heads(panel) == [h for h, _ in DENSE_COLUMNS]
    click(qtbot, panel, panel.add)
    assert [r.kind for r in panel.rows] == ["dense", "dense"]
    assert panel.settings().hidden[1] == LayerSettings(16, "relu")  # a copy of the last row
    assert panel.rows[0].output.isHidden()  # the plane shows no output shapes


def test_image_editor_builds_a_cnn_through_its_buttons(panel, qtbot):
    panel.set_input_shape(IMAGE, 10)
    assert not panel.add_conv.isHidden() and panel.add.text() == "+ Dense"
    click(qtbot, panel, panel.add_conv)  # goes before the dense row
    click(qtbot, panel, panel.add_pool)  # after the conv
    assert [r.kind for r in panel.rows] == ["conv", "maxpool", "dense"]
    conv = panel.rows[0]
    with qtbot.waitSignal(panel.changed, timeout=1000):
        conv.kernel.setValue(5)
    with qtbot.waitSignal(panel.changed, timeout=1000):
        panel.rows[1].pool_type.setCurrentIndex(panel.rows[1].pool_type.findData("avgpool"))
    assert [r.output.text() for r in panel.rows] == ["16×24×24", "16×12×12", "16"]
    net = panel.settings()
    assert net.hidden[0].kind == "conv" and net.hidden[0].kernel == 5
    assert net.hidden[1].kind == "avgpool"
    n_params = Sequential(network_spec(net, IMAGE, 10, "softmax_ce")).n_params
    assert panel.params.text() == f"{n_params:,} parameters" and panel.problem() == ""
    with qtbot.waitSignal(panel.changed, timeout=1000):
        panel.rows[1].remove.click()
    assert [r.kind for r in panel.rows] == ["conv", "dense"]
    assert [r.number.text() for r in panel.rows] == ["1", "2"]


def test_an_impossible_shape_marks_its_row_and_replaces_the_count(panel, qtbot):
    panel.set_input_shape(IMAGE, 10)
    click(qtbot, panel, panel.add_conv)
    click(qtbot, panel, panel.add_pool)
    with qtbot.waitSignal(panel.changed, timeout=1000):
        panel.rows[0].stride.setValue(8)  # 28 -> 4×4 with a 3×3 kernel
    with qtbot.waitSignal(panel.changed, timeout=1000):
        panel.rows[1].size.setValue(5)
    message = panel.problem()
    assert message.startswith("layer 2 (max pool 5): pool 5x5 does not fit input 4x4")
    assert panel.message.text() == message and not panel.message.isHidden()
    assert panel.params.text() == ""
    assert panel.rows[1].output.text() == "✕" and panel.rows[1].output.toolTip() == message
    assert panel.rows[0].output.text() == "16×4×4"  # rows before it keep their shapes
    panel.set_param_count(None, "invalid network")  # the window's generic verdict
    assert panel.message.text() == message and panel.params.text() == ""
    with qtbot.waitSignal(panel.changed, timeout=1000):
        panel.rows[1].size.setValue(2)
    assert panel.problem() == "" and panel.message.isHidden()
    assert panel.rows[1].output.text() == "16×2×2" and "parameters" in panel.params.text()


def test_settings_round_trip_through_the_image_editor(panel):
    net = NetworkSettings(
        [
            LayerSettings(kind="conv", filters=8, kernel=5, stride=2, padding=2, batchnorm=True),
            LayerSettings(kind="avgpool", size=3, stride=1),
            LayerSettings(64, "elu", dropout=0.25),
        ],
        loss="softmax_ce",
    )
    panel.set_input_shape(IMAGE, 10)
    panel.set_settings(net)
    assert panel.settings() == net
    assert [r.output.text() for r in panel.rows] == ["8×14×14", "8×12×12", "64"]
    assert panel.rows[2].dropout.prefix() == "dropout "


def test_image_rows_on_the_plane_are_refused_by_row(panel):
    panel.set_settings(NetworkSettings([LayerSettings(kind="maxpool")]))
    assert panel.is_image()  # the row is shown with the image columns
    assert panel.problem().startswith("layer 1 (max pool 2): input shape (2,) is not an image")


def test_every_control_explains_itself(panel):
    panel.set_input_shape(IMAGE, 10)
    panel.add_conv.click()
    panel.add_pool.click()
    for row in panel.rows:
        for w in row.widgets():
            if w is not row.number:
                assert w.toolTip(), (row.kind, type(w).__name__)
    for w in (panel.add, panel.add_conv, panel.add_pool, panel.init, panel.loss):
        assert w.toolTip()

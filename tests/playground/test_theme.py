"""View ▸ Theme: light, dark or the system's; remembered; readable check boxes in the dark."""

from PySide6.QtCore import QPoint
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QCheckBox, QStyle, QStyleOptionButton

from playground.app import parse_args
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
        plot = window.curves_view.loss_plot
        assert plot.backgroundBrush().color().lightness() < 128  # plots made before follow
        box = QCheckBox("x")
        box.resize(60, 24)
        assert indicator_contrast(box) > 80  # the unchecked box's frame reads on dark
        window.theme_actions["light"].trigger()
        assert settings.value("theme") == "light"
        assert plot.backgroundBrush().color().lightness() > 200
    finally:
        apply_theme(qapp, "light")


def test_theme_follows_the_system_unless_chosen():
    assert parse_args([]).theme is None  # the app then uses the saved choice, or "system"
    assert parse_args(["--theme", "dark"]).theme == "dark"
